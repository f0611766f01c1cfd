"""Marking lines of an editor's buffer: the edit that adds the markers, and its record.

`plan_mark` works out the two marker lines as insertions in a buffer (so an editor keeps the
user's cursor and undo history); `reserve_mark` plans under the ledger lock and records the
block before the lock is let go (`handrail.marking.record`), and the editor applies the edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from handrail.blocks.mark import MarkError, wrap_lines
from handrail.blocks.markers import Block, parse_blocks
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.marking.ids import Allocation, allocating, ids_in_parse
from handrail.marking.record import marked_record
from handrail.text_changes import TextChange, apply_changes, changed_region
from handrail.workspace import Workspace

__all__ = ["MarkPlan", "next_id_for", "plan_mark", "reserve_mark"]


@dataclass(frozen=True, slots=True)
class MarkPlan:
    """What marking lines `start_line`..`end_line` of a buffer does."""

    path: str
    task_id: str
    block: Block
    """The new block as it reads back from `marked_text` (its lines include the markers)."""
    marked_text: str
    changes: list[TextChange]
    """Insertions that turn the buffer into `marked_text`, against the unmarked buffer."""

    @property
    def block_id(self) -> str:
        return self.block.id


def plan_mark(
    text: str,
    path: str,
    start_line: int,
    end_line: int,
    block_id: str,
) -> MarkPlan:
    """The edit that wraps lines `start_line`..`end_line` (1-based, inclusive) of `text`
    in markers for `block_id` (from an `Allocation`).

    Raises `MarkError` (a sentence for the user) when the lines cannot be marked: outside
    the file, overlapping a block or a broken marker, or a file without comment syntax.
    """
    marked = wrap_lines(text, start_line, end_line, block_id, path)
    block = parse_blocks(marked, path).block(block_id)
    if block is None:  # wrap_lines reads its own output back; this is a safety net
        raise MarkError(f"block {block_id} does not read back after marking", path=path)
    task_id = block_id.partition(".")[0]
    return MarkPlan(path, task_id, block, marked, _insertions(text, marked, block, end_line))


def next_id_for(allocation: Allocation, task_id: str, text: str, path: str) -> str:
    """The next free id of `task_id`, counting the markers of `text` (a buffer, or a file the
    workspace scan leaves out, such as an ignored one) as taken too."""
    allocation.take(ids_in_parse(parse_blocks(text, path)))
    return allocation.next_id(task_id)


def _insertions(text: str, marked: str, block: Block, end_line: int) -> list[TextChange]:
    """The two marker lines as insertions, or one replacement when they are not enough.

    The begin marker goes before the first selected line; the end marker after the last
    selected line's text (before its line ending), which also covers a last line without one.
    """
    new_lines = _split_keep_ends(marked)
    old_lines = _split_keep_ends(text)
    begin = new_lines[block.begin_line - 1]
    end_body = new_lines[block.end_line - 1].rstrip("\r\n")
    last = old_lines[end_line - 1]
    last_body = last.rstrip("\r\n")
    before_end = new_lines[block.end_line - 2][len(last_body) :]
    changes = [
        TextChange(block.begin_line, 1, block.begin_line, 1, begin),
        TextChange(
            end_line,
            len(last_body) + 1,
            end_line,
            len(last_body) + 1,
            before_end + end_body,
        ),
    ]
    try:
        if apply_changes(text, changes) == marked:
            return changes
    except ValueError:
        pass
    # A byte order mark or an unusual mix of line endings: fall back to one replacement.
    whole = changed_region(text, marked)
    return [whole] if whole is not None else []


def _split_keep_ends(text: str) -> list[str]:
    lines: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\r" or char == "\n":
            stop = i + 2 if text.startswith("\r\n", i) else i + 1
            lines.append(text[start:stop])
            start = i = stop
            continue
        i += 1
    if start < len(text):
        lines.append(text[start:])
    return lines


def reserve_mark(
    ws: Workspace,
    planner: Callable[[Allocation], MarkPlan],
    *,
    author: str | None,
    extra: Iterable[str] = (),
    ledger: Ledger | None = None,
    produced_by: Mapping[str, Any] | None = None,
) -> tuple[MarkPlan, BlockMarked]:
    """For an editor: plan a mark under the ledger lock and record it before the lock is let
    go, so no other writer can take its id while the editor applies the edit. The caller
    then has the markers written and calls `Ledger.withdraw(record)` if they are not.

    `planner` gets the allocation (ids of the ledger, the workspace's files and `extra`, the
    open buffers' ids) and returns the plan. Raises `MarkError` and `LedgerWriteError`;
    then nothing is recorded.
    """
    ledger = ledger or Ledger(ws)
    with allocating(ledger, extra=extra) as allocation:
        plan = planner(allocation)
        record = marked_record(
            plan.block, plan.task_id, plan.path, author=author, ws=ws, **dict(produced_by or {})
        )
        ledger.append(record)
    return plan, record
