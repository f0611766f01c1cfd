"""A block id used twice is HR305 on every use and never verified, in one file or across
files, in `handrail check` and in the analysis the editor runs (issue 16, point 5)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from repo_helpers import init_repo, run

from handrail.analysis import Snapshot, analyze_source
from handrail.blocks.markers import ProblemKind, hash_content, parse_blocks
from handrail.ledger.records import BlockCoverage, VerificationRun
from handrail.ledger.store import Ledger
from handrail.marking.ids import MarkerIndex
from handrail.workspace import Workspace

GOOD_SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)
CONTENT = "def one():\n    return 1\n"


def _block(block_id: str) -> str:
    return f"# handrail:begin {block_id}\n{CONTENT}# handrail:end {block_id}\n"


def _verified_repo(tmp_path: Path, files: dict[str, str]) -> tuple[Path, str]:
    """A repository whose ledger holds a passing run for `<task>.1` with CONTENT."""
    root = init_repo(tmp_path / "repo", {})
    result = run(root, "task", "new", GOOD_SPEC, "--json")
    assert result.exit_code == 0, result.output
    task = json.loads(result.output)["task"]
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("TASK", task))
    now = dt.datetime.now(dt.UTC)
    Ledger(Workspace(root)).append(
        VerificationRun.create(
            task_id=task,
            command=["true"],
            exit_code=0,
            passed=True,
            started_at=now,
            finished_at=now,
            blocks={f"{task}.1": hash_content(CONTENT)},
            # A passing run counts only if it executed the block (line evidence, HR310).
            coverage={f"{task}.1": BlockCoverage(outcome="passed", executable="1", executed="1")},
        )
    )
    return root, task


def _findings(root: Path) -> list[tuple[str, str, int]]:
    result = run(root, "check", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    found = json.loads(result.output)["findings"]
    return sorted((f["code"], f["path"], f["line"]) for f in found if f["path"] != "WORKFLOW.md")


def test_control_a_single_block_with_a_passing_run_is_verified(tmp_path: Path) -> None:
    root, task = _verified_repo(tmp_path, {"src/a.py": _block("TASK.1")})
    # Verified: no HR300-HR302; only "can you explain it?" (HR304) is left to do.
    assert [f for f in _findings(root) if f[1] == "src/a.py"] == [("HR304", "src/a.py", 1)]
    text = (root / "src/a.py").read_text()
    analysis = analyze_source(Snapshot.load(Workspace(root)), "src/a.py", text)
    assert analysis.evidence[f"{task}.1"].is_verified


def test_a_duplicate_in_one_file_is_hr305_twice_and_not_verified(tmp_path: Path) -> None:
    root, _ = _verified_repo(tmp_path, {"src/a.py": _block("TASK.1") + _block("TASK.1")})
    found = [f for f in _findings(root) if f[1] == "src/a.py"]
    assert found == [("HR305", "src/a.py", 1), ("HR305", "src/a.py", 5)]

    ws = Workspace(root)
    text = (root / "src/a.py").read_text()
    analysis = analyze_source(Snapshot.load(ws), "src/a.py", text)
    assert analysis.evidence == {}  # neither copy is judged, so neither is verified


def test_a_duplicate_across_files_is_hr305_on_both_and_not_verified(tmp_path: Path) -> None:
    root, task = _verified_repo(
        tmp_path, {"src/a.py": _block("TASK.1"), "src/b.py": "x = 0\n" + _block("TASK.1")}
    )
    assert [f for f in _findings(root) if f[1].startswith("src/")] == [
        ("HR305", "src/a.py", 1),
        ("HR305", "src/b.py", 2),
    ]
    # The editor's analysis of one buffer, with the folder's index of the files on disk.
    ws = Workspace(root)
    index = MarkerIndex({r: parse_blocks((root / r).read_text(), r) for r in ["src/b.py"]})
    analysis = analyze_source(Snapshot.load(ws), "src/a.py", _block(f"{task}.1"), markers=index)
    assert [(f.code, f.line) for f in analysis.findings] == [("HR305", 1)]
    assert "also used in src/b.py (line 2)" in analysis.findings[0].message
    assert analysis.evidence == {}


@pytest.mark.parametrize("scope", ["src/a.py", "src"])
def test_a_check_of_one_path_still_sees_the_other_file(tmp_path: Path, scope: str) -> None:
    root, _ = _verified_repo(tmp_path, {"src/a.py": _block("TASK.1"), "lib/b.py": _block("TASK.1")})
    result = run(root, "check", scope, "--format", "json")
    found = [(f["code"], f["path"]) for f in json.loads(result.output)["findings"]]
    assert found == [("HR305", "src/a.py")]


@given(st.lists(st.sampled_from(["abcdef.1", "abcdef.2", "k3f7qa.1"]), max_size=8))
def test_an_id_used_twice_is_never_a_block(ids: list[str]) -> None:
    """Property of the parser: an id with two begin markers yields no block, and every one of
    its begin lines is a DUPLICATE problem; an id used once is a block."""
    text = "".join(f"# handrail:begin {i}\nx = 1\n# handrail:end {i}\n" for i in ids)
    parsed = parse_blocks(text, "a.py")
    twice = {i for i in ids if ids.count(i) > 1}
    assert {b.id for b in parsed.blocks} == set(ids) - twice
    duplicate_lines = {p.line for p in parsed.problems if p.kind is ProblemKind.DUPLICATE}
    assert duplicate_lines == {3 * n + 1 for n, i in enumerate(ids) if i in twice}
    assert {b.id for b in parsed.duplicated} == twice
    assert len(parsed.enclosed) == len(ids)
