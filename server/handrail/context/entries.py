"""Context entries as people write them in a task file: ``path`` or ``path#L10-L40``.

Parsing is purely textual. Whether the path stays inside the workspace, exists and is
readable is `handrail.context.resolve`'s job, so an entry such as ``../x`` or ``/etc/passwd``
parses fine here and is refused there with a finding that names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ASCII digits only: `\d` would accept Arabic-Indic and other digits that `int()` reads,
# letting odd text pass as a line number.
_RANGE = re.compile(r"L([0-9]+)(?:-L?([0-9]+))?", re.ASCII)
# Control characters never belong in a path; a newline would also break the task file.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

RANGE_HELP = "a line range is written like #L10-L40 (or #L10 for one line)"


class EntryError(ValueError):
    """A context entry that cannot be understood; the message says what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class ContextEntry:
    """One parsed entry. Lines are 1-based and inclusive; both None means the whole file."""

    path: str
    start_line: int | None
    end_line: int | None
    raw: str

    @property
    def has_range(self) -> bool:
        return self.start_line is not None

    def formatted(self) -> str:
        return format_entry(self)


def normalise_path(text: str) -> str:
    """`/`-separated, without `./` or empty segments.

    A leading `/` is kept so that resolving refuses the entry as absolute.
    """
    path = text.replace("\\", "/")
    absolute = path.startswith("/")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    joined = "/".join(parts)
    return "/" + joined if absolute else joined


def parse_entry(text: str) -> ContextEntry:
    """Parse `text` (``path``, ``path#L10``, ``path#L10-L40``) or raise `EntryError`."""
    if not isinstance(text, str):
        raise EntryError(f"a context entry must be a string, not {type(text).__name__}")
    raw = text
    stripped = text.strip()
    if not stripped:
        raise EntryError("the context entry is empty: write a workspace-relative path")
    if _CONTROL.search(stripped):
        raise EntryError(
            f"the context entry {stripped!r} holds a control character (such as a newline)"
        )
    path_text, hash_sign, fragment = stripped.partition("#")
    if "#" in fragment:
        raise EntryError(f"the context entry {stripped!r} holds more than one '#'; {RANGE_HELP}")
    start: int | None = None
    end: int | None = None
    if hash_sign:
        start, end = _parse_range(stripped, fragment)
    # To a fixed point: normalising can leave blanks at an end (`0 \` becomes `0 `), which the
    # entry's own strip would remove on the next read, so format -> parse would change it.
    path = normalise_path(path_text.strip())
    while (again := normalise_path(path.strip())) != path:
        path = again
    if path in ("", "/"):
        raise EntryError(f"the context entry {stripped!r} names no file")
    return ContextEntry(path=path, start_line=start, end_line=end, raw=raw)


def _parse_range(entry: str, fragment: str) -> tuple[int, int]:
    match = _RANGE.fullmatch(fragment.strip())
    if match is None:
        raise EntryError(f"the context entry {entry!r} has an unreadable line range; {RANGE_HELP}")
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) is not None else start
    if start < 1 or end < 1:
        raise EntryError(
            f"the context entry {entry!r} names line 0; lines are counted from 1 ({RANGE_HELP})"
        )
    if end < start:
        raise EntryError(
            f"the context entry {entry!r} has a reversed line range: write #L{end}-L{start}"
        )
    return start, end


def format_entry(entry: ContextEntry) -> str:
    """The canonical text of `entry`: what `parse_entry` reads back to the same entry."""
    if entry.start_line is None or entry.end_line is None:
        return entry.path
    if entry.start_line == entry.end_line:
        return f"{entry.path}#L{entry.start_line}"
    return f"{entry.path}#L{entry.start_line}-L{entry.end_line}"
