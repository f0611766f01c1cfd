"""`handrail renumber`: give every block whose id another block also uses a new number.

Two branches that each mark a block for one task both create `<task>.2`; after the merge
the workspace holds two blocks with one id (HR305 on both, neither verified). Renumbering
keeps the id on the block the ledger knew first and gives each other one the next free
number (`handrail.marking.ids`), in both of its markers.

Which block keeps the id: the one whose own `BlockMarked` record (same path and content
hash) is the oldest; a block without such a record (marked by hand, or edited since) yields
to one with it; among equals, the first by path and line.

Evidence follows content, never ids: a renumbered block gets a `BlockMarked` record for
its new id, and the old id's evidence (verification runs, traces, explanations, reviews) is
carried over to the new id only when the block still has the exact content its old record
was written for, and only the evidence for that content hash (a carried run or trace names
the record it was carried from in its text). Evidence never moves between contents.

Everything happens under the ledger lock, records first and files second, as marking does
(`handrail.marking.recorded`): a failure leaves no file changed and no record written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict

from handrail.blocks.mark import MarkError, read_for_marking, rename_markers, replace_unchanged
from handrail.blocks.markers import Block, parse_blocks
from handrail.ledger.evidence import EvidenceIndex
from handrail.ledger.records import (
    BlockMarked,
    Explanation,
    Record,
    Review,
    Trace,
    VerificationRun,
)
from handrail.ledger.store import Ledger
from handrail.marking.ids import allocating, scan_markers
from handrail.marking.record import marked_record, take_back
from handrail.workspace import PathEscapesWorkspace, Workspace

__all__ = ["RenumberResult", "Renumbered", "renumber"]

_CARRIED = "carried over from block {old} by handrail renumber (record {record})"


class KeptByJson(TypedDict):
    path: str
    line: int


class RenumberedJson(TypedDict):
    """`Renumbered` as `handrail renumber --json` and ``handrail.renumber`` report it."""

    path: str
    old: str
    new: str
    begin_line: int
    end_line: int
    kept_by: KeptByJson
    carried: list[str]


class RenumberJson(TypedDict):
    """`RenumberResult.as_json`: ``dry_run`` says nothing was written."""

    dry_run: bool
    renumbered: list[RenumberedJson]


@dataclass(frozen=True, slots=True)
class Renumbered:
    """One block that got a new id."""

    path: str
    old_id: str
    new_id: str
    begin_line: int
    end_line: int
    kept_by: tuple[str, int]
    """Where the block that keeps `old_id` is: (path, begin line)."""
    carried: list[str] = field(default_factory=list)
    """Kinds of the evidence records carried over to the new id (e.g. "verification_run")."""

    def as_json(self) -> RenumberedJson:
        """One JSON shape for `handrail renumber --json` and `handrail.renumber`."""
        return {
            "path": self.path,
            "old": self.old_id,
            "new": self.new_id,
            "begin_line": self.begin_line,
            "end_line": self.end_line,
            "kept_by": {"path": self.kept_by[0], "line": self.kept_by[1]},
            "carried": list(self.carried),
        }


@dataclass(slots=True)
class RenumberResult:
    renumbered: list[Renumbered] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    """The records written (none on a dry run)."""

    def as_json(self, *, dry_run: bool) -> RenumberJson:
        """One JSON shape for `handrail renumber --json` and ``handrail.renumber``."""
        return {"dry_run": dry_run, "renumbered": [r.as_json() for r in self.renumbered]}


@dataclass(frozen=True, slots=True)
class _Use:
    path: str
    block: Block


def renumber(
    ws: Workspace, *, author: str | None, dry_run: bool = False, ledger: Ledger | None = None
) -> RenumberResult:
    """Renumber every block whose id another block of the workspace also uses.

    Raises `MarkError` (a file cannot be rewritten; nothing changed) and
    `LedgerWriteError` (a record cannot be written; nothing changed).
    """
    ledger = ledger or Ledger(ws)
    result = RenumberResult()
    with allocating(ledger) as allocation:
        records = ledger.read().records
        index = EvidenceIndex.build(records)
        marked = sorted((r for r in records if isinstance(r, BlockMarked)), key=lambda r: r.id)
        uses: dict[str, list[_Use]] = {}
        for path, parsed in sorted(scan_markers(ws).items()):
            for block in parsed.enclosed:
                uses.setdefault(block.id, []).append(_Use(path, block))
        to_write: list[Record] = []
        edits: dict[str, list[tuple[Block, str]]] = {}
        for block_id, found in sorted(uses.items()):
            if len(found) < 2:
                continue
            ranked = sorted(found, key=lambda u: _rank(u, marked))
            keeper = ranked[0]
            for use in ranked[1:]:
                block = use.block
                new_id = allocation.next_id(block.task_id)
                own = _own_record(use, marked)
                new_record = marked_record(
                    _renamed(block, new_id),
                    block.task_id,
                    use.path,
                    author=author,
                    # Same lines, same spec: a renumbered block keeps what it was made under.
                    spec_hash=own.spec_hash if own else None,
                )
                carried = _carry(index, block_id, new_id, block.content_hash, author) if own else []
                to_write += [new_record, *carried]
                edits.setdefault(use.path, []).append((block, new_id))
                result.renumbered.append(
                    Renumbered(
                        use.path,
                        block_id,
                        new_id,
                        block.begin_line,
                        block.end_line,
                        (keeper.path, keeper.block.begin_line),
                        [r.kind for r in carried],
                    )
                )
        if dry_run or not to_write:
            return result
        prepared = [_prepare(ws, path, changes) for path, changes in sorted(edits.items())]
        appended: list[Record] = []
        try:
            for record in to_write:
                ledger.append(record)
                appended.append(record)
            written: list[tuple[Path, str, bytes]] = []
            try:
                for real, rel, old_data, new_data, before in prepared:
                    replace_unchanged(real, rel, new_data, before)
                    written.append((real, rel, old_data))
            except BaseException:
                _restore(written)
                raise
        except BaseException:
            take_back(ledger, appended)
            raise
        result.records = to_write
    return result


def _rank(use: _Use, marked: Sequence[BlockMarked]) -> tuple[int, str, str, int]:
    """Sort key: blocks with their own record first, oldest record first; then by place."""
    own = _own_record(use, marked)
    return (0 if own else 1, own.id if own else "", use.path, use.block.begin_line)


def _own_record(use: _Use, marked: Sequence[BlockMarked]) -> BlockMarked | None:
    """The oldest record of the block's id written for this path and this exact content."""
    block = use.block
    return next(
        (
            r
            for r in marked
            if r.block_id == block.id
            and r.path == use.path
            and r.content_hash == block.content_hash
        ),
        None,
    )


def _renamed(block: Block, new_id: str) -> Block:
    return replace(block, id=new_id, n=int(new_id.rpartition(".")[2]))


def _carry(
    index: EvidenceIndex, old_id: str, new_id: str, digest: str, author: str | None
) -> list[Record]:
    """Copies, for `new_id`, of the evidence `old_id` has for content `digest` only."""
    carried: list[Record] = []
    for run in reversed(index.runs_for(old_id)):
        if run.blocks.get(old_id) != digest:
            continue
        note = _CARRIED.format(old=old_id, record=run.id)
        # The run's line evidence for the block goes with it: without it the copy would prove
        # no execution (HR310).
        coverage = run.coverage.get(old_id) if run.coverage is not None else None
        carried.append(
            VerificationRun.create(
                task_id=run.task_id,
                command=run.command,
                exit_code=run.exit_code,
                passed=run.passed,
                timed_out=run.timed_out,
                started_at=run.started_at,
                finished_at=run.finished_at,
                blocks={new_id: digest},
                output_tail=f"[{note}]\n{run.output_tail}"[:4000],
                author=run.author,
                coverage={new_id: coverage} if coverage is not None else None,
                could_not_run=run.could_not_run,
                spec_hash=run.spec_hash,
            )
        )
    acknowledgements: list[Trace | Explanation | Review] = [
        *reversed(index.traces_for(old_id)),
        *reversed(index.explanations_for(old_id)),
        *reversed(index.reviews_for(old_id)),
    ]
    for ack in acknowledgements:
        if ack.content_hash != digest:
            continue
        if isinstance(ack, Trace):
            note = _CARRIED.format(old=old_id, record=ack.id)
            carried.append(
                Trace.create(
                    block_id=new_id,
                    content_hash=digest,
                    author=ack.author,
                    note=f"{ack.note} [{note}]".strip()[:10_000],
                )
            )
        elif isinstance(ack, Review):
            carried.append(
                Review.create(
                    block_id=new_id,
                    content_hash=digest,
                    author=ack.author,
                    verdict=ack.verdict,
                    note=ack.note,
                )
            )
        else:
            carried.append(
                Explanation.create(
                    block_id=new_id, content_hash=digest, author=ack.author, spec_hash=ack.spec_hash
                )
            )
    return carried


def _prepare(
    ws: Workspace, rel: str, changes: list[tuple[Block, str]]
) -> tuple[Path, str, bytes, bytes, os.stat_result]:
    try:
        real = ws.resolve_inside(rel)
    except PathEscapesWorkspace as exc:
        raise MarkError("it is outside the workspace", path=rel) from exc
    text, encoding, before = read_for_marking(real, rel)
    new_text = text
    for block, new_id in changes:
        try:
            new_text = rename_markers(
                new_text, [block.begin_line, block.end_line], block.id, new_id
            )
        except MarkError as exc:
            raise MarkError(f"{exc.message}; nothing was renumbered", path=rel) from exc
    parsed = parse_blocks(new_text, rel)
    for block, new_id in changes:
        check = next((b for b in parsed.enclosed if b.id == new_id), None)
        if check is None or check.content_hash != block.content_hash:
            raise MarkError(f"block {new_id} does not read back after renumbering", path=rel)
    return real, rel, encoding.encode(text), encoding.encode(new_text), before


def _restore(written: list[tuple[Path, str, bytes]]) -> None:
    """Put back files already rewritten when a later one failed (best effort)."""
    for real, rel, old_data in written:
        try:
            replace_unchanged(real, rel, old_data, os.stat(real))
        except MarkError:
            continue
