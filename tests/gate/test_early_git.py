"""The gate's git calls started before the engine is imported: each is the check's own call,
taken once, with the same result as a call started when the check gets there."""

from __future__ import annotations

import shutil
from pathlib import Path

from repo_helpers import init_repo

from handrail import files
from handrail.gate.early import start_gate_git
from handrail.gate.run import run_check
from handrail.workspace import Workspace

MARKED = "# handrail:begin T-0001.1\nx = 1\n# handrail:end T-0001.1\n"


def _repo(root: Path) -> Workspace:
    init_repo(root, {"src/a.py": MARKED, "src/b.py": "y = 2\n"})
    (root / ".gitignore").write_text("out/\n")
    (root / "out").mkdir()
    (root / "out" / "c.py").write_text(MARKED)
    return Workspace.at(root)


def test_the_check_takes_every_early_call_and_finds_the_same(tmp_path: Path) -> None:
    ws = _repo(tmp_path / "repo")
    plain = run_check(ws)
    start_gate_git(ws)
    # tracked, untracked, grep for the markers (and byte order marks)
    assert files.early_calls_waiting() == 3
    early = run_check(ws)
    assert files.early_calls_waiting() == 0
    assert early.findings == plain.findings
    assert early.files_checked == plain.files_checked


def test_an_early_call_is_only_taken_by_the_same_call_in_the_same_folder(tmp_path: Path) -> None:
    ws = _repo(tmp_path / "repo")
    other = _repo(tmp_path / "other")
    start_gate_git(ws)
    assert "src/a.py" in files.list_files(other)
    assert files.early_calls_waiting() == 3  # another folder's listing started its own
    files.discard_early()
    assert files.early_calls_waiting() == 0


def test_no_early_call_outside_git(tmp_path: Path) -> None:
    ws = _repo(tmp_path / "repo")
    shutil.rmtree(ws.root / ".git")
    start_gate_git(ws)
    assert files.early_calls_waiting() == 0
