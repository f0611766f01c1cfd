"""`pr`, `stats`, `accept`, the agenda and the agents' list see the blocks `check` sees."""

from __future__ import annotations

from pathlib import Path

from repo_helpers import git, init_repo, new_task, run

from handrail.analysis import Snapshot
from handrail.gate.run import run_check
from handrail.review._tree import files_with_blocks
from handrail.workspace import Workspace


def test_a_utf16_file_s_blocks_are_seen_as_the_gate_sees_them(tmp_path: Path) -> None:
    # Git greps UTF-16 text as binary: the gate found this block (its own scan looks for the
    # byte order mark) while `pr` and `stats` did not, so generated code went unlisted.
    root = init_repo(tmp_path / "repo", {"a.ps1": "x = 1\ny = 2\n", "b.py": "z = 3\n"})
    task = new_task(root)
    for rel in ("a.ps1", "b.py"):
        lines = (root / rel).read_text().count("\n")
        assert run(root, "mark", rel, "1", str(lines), "--task", task).exit_code == 0
    (root / "a.ps1").write_bytes((root / "a.ps1").read_text().encode("utf-16"))
    git(root, "add", "-A")
    ws = Workspace.at(root)
    seen = {source.rel for source in files_with_blocks(Snapshot.load(ws))}
    gated = {f.path for f in run_check(ws).findings if f.code == "HR300"}
    assert gated == {"a.ps1", "b.py"}
    assert seen == gated
