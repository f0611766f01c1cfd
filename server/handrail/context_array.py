"""Where a task file's ``context = [...]`` entries sit in its text, even while it is typed.

Editors need positions the TOML parser does not give: the span of each entry string (for
links and completion), the line of the closing bracket (for the budget hint), and the
entry the cursor is in while the user is still typing it (an unclosed quote is normal
then, and the file is not valid TOML). This scanner reads strings, comments and brackets
only, never fails, and finds the top-level ``context`` array. Editing the array goes
through tomlkit, which keeps the rest of the file (comments, layout) as it was.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field

import tomlkit
import tomlkit.exceptions
import tomlkit.items

_KEY = re.compile(r"""[ \t]*(?:context|"context"|'context')[ \t]*=[ \t]*""")
_TABLE_HEADER = re.compile(r"[ \t]*\[")


@dataclass(frozen=True, slots=True)
class EntrySpan:
    """One string in the context array. Lines and columns are 1-based, in code points.

    `column`..`end_column` (end exclusive) span the text between the quotes; an entry
    still being typed (no closing quote on its line) ends at the end of the line.
    """

    value: str
    line: int
    column: int
    end_column: int
    closed: bool


@dataclass(frozen=True, slots=True)
class ContextArray:
    key_line: int
    entries: list[EntrySpan] = field(default_factory=list)
    close: tuple[int, int] | None = None
    """(line, column) of the closing ``]``; None while it is missing."""

    def entry_at(self, line: int, column: int) -> EntrySpan | None:
        """The entry whose text holds the cursor (its ends included)."""
        for entry in self.entries:
            if entry.line == line and entry.column <= column <= entry.end_column:
                return entry
        return None


def scan_context_array(text: str) -> ContextArray | None:
    """The top-level ``context`` array of a task file's text, or None when there is none."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    scanner = _Scanner(lines)
    return scanner.run()


class _Scanner:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.row = 0
        self.col = 0

    def run(self) -> ContextArray | None:
        # Top level: one key per line; skip over values that span lines (multi-line
        # strings, arrays) so a "context =" inside them is never taken for the key.
        while self.row < len(self.lines):
            line = self.lines[self.row]
            if _TABLE_HEADER.match(line) and not _KEY.match(line):
                return None  # keys after a table header are not top-level
            match = _KEY.match(line)
            if match is not None and line[match.end() : match.end() + 1] == "[":
                self.col = match.end() + 1
                return self._array(self.row + 1)
            self.col = 0
            self._skip_line_value()
        return None

    def _skip_line_value(self) -> None:
        """Move past the rest of the current top-level line, and any value it opens."""
        depth = 0
        start_row = self.row
        while self.row < len(self.lines):
            line = self.lines[self.row]
            if self.col >= len(line):
                if depth <= 0 or self.row - start_row > 10_000:
                    break
                self.row += 1
                self.col = 0
                continue
            char = line[self.col]
            if char == "#":
                self.col = len(line)
            elif char in "\"'":
                self._string(collect=False)
            elif char in "[{":
                depth += 1
                self.col += 1
            elif char in "]}":
                depth -= 1
                self.col += 1
            else:
                self.col += 1
        self.row += 1
        self.col = 0

    def _array(self, key_line: int) -> ContextArray:
        entries: list[EntrySpan] = []
        depth = 1
        while self.row < len(self.lines):
            line = self.lines[self.row]
            if self.col >= len(line):
                self.row += 1
                self.col = 0
                if self.row < len(self.lines) and _KEY_OR_HEADER.match(self.lines[self.row]):
                    # The next top-level key: the array was never closed.
                    return ContextArray(key_line, entries, None)
                continue
            char = line[self.col]
            if char == "#":
                self.col = len(line)
            elif char in "\"'":
                entry = self._string(collect=depth == 1)
                if entry is not None:
                    entries.append(entry)
            elif char in "[{":
                depth += 1
                self.col += 1
            elif char in "]}":
                depth -= 1
                self.col += 1
                if depth == 0:
                    return ContextArray(key_line, entries, (self.row + 1, self.col))
            else:
                self.col += 1
        return ContextArray(key_line, entries, None)

    def _string(self, *, collect: bool) -> EntrySpan | None:
        line = self.lines[self.row]
        quote = line[self.col]
        if line.startswith(quote * 3, self.col):
            self._multiline(quote * 3)
            return None
        start = self.col + 1
        i = start
        while i < len(line):
            if quote == '"' and line[i] == "\\":
                i += 2
                continue
            if line[i] == quote:
                break
            i += 1
        closed = i < len(line)
        end = min(i, len(line))
        self.col = end + 1 if closed else len(line)
        if not collect:
            return None
        raw = line[start:end]
        return EntrySpan(_decode(raw, quote), self.row + 1, start + 1, end + 1, closed)

    def _multiline(self, delimiter: str) -> None:
        self.col += 3
        while self.row < len(self.lines):
            line = self.lines[self.row]
            at = line.find(delimiter, self.col)
            while at > 0 and delimiter[0] == '"' and _escaped(line, at):
                at = line.find(delimiter, at + 1)
            if at >= 0:
                self.col = at + 3
                while self.col < len(line) and line[self.col] == delimiter[0]:
                    self.col += 1  # up to two quotes may end the string's content
                return
            self.row += 1
            self.col = 0


_KEY_OR_HEADER = re.compile(r"(?:\[|[ \t]*[A-Za-z0-9_-]+[ \t]*=)")


def _escaped(line: str, at: int) -> bool:
    backslashes = 0
    while at - backslashes - 1 >= 0 and line[at - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _decode(raw: str, quote: str) -> str:
    if quote == "'" or "\\" not in raw:
        return raw
    try:
        value = tomllib.loads(f'v = "{raw}"')["v"]
    except (tomllib.TOMLDecodeError, ValueError):
        return raw
    return value if isinstance(value, str) else raw


class ContextEditError(ValueError):
    """The task file's text cannot be edited as TOML (the message says why)."""


def _parse_array(text: str) -> tuple[tomlkit.TOMLDocument, tomlkit.items.Array]:
    try:
        document = tomlkit.parse(text)
    except Exception as exc:
        # tomlkit is fed the user's unsaved buffer: any failure is bad input, not a crash.
        raise ContextEditError(f"the task file is not valid TOML ({exc})") from None
    array = document.get("context")
    if not isinstance(array, tomlkit.items.Array):
        raise ContextEditError("the task file has no context = [...] array")
    return document, array


def remove_context_entries(text: str, drop: Collection[str]) -> str:
    """`text` without the context entries whose value is in `drop`; the rest is kept as is.

    Raises `ContextEditError` when the text is not valid TOML or has no ``context`` array.
    """
    document, array = _parse_array(text)
    wanted = set(drop)
    for index in reversed(range(len(array))):
        item = array[index]
        if isinstance(item, str) and item in wanted:
            del array[index]
    return document.as_string()


def replace_context_entry(text: str, old: str, new: str) -> str:
    """`text` with every context entry equal to `old` changed to `new`."""
    document, array = _parse_array(text)
    for index in range(len(array)):
        item = array[index]
        if isinstance(item, str) and item == old:
            array[index] = new
    return document.as_string()
