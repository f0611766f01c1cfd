"""git comes from PATH's absolute entries: a repository's own `git` never runs (issue 16).

Every caller runs git with the workspace as its working folder, so a relative PATH entry
(`.`, `bin`, an empty entry) names a program the repository contains. Each test plants such
a `git` that writes a sentinel outside the repository, puts `.` and `bin` first on PATH, and
runs one of the engine's git callers.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from git_oracle import build_tree, git, init_repo

from handrail.files import files_mentioning, is_git_work_tree, list_files
from handrail.git import git as run_git
from handrail.git import git_owner, git_program
from handrail.workspace import Workspace


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A repository with its own `git` and `bin/git`, and PATH starting with `.` and `bin`."""
    root = init_repo(tmp_path / "repo")
    build_tree(root, {"src/app.py": "print('handrail:')\n"})
    git(root, "add", ".")
    git(root, "commit", "-qm", "start")
    sentinel = tmp_path / "sentinel"
    for name in ("git", "bin/git"):
        planted = root / name
        planted.parent.mkdir(exist_ok=True)
        planted.write_text(f"#!/bin/sh\necho ran >> '{sentinel}'\nexit 1\n", encoding="utf-8")
        planted.chmod(planted.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", os.pathsep.join([".", "bin", "", os.environ["PATH"]]))
    return root, sentinel


def test_git_program_skips_relative_entries(tmp_path: Path) -> None:
    planted = tmp_path / "git"
    planted.write_text("#!/bin/sh\n", encoding="utf-8")
    planted.chmod(0o755)
    absolute = git_program(os.pathsep.join([".", "", str(tmp_path)]))
    assert absolute == str(planted)
    assert git_program(os.pathsep.join([".", "bin", ""])) is None
    assert git_program("") is None


def test_listing_files_never_runs_the_repositorys_git(
    hostile: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, sentinel = hostile
    monkeypatch.chdir(root)  # the CLI in a git hook: the working folder is the repository
    ws = Workspace.at(root)
    assert is_git_work_tree(root)
    assert "src/app.py" in list_files(ws)
    assert files_mentioning(ws, "handrail:") == {"src/app.py"}
    assert not sentinel.exists()


def test_engine_git_and_init_never_run_the_repositorys_git(hostile: tuple[Path, Path]) -> None:
    root, sentinel = hostile
    assert run_git(root, "rev-parse", "--is-inside-work-tree").strip() == b"true"
    git_owner(root)
    assert not sentinel.exists()
