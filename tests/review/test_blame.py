"""`handrail blame`: provenance of a line with markers, after accept, after a squash merge, a
rebase that moves the block, and an edit inside it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from review_helpers import (
    ADA,
    BOB,
    SPECS,
    T0,
    block_text,
    commit_all,
    explain,
    git,
    mark,
    new_repo,
    new_task,
    run,
    verify,
)

from handrail.ledger.records import Accepted, line_hash
from handrail.review.blame import blame_file, locate
from handrail.workspace import Workspace

H = dt.timedelta(hours=1)
HEADER = "import os\nimport re\nimport sys\n\nLIMIT = 3\nNAME = 'top'\nDEBUG = False\n\n\n"
BODY = (
    "def top(words, n=3):\n"
    "    counts = {}\n"
    "    for word in words:\n"
    "        counts[word] = counts.get(word, 0) + 1\n"
    "    return sorted(counts, key=counts.get, reverse=True)[:n]\n"
)
FOOTER = "\n\nprint('end')\n"


def _finished_block(ws: Workspace) -> tuple[str, str]:
    """A verified, explained block in src/top.py; returns (block id, task id)."""
    task = new_task(ws, SPECS[0])
    block = f"{task}.1"
    (ws.root / "src" / "top.py").write_text(HEADER + block_text(block, BODY) + FOOTER)
    mark(ws, block, "src/top.py", BODY, at=T0, author=ADA)
    verify(ws, {block: BODY}, at=T0 + H, passed=True, author=ADA)
    explain(ws, block, BODY, at=T0 + 2 * H, author=ADA)
    return block, task


def _body_lines(ws: Workspace) -> list[int]:
    lines = (ws.root / "src" / "top.py").read_text().splitlines()
    first = lines.index(BODY.splitlines()[0]) + 1
    return list(range(first, first + BODY.count("\n")))


def _blame_line(ws: Workspace, line: int) -> dict[str, object]:
    result = run(ws.root, "blame", f"src/top.py:{line}", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_a_marked_block_is_generated_with_its_spec_and_evidence(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    block, _task = _finished_block(ws)
    data = _blame_line(ws, _body_lines(ws)[1])
    assert data["generated"] is True
    info = data["block"]
    assert isinstance(info, dict)
    assert (info["block"], info["state"], info["verified"]) == (block, "marked", True)
    assert info["spec"] == SPECS[0]
    assert [e["what"] for e in info["events"]] == ["marked", "verified", "explained"]
    assert _blame_line(ws, 1)["generated"] is False


def test_after_accept_the_lines_are_still_generated(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    block, _task = _finished_block(ws)
    assert run(ws.root, "accept", block).exit_code == 0
    assert "handrail:" not in (ws.root / "src" / "top.py").read_text()
    for line in _body_lines(ws):
        info = _blame_line(ws, line)["block"]
        assert isinstance(info, dict)
        assert (info["block"], info["state"]) == (block, "accepted")
        assert info["events"][-1]["what"] == "accepted"
    text = run(ws.root, "blame", "src/top.py").output
    assert f"{block} (accepted, lines {_body_lines(ws)[0]}-{_body_lines(ws)[-1]})" in text
    assert SPECS[0].split(".")[0] in " ".join(text.split())


def test_after_a_squash_merge_and_a_rebase_that_moves_it(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    (ws.root / "src" / "top.py").write_text(HEADER + FOOTER)
    commit_all(ws.root, "base")
    git(ws.root, "checkout", "-q", "-b", "feature")
    block, _task = _finished_block(ws)
    assert run(ws.root, "accept", block).exit_code == 0
    commit_all(ws.root, "top words", author=BOB)
    (ws.root / "src" / "extra.py").write_text("x = 1\n")
    commit_all(ws.root, "extra", author=BOB)

    # main moves on: code is added above the block's place.
    git(ws.root, "checkout", "-q", "main")
    (ws.root / "src" / "top.py").write_text("# a licence header\n# second line\n" + HEADER + FOOTER)
    commit_all(ws.root, "licence header")

    # Rebase the feature branch onto main: the accepted lines move down.
    git(ws.root, "checkout", "-q", "feature")
    git(ws.root, "rebase", "-q", "main", author=BOB)
    info = _blame_line(ws, _body_lines(ws)[0])["block"]
    assert isinstance(info, dict)
    assert (info["block"], info["state"]) == (block, "moved")

    # Squash-merge it: one new commit on main, the branch's history gone.
    git(ws.root, "checkout", "-q", "main")
    git(ws.root, "merge", "-q", "--squash", "feature")
    git(ws.root, "commit", "-q", "-m", "feature (squashed)", author=ADA)
    git(ws.root, "branch", "-q", "-D", "feature")
    info = _blame_line(ws, _body_lines(ws)[2])["block"]
    assert isinstance(info, dict)
    assert info["block"] == block and info["state"] in ("moved", "accepted")
    assert info["verified"] is True


def test_an_edit_inside_the_accepted_lines(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    block, _task = _finished_block(ws)
    assert run(ws.root, "accept", block).exit_code == 0
    path = ws.root / "src" / "top.py"
    path.write_text(path.read_text().replace("counts.get(word, 0) + 1", "counts.get(word, 0) + 2"))
    edited = _body_lines(ws)[3]
    result = blame_file(ws, "src/top.py")
    (found,) = result.blocks
    assert found.state == "edited" and "4 of 5 lines remain" in found.detail
    assert edited not in found.lines and _body_lines(ws)[0] in found.lines
    assert result.at(edited) is None


def test_a_deleted_block_is_gone(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    block, _task = _finished_block(ws)
    assert run(ws.root, "accept", block).exit_code == 0
    (ws.root / "src" / "top.py").write_text(HEADER + FOOTER)
    (found,) = blame_file(ws, "src/top.py").blocks
    assert (found.block_id, found.state, found.lines) == (block, "gone", ())


@pytest.mark.parametrize("target", ["../outside.py", "src/missing.py", "src"])
def test_bad_targets_are_usage_errors(tmp_path: Path, target: str) -> None:
    ws = new_repo(tmp_path)
    result = run(ws.root, "blame", target)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_line_past_the_end_is_a_usage_error(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    _finished_block(ws)
    result = run(ws.root, "blame", "src/top.py:999")
    assert result.exit_code == 2 and "no line 999" in result.output


@given(
    before=st.lists(st.text("abc \n", max_size=6).map(lambda t: t.replace("\n", "")), max_size=8),
    after=st.lists(st.text("xyz", max_size=6), max_size=8),
)
def test_an_unchanged_block_is_found_wherever_it_moved(before: list[str], after: list[str]) -> None:
    content = ["def f():", "    return 1", "", "x = f()"]
    record = Accepted(
        at=T0,
        block_id="abcdef.1",
        content_hash="sha256:x",
        path="a.py",
        begin_line=3,
        end_line=6,
        line_hashes=[line_hash(line) for line in content],
    )
    file_lines = [*before, *content, *after]
    state, lines, _detail = locate(record, [line_hash(line) for line in file_lines])
    assert state in ("accepted", "moved")
    assert [file_lines[n - 1] for n in lines] == content


@given(
    st.lists(st.sampled_from(["a", "b", "", "c  "]), max_size=12),
    st.lists(st.sampled_from(["a", "b", "", "c"]), min_size=1, max_size=4),
    st.integers(min_value=1, max_value=14),
)
def test_the_in_place_shortcut_agrees_with_locate(
    file_lines: list[str], content: list[str], begin: int
) -> None:
    # accepted_blocks hashes only a block's own lines when they stand where they were
    # accepted; whenever it answers, it must answer what the full search does.
    from handrail.review.blame import _in_place

    record = Accepted(
        at=T0,
        block_id="abcdef.1",
        content_hash="sha256:x",
        path="a.py",
        begin_line=begin,
        end_line=begin + len(content) - 1,
        line_hashes=[line_hash(line) for line in content],
    )
    placed = _in_place(record, file_lines)
    if placed is not None:
        assert placed == locate(record, [line_hash(line) for line in file_lines])
