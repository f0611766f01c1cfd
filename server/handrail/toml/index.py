"""Where every key and value of a TOML text is written: one scanner for every TOML file.

tomllib gives values without positions, and a finding needs the line and column to fix. The
`TomlIndex` maps each path (what tomllib and pydantic use: table and key names as str, array
positions as int, ``("risk_tiers", 1, "requires", 0)``) to the span of its key and of its value.
It follows TOML's grammar closely enough to place keys written as ``[table]`` headers,
``[[array]]`` headers, dotted keys, inline tables and array items.

Two modes, because two kinds of text arrive:

- strict, for text that parses (a saved workflow, a task file tomllib accepted): on text it
  cannot follow it stops and keeps what it found; `trouble` is where the first string, array
  or table that never closes started, which tomllib only reports as "at end of document";
- tolerant, for a buffer being typed in an editor: a string missing its closing quote ends at
  the end of its line, an array missing its ``]`` ends before the next line that starts a key or
  a table, an unreadable statement is skipped to the next line, and the scan goes on. Values cut
  short this way are listed in `unclosed`. It never raises, on any text.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

Loc = tuple[str | int, ...]

MAX_DEPTH = 32
"""Arrays and inline tables nested deeper than this are not followed (the stack is finite)."""

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}#\n\r")
# A basic-string key part honours escapes: `"\"="` is one string, not the key `"\"` and `=`
# (Hypothesis found an array item of that shape read as a new statement).
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
# A line that starts a statement of its own: in tolerant mode, an array still open when such a
# line comes was never closed (the user is typing it, or forgot the bracket).
_STATEMENT = re.compile(
    rf"\[\[?[ \t]*[A-Za-z0-9_\"'-]|[ \t]*{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*[ \t]*="
)
_BROKEN_TABLE: Loc = ("\x00",)
"""Where keys go after a header that cannot be read: not top-level, not any real table."""


@dataclass(frozen=True, slots=True)
class Span:
    """A range in a text: 1-based lines, 1-based code-point columns, end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class StringValue:
    """A one-line string value: its text and where that text sits between the quotes.

    `column`..`end_column` (end exclusive) span the characters between the quotes; a string
    still being typed (tolerant mode, no closing quote on its line) ends at the end of the line.
    """

    value: str
    line: int
    column: int
    end_column: int
    closed: bool


class TomlIndex:
    """The spans of every key, table header and array item of a TOML text, by path.

    `keys` holds where each path's key is written (a table's: its header, or the first key
    that makes it; an array item's: the item itself); `values` where each written value is,
    delimiters included; `offsets` the same as (start, end) offsets into the text.
    """

    def __init__(self, source: str, *, tolerant: bool = False) -> None:
        self.src = source
        self.n = len(source)
        self.tolerant = tolerant
        self._starts = [0]
        found = source.find("\n")
        while found >= 0:
            self._starts.append(found + 1)
            found = source.find("\n", found + 1)
        self.keys: dict[Loc, Span] = {}
        self.values: dict[Loc, Span] = {}
        self.offsets: dict[Loc, tuple[int, int]] = {}
        self.unclosed: set[Loc] = set()
        self.trouble: int | None = None
        self._arrays: dict[Loc, int] = {}
        self._stuck = 0
        self._scan()

    # -- positions ------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        """Lines as an editor shows them: a final newline does not start another line."""
        count = len(self._starts)
        if count > 1 and self._starts[-1] == self.n:
            count -= 1
        return count

    def line_text(self, line: int) -> str:
        """Line `line` (1-based) without its line break."""
        start = self._starts[line - 1]
        end = self._starts[line] - 1 if line < len(self._starts) else self.n
        return self.src[start:end].removesuffix("\r")

    def line_length(self, line: int) -> int:
        return len(self.line_text(line))

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, of `offset` (clamped into the text)."""
        offset = max(0, min(offset, self.n))
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(max(start, end))
        return Span(line, column, end_line, end_column)

    def line_span(self, line: int) -> Span:
        line = max(1, min(line, self.line_count))
        return Span(line, 1, line, self.line_length(line) + 1)

    # -- lookups --------------------------------------------------------------------------

    def locate(self, loc: Sequence[str | int], *, value: bool = False) -> Span:
        """The span of the longest prefix of `loc` written in the text; line 1 when none is."""
        key = tuple(loc)
        for size in range(len(key), 0, -1):
            prefix = key[:size]
            if value and size == len(key) and prefix in self.values:
                return self.values[prefix]
            if prefix in self.keys:
                return self.keys[prefix]
        return self.line_span(1)

    def value_text(self, loc: Loc) -> str | None:
        """The text of the value written at `loc`, delimiters included; None when none is."""
        found = self.offsets.get(loc)
        return None if found is None else self.src[found[0] : found[1]]

    def items(self, loc: Loc) -> list[Loc]:
        """The paths of the items of the array value written at `loc`, in order."""
        items: list[Loc] = []
        while (*loc, len(items)) in self.offsets:
            items.append((*loc, len(items)))
        return items

    def string(self, loc: Loc) -> StringValue | None:
        """The one-line string written at `loc`; None for any other value, or none."""
        found = self.offsets.get(loc)
        if found is None:
            return None
        start, end = found
        quote = self.src[start]
        if quote not in "\"'" or self.src.startswith(quote * 3, start):
            return None
        closed = loc not in self.unclosed
        content_end = end - 1 if closed else end
        raw = self.src[start + 1 : content_end]
        line, column = self.position(start + 1)
        value = unescape(raw) if quote == '"' else raw
        return StringValue(value, line, column, column + len(raw), closed)

    def closing(self, loc: Loc) -> tuple[int, int] | None:
        """(line, column) of the closing bracket of the array or inline table at `loc`."""
        found = self.offsets.get(loc)
        if found is None or loc in self.unclosed or self.src[found[0]] not in "[{":
            return None
        return self.position(found[1] - 1)

    # -- scanning -------------------------------------------------------------------------

    def _fail(self, pos: int) -> int:
        self._stuck = max(self._stuck, pos)
        return -1

    def _note_trouble(self, offset: int) -> None:
        if self.trouble is None:
            self.trouble = offset

    def _next_line(self, pos: int) -> int:
        end = self.src.find("\n", pos)
        return self.n if end < 0 else end + 1

    def _line_end(self, pos: int) -> int:
        """The offset of the line break (a CRLF's CR included) ending `pos`'s line."""
        end = self.src.find("\n", pos)
        end = self.n if end < 0 else end
        return end - 1 if end > pos and self.src[end - 1] == "\r" else end

    def _blank(self, pos: int, *, newlines: bool) -> int:
        """Skip spaces, tabs and comments (and line breaks when `newlines`)."""
        src, n = self.src, self.n
        while pos < n:
            char = src[pos]
            if char in " \t" or (newlines and char in "\r\n"):
                pos += 1
            elif char == "#":
                end = src.find("\n", pos)
                if end < 0:
                    return n
                if not newlines:
                    return end
                pos = end
            else:
                break
        return pos

    def _scan(self) -> None:
        pos = 0
        table: Loc = ()
        while True:
            pos = self._blank(pos, newlines=True)
            if pos >= self.n:
                return
            if self.src[pos] == "[":
                header = self._header(pos)
                if header is not None:
                    pos, table = header
                    continue
                table = _BROKEN_TABLE
            else:
                pos = self._pair(pos, table)
                if pos >= 0:
                    continue
            if not self.tolerant:
                return
            pos = self._next_line(max(pos, self._stuck))

    def _header(self, pos: int) -> tuple[int, Loc] | None:
        is_array = self.src.startswith("[[", pos)
        key = self._key(pos + (2 if is_array else 1))
        if key is None:
            return None
        parts, key_start, key_end, pos = key
        close = "]]" if is_array else "]"
        if not self.src.startswith(close, pos):
            self._fail(pos)
            return None
        path = self._header_path(parts, is_array)
        span = self.span(key_start, key_end)
        for size in range(1, len(path) + 1):
            self.keys.setdefault(path[:size], span)
        return pos + len(close), path

    def _header_path(self, parts: list[str], is_array: bool) -> Loc:
        # A header names its table through every [[array]] above it, in that array's last entry.
        path: Loc = ()
        for i, part in enumerate(parts):
            path += (part,)
            if is_array and i == len(parts) - 1:
                count = self._arrays.get(path, 0)
                self._arrays[path] = count + 1
                path += (count,)
            elif path in self._arrays:
                path += (self._arrays[path] - 1,)
        return path

    def _key(self, pos: int) -> tuple[list[str], int, int, int] | None:
        src, n = self.src, self.n
        parts: list[str] = []
        start = -1
        while True:
            pos = self._blank(pos, newlines=False)
            if pos >= n:
                self._fail(pos)
                return None
            if start < 0:
                start = pos
            char = src[pos]
            if char == '"':
                end = self._basic_string_end(pos)
                if end < 0:
                    self._fail(pos)
                    return None
                parts.append(unescape(src[pos + 1 : end - 1]))
                pos = end
            elif char == "'":
                end = src.find("'", pos + 1)
                if end < 0 or "\n" in src[pos:end]:
                    self._fail(pos)
                    return None
                parts.append(src[pos + 1 : end])
                pos = end + 1
            elif char in _BARE_KEY:
                end = pos
                while end < n and src[end] in _BARE_KEY:
                    end += 1
                parts.append(src[pos:end])
                pos = end
            else:
                self._fail(pos)
                return None
            key_end = pos
            pos = self._blank(pos, newlines=False)
            if pos < n and src[pos] == ".":
                pos += 1
                continue
            return parts, start, key_end, pos

    def _pair(self, pos: int, table: Loc) -> int:
        key = self._key(pos)
        if key is None:
            return -1
        parts, key_start, key_end, pos = key
        if pos >= self.n or self.src[pos] != "=":
            return self._fail(pos)
        path = table + tuple(parts)
        span = self.span(key_start, key_end)
        for size in range(len(table) + 1, len(path) + 1):
            self.keys.setdefault(path[:size], span)
        return self._value(self._blank(pos + 1, newlines=False), path, 0)

    def _basic_string_end(self, pos: int) -> int:
        """The offset just past the closing quote of the "..." string at `pos`, or -1."""
        src, n = self.src, self.n
        i = pos + 1
        while i < n:
            char = src[i]
            if char == "\\" and src.startswith(("\n", "\r"), i + 1):
                return -1  # a one-line string cannot escape its line break
            if char == "\\":
                i += 2
                continue
            if char == '"':
                return i + 1
            if char == "\n":
                return -1
            i += 1
        return -1

    def _multiline_end(self, pos: int) -> int:
        src, n = self.src, self.n
        delim = src[pos : pos + 3]
        i = pos + 3
        while i < n:
            if delim == '"""' and src[i] == "\\":
                i += 2
                continue
            if src.startswith(delim, i):
                end = i + 3
                # Up to two quotes right before the closing delimiter belong to the content.
                extra = 0
                while end < n and src[end] == delim[0] and extra < 2:
                    end += 1
                    extra += 1
                return end
            i += 1
        return -1

    def _value(self, pos: int, path: Loc, depth: int) -> int:
        src, n = self.src, self.n
        if pos >= n or depth > MAX_DEPTH:
            self._note_trouble(pos)
            return self._fail(pos)
        start, char = pos, src[pos]
        multiline = src.startswith(('"""', "'''"), pos)
        if multiline:
            end = self._multiline_end(pos)
        elif char == '"':
            end = self._basic_string_end(pos)
        elif char == "'":
            close = src.find("'", pos + 1)
            end = close + 1 if close >= 0 and "\n" not in src[pos:close] else -1
        elif char == "[":
            end = self._array(pos, path, depth)
        elif char == "{":
            end = self._inline_table(pos, path, depth)
        else:
            end = pos
            while end < n and src[end] not in _SCALAR_END:
                end += 1
            while end > pos and src[end - 1] in " \t":
                end -= 1
            if end == pos:
                return self._fail(pos)
        if end < 0:
            self._note_trouble(start)
            if not self.tolerant or char not in "\"'":
                return self._fail(start)
            # A string being typed: it runs to the end of its line (of the text, multi-line).
            end = self.n if multiline else self._line_end(start)
            self.unclosed.add(path)
        self._record(path, start, end)
        return end

    def _record(self, path: Loc, start: int, end: int) -> None:
        span = self.span(start, end)
        self.values.setdefault(path, span)
        self.offsets.setdefault(path, (start, end))
        self.keys.setdefault(path, span)

    def _array_blank(self, pos: int) -> tuple[int, bool]:
        """Skip blanks and comments; True when (tolerant) the array was left open before."""
        end = self._blank(pos, newlines=True)
        if self.tolerant and end < self.n and "\n" in self.src[pos:end]:
            line_start = self.src.rfind("\n", pos, end) + 1
            if _STATEMENT.match(self.src, line_start):
                return line_start, True
        return end, False

    def _array(self, pos: int, path: Loc, depth: int) -> int:
        src, n = self.src, self.n
        i, item = pos + 1, 0
        while True:
            i, left_open = self._array_blank(i)
            if left_open or i >= n:
                return self._unclosed(path, pos, i)
            if src[i] == "]":
                return i + 1
            end = self._value(i, (*path, item), depth + 1)
            if end < 0:
                if not self.tolerant:
                    return -1
                end = i  # skip what cannot be read, up to the next separator
                while end < n and src[end] not in ",]\n":
                    end += 1
            i, left_open = self._array_blank(end)
            if left_open or i >= n:
                return self._unclosed(path, pos, i)
            if src[i] == ",":
                i, item = i + 1, item + 1
            elif src[i] == "]":
                return i + 1
            elif self.tolerant:
                item += 1  # a missing comma: read on as the next item
            else:
                return self._fail(i)

    def _unclosed(self, path: Loc, start: int, end: int) -> int:
        self._note_trouble(start)
        if not self.tolerant:
            return self._fail(end)
        self.unclosed.add(path)
        return end

    def _inline_table(self, pos: int, path: Loc, depth: int) -> int:
        src, n = self.src, self.n
        i = self._blank(pos + 1, newlines=False)
        if i < n and src[i] == "}":
            return i + 1
        while True:
            key = self._key(i)
            if key is None:
                return self._broken_inline(path, pos, i)
            parts, key_start, key_end, i = key
            if i >= n or src[i] != "=":
                return self._broken_inline(path, pos, i)
            sub = path + tuple(parts)
            span = self.span(key_start, key_end)
            for size in range(len(path) + 1, len(sub) + 1):
                self.keys.setdefault(sub[:size], span)
            i = self._value(self._blank(i + 1, newlines=False), sub, depth + 1)
            if i < 0:
                return self._broken_inline(path, pos, self._stuck)
            i = self._blank(i, newlines=False)
            if i < n and src[i] == ",":
                i += 1
                continue
            if i < n and src[i] == "}":
                return i + 1
            return self._broken_inline(path, pos, i)

    def _broken_inline(self, path: Loc, start: int, at: int) -> int:
        # Inline tables fit on one line: a tolerant scan ends this one where its line ends.
        self._note_trouble(start)
        if not self.tolerant:
            return self._fail(at)
        self.unclosed.add(path)
        return self._line_end(max(start, min(at, self.n)))


def unescape(raw: str) -> str:
    """The value of the text between the quotes of a "..." string; `raw` itself if it is bad."""
    if "\\" not in raw:
        return raw
    try:
        value = tomllib.loads(f'k = "{raw}"').get("k")
    except (tomllib.TOMLDecodeError, ValueError):
        return raw
    return value if isinstance(value, str) else raw


@lru_cache(maxsize=16)
def index(source: str, *, tolerant: bool = False) -> TomlIndex:
    """The index of `source` (cached: the same text is looked up once per finding)."""
    return TomlIndex(source, tolerant=tolerant)


def locate(source: str, loc: Sequence[str | int], *, value: bool = False) -> Span:
    """Where the key (or with `value`, the value) at `loc` is written in the TOML `source`.

    `loc` is a pydantic-style path: ``("context", "max_tokens")``, ``("risk_tiers", 0, "name")``.
    When that exact key is not written (it was inherited, or is missing) the nearest enclosing
    table or key that is written is returned, and line 1 when nothing is. Never raises.
    """
    return index(source).locate(loc, value=value)


def find_line(source: str, loc: Sequence[str | int]) -> int:
    """The 1-based line where `loc` (or its nearest written parent) appears in `source`."""
    return locate(source, loc).line
