"""Block ids in use, and the one allocator that hands out the next free one.

A block id `<task-id>.<n>` names the evidence of one block, so it must never be given twice.
An id is in use in two places: the ledger's records, and the markers in the workspace's
files (a block marked by hand, a block whose record was lost, a block of another branch
that a merge brought in). The allocator takes the highest number of the task over both,
plus one, and never reuses a gap (a number once given may still have records).

Two writers (two `handrail mark` processes, the language server and a git hook) could
both read the same "highest" and pick the same number. So an allocation lives only while
the ledger's writer lock (`.handrail/.lock`) is held, and its caller appends the new
block's `BlockMarked` record before the lock is let go: the next allocator then finds the
id in the ledger even if the markers are not in any file yet.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from handrail.blocks.check import Location
from handrail.blocks.mark import next_block_number
from handrail.blocks.markers import ParseResult, decode_source, is_block_id, parse_blocks
from handrail.ledger.records import Record
from handrail.ledger.store import Ledger
from handrail.workspace import HANDRAIL_DIR, NotARegularFile, Workspace, open_regular_file

__all__ = [
    "MARKER_NEEDLE",
    "Allocation",
    "MarkerIndex",
    "allocating",
    "ids_in_parse",
    "ids_in_records",
    "ids_in_workspace",
    "marker_texts",
    "scan_markers",
    "text_with_markers",
]

MARKER_NEEDLE = b"handrail:"
# UTF-16/32 text has NUL bytes and spells "handrail:" with them; its byte order mark says so.
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")
# What git reads of a file to call it binary (a NUL byte in it): `buffer_is_binary`.
_GIT_BINARY_PROBE = 8000
# Files this large are searched for markers through mmap rather than read whole.
_MMAP_FROM_BYTES = 1 << 20


def ids_in_records(records: Iterable[Record]) -> set[str]:
    """Every block id a record names: marked, verified (a run's blocks), traced, accepted…"""
    taken: set[str] = set()
    for record in records:
        block_id = getattr(record, "block_id", None)
        if isinstance(block_id, str):
            taken.add(block_id)
        blocks = getattr(record, "blocks", None)
        if isinstance(blocks, dict):
            taken.update(blocks)
    return taken


def ids_in_parse(parsed: ParseResult) -> set[str]:
    """Every well-formed id on a marker line: blocks, duplicates and unbalanced markers alike."""
    taken = {b.id for b in parsed.blocks}
    taken.update(p.block_id for p in parsed.problems if is_block_id(p.block_id))
    return taken


def text_with_markers(path: Path, *, skip_binary: bool = False) -> str | None:
    """The decoded text of `path` when it may hold markers; None otherwise or when unreadable.

    Most files of a repository hold none, so the bytes are searched before anything is decoded.
    `skip_binary` leaves out what git calls binary (a NUL in the first 8,000 bytes), as
    `git grep -I` would, except UTF-16/32 text (its byte order mark says so); it reads only
    those first bytes of such a file.
    """
    try:
        # Never an open that waits: a link to a FIFO or a terminal is no source file.
        with open(open_regular_file(path), "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return None
            head = b""
            if skip_binary:
                head = handle.read(_GIT_BINARY_PROBE)
                if b"\0" in head and not head.startswith(_WIDE_BOMS):
                    return None
            if size >= _MMAP_FROM_BYTES:
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                    if mapped.find(MARKER_NEEDLE) < 0 and mapped[:2] not in _WIDE_BOMS:
                        return None
                    data = bytes(mapped)
            else:
                data = head + handle.read()  # the probe's bytes are not read twice
    except (OSError, ValueError, NotARegularFile):
        return None
    if MARKER_NEEDLE not in data and not data.startswith(_WIDE_BOMS):
        return None
    text, _encoding = decode_source(data)
    return text


def marker_texts(ws: Workspace, files: Iterable[str] | None = None) -> Iterator[tuple[str, str]]:
    """(path, text) of each file that may hold markers: of `files`, else of the workspace.

    In a git work tree one `git grep` finds the few files that may hold markers (UTF-16/32 ones
    by their byte order mark's bytes); elsewhere each file's bytes are searched.
    """
    from handrail.files import files_with_markers, list_files

    listed = list_files(ws) if files is None else files
    # One `git grep` names every file that may hold markers: those with the needle, and the
    # few holding a byte order mark's bytes (UTF-16/32 text is binary to git). Each is read
    # here, what git calls binary left out; no other file is opened (issue 17).
    candidates = files_with_markers(ws, MARKER_NEEDLE.decode())
    for rel in listed:
        if rel.startswith(HANDRAIL_DIR + "/"):
            continue
        if candidates is not None and rel not in candidates:
            continue
        text = text_with_markers(ws.root / rel, skip_binary=candidates is not None)
        if text is not None:
            yield rel, text


def scan_markers(ws: Workspace) -> dict[str, ParseResult]:
    """The parsed markers of every workspace file that holds any, by workspace-relative path."""
    found: dict[str, ParseResult] = {}
    for rel, text in marker_texts(ws):
        parsed = parse_blocks(text, rel)
        if parsed.blocks or parsed.problems:
            found[rel] = parsed
    return found


class MarkerIndex:
    """Which file uses which block id: what a check of one file needs to see an id that
    another file uses too (HR305). Built from the files on disk; an editor updates a file's
    entry when it is saved."""

    def __init__(self, parsed_by_path: Mapping[str, ParseResult] | None = None) -> None:
        self._by_path: dict[str, dict[str, int]] = {}
        self._where: dict[str, dict[str, int]] = {}
        self.generation = 0
        """Counts the changes of the index: what was derived from it at one count is
        current while the count stays (`analysis.SourceAnalysisCache`)."""
        # An editor updates the index on its event loop while analyses read it on workers.
        self._lock = threading.Lock()
        for rel, parsed in (parsed_by_path or {}).items():
            self.update(rel, parsed)

    @classmethod
    def build(cls, ws: Workspace) -> MarkerIndex:
        return cls(scan_markers(ws))

    def update(self, rel: str, parsed: ParseResult | None) -> bool:
        """Set the ids of file `rel` (None: it holds none now); True when they changed."""
        ids = {b.id: b.begin_line for b in parsed.enclosed} if parsed is not None else {}
        with self._lock:
            return self._update(rel, ids)

    def _update(self, rel: str, ids: dict[str, int]) -> bool:
        old = self._by_path.get(rel, {})
        if ids == old:
            return False
        for block_id in old:
            places = self._where.get(block_id, {})
            places.pop(rel, None)
            if not places:
                self._where.pop(block_id, None)
        for block_id, line in ids.items():
            self._where.setdefault(block_id, {})[rel] = line
        if ids:
            self._by_path[rel] = ids
        else:
            self._by_path.pop(rel, None)
        self.generation += 1
        return True

    def elsewhere(self, rel: str, block_ids: Iterable[str]) -> dict[str, list[Location]]:
        """For each of `block_ids` that a file other than `rel` uses: where, sorted."""
        found: dict[str, list[Location]] = {}
        with self._lock:
            for block_id in block_ids:
                places = sorted(
                    (p, line) for p, line in self._where.get(block_id, {}).items() if p != rel
                )
                if places:
                    found[block_id] = places
        return found

    def ids(self) -> set[str]:
        """Every block id of every file in the index."""
        with self._lock:
            return set(self._where)


def ids_in_workspace(ws: Workspace) -> set[str]:
    """Every well-formed block id on a marker line of a workspace file (the files on disk)."""
    taken: set[str] = set()
    for parsed in scan_markers(ws).values():
        taken |= ids_in_parse(parsed)
    return taken


class Allocation:
    """The ids in use while the ledger lock is held; `next_id` hands out free ones."""

    def __init__(self, taken: Iterable[str]) -> None:
        self._taken = set(taken)

    @property
    def taken(self) -> frozenset[str]:
        return frozenset(self._taken)

    def take(self, block_ids: Iterable[str]) -> None:
        """Count more ids as used (markers of a buffer the scan does not see)."""
        self._taken.update(block_ids)

    def next_id(self, task_id: str) -> str:
        """A new id for `task_id`, above every id of the task in use; it is now taken too."""
        block_id = f"{task_id}.{next_block_number(task_id, self._taken)}"
        self._taken.add(block_id)
        return block_id


@contextmanager
def allocating(ledger: Ledger, *, extra: Iterable[str] = ()) -> Iterator[Allocation]:
    """Hold the ledger lock and yield an allocation over the ledger, the workspace's files
    and `extra` (ids of open buffers). Append the new blocks' records before leaving.

    Raises `LedgerLockTimeout`/`LedgerWriteError` when the lock cannot be taken.
    """
    with ledger.lock():
        taken = ids_in_records(ledger.read().records) | ids_in_workspace(ledger.ws)
        taken.update(extra)
        yield Allocation(taken)
