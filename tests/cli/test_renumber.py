"""`handrail renumber` after a real `git merge` of two branches that both marked a block for
one task (issue 16, point 5): one command, the later block renumbered, evidence carried over
only for unchanged content."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from repo_helpers import GOOD_SPEC, git, init_repo, run

from handrail.blocks.markers import hash_content, parse_blocks
from handrail.ledger.records import BlockCoverage, BlockMarked, VerificationRun
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

A = "def a():\n    return 1\n"
B = "def b():\n    return 2\n"


def _pass(root: Path, task: str, block_id: str, content: str) -> VerificationRun:
    now = dt.datetime.now(dt.UTC)
    record = VerificationRun.create(
        task_id=task,
        command=["true"],
        exit_code=0,
        passed=True,
        started_at=now,
        finished_at=now,
        blocks={block_id: hash_content(content)},
        # A passing run counts only if it executed the block (line evidence, HR310).
        coverage={block_id: BlockCoverage(outcome="passed", executable="1", executed="1")},
    )
    Ledger(Workspace(root)).append(record)
    return record


def _mark(root: Path, rel: str, task: str) -> str:
    result = run(root, "mark", rel, "1", "2", "--task", task, "--json")
    assert result.exit_code == 0, result.output
    block: str = json.loads(result.output)["block"]
    return block


def _check(root: Path) -> list[tuple[str, str, int]]:
    result = run(root, "check", "--format", "json")
    found = json.loads(result.output)["findings"]
    return sorted((f["code"], f["path"], f["line"]) for f in found if f["path"].startswith("src/"))


@pytest.fixture
def merged(tmp_path: Path) -> tuple[Path, str]:
    """main marked src/a.py as <task>.1, then a branch marked src/b.py as <task>.1 too and
    verified it; the branch is merged into main."""
    root = init_repo(tmp_path / "repo", {"src/a.py": A, "src/b.py": B})
    result = run(root, "task", "new", GOOD_SPEC, "--json")
    task = json.loads(result.output)["task"]
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "branch", "feature")

    assert _mark(root, "src/a.py", task) == f"{task}.1"
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main marks a.py")

    git(root, "checkout", "-q", "feature")
    assert _mark(root, "src/b.py", task) == f"{task}.1"
    _pass(root, task, f"{task}.1", B)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feature marks and verifies b.py")

    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-edit", "feature")
    return root, task


def test_a_merge_of_two_branches_leaves_one_id_twice(merged: tuple[Path, str]) -> None:
    root, _ = merged
    assert _check(root) == [("HR305", "src/a.py", 1), ("HR305", "src/b.py", 1)]


def test_renumber_gives_the_later_block_the_next_number_and_its_evidence(
    merged: tuple[Path, str],
) -> None:
    root, task = merged
    before = sorted(p.name for p in (root / ".handrail" / "ledger").glob("*.json"))

    dry = run(root, "renumber", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"Would renumber src/b.py:1 {task}.1 -> {task}.2" in dry.output
    assert sorted(p.name for p in (root / ".handrail" / "ledger").glob("*.json")) == before

    result = run(root, "renumber", "--json")
    assert result.exit_code == 0, result.output
    (done,) = json.loads(result.output)["renumbered"]
    assert (done["path"], done["old"], done["new"]) == ("src/b.py", f"{task}.1", f"{task}.2")
    assert done["kept_by"] == {"path": "src/a.py", "line": 1}
    assert done["carried"] == ["verification_run"]

    b = (root / "src/b.py").read_text()
    assert b == f"# handrail:begin {task}.2\n{B}# handrail:end {task}.2\n"
    assert f"{task}.1" in (root / "src/a.py").read_text()
    # b.py's passing run for its exact content followed it (only "explain it" is left);
    # a.py is not verified: the run recorded for its id on the branch was for other content.
    assert _check(root) == [("HR301", "src/a.py", 1), ("HR304", "src/b.py", 1)]
    records = Ledger(Workspace(root)).read().records
    new_mark = [r for r in records if isinstance(r, BlockMarked) and r.block_id == f"{task}.2"]
    assert [(r.path, r.content_hash) for r in new_mark] == [("src/b.py", hash_content(B))]

    again = run(root, "renumber")
    assert again.exit_code == 0
    assert "nothing to renumber" in again.output


def test_evidence_never_moves_to_different_content(merged: tuple[Path, str]) -> None:
    root, task = merged
    changed = B.replace("return 2", "return 3")
    (root / "src/b.py").write_text(f"# handrail:begin {task}.1\n{changed}# handrail:end {task}.1\n")
    result = run(root, "renumber", "--json")
    (done,) = json.loads(result.output)["renumbered"]
    assert (done["path"], done["new"], done["carried"]) == ("src/b.py", f"{task}.2", [])
    assert _check(root) == [("HR300", "src/b.py", 1), ("HR301", "src/a.py", 1)]


def test_a_block_pasted_twice_in_one_file_keeps_the_recorded_one(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "repo", {"src/a.py": A})
    task = json.loads(run(root, "task", "new", GOOD_SPEC, "--json").output)["task"]
    _mark(root, "src/a.py", task)
    text = (root / "src/a.py").read_text()
    (root / "src/a.py").write_text("x = 0\n" + text.replace("return 1", "return 9") + text)
    result = run(root, "renumber", "--json")
    (done,) = json.loads(result.output)["renumbered"]
    # The second copy matches the record (path and content): the edited first copy yields.
    assert (done["begin_line"], done["new"]) == (2, f"{task}.2")
    parsed = parse_blocks((root / "src/a.py").read_text(), "src/a.py")
    assert [(b.id, b.begin_line) for b in parsed.blocks] == [(f"{task}.2", 2), (f"{task}.1", 6)]
    assert parsed.problems == []
