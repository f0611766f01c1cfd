"""Recording a mark: the markers and the block's ledger record, both or neither.

Every way of marking (`handrail mark`, `mark --diff`, `generate --into`, the editor's
"Mark selection as generated" and generation commands) goes through here, in one order:

1. under the ledger lock, choose the block id (`handrail.marking.ids`: above every id in the
   ledger and in the workspace's markers);
2. still under the lock, append the block's `BlockMarked` record: it reserves the id for
   every other writer;
3. write the markers (a file on disk, or an editor's buffer through an edit);
4. if the markers cannot be written, take the record back (`Ledger.withdraw`).

A failed record write (step 2) leaves nothing to undo; a failed marker write (step 3)
removes a file we just created, which needs no free space, unlike restoring the old bytes
of a source file would. The markers are written by `buffer` (an editor's buffer, through an
edit), `write` (a file on disk), `diff` and `renumber`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from handrail.blocks.markers import Block
from handrail.ledger.records import BlockMarked, Record
from handrail.ledger.store import Ledger, LedgerWriteError
from handrail.workspace import Workspace

if TYPE_CHECKING:
    from handrail.agents.identity import AgentIdentity

__all__ = [
    "marked_record",
    "recorded",
    "take_back",
]

_T = TypeVar("_T")
log = logging.getLogger(__name__)


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

    Raises `MarkError` for a file whose name is not UTF-8. With `ws`, the record keeps the
    hash of the task's spec at this moment, so a later edit of the spec re-opens the block
    (HR314). `produced_by` adds what generated it (endpoint, temperature, pack_hash).
    """
    if not path.isascii():
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            from handrail.blocks.mark import MarkError

            # Its bytes kept as surrogates: a ledger record is JSON text, and git shows the
            # name differently on every machine's locale. Nothing has been written yet.
            raise MarkError(
                "its name is not UTF-8, and the ledger records a block's file by its name as "
                "text: rename the file (UTF-8) to mark it",
                path=path,
            ) from None
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
