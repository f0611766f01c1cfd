"""Marking a selection of an editor's buffer as generated: the edit, then the ledger record.

`handrail mark` rewrites a file on disk; an editor instead applies an edit to the buffer the
user is looking at, and only once that edit is applied is the block recorded. `plan_mark`
works out the block id and the two marker lines as insertions (so the user's cursor and
undo history stay put); `record_mark` writes the `BlockMarked` record afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from handrail.blocks.mark import MarkError, next_block_number, wrap_lines
from handrail.blocks.markers import Block, parse_blocks
from handrail.ledger.records import BlockMarked, Record
from handrail.ledger.store import Ledger
from handrail.text_changes import TextChange, apply_changes, changed_region
from handrail.workspace import Workspace

__all__ = ["MarkError", "MarkPlan", "free_block_id", "plan_mark", "record_mark"]


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


def free_block_id(task_id: str, text: str, path: str, records: Iterable[Record]) -> str:
    """The next block id of `task_id` that neither the ledger nor the buffer uses yet."""
    taken = {getattr(r, "block_id", "") for r in records}
    for record in records:
        blocks = getattr(record, "blocks", None)
        if isinstance(blocks, dict):
            taken.update(blocks)
    parsed = parse_blocks(text, path)
    taken |= {b.id for b in parsed.blocks} | {p.block_id for p in parsed.problems}
    return f"{task_id}.{next_block_number(task_id, taken)}"


def plan_mark(
    text: str,
    path: str,
    start_line: int,
    end_line: int,
    task_id: str,
    records: Iterable[Record],
) -> MarkPlan:
    """The edit that wraps lines `start_line`..`end_line` (1-based, inclusive) of `text`.

    Raises `MarkError` (a sentence for the user) when the lines cannot be marked: outside
    the file, overlapping a block or a broken marker, or a file without comment syntax.
    """
    block_id = free_block_id(task_id, text, path, list(records))
    marked = wrap_lines(text, start_line, end_line, block_id, path)
    block = parse_blocks(marked, path).block(block_id)
    if block is None:  # wrap_lines reads its own output back; this is a safety net
        raise MarkError(f"block {block_id} does not read back after marking", path=path)
    return MarkPlan(path, task_id, block, marked, _insertions(text, marked, block, end_line))


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


def record_mark(ws: Workspace, plan: MarkPlan, *, author: str | None) -> BlockMarked:
    """Append the `BlockMarked` record of an applied plan; raises `LedgerWriteError`."""
    record = BlockMarked.create(
        block_id=plan.block.id,
        task_id=plan.task_id,
        path=plan.path,
        content_hash=plan.block.content_hash,
        begin_line=plan.block.begin_line,
        end_line=plan.block.end_line,
        author=author,
    )
    Ledger(ws).append(record)
    return record
