"""Running git for the engine: no shell, bounded time, git's own message on failure.

Like `handrail.files` (which streams its listings itself), no repository config may run a
program or wait for a terminal, and a git hook's environment must not point git at another
repository or index. Paths come back unquoted (`core.quotePath=false`).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_GIT_PREFIX = (
    "git",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.quotePath=false",
    "--literal-pathspecs",
)
_TIMEOUT_S = 60.0
_HOOK_ENV = frozenset(
    {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR"}
)


class GitError(RuntimeError):
    """git is missing, the folder is no repository, or git refused the request."""


def git(root: Path, *args: str, ok_codes: tuple[int, ...] = (0,)) -> bytes:
    """git's stdout for `args` run in `root`; GitError with git's own message otherwise."""
    env = {k: v for k, v in os.environ.items() if k not in _HOOK_ENV}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    try:
        done = subprocess.run(
            [*_GIT_PREFIX, *args],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed (or not on PATH)") from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"git {args[0]} failed: {exc}") from exc
    if done.returncode not in ok_codes:
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} exited {done.returncode}")
    return done.stdout
