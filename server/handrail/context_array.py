"""Where a task file's ``context = [...]`` entries sit in its text, even while it is typed.

Editors need positions the TOML parser does not give: the span of each entry string (for
links and completion), the line of the closing bracket (for the budget hint), and the
entry the cursor is in while the user is still typing it (an unclosed quote is normal
then, and the file is not valid TOML). The tolerant mode of the one TOML index
(`handrail.toml.index`) gives all three and never fails. Editing the array goes through
tomlkit, which keeps the rest of the file (comments, layout) as it was.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import tomlkit
import tomlkit.exceptions
import tomlkit.items

from handrail.toml.index import StringValue, index
from handrail.toml.problems import TomlSyntaxError, parse

EntrySpan = StringValue
"""One string in the context array (`StringValue`: its text, line and columns between the
quotes, and whether its closing quote is there yet)."""

_KEY = ("context",)


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
    found = index(text, tolerant=True)
    written = found.value_text(_KEY)
    if written is None or not written.startswith("["):
        return None
    entries = [entry for item in found.items(_KEY) if (entry := found.string(item)) is not None]
    return ContextArray(found.keys[_KEY].line, entries, found.closing(_KEY))


class ContextEditError(ValueError):
    """The task file's text cannot be edited as TOML (the message says why)."""


def _parse_array(text: str) -> tuple[tomlkit.TOMLDocument, tomlkit.items.Array]:
    try:
        parse(text)
    except TomlSyntaxError as exc:
        line = exc.problem.span.line
        raise ContextEditError(
            f"the task file is not valid TOML (line {line}: {exc.problem.message})"
        ) from None
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
    for number in reversed(range(len(array))):
        item = array[number]
        if isinstance(item, str) and item in wanted:
            del array[number]
    return document.as_string()


def replace_context_entry(text: str, old: str, new: str) -> str:
    """`text` with every context entry equal to `old` changed to `new`."""
    document, array = _parse_array(text)
    for number in range(len(array)):
        item = array[number]
        if isinstance(item, str) and item == old:
            array[number] = new
    return document.as_string()
