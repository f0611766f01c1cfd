"""Where a task file's ``context = [...]`` entries sit in its text, even while it is typed.

Editors need positions the TOML parser does not give: the span of each entry string (for
links and completion), the line of the closing bracket (for the budget hint), and the
entry the cursor is in while the user is still typing it (an unclosed quote is normal
then, and the file is not valid TOML). The tolerant mode of the one TOML index
(`handrail.toml.index`) gives all three and never fails. Editing the array goes through
tomlkit, which keeps the rest of the file (comments, layout) as it was.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from handrail.toml.index import Loc, StringValue, TomlIndex, index
from handrail.toml.problems import TomlSyntaxError, parse

if TYPE_CHECKING:
    # tomlkit loads with the first edit of a context list, not with the server (issue 17).
    import tomlkit
    import tomlkit.items

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
    import tomlkit
    import tomlkit.items

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


@dataclass(frozen=True, slots=True)
class ContextAddition:
    """The task file's text after adding entries, and which entries were there already."""

    text: str
    added: list[str]
    present: list[str]


def add_context_entries(text: str, entries: Sequence[str]) -> ContextAddition:
    """`text` with `entries` appended to its ``context`` array, in the array's own layout.

    An entry already in the array is not added twice. A file without the array gets one,
    before its first table. Raises `ContextEditError` when the text is not valid TOML or its
    ``context`` is not a plain list of quoted strings (then it is left for the user to edit).
    """
    try:
        data = parse(text)
    except TomlSyntaxError as exc:
        line = exc.problem.span.line
        raise ContextEditError(
            f"the task file is not valid TOML (line {line}: {exc.problem.message})"
        ) from None
    current = data.get("context", [])
    found = index(text)
    items = found.items(_KEY)
    strings = [found.string(item) for item in items]
    plain = isinstance(current, list) and all(isinstance(v, str) for v in current)
    if not plain or any(string is None for string in strings) or len(items) != len(current):
        raise ContextEditError(
            "its context list is not a plain list of quoted paths; add the entry by hand"
        )
    added: list[str] = []
    present: list[str] = []
    for entry in entries:
        (present if entry in current or entry in added else added).append(entry)
    if not added:
        return ContextAddition(text, [], present)
    if "context" not in data:
        import tomlkit

        document, array = tomlkit.parse(text), tomlkit.array()
        array.multiline(True)
        array.extend(added)
        document["context"] = array
        return ContextAddition(document.as_string(), added, present)
    return ContextAddition(_insert(text, found.offsets[_KEY], items, found, added), added, present)


def _quoted(entry: str) -> str:
    # JSON's escapes are TOML's, except that TOML also forbids a raw DEL character.
    return json.dumps(entry, ensure_ascii=False).replace("\x7f", "\\u007f")


def _insert(
    text: str, array: tuple[int, int], items: list[Loc], found: TomlIndex, added: list[str]
) -> str:
    start, end = array
    close = end - 1  # the closing bracket
    eol = "\r\n" if "\r\n" in text else "\n"
    if "\n" not in text[start:end]:  # all on one line: ["a", "b"] -> ["a", "b", "c"]
        if not items:
            return text[:close] + ", ".join(map(_quoted, added)) + text[close:]
        at = found.offsets[items[-1]][1]
        return text[:at] + "".join(f", {_quoted(e)}" for e in added) + text[at:]
    if not items:  # an empty array over several lines: the bracket is alone on its line
        line_start = text.rfind("\n", 0, close) + 1
        indent = text[line_start:close]
        lines = "".join(f"{indent}    {_quoted(e)},{eol}" for e in added)
        return text[:line_start] + lines + text[line_start:]
    # After the last value, on lines of their own with that value's indent; a trailing comma
    # (or its absence) stays where it was, now after the last new value.
    at = found.offsets[items[-1]][1]
    line_start = text.rfind("\n", 0, at) + 1
    line = text[line_start:at]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    return text[:at] + "".join(f",{eol}{indent}{_quoted(e)}" for e in added) + text[at:]
