"""`handrail pr`: exactly the branch's blocks, with their evidence, against the merge base."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from probe_records import mutant, probe_run
from review_helpers import (
    ADA,
    BOB,
    SPECS,
    T0,
    commit_all,
    explain,
    git,
    mark,
    new_repo,
    new_task,
    run,
    verify,
    write_blocks,
)

from handrail.blocks.markers import hash_content
from handrail.ledger.records import BlockCoverage, VerificationRun
from handrail.ledger.store import Ledger
from handrail.review.pr import PrError, _code, build_summary, render_markdown
from handrail.workspace import Workspace

OLD_A1 = "def top(words):\n    return words[:3]\n"
NEW_A1 = "def top(words, n=3):\n    return words[:n]\n"
A2 = "def bottom(words):\n    return words[-3:]\n"
A2_ON_MAIN_LATER = "def bottom(words):\n    return list(reversed(words))[:3]\n"
B1 = "def split_csv(line):\n    return line.split(',')\n"
B2 = "def join_csv(fields):\n    return ','.join(fields)\n"


@pytest.fixture
def branch(tmp_path: Path) -> tuple[Workspace, str, str]:
    """main with blocks a.1 and a.2; a feature branch by two authors; main moved on since."""
    ws = new_repo(tmp_path)
    a = new_task(ws, SPECS[0])
    a1, a2 = f"{a}.1", f"{a}.2"
    write_blocks(ws, "src/top.py", (a1, OLD_A1), (a2, A2))
    mark(ws, a1, "src/top.py", OLD_A1, at=T0, author=ADA)
    mark(ws, a2, "src/top.py", A2, at=T0, author=ADA)
    verify(ws, {a1: OLD_A1, a2: A2}, at=T0 + dt.timedelta(hours=1), passed=True, first=[a1, a2])
    commit_all(ws.root, "top and bottom", author=ADA)

    git(ws.root, "checkout", "-q", "-b", "feature")
    b = new_task(ws, SPECS[1])
    b1, b2 = f"{b}.1", f"{b}.2"
    write_blocks(ws, "src/csv.py", (b1, B1), (b2, B2))
    mark(ws, b1, "src/csv.py", B1, at=T0 + dt.timedelta(days=1), author=BOB)
    mark(ws, b2, "src/csv.py", B2, at=T0 + dt.timedelta(days=1), author=BOB)
    verify(ws, {b1: B1}, at=T0 + dt.timedelta(days=1, hours=2), passed=True, first=[b1], author=BOB)
    explain(ws, b1, B1, at=T0 + dt.timedelta(days=1, hours=3), author=BOB)
    commit_all(ws.root, "csv helpers", author=BOB)
    write_blocks(ws, "src/top.py", (a1, NEW_A1), (a2, A2))
    commit_all(ws.root, "top takes n", author=ADA)

    # main moves on after the fork: a change there must not show up as this branch's.
    git(ws.root, "checkout", "-q", "main")
    write_blocks(ws, "src/top.py", (a1, OLD_A1), (a2, A2_ON_MAIN_LATER))
    commit_all(ws.root, "bottom reversed", author=ADA)
    git(ws.root, "checkout", "-q", "feature")
    return ws, a, b


def test_the_summary_lists_exactly_the_branch_blocks(branch: tuple[Workspace, str, str]) -> None:
    ws, a, b = branch
    summary = build_summary(ws, "main")
    assert summary.merge_base == git(ws.root, "merge-base", "main", "HEAD").strip()
    listed = {blk.block_id: blk.change for blk in summary.blocks}
    assert listed == {f"{a}.1": "changed", f"{b}.1": "added", f"{b}.2": "added"}

    by_id = {blk.block_id: blk for blk in summary.blocks}
    done = by_id[f"{b}.1"]
    assert done.done and done.status == "verified" and done.explained
    assert done.explained_by == [BOB] and done.marked_by == BOB
    assert done.spec == SPECS[1]
    (run_info,) = done.runs
    assert run_info.command == "python -m pytest -q"
    assert run_info.passed and run_info.first_attempt and run_info.on_current_content
    assert run_info.finished_at == T0 + dt.timedelta(days=1, hours=2)
    assert done.findings == []

    assert by_id[f"{b}.2"].status == "unverified"
    assert [f.code for f in by_id[f"{b}.2"].findings] == ["HR300"]
    changed = by_id[f"{a}.1"]
    assert changed.status == "changed" and [f.code for f in changed.findings] == ["HR301"]
    assert not changed.runs[0].on_current_content
    assert not summary.ready
    assert sorted(f.code for f in summary.findings) == ["HR300", "HR301"]


def test_markdown_puts_outstanding_findings_first(branch: tuple[Workspace, str, str]) -> None:
    ws, a, b = branch
    text = render_markdown(build_summary(ws, "main"))
    assert text.startswith("## AI involvement\n")
    assert "**3 generated blocks** from 2 tasks" in text
    assert "1 verified and explained, 2 still need work" in text
    assert text.index("### Outstanding") < text.index("### Blocks")
    assert text.count("HR300") == 1 and text.count("HR301") == 1
    assert f"`{b}.1`" in text and f"`{b}.2`" in text and f"`{a}.1`" in text
    assert f"`{a}.2`" not in text
    assert "`python -m pytest -q` passed, 1/1 lines run by 1 test, 2026-03-03 11:00 UTC" in text
    assert "first attempt, this content" in text
    # The verified block's line evidence (review_helpers' runs execute 1 line under 1 test).
    assert "- **Lines**: 1/1 lines run by 1 test" in text
    assert "Author can explain every line**: yes (Bob Builder \\<bob@example.com\\>)" in text


def test_cli_json_for_bots(branch: tuple[Workspace, str, str]) -> None:
    ws, _, b = branch
    result = run(ws.root, "pr", "--base", "main", "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["ready"] is False
    assert [blk["block"] for blk in payload["blocks"] if blk["task"] == b] == [f"{b}.1", f"{b}.2"]
    assert payload["findings"][0]["code"] in {"HR300", "HR301"}
    assert {blk["lines"] for blk in payload["blocks"]} >= {"1/1 lines run by 1 test"}


def test_accepted_blocks_show_as_removed(branch: tuple[Workspace, str, str]) -> None:
    ws, a, _ = branch
    explain(ws, f"{a}.2", A2, at=T0 + dt.timedelta(hours=2), author=ADA)
    assert run(ws.root, "accept", f"{a}.2").exit_code == 0
    summary = build_summary(ws, "main")
    assert summary.removed == [f"{a}.2"] and summary.accepted == [f"{a}.2"]
    assert f"`{a}.2` (accepted after review)" in render_markdown(summary)


def test_an_unknown_base_is_a_clear_usage_error(branch: tuple[Workspace, str, str]) -> None:
    ws, _, _ = branch
    with pytest.raises(PrError, match="not a commit or branch"):
        build_summary(ws, "no-such-branch")
    with pytest.raises(PrError, match="not a branch or commit name"):
        build_summary(ws, "--output=/tmp/x")
    result = run(ws.root, "pr", "--base", "no-such-branch")
    assert result.exit_code == 2 and "--base" in result.output


def test_outside_git_the_command_says_so(workspace: Workspace) -> None:
    result = run(workspace.root, "pr", "--base", "main")
    assert result.exit_code == 2 and "not a git work tree" in result.output


@given(st.text(max_size=40))
def test_any_text_becomes_one_code_span(text: str) -> None:
    span = _code(text)
    fence = len(span) - len(span.lstrip("`"))
    assert span.startswith("`" * fence) and span.endswith("`" * fence)
    inner = span[fence:-fence]
    # The fence is longer than any run of backticks inside, so the span cannot end early.
    assert "`" * fence not in inner
    assert "\n" not in span


def test_blocks_accepted_on_the_branch_stay_in_the_summary(
    branch: tuple[Workspace, str, str],
) -> None:
    ws, _a, b = branch
    b1 = f"{b}.1"
    accepted = run(ws.root, "accept", b1)
    assert accepted.exit_code == 0, accepted.output
    commit_all(ws.root, "accept the csv split", author=BOB)
    text = (ws.root / "src" / "csv.py").read_text()
    assert "handrail:begin " + b1 not in text

    summary = build_summary(ws, "main")
    by_id = {blk.block_id: blk for blk in summary.blocks}
    done = by_id[b1]
    assert done.change == "accepted"
    assert done.path == "src/csv.py" and done.verified and done.explained
    assert done.marked_by == BOB and done.runs and done.runs[0].on_current_content
    lines = text.splitlines()[done.begin_line - 1 : done.end_line]
    assert "\n".join(lines) + "\n" == B1
    markdown = render_markdown(summary)
    assert f"`{b1}` in `src/csv.py` lines {done.begin_line}-{done.end_line}" in markdown
    assert "accepted after review" in markdown
    data = json.loads(run(ws.root, "pr", "--base", "main", "--format", "json").output)
    assert any(blk["block"] == b1 and blk["change"] == "accepted" for blk in data["blocks"])


def test_an_acceptance_made_on_main_is_not_the_branchs(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    a = new_task(ws, SPECS[0])
    write_blocks(ws, "src/top.py", (f"{a}.1", OLD_A1))
    mark(ws, f"{a}.1", "src/top.py", OLD_A1, at=T0, author=ADA)
    verify(ws, {f"{a}.1": OLD_A1}, at=T0 + dt.timedelta(hours=1), passed=True)
    explain(ws, f"{a}.1", OLD_A1, at=T0 + dt.timedelta(hours=2), author=ADA)
    assert run(ws.root, "accept", f"{a}.1").exit_code == 0
    commit_all(ws.root, "accepted on main")
    git(ws.root, "checkout", "-q", "-b", "feature")
    (ws.root / "src" / "other.py").write_text("x = 1\n")
    commit_all(ws.root, "unrelated")
    assert build_summary(ws, "main").blocks == []


def test_each_run_shows_what_it_proved_for_the_block(tmp_path: Path) -> None:
    """A run whose command exited 0 but that could not measure, or never executed the block,
    is not shown as "passed" for it (found on toolz: three "passed" runs, one real)."""
    ws = new_repo(tmp_path)
    commit_all(ws.root, "start", author=ADA)
    git(ws.root, "checkout", "-q", "-b", "feature")
    a = new_task(ws, SPECS[0])
    a1 = f"{a}.1"
    write_blocks(ws, "src/top.py", (a1, OLD_A1))
    mark(ws, a1, "src/top.py", OLD_A1, at=T0, author=ADA)
    Ledger(ws).append(
        VerificationRun.create(
            at=T0,
            task_id=a,
            command=["python", "-m", "pytest"],
            exit_code=0,
            passed=True,
            started_at=T0 - dt.timedelta(minutes=1),
            finished_at=T0,
            blocks={a1: hash_content(OLD_A1)},
            author=ADA,
            could_not_run="coverage is not installed",
        )
    )
    Ledger(ws).append(
        VerificationRun.create(
            at=T0 + dt.timedelta(hours=1),
            task_id=a,
            command=["python", "-m", "pytest"],
            exit_code=0,
            passed=True,
            started_at=T0,
            finished_at=T0 + dt.timedelta(hours=1),
            blocks={a1: hash_content(OLD_A1)},
            author=ADA,
            coverage={a1: BlockCoverage(outcome="passed", executable="1-2", executed="")},
        )
    )
    Ledger(ws).append(
        probe_run(a1, "src/top.py", hash_content(OLD_A1), [mutant("survived", line=3)])
    )
    commit_all(ws.root, "top", author=ADA)

    summary = build_summary(ws, "main")
    (block,) = summary.blocks
    assert block.probe == "probe 0/1 caught"
    assert "- **Probe** (do the tests fail when it breaks?): probe 0/1 caught" in render_markdown(
        summary
    )
    results = [r.result for r in block.runs]
    assert results == [
        "passed without executing this block, 0/2 lines run",
        "could not run (coverage is not installed)",
    ]
    text = render_markdown(summary)
    assert "passed without executing this block, 0/2 lines run" in text
    assert "could not run (coverage is not installed)" in text
    assert json.loads(json.dumps(summary.as_json()))["blocks"][0]["runs"][1]["result"] == (
        "could not run (coverage is not installed)"
    )


def test_run_on_the_base_itself_the_summary_says_why_it_is_empty(tmp_path: Path) -> None:
    """Tried on toolz: `handrail pr` on master, with the work committed there, said only "no
    generated blocks", as if the work had none."""
    ws = new_repo(tmp_path)
    a = new_task(ws, SPECS[0])
    write_blocks(ws, "src/top.py", (f"{a}.1", OLD_A1))
    mark(ws, f"{a}.1", "src/top.py", OLD_A1, at=T0, author=ADA)
    commit_all(ws.root, "work on main", author=ADA)
    summary = build_summary(ws, "main")
    assert summary.blocks == [] and summary.on_base
    assert "HEAD is `main`'s own commit" in render_markdown(summary)

    git(ws.root, "checkout", "-q", "-b", "feature")
    write_blocks(ws, "src/top.py", (f"{a}.1", NEW_A1))
    commit_all(ws.root, "change", author=ADA)
    branch = build_summary(ws, "main")
    assert not branch.on_base and "own commit" not in render_markdown(branch)
