"""Marking a buffer selection: two inserted marker lines that equal `wrap_lines`' result."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from handrail.blocks.mark import MarkError
from handrail.blocks.markers import parse_blocks
from handrail.ledger.records import BlockMarked, Record, VerificationRun
from handrail.ledger.store import Ledger
from handrail.marking.buffer import MarkPlan, next_id_for, plan_mark, reserve_mark
from handrail.marking.ids import Allocation, ids_in_records
from handrail.text_changes import apply_changes
from handrail.workspace import Workspace

_LINE = st.text(alphabet=st.sampled_from(list("ab é😀\t")), max_size=8)
_EOL = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def _buffer(draw: st.DrawFn) -> tuple[str, int, int]:
    bodies = draw(st.lists(_LINE, min_size=1, max_size=8))
    ends = [draw(_EOL) for _ in bodies]
    if draw(st.booleans()):
        ends[-1] = ""
        # Without a line ending, an empty last line is no line at all.
        bodies[-1] = bodies[-1] or "x"
    text = "".join(b + e for b, e in zip(bodies, ends, strict=True))
    # "\r" then "\n" join into one line break: count the lines the way editors do.
    count = len(re.split(r"\r\n|\r|\n", text)) - (1 if text.endswith(("\n", "\r")) else 0)
    start = draw(st.integers(1, count))
    end = draw(st.integers(start, count))
    return text, start, end


@given(_buffer(), st.sampled_from(["a.py", "b.js", "c.html", "Makefile"]))
def test_plan_is_two_insertions_giving_the_marked_text(
    case: tuple[str, int, int], path: str
) -> None:
    text, start, end = case
    # A range of blank lines is refused (test_only_blank_lines_are_refused).
    assume(any(line.strip() for line in re.split(r"\r\n|\r|\n", text)[start - 1 : end]))
    plan = plan_mark(text, path, start, end, "k3f7qa.1")
    assert apply_changes(text, plan.changes) == plan.marked_text
    assert len(plan.changes) == 2
    assert all(c.line == c.end_line and c.column == c.end_column for c in plan.changes)
    block = parse_blocks(plan.marked_text, path).block(plan.block_id)
    assert block is not None
    assert (block.begin_line, block.end_line) == (start, end + 2)


def free_block_id(task_id: str, text: str, path: str, records: list[Record]) -> str:
    return next_id_for(Allocation(ids_in_records(records)), task_id, text, path)


def test_block_id_skips_ids_in_the_ledger_and_the_buffer() -> None:
    text = "# handrail:begin k3f7qa.2\nx = 1\n# handrail:end k3f7qa.2\ny = 2\n"
    marked = BlockMarked.create(
        block_id="k3f7qa.5",
        task_id="k3f7qa",
        path="a.py",
        content_hash="sha256:0",
        begin_line=1,
        end_line=3,
    )
    assert free_block_id("k3f7qa", text, "a.py", [marked]) == "k3f7qa.6"
    assert free_block_id("k3f7qa", text, "a.py", []) == "k3f7qa.3"
    assert free_block_id("zzzzzz", text, "a.py", [marked]) == "zzzzzz.1"


def test_block_id_counts_blocks_only_a_run_names() -> None:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    run = VerificationRun.create(
        task_id="k3f7qa",
        command=["true"],
        exit_code=0,
        passed=True,
        started_at=now,
        finished_at=now,
        blocks={"k3f7qa.7": "sha256:0"},
    )
    assert free_block_id("k3f7qa", "", "a.py", [run]) == "k3f7qa.8"


def test_overlapping_a_block_is_refused_with_a_sentence() -> None:
    text = "# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\ny = 2\n"
    with pytest.raises(MarkError, match="blocks cannot nest or overlap"):
        plan_mark(text, "a.py", 2, 4, "k3f7qa.2")


def test_reserve_mark_writes_the_block_marked_record(workspace: Workspace) -> None:
    def planner(allocation: Allocation) -> MarkPlan:
        return plan_mark("x = 1\ny = 2\n", "src/a.py", 1, 2, allocation.next_id("k3f7qa"))

    plan, record = reserve_mark(
        workspace,
        planner,
        author="Ada Tester <ada@example.com>",
    )
    (stored,) = Ledger(workspace).read().records
    assert stored == record
    assert isinstance(stored, BlockMarked)
    assert (stored.block_id, stored.begin_line, stored.end_line) == ("k3f7qa.1", 1, 4)
    assert stored.content_hash == plan.block.content_hash
