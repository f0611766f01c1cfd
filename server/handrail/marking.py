"""Marking generated code: the markers and the block's ledger record, both or neither.

Every way of marking (`handrail mark`, `mark --diff`, `generate --into`, the editor's
"Mark selection as generated" and generation commands) goes through here, in one order:

1. under the ledger lock, choose the block id (`handrail.block_ids`: above every id in the
   ledger and in the workspace's markers);
2. still under the lock, append the block's `BlockMarked` record: it reserves the id for
   every other writer;
3. write the markers (a file on disk, or an editor's buffer through an edit);
4. if the markers cannot be written, take the record back (`Ledger.withdraw`).

A failed record write (step 2) leaves nothing to undo; a failed marker write (step 3)
removes a file we just created, which needs no free space, unlike restoring the old bytes
of a source file would. `plan_mark` works out the two marker lines as insertions in a
buffer (so an editor keeps the user's cursor and undo history).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from handrail.block_ids import Allocation, allocating, ids_in_parse
from handrail.blocks.mark import MarkError, prepare_file_mark, read_for_marking, wrap_lines
from handrail.blocks.markers import Block, parse_blocks
from handrail.ledger.records import BlockMarked, Record
from handrail.ledger.store import Ledger, LedgerWriteError
from handrail.text_changes import TextChange, apply_changes, changed_region
from handrail.workspace import Workspace

if TYPE_CHECKING:
    from handrail.agents.identity import AgentIdentity

__all__ = [
    "MarkError",
    "MarkPlan",
    "mark_file_recorded",
    "marked_record",
    "next_id_for",
    "plan_mark",
    "recorded",
    "reserve_mark",
    "take_back",
]

_T = TypeVar("_T")
log = logging.getLogger(__name__)


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


def marked_record(
    block: Block,
    task_id: str,
    path: str,
    *,
    author: str | None,
    identity: AgentIdentity | None = None,
    ws: Workspace | None = None,
    **produced_by: Any,
) -> BlockMarked:
    """The `BlockMarked` record of a block as marking writes it (with the coding agent's
    `identity` when an agent marked it).

    With `ws`, the record keeps the hash of the task's spec at this moment, so a later edit
    of the spec re-opens the block (HR314). `produced_by` adds what generated it (endpoint,
    temperature, pack_hash).
    """
    if ws is not None and "spec_hash" not in produced_by:
        from handrail.tasks.files import current_spec_hash

        produced_by["spec_hash"] = current_spec_hash(ws, task_id)
    return BlockMarked.create(
        block_id=block.id,
        task_id=task_id,
        path=path,
        content_hash=block.content_hash,
        begin_line=block.begin_line,
        end_line=block.end_line,
        author=author,
        **(identity.record_fields() if identity is not None else {}),
        **produced_by,
    )


def recorded(ledger: Ledger, records: Sequence[BlockMarked], write: Callable[[], _T]) -> _T:
    """Append `records`, then `write` the markers; both or neither.

    A record that cannot be appended takes back the ones appended before it and raises
    `LedgerWriteError` before `write` runs. When `write` raises, every record is taken back
    and its exception propagates. Call it under the ledger lock (inside `allocating`).
    """
    done: list[BlockMarked] = []
    try:
        for record in records:
            ledger.append(record)
            done.append(record)
        return write()
    except BaseException:
        take_back(ledger, done)
        raise


def take_back(ledger: Ledger, records: Iterable[Record]) -> None:
    """Withdraw records appended for markers that were then not written (errors logged)."""
    for record in records:
        try:
            ledger.withdraw(record)
        except LedgerWriteError as exc:
            # Rare (the ledger folder became read-only between two writes): say so, never
            # hide the first failure behind this one.
            log.error("%s", exc)


def mark_file_recorded(
    ws: Workspace,
    path: Path,
    rel: str,
    start_line: int,
    end_line: int,
    task_id: str,
    *,
    author: str | None,
    ledger: Ledger | None = None,
    identity: AgentIdentity | None = None,
) -> Block:
    """`handrail mark`: wrap lines of the file at `path` in markers for a new block of
    `task_id` and record it, both or neither.

    Raises `MarkError` (nothing written, nothing recorded) and `LedgerWriteError` (the same).
    """
    ledger = ledger or Ledger(ws)
    with allocating(ledger) as allocation:
        text, _, _ = read_for_marking(path, rel)
        block_id = next_id_for(allocation, task_id, text, rel)
        prepared = prepare_file_mark(path, rel, start_line, end_line, block_id)
        record = marked_record(
            prepared.block, task_id, rel, author=author, identity=identity, ws=ws
        )
        recorded(ledger, [record], prepared.write)
    return prepared.block


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
