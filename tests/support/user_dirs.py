"""The environment that keeps a test's caches, trust records and git identity out of the real
home folder: conftest's autouse fixture applies it to every test; a module-scoped fixture (a
server or an editor shared by a module's tests, started before any function-scoped fixture)
applies it itself (workspaces.shared_workspace) or passes it to the process it starts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def isolated_environment(home: Path) -> dict[str, str]:
    """The variables to set for a user whose home-like folders live in `home` (the git
    config file `home/gitconfig` is written here: identity Ada Tester, branch main)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "gitconfig").write_text(
        "[user]\n\tname = Ada Tester\n\temail = ada@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    return {
        "HANDRAIL_CACHE_DIR": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "xdg-cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Ada Tester",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Tester",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }


@contextmanager
def isolated_user_dirs(home: Path) -> Iterator[None]:
    """This process runs with `isolated_environment(home)` applied until the block ends (the
    environment is then restored whole)."""
    saved = dict(os.environ)
    os.environ.update(isolated_environment(home))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
