"""Line-range context entries that cannot drift (HR207).

`src/more.py#L4981-L5003` names lines by number; an edit above them moves the code and the
entry silently points at other lines. So when a task's context is set (`task new`, `task
edit`), each line-range entry's lines are hashed and the hash kept in the task file
(``[context_hashes]``). The context check compares: lines that still hash the same are fine;
lines that moved are found again by their hash and the new range is offered; lines that
changed are reported for someone to look at.

The hash is over the lines' own hashes, so finding a moved range costs one digest per line of
the file plus a short join per window, not a hash of every window's text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from handrail.context.entries import ContextEntry, EntryError, parse_entry
from handrail.context.resolve import EntryText, read_entry
from handrail.workspace import Workspace

__all__ = ["Drift", "drift_of", "pin_entries", "range_hash"]


def _lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def _line_digests(lines: Sequence[str]) -> list[bytes]:
    return [hashlib.sha256(line.encode("utf-8", "surrogatepass")).digest() for line in lines]


def _window_hash(digests: Sequence[bytes]) -> str:
    return "sha256:" + hashlib.sha256(b"".join(digests)).hexdigest()


def range_hash(text: str) -> str:
    """The hash a line-range entry remembers of the lines it took (line endings ignored)."""
    return _window_hash(_line_digests(_lines(text)))


def pin_entries(ws: Workspace, entries: Sequence[str], *, max_file_bytes: int) -> dict[str, str]:
    """The hash of each readable line-range entry's lines, by entry; others are left out."""
    pins: dict[str, str] = {}
    for raw in entries:
        try:
            entry = parse_entry(raw)
        except EntryError:
            continue
        if not entry.has_range:
            continue
        read = read_entry(ws, entry, max_file_bytes=max_file_bytes)
        if isinstance(read, EntryText):
            pins[raw] = range_hash(read.text)
    return pins


@dataclass(frozen=True, slots=True)
class Drift:
    """A line-range entry whose lines are no longer the ones it took."""

    entry: str
    moved_to: tuple[int, int] | None
    """Where the same lines are now (the nearest place), or None when they changed."""

    @property
    def suggest(self) -> str | None:
        if self.moved_to is None:
            return None
        path = parse_entry(self.entry).path
        start, end = self.moved_to
        return f"{path}#L{start}" if start == end else f"{path}#L{start}-L{end}"


def drift_of(
    ws: Workspace,
    entry: ContextEntry,
    taken: EntryText,
    pins: Mapping[str, str],
    *,
    max_file_bytes: int,
) -> Drift | None:
    """None when `entry` has no pin or its lines still hash the same; else where they went."""
    pin = pins.get(entry.raw)
    if pin is None or not entry.has_range or range_hash(taken.text) == pin:
        return None
    whole = read_entry(
        ws, ContextEntry(entry.path, None, None, entry.path), max_file_bytes=max_file_bytes
    )
    if not isinstance(whole, EntryText):
        return Drift(entry.raw, None)
    assert entry.start_line is not None and entry.end_line is not None
    size = entry.end_line - entry.start_line + 1
    digests = _line_digests(_lines(whole.text))
    found = [
        start
        for start in range(len(digests) - size + 1)
        if _window_hash(digests[start : start + size]) == pin
    ]
    if not found:
        return Drift(entry.raw, None)
    nearest = min(found, key=lambda s: abs(s + 1 - entry.start_line))  # type: ignore[operator]
    return Drift(entry.raw, (nearest + 1, nearest + size))
