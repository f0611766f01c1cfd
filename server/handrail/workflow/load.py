"""Loading the workflow: shipped packs, the workspace's overrides, and HR400 for every mistake.

A workspace's ``.handrail/workflow.toml`` extends a shipped pack (or another TOML file inside
the workspace) and overrides any field. Tables merge key by key; every other value, arrays
included, replaces the inherited one, so a team that writes its own ``ignore`` list owns the
whole list. The merged tree is validated once by the pydantic model, in strict mode: TOML is
typed, and ``max_tokens = "24000"`` is a mistake worth pointing at, not a value to coerce.

Nothing here raises on bad input. Every problem becomes an HR400 finding with the line (and,
where it can be found, the column) to fix, and each bad value falls back to the inherited one so
that every other check keeps working while the gate fails on the HR400.
"""

from __future__ import annotations

import ast
import bisect
import copy
import datetime as dt
import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Literal, get_args, get_origin

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern
from pydantic import BaseModel, ValidationError

import handrail
from handrail.findings import Finding
from handrail.workflow.model import Workflow
from handrail.workspace import (
    FileTooLarge,
    NotARegularFile,
    PathEscapesWorkspace,
    Workspace,
    read_regular_file,
)

RULES_DIR = Path(handrail.__file__).parent / "rules"
"""The shipped packs: a symlink to the repository's rules/ in a checkout, a folder in a wheel."""

DEFAULT_PACK = "default"
MAX_WORKFLOW_BYTES = 1 << 20
"""A workflow file is a page of settings; anything this large is a mistake, not read."""

# The deepest legitimate value is risk_tiers[i].requires[j]; anything far deeper is refused
# before the recursive merge, deepcopy and validation could exhaust the stack on it.
_MAX_DEPTH = 32
_MAX_SALVAGE_ROUNDS = 8

Loc = tuple[str | int, ...]


# ---------------------------------------------------------------------------------------------
# Where things are written in a TOML text
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """A range in a text: 1-based lines, 1-based code-point columns, end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}#\n\r")


class _TomlIndex:
    """The spans of every key, table header and array item of a TOML text, by path.

    Paths are what tomllib and pydantic use: table and key names as str, array positions as
    int (``("risk_tiers", 1, "requires", 0)``). The scan follows TOML's grammar closely enough
    to place keys written as ``[table]`` headers, ``[[array]]`` headers, dotted keys and inline
    tables; on text it cannot follow it stops and keeps what it found. ``trouble`` is where the
    first string, array or table that never closes started, which tomllib only reports as
    "at end of document".
    """

    def __init__(self, source: str) -> None:
        self.src = source
        self.n = len(source)
        self._starts = [0]
        found = source.find("\n")
        while found >= 0:
            self._starts.append(found + 1)
            found = source.find("\n", found + 1)
        self.keys: dict[Loc, Span] = {}
        self.values: dict[Loc, Span] = {}
        self.trouble: int | None = None
        self._arrays: dict[Loc, int] = {}
        self._scan()

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

    def _note_trouble(self, offset: int) -> None:
        if self.trouble is None:
            self.trouble = offset

    # -- scanning -------------------------------------------------------------------------

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
                if header is None:
                    return
                pos, table = header
            else:
                pos = self._pair(pos, table)
                if pos < 0:
                    return

    def _header(self, pos: int) -> tuple[int, Loc] | None:
        is_array = self.src.startswith("[[", pos)
        key = self._key(pos + (2 if is_array else 1))
        if key is None:
            return None
        parts, key_start, key_end, pos = key
        close = "]]" if is_array else "]"
        if not self.src.startswith(close, pos):
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
                return None
            if start < 0:
                start = pos
            char = src[pos]
            if char == '"':
                end = self._basic_string_end(pos)
                if end < 0:
                    return None
                parts.append(_unescape(src[pos + 1 : end - 1]))
                pos = end
            elif char == "'":
                end = src.find("'", pos + 1)
                if end < 0 or "\n" in src[pos:end]:
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
            return -1
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
        if pos >= n or depth > _MAX_DEPTH:
            self._note_trouble(pos)
            return -1
        start, char = pos, src[pos]
        if src.startswith(('"""', "'''"), pos):
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
                return -1
        if end < 0:
            self._note_trouble(start)
            return -1
        span = self.span(start, end)
        self.values.setdefault(path, span)
        self.keys.setdefault(path, span)
        return end

    def _array(self, pos: int, path: Loc, depth: int) -> int:
        src, n = self.src, self.n
        i, item = pos + 1, 0
        while True:
            i = self._blank(i, newlines=True)
            if i < n and src[i] == "]":
                return i + 1
            i = self._value(i, (*path, item), depth + 1)
            if i < 0:
                return -1
            i = self._blank(i, newlines=True)
            if i < n and src[i] == ",":
                i, item = i + 1, item + 1
                continue
            if i < n and src[i] == "]":
                return i + 1
            return -1

    def _inline_table(self, pos: int, path: Loc, depth: int) -> int:
        src, n = self.src, self.n
        i = self._blank(pos + 1, newlines=False)
        if i < n and src[i] == "}":
            return i + 1
        while True:
            key = self._key(i)
            if key is None:
                return -1
            parts, key_start, key_end, i = key
            if i >= n or src[i] != "=":
                return -1
            sub = path + tuple(parts)
            span = self.span(key_start, key_end)
            for size in range(len(path) + 1, len(sub) + 1):
                self.keys.setdefault(sub[:size], span)
            i = self._value(self._blank(i + 1, newlines=False), sub, depth + 1)
            if i < 0:
                return -1
            i = self._blank(i, newlines=False)
            if i < n and src[i] == ",":
                i += 1
                continue
            if i < n and src[i] == "}":
                return i + 1
            return -1

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


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    try:
        value = tomllib.loads(f'k = "{raw}"').get("k")
    except (tomllib.TOMLDecodeError, ValueError):
        return raw
    return value if isinstance(value, str) else raw


@lru_cache(maxsize=16)
def _index(source: str) -> _TomlIndex:
    return _TomlIndex(source)


def locate(source: str, loc: Sequence[str | int], *, value: bool = False) -> Span:
    """Where the key (or with `value`, the value) at `loc` is written in the TOML `source`.

    `loc` is a pydantic-style path: ``("context", "max_tokens")``, ``("risk_tiers", 0, "name")``.
    When that exact key is not written (it was inherited, or is missing) the nearest enclosing
    table or key that is written is returned, and line 1 when nothing is. Never raises.
    """
    return _index(source).locate(loc, value=value)


def find_line(source: str, loc: Sequence[str | int]) -> int:
    """The 1-based line where `loc` (or its nearest written parent) appears in `source`."""
    return locate(source, loc).line


# ---------------------------------------------------------------------------------------------
# TOML syntax errors as plain sentences
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TomlProblem:
    """A TOML text that does not parse: a plain sentence and where to look."""

    message: str
    span: Span


_TOML_POSITION = re.compile(
    r"^(?P<msg>.*?)\s*\(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)\s*$",
    re.DOTALL,
)
_ESCAPE_HINT = (
    'a backslash inside a "..." string starts an escape, so write \\\\ for one backslash, or '
    "use a '...' literal string, which keeps backslashes as they are (handy for regular "
    "expressions)"
)


def _plain_toml_message(raw: str) -> str:
    """tomllib's terse message (Python 3.11 wording) as something a newcomer can act on."""
    fixed = {
        "Invalid value": (
            'a value is missing or malformed: text needs quotes (owner = "Ada"), numbers and '
            "true/false do not, and dates are written bare (reviewed = 2026-01-31)"
        ),
        "Cannot overwrite a value": (
            "a key is set twice, or a table reuses a key that already holds a value"
        ),
        "Expected '=' after a key in a key/value pair": "a key must be followed by `=` and a value",
        "Expected ']' at the end of a table declaration": "a [table] header is missing its `]`",
        "Expected ']]' at the end of an array declaration": (
            "a [[table]] header is missing its `]]`"
        ),
        "Expected newline or end of document after a statement": (
            "something follows the value on the same line; put each `key = value` on a line of "
            "its own and start comments with #"
        ),
        "Invalid date or datetime": "this is not a real date; write dates as YYYY-MM-DD",
        "Invalid hex value": "a \\u or \\U escape in a string has a malformed hex number",
        "Escaped character is not a Unicode scalar value": (
            "a \\u or \\U escape in a string names a code point that is not a character"
        ),
        "Invalid initial character for a key part": (
            "a key starts with a character keys cannot start with; use letters, digits, - and _, "
            "or put the key in quotes"
        ),
        "Invalid statement": "this line is neither `key = value`, a [table] header nor a comment",
        "Unclosed array": "an array is missing its closing `]` (or a `,` between two items)",
        "Unclosed inline table": (
            "an inline table { ... } is missing its closing `}` or a `,` between two keys; "
            "inline tables must fit on one line"
        ),
        "Unescaped '\\' in a string": _ESCAPE_HINT,
        "Unterminated string": "a string is never closed",
    }
    if raw in fixed:
        return fixed[raw]
    declared = re.fullmatch(r"Cannot declare (.*) twice", raw)
    if declared:
        return f"the table [{_dotted_from_tuple(declared.group(1))}] is declared twice; merge them"
    namespace = re.fullmatch(r"Cannot (?:mutate immutable|redefine) namespace (.*)", raw)
    if namespace:
        return (
            f"`{_dotted_from_tuple(namespace.group(1))}` was already written as a value or an "
            "inline table and cannot be extended here"
        )
    duplicate = re.fullmatch(r"Duplicate inline table key (.*)", raw)
    if duplicate:
        return f"the key {duplicate.group(1)} appears twice in one inline table"
    illegal = re.fullmatch(r"Illegal character (.*)", raw)
    if illegal:
        char = _literal_text(illegal.group(1))
        if char == "\n":
            return 'a "..." string runs past the end of its line; close it, or use """...""" '
        name = f"U+{ord(char):04X}" if len(char) == 1 else illegal.group(1)
        return f"the character {name} is not allowed here; write it as an escape inside a string"
    invalid = re.fullmatch(r"Found invalid character (.*)", raw)
    if invalid:
        return f"the character {invalid.group(1)} is not allowed here"
    expected = re.fullmatch(r"Expected (.*)", raw)
    if expected:
        return f"expected {expected.group(1)} here"
    return raw[:1].lower() + raw[1:] if raw else "the text cannot be read as TOML"


def _literal_text(text: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    return value if isinstance(value, str) else text


def _dotted_from_tuple(text: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    if isinstance(value, tuple) and all(isinstance(part, str) for part in value):
        return _dotted(value)
    return text


def toml_problem(source: str, exc: Exception) -> TomlProblem:
    """What went wrong parsing `source` with tomllib, as a sentence and a span in `source`.

    Handles tomllib's own errors (position from the message, or from ``lineno``/``colno`` on
    Python 3.14+), integers too long to convert, and nesting deep enough to exhaust the stack.
    """
    index = _index(source)
    raw = str(exc.args[0]) if exc.args else str(exc)
    if isinstance(exc, RecursionError):
        offset = index.trouble if index.trouble is not None else 0
        line, _ = index.position(offset)
        return TomlProblem("values are nested too deeply to read", index.line_span(line))
    if not isinstance(exc, tomllib.TOMLDecodeError):
        long_number = re.search(r"[0-9_]{1000,}", source)
        line = index.position(long_number.start())[0] if long_number else 1
        message = "a number is too long to read" if long_number else _plain_toml_message(raw)
        return TomlProblem(message, index.line_span(line))
    lineno, colno = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    message = str(getattr(exc, "msg", "") or "")
    match = _TOML_POSITION.match(raw)
    if match:
        message = message or match.group("msg")
        if lineno is None and match.group("line"):
            lineno, colno = int(match.group("line")), int(match.group("col"))
    message = message or raw
    if not isinstance(lineno, int) or lineno < 1 or lineno > index.line_count:
        # "At end of document" means something opened earlier never closed: point at it.
        if index.trouble is not None:
            line, column = index.position(index.trouble)
            return TomlProblem(
                _plain_toml_message(message),
                Span(line, column, line, index.line_length(line) + 1),
            )
        return TomlProblem(_plain_toml_message(message), index.line_span(index.line_count))
    text = index.line_text(lineno)
    column = colno if isinstance(colno, int) and 1 <= colno <= len(text) + 1 else 1
    if message == "Unescaped '\\' in a string":
        # tomllib points past the escape; the backslash itself is what to fix.
        column = text.rfind("\\", 0, column) + 1 or column
    length = len(text)
    end_column = column + 1 if column <= length else column
    return TomlProblem(_plain_toml_message(message), Span(lineno, column, lineno, end_column))


# ---------------------------------------------------------------------------------------------
# Shipped packs
# ---------------------------------------------------------------------------------------------


class PackError(ValueError):
    """A shipped pack that is missing or broken (a packaging bug, or an unknown pack name)."""

    def __init__(self, message: str, *, path: Path | None = None, line: int = 1) -> None:
        self.path, self.line = path, line
        where = f"{path}:{line}: " if path is not None else ""
        super().__init__(f"{where}{message}")


class UnknownPackError(PackError):
    """No shipped pack has this name."""


@lru_cache(maxsize=1)
def pack_names() -> tuple[str, ...]:
    """The shipped packs, by name (the file name without .toml)."""
    try:
        return tuple(sorted(p.stem for p in RULES_DIR.glob("*.toml") if p.is_file()))
    except OSError:
        return ()


def _pack_reference(name: str) -> bool:
    """True when an `extends` value names a shipped pack rather than a file."""
    return not (name.endswith(".toml") or "/" in name or "\\" in name)


@cache
def _pack_tree(name: str, _visiting: tuple[str, ...] = ()) -> Mapping[str, Any]:
    """The raw merged tree of pack `name` (its own `extends` chain applied). Treat as read-only."""
    if name not in pack_names():
        raise UnknownPackError(
            f"no shipped pack is called {name!r}; the packs are {', '.join(pack_names())}"
        )
    if name in _visiting:
        raise PackError(f"pack {name!r} extends itself through {' -> '.join(_visiting)}")
    path = RULES_DIR / f"{name}.toml"
    try:
        source = path.read_text(encoding="utf-8")
        data = tomllib.loads(source)
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(f"cannot read the pack: {exc}", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        problem = toml_problem(source, exc)
        raise PackError(problem.message, path=path, line=problem.span.line) from exc
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str) or not _pack_reference(parent):
        line = find_line(source, ("extends",))
        raise PackError("a shipped pack can only extend another shipped pack", path=path, line=line)
    merged = copy.deepcopy(dict(_pack_tree(parent, (*_visiting, name))))
    _merge(merged, data, {}, 0)
    return merged


@cache
def load_pack(name: str) -> Workflow:
    """The shipped pack `name`, validated (cached: packs never change while running).

    Raises UnknownPackError for a name no pack has, PackError for a pack that does not load.
    """
    tree = _pack_tree(name)
    try:
        return Workflow.model_validate(tree, strict=True)
    except ValidationError as exc:
        path = RULES_DIR / f"{name}.toml"
        first = exc.errors()[0]
        raise PackError(f"{_dotted(first['loc'])}: {first['msg']}", path=path) from exc


def _safe_pack(name: str) -> Workflow:
    # A broken shipped pack is a packaging bug; the model's own defaults keep checks running.
    try:
        return load_pack(name)
    except PackError:
        try:
            return load_pack(DEFAULT_PACK)
        except PackError:
            return Workflow()


# ---------------------------------------------------------------------------------------------
# The loaded workflow
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadedWorkflow:
    """The effective workflow of a workspace and what went wrong loading it.

    `findings` holds only HR400 findings (on the workspace file, or on a file it extends); when
    there are any, `workflow` holds the inherited value in place of every bad one (or, when the
    file cannot be read at all, the pack it extends, else the default pack).
    """

    workflow: Workflow
    path: Path | None
    """The workspace file, None when the workspace has none (the default pack applies)."""
    findings: list[Finding]
    source_text: str | None
    """The workspace file's text, None when absent or not readable as UTF-8."""
    pack: str = DEFAULT_PACK
    """The shipped pack at the bottom of the `extends` chain."""
    parsed: bool = False
    """True when the workspace file exists and parsed as TOML (its values were used)."""

    @property
    def valid(self) -> bool:
        return not self.findings


@dataclass(frozen=True, slots=True)
class _Problem:
    path: str
    span: Span
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Layer:
    """One TOML file of the extends chain, as written."""

    rel: str
    real: Path
    source: str
    data: dict[str, Any]

    @property
    def index(self) -> _TomlIndex:
        return _index(self.source)


@dataclass(frozen=True, slots=True)
class _ReadFailure:
    message: str
    span: Span | None = None
    """Where in the file itself; None when the problem is about the file as a whole."""
    data: dict[str, Any] = field(default_factory=dict)


def load_workflow(ws: Workspace, *, text: str | None = None) -> LoadedWorkflow:
    """The effective workflow of `ws`: a shipped pack plus `.handrail/workflow.toml`.

    `text` stands in for the workspace file's content (an editor's unsaved buffer). Without a
    workspace file the default pack applies and nothing is reported. Never raises on bad input.
    """
    path = ws.workflow_path
    if text is None and not os.path.lexists(path):
        return LoadedWorkflow(_safe_pack(DEFAULT_PACK), None, [], None)
    rel = ws.relative(path)
    problems: list[_Problem] = []
    if text is None:
        read = _read_text(ws, rel)
        if isinstance(read, _ReadFailure):
            span = read.span or Span(1, 1, 1, 1)
            problems.append(_Problem(rel, span, read.message, read.data))
            return _finish(path, None, _safe_pack(DEFAULT_PACK), DEFAULT_PACK, False, problems)
        text = read
    text = text.removeprefix("\ufeff")
    data = _parse(text, rel, problems)
    if data is None:
        return _finish(path, text, _safe_pack(DEFAULT_PACK), DEFAULT_PACK, False, problems)
    top = _Layer(rel, _real_or_lexical(ws, rel), text, data)
    layers, pack = _extends_chain(ws, top, problems)
    for layer in layers:
        _backspace_traps(layer, problems)
    workflow = _merge_and_validate(layers, pack, problems)
    return _finish(path, text, workflow, pack, True, problems)


def _finish(
    path: Path,
    text: str | None,
    workflow: Workflow,
    pack: str,
    parsed: bool,
    problems: list[_Problem],
) -> LoadedWorkflow:
    severity = workflow.severity_of("HR400")
    findings: list[Finding] = []
    if severity is not None:
        for problem in problems:
            span = problem.span
            findings.append(
                Finding(
                    code="HR400",
                    severity=severity,
                    message=problem.message,
                    path=problem.path,
                    line=span.line,
                    column=span.column,
                    end_line=span.end_line,
                    end_column=span.end_column,
                    data=problem.data,
                )
            )
    findings.sort(key=Finding.sort_key)
    return LoadedWorkflow(workflow, path, findings, text, pack, parsed)


def _real_or_lexical(ws: Workspace, rel: str) -> Path:
    try:
        return ws.resolve_inside(rel)
    except (PathEscapesWorkspace, OSError):
        return ws.root / rel


class WorkflowUnreadable(Exception):
    """The workflow file cannot be used as it is; the message is the HR400 sentence."""


def read_workflow_bytes(ws: Workspace) -> bytes | None:
    """The bytes of `ws`'s workflow file, read as `check` reads them; None when there is none.

    For `handrail trust`, which must hash and approve exactly the file `check` accepts: the same
    refusals (not a regular file, too large, outside the workspace) with the same sentence.
    Raises `WorkflowUnreadable`.
    """
    if not os.path.lexists(ws.workflow_path):
        return None
    read = _read_bytes(ws, ws.relative(ws.workflow_path))
    if isinstance(read, _ReadFailure):
        raise WorkflowUnreadable(read.message)
    return read


def _read_text(ws: Workspace, rel: str) -> str | _ReadFailure:
    """The UTF-8 text of workspace-relative `rel`, refusing what is not a small regular file."""
    read = _read_bytes(ws, rel)
    return read if isinstance(read, _ReadFailure) else _decode(read, rel)


def _read_bytes(ws: Workspace, rel: str) -> bytes | _ReadFailure:
    try:
        real = ws.resolve_inside(rel)
    except PathEscapesWorkspace:
        return _ReadFailure(
            f"The file {rel} leads outside the workspace (through a link or ..); Handrail "
            "reads workflow rules only from files inside the repository.",
            data={"kind": "outside"},
        )
    except OSError as exc:
        return _ReadFailure(
            f"The file {rel} cannot be read: {exc.strerror or exc}.", data={"kind": "io"}
        )
    if not real.exists():
        return _ReadFailure(f"The file {rel} does not exist.", data={"kind": "missing"})
    try:
        return read_regular_file(real, MAX_WORKFLOW_BYTES, follow_symlinks=False)
    except NotARegularFile:
        return _ReadFailure(
            f"The file {rel} is not a regular file; it must be a TOML text file.",
            data={"kind": "not_a_file"},
        )
    except FileTooLarge as exc:
        return _ReadFailure(
            f"The file {rel} is {exc.size} bytes; a workflow file over {MAX_WORKFLOW_BYTES} "
            "bytes is not read. Keep only settings in it.",
            data={"kind": "too_large"},
        )
    except OSError as exc:
        return _ReadFailure(
            f"The file {rel} cannot be read: {exc.strerror or exc}.", data={"kind": "io"}
        )


def _decode(raw: bytes, rel: str) -> str | _ReadFailure:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            detail = "it is saved as UTF-16"
        else:
            detail = f"the byte 0x{raw[exc.start]:02x} at line {line}, column {column} is not UTF-8"
        return _ReadFailure(
            f"The file {rel} is not UTF-8 text: {detail}. Save it as UTF-8; until then "
            f"Handrail uses the `{DEFAULT_PACK}` pack.",
            span=Span(line, column, line, column + 1),
            data={"kind": "encoding"},
        )


def _parse(text: str, rel: str, problems: list[_Problem]) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
        problem = toml_problem(text, exc)
        problems.append(
            _Problem(
                rel,
                problem.span,
                f"Not valid TOML: {problem.message}. Until this is fixed, Handrail uses the "
                f"`{DEFAULT_PACK}` pack.",
                {"kind": "syntax"},
            )
        )
        return None
    if _depth(data) > _MAX_DEPTH:
        index = _index(text)
        line = index.position(index.trouble)[0] if index.trouble is not None else 1
        problems.append(
            _Problem(
                rel,
                index.line_span(line),
                f"Values are nested more than {_MAX_DEPTH} levels deep; no workflow setting "
                f"needs that. Until this is fixed, Handrail uses the `{DEFAULT_PACK}` pack.",
                {"kind": "syntax"},
            )
        )
        return None
    return data


# Where the workflow holds patterns (regular expressions or gitignore-style globs): `#` is an
# array position, `*` any table key.
_PATTERN_FIELDS: tuple[tuple[str, ...], ...] = (
    ("spec", "placeholders", "#"),
    ("spec", "required", "*"),
    ("context", "ignore", "#"),
    ("verification", "by_path", "#", "pattern"),
    ("risk_tiers", "#", "paths", "#"),
)


def _is_pattern_field(loc: Loc) -> bool:
    def fits(part: str | int, shape: str) -> bool:
        if shape == "#":
            return isinstance(part, int)
        return isinstance(part, str) and shape in ("*", part)

    return any(len(loc) == len(shape) and all(map(fits, loc, shape)) for shape in _PATTERN_FIELDS)


def _backspace_traps(layer: _Layer, problems: list[_Problem]) -> None:
    """HR400 for a pattern holding a backspace: a regex's \\b written in a "..." string.

    TOML reads "\\bTODO\\b" as backspace-TODO-backspace, which is valid and silently never
    matches; the shipped packs write patterns in '...' literal strings for this reason.
    """
    stack: list[tuple[Any, Loc]] = [(layer.data, ())]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, dict):
            stack.extend(((child, (*loc, key)) for key, child in value.items()))
        elif isinstance(value, list):
            stack.extend(((child, (*loc, number)) for number, child in enumerate(value)))
        elif isinstance(value, str) and "\b" in value and _is_pattern_field(loc):
            problems.append(
                _Problem(
                    layer.rel,
                    layer.index.locate(loc, value=True),
                    f"{_capital(_subject(loc, layer.data))} holds a backspace character: inside "
                    '"..." the escape \\b is a backspace, not a regular-expression word boundary. '
                    "Write the pattern in single quotes, like '\\bTODO\\b', which keep "
                    "backslashes as they are.",
                    {"kind": "backspace", "loc": list(loc)},
                )
            )


def _depth(value: Any) -> int:
    """How deeply `value` nests tables and arrays, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Iterator[Any] = iter(item.values())
        elif isinstance(item, list):
            children = iter(item)
        else:
            continue
        deepest = max(deepest, level)
        if deepest > _MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _extends_chain(
    ws: Workspace, top: _Layer, problems: list[_Problem]
) -> tuple[list[_Layer], str]:
    """The files of the `extends` chain, nearest first, and the shipped pack beneath them.

    A broken link ends the chain on the default pack, with an HR400 on the `extends` line.
    """
    layers = [top]
    while True:
        layer = layers[-1]
        target = layer.data.get("extends", DEFAULT_PACK)
        found = _follow(ws, layer, target, layers, problems)
        if isinstance(found, str):
            return layers, found
        layers.append(found)


def _follow(
    ws: Workspace, layer: _Layer, target: Any, layers: list[_Layer], problems: list[_Problem]
) -> _Layer | str:
    """The next file of the chain, or the name of the shipped pack the chain ends on."""
    fallback = f" Until this is fixed, Handrail extends the `{DEFAULT_PACK}` pack."

    def refuse(message: str, kind: str, **extra: Any) -> str:
        where = layer.index.locate(("extends",), value=True)
        data = {"kind": kind, "loc": ["extends"], **extra}
        problems.append(_Problem(layer.rel, where, message + fallback, data))
        return DEFAULT_PACK

    if not isinstance(target, str) or not target.strip():
        return refuse(
            f"`extends` must name a shipped pack ({_or_list(pack_names())}) or a .toml file in "
            f"the workspace, in quotes; got {_show(target)}.",
            "type",
        )
    if _pack_reference(target):
        if target in pack_names():
            return target
        close = difflib.get_close_matches(target, pack_names(), n=1)
        hint = f"; did you mean `{close[0]}`?" if close else "."
        return refuse(
            f"`extends` names an unknown pack `{target}`{hint} The shipped packs are "
            f"{_or_list(pack_names(), 'and')}; a file of your own must be a workspace-relative "
            "path ending in .toml.",
            "unknown_pack",
            suggestion=close[0] if close else None,
        )
    written = target.replace("\\", "/")
    read = _read_text(ws, written)
    if isinstance(read, _ReadFailure):
        if read.span is not None:  # the file is there but its bytes are not text
            rel = ws.relative(_real_or_lexical(ws, written))
            problems.append(_Problem(rel, read.span, read.message, read.data))
            return DEFAULT_PACK
        stem = PurePosixPath(written).stem
        hint = (
            f' To extend the shipped pack, write extends = "{stem}".'
            if read.data.get("kind") == "missing" and stem in pack_names()
            else ""
        )
        return refuse(
            f"`extends` names a file Handrail cannot use. {read.message}{hint}",
            str(read.data.get("kind", "io")),
        )
    real = _real_or_lexical(ws, written)
    rel = ws.relative(real)
    if any(item.real == real for item in layers):
        chain = [*(item.rel for item in layers), rel]
        return refuse(
            f"`extends` makes a cycle: {' -> '.join(chain)}. Make one of these files extend a "
            "shipped pack instead.",
            "cycle",
            chain=chain,
        )
    text = read.removeprefix("\ufeff")
    data = _parse(text, rel, problems)
    if data is None:
        return DEFAULT_PACK
    return _Layer(rel, real, text, data)


# ---------------------------------------------------------------------------------------------
# Merging and validating
# ---------------------------------------------------------------------------------------------

_PACK_LAYER = -1


def _merge(
    base: dict[str, Any], over: Mapping[str, Any], owners: dict[Loc, int], layer: int
) -> None:
    """Merge `over` into `base`: tables key by key, any other value replaces (arrays too).

    `owners` records, for every key path `over` touches, that `layer` was the last to set it.
    """
    stack: list[tuple[dict[str, Any], Mapping[str, Any], Loc]] = [(base, over, ())]
    while stack:
        target, source, prefix = stack.pop()
        for key, value in source.items():
            path = (*prefix, key)
            owners[path] = layer
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                stack.append((target[key], value, path))
            else:
                target[key] = copy.deepcopy(value)
                if isinstance(value, dict):
                    _own_all(value, path, owners, layer)


def _copy_tables(tree: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `tree` whose tables are new and whose other values are shared.

    Merging and salvaging only ever add, replace or delete keys of tables, so the cached pack's
    arrays and scalars can be shared; a full deepcopy was most of the cost of a load.
    """
    return {
        key: _copy_tables(value) if isinstance(value, dict) else value
        for key, value in tree.items()
    }


def _own_all(value: Mapping[str, Any], prefix: Loc, owners: dict[Loc, int], layer: int) -> None:
    stack = [(value, prefix)]
    while stack:
        table, path = stack.pop()
        for key, child in table.items():
            owners[(*path, key)] = layer
            if isinstance(child, dict):
                stack.append((child, (*path, key)))


def _merge_and_validate(layers: list[_Layer], pack: str, problems: list[_Problem]) -> Workflow:
    fallback = _safe_pack(pack)
    try:
        pack_tree = _pack_tree(pack)
    except PackError:
        return fallback
    merged = _copy_tables(pack_tree)
    owners: dict[Loc, int] = {}
    _own_all(merged, (), owners, _PACK_LAYER)
    for number in range(len(layers) - 1, -1, -1):
        _merge(merged, layers[number].data, owners, number)
    top_extends = layers[0].data.get("extends", DEFAULT_PACK)
    merged["extends"] = top_extends if isinstance(top_extends, str) and top_extends else pack

    first_errors: list[_Error] = []
    for round_number in range(_MAX_SALVAGE_ROUNDS):
        try:
            workflow = Workflow.model_validate(merged, strict=True)
        except ValidationError as exc:
            errors = [_Error.of(raw, owners, layers) for raw in exc.errors()]
            if round_number == 0:
                first_errors = errors
            # Every error gets its salvage this round (a list, not any(): no short-circuit).
            if not [error for error in errors if _salvage(merged, error, pack_tree)]:
                break
        else:
            problems.extend(
                _describe(error, layers, pack_tree, pack, True) for error in first_errors
            )
            problems.extend(_pattern_problems(workflow, owners, layers))
            return workflow
    problems.extend(_describe(error, layers, pack_tree, pack, False) for error in first_errors)
    return fallback


def _pattern_problems(
    workflow: Workflow, owners: Mapping[Loc, int], layers: list[_Layer]
) -> Iterator[_Problem]:
    """HR400 for gitignore-style patterns pathspec refuses ("!", a trailing backslash).

    The model only knows they are text; the ignore matcher and the risk tiers would skip them,
    so a team's intent would silently shrink.
    """
    found: list[tuple[Loc, str]] = []
    found += [(("context", "ignore", i), p) for i, p in enumerate(workflow.context.ignore)]
    found += [
        (("verification", "by_path", i, "pattern"), rule.pattern)
        for i, rule in enumerate(workflow.verification.by_path)
    ]
    found += [
        (("risk_tiers", i, "paths", j), p)
        for i, tier in enumerate(workflow.risk_tiers)
        for j, p in enumerate(tier.paths)
    ]
    for loc, pattern in found:
        layer = next((owners[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in owners), -1)
        if layer == _PACK_LAYER:
            continue  # the shipped packs' patterns are tested with the packs
        try:
            GitIgnoreSpecPattern.pattern_to_regex(pattern)
        except ValueError:
            pass
        else:
            continue
        source = layers[layer]
        yield _Problem(
            source.rel,
            source.index.locate(loc, value=True),
            f"{_capital(_subject(loc, source.data))} is not a valid gitignore-style pattern: "
            f"{_show(pattern)} (a pattern cannot be a lone ! or end in a single backslash). "
            "Fix or remove it; until then it matches nothing.",
            {"kind": "pattern", "loc": list(loc), "got": pattern},
        )


@dataclass(slots=True)
class _Error:
    """One pydantic error, tied to the file that wrote the value."""

    kind: str
    loc: Loc
    message: str
    input: Any
    ctx: dict[str, Any]
    layer: int
    """Index into the layers (nearest first), or _PACK_LAYER when a shipped pack set it."""
    focus: Loc
    """`loc`, narrowed to the key or item a table-level error is about (see _narrow)."""

    @classmethod
    def of(cls, raw: Mapping[str, Any], owners: Mapping[Loc, int], layers: list[_Layer]) -> _Error:
        loc: Loc = tuple(part for part in raw.get("loc", ()) if isinstance(part, str | int))
        layer = _PACK_LAYER
        for size in range(len(loc), 0, -1):
            if loc[:size] in owners:
                layer = owners[loc[:size]]
                break
        message = str(raw.get("msg", "")).removeprefix("Value error, ")
        ctx = dict(raw.get("ctx") or {})
        focus = loc
        if layer != _PACK_LAYER:
            focus = _narrow(loc, message, _get(layers[layer].data, loc))
        return cls(str(raw.get("type", "")), loc, message, raw.get("input"), ctx, layer, focus)


def _narrow(loc: Loc, message: str, value: Any) -> Loc:
    """The key or item of table/array `value` that an error message about it names.

    A model-level check reports on the whole table ("hard_max_sentences (3) is below
    max_sentences (5)", "unknown diagnostic code 'HR999'"); pointing at the line that holds the
    named key, or the item whose text is quoted, is what lets the user find it.
    """
    if isinstance(value, dict):
        for key in value:
            if re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", message):
                return (*loc, key)
        for key, item in value.items():
            if isinstance(item, str) and repr(item) in message:
                return (*loc, key)
    elif isinstance(value, list):
        for number, item in enumerate(value):
            if isinstance(item, str) and repr(item) in message:
                return (*loc, number)
    return loc


_MISSING = object()


def _get(tree: Any, loc: Loc) -> Any:
    for part in loc:
        in_table = isinstance(part, str) and isinstance(tree, dict) and part in tree
        in_array = isinstance(part, int) and isinstance(tree, list) and 0 <= part < len(tree)
        if not (in_table or in_array):
            return _MISSING
        tree = tree[part]
    return tree


def _salvage(merged: dict[str, Any], error: _Error, pack_tree: Mapping[str, Any]) -> bool:
    """Put the inherited value (or the model default) where `error` is; True if that changed it.

    Arrays are replaced whole: an item cannot be borrowed from an inherited array whose other
    items differ. The narrowed path goes first, then the whole table the error is about.
    """
    for loc in (error.focus, error.loc):
        path = _table_path(loc)
        if not path:
            continue
        parent = _get(merged, path[:-1])
        if not isinstance(parent, dict):
            continue
        inherited = _get(pack_tree, path)
        current = parent.get(path[-1], _MISSING)
        if inherited is _MISSING:
            if current is _MISSING:
                continue
            del parent[path[-1]]
            return True
        if current is _MISSING or not _identical(current, inherited):
            parent[path[-1]] = copy.deepcopy(inherited)
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Validation errors as plain sentences
# ---------------------------------------------------------------------------------------------


def _identical(left: Any, right: Any) -> bool:
    """Equal and of the same types all the way down (unlike ==, 1 is not True here)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_identical(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_identical, left, right))
    return bool(left == right)


def _describe(
    error: _Error, layers: list[_Layer], pack_tree: Mapping[str, Any], pack: str, salvaged: bool
) -> _Problem:
    layer = layers[error.layer] if error.layer != _PACK_LAYER else layers[0]
    kind = error.kind
    key_error = kind in ("extra_forbidden", "missing")
    focus = error.focus if error.layer != _PACK_LAYER else ("extends",)
    span = layer.index.locate(focus, value=not key_error)
    data: dict[str, Any] = {"kind": kind, "loc": list(error.loc)}
    message = _sentence(error, layer.data, data)
    if error.layer == _PACK_LAYER:
        message += f" The value comes from the `{pack}` pack."
    if not salvaged:
        message += f" Until this is fixed, Handrail uses the `{pack}` pack as it ships."
    else:
        message += " " + _meanwhile(error, pack_tree)
    return _Problem(layer.rel, span, message, data)


def _meanwhile(error: _Error, pack_tree: Mapping[str, Any]) -> str:
    """What Handrail uses in place of the bad value (mirrors _salvage's first choice)."""
    restored = _table_path(error.focus)
    inherited = _get(pack_tree, restored) if restored else _MISSING
    if error.kind == "extra_forbidden" or inherited is _MISSING:
        return "Until this is fixed, the setting is ignored."
    if isinstance(inherited, str | int | float | bool | dt.date):
        return f"Until this is fixed, Handrail uses the inherited value {_show(inherited)}."
    return f"Until this is fixed, Handrail uses the inherited {_subject(restored, pack_tree)}."


def _table_path(loc: Loc) -> tuple[str, ...]:
    """`loc` up to its first array position: arrays are inherited or replaced whole."""
    cut = next((i for i, part in enumerate(loc) if isinstance(part, int)), len(loc))
    return tuple(str(part) for part in loc[:cut])


def _sentence(error: _Error, tree: Mapping[str, Any], data: dict[str, Any]) -> str:
    loc, kind, ctx, got = error.loc, error.kind, error.ctx, error.input
    subject = _subject(loc, tree)
    shown = _show(got)
    data["got"] = shown
    if kind == "extra_forbidden":
        return _unknown_key(loc, got, tree, data)
    if kind == "missing":
        owner = _table_name(loc[:-1], tree) or "the file"
        return f"{_capital(owner)} is missing `{loc[-1]}`; add it." if loc else "A key is missing."
    if isinstance(got, float) and not math.isfinite(got):
        return f"{_capital(subject)} must be a finite number, got {shown}."
    if kind in _TYPE_WORDS:
        want, example = _TYPE_WORDS[kind]
        data["expected"] = want
        hint = _type_hint(kind, got, loc)
        return f"{_capital(subject)} must be {want}{example}, got {shown}{hint}."
    if kind in _BOUND_WORDS:
        words, key = _BOUND_WORDS[kind]
        bound = ctx.get(key)
        data["limit"] = bound
        return f"{_capital(subject)} must be {words} {_show(bound)}, got {shown}."
    if kind == "literal_error":
        choices = _choices(loc)
        listed = _or_list([f'"{c}"' for c in choices]) if choices else ctx.get("expected", "")
        data["expected"] = list(choices)
        close = difflib.get_close_matches(str(got), choices, n=1) if isinstance(got, str) else []
        hint = f'; did you mean "{close[0]}"?' if close else "."
        if close:
            data["suggestion"] = close[0]
        return f"{_capital(subject)} must be {listed}, got {shown}{hint}"
    if kind == "value_error":
        return _value_error(error, tree, data)
    return f"{_capital(subject)}: {error.message[:1].lower()}{error.message[1:]}."


_TYPE_WORDS: dict[str, tuple[str, str]] = {
    "int_type": ("a whole number", ""),
    "int_parsing": ("a whole number", ""),
    "int_from_float": ("a whole number", ""),
    "float_type": ("a number", ""),
    "float_parsing": ("a number", ""),
    "bool_type": ("true or false", ""),
    "bool_parsing": ("true or false", ""),
    "string_type": ("text in quotes", ""),
    "list_type": ("a list in square brackets", ', like ["a", "b"]'),
    "dict_type": ("a table", ""),
    "model_type": ("a table", ""),
    "model_attributes_type": ("a table", ""),
    "date_type": ("a date written without quotes", ", like 2026-01-31"),
    "date_parsing": ("a date written without quotes", ", like 2026-01-31"),
    "date_from_datetime_inexact": ("a date without a time", ", like 2026-01-31"),
}

_BOUND_WORDS: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


def _type_hint(kind: str, got: Any, loc: Loc) -> str:
    if isinstance(got, str) and kind in ("int_type", "float_type"):
        try:
            float(got.replace("_", ""))
        except ValueError:
            return ""
        return " (remove the quotes)"
    if isinstance(got, str) and kind == "bool_type" and got.lower() in ("true", "false"):
        return " (remove the quotes)"
    if isinstance(got, str) and kind == "date_type":
        try:
            dt.date.fromisoformat(got)
        except ValueError:
            return ""
        return " (remove the quotes)"
    if isinstance(got, float) and kind == "int_type" and got.is_integer():
        return f" (write {int(got)})"
    if kind in ("model_type", "dict_type") and len(loc) == 1:
        return f" (write it as a [{loc[0]}] section)"
    return ""


def _unknown_key(loc: Loc, got: Any, tree: Mapping[str, Any], data: dict[str, Any]) -> str:
    key = str(loc[-1]) if loc else ""
    parent = loc[:-1]
    known = _known_keys(parent)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    data["key"] = key
    data["suggestion"] = close[0] if close else None
    data["known"] = known
    container = _table_name(parent, tree)
    if not parent and isinstance(got, dict):
        what = f"unknown table [{key}]"
        hint = f"; did you mean [{close[0]}]?" if close else ""
    else:
        what = f"unknown key `{key}` in {container}" if container else f"unknown key `{key}`"
        hint = f"; did you mean `{close[0]}`?" if close else ""
    if not hint:
        hint = f". The keys allowed there are: {', '.join(known)}." if known else "."
    return _capital(what) + hint


def _value_error(error: _Error, tree: Mapping[str, Any], data: dict[str, Any]) -> str:
    message = error.message
    code = re.fullmatch(r"unknown diagnostic code '(.*)'", message)
    if code:
        from handrail.codes import CODES

        close = difflib.get_close_matches(code.group(1), list(CODES), n=1)
        data["suggestion"] = close[0] if close else None
        hint = f"; did you mean `{close[0]}`?" if close else " (codes run from HR100 to HR403)."
        return f"[severity] names an unknown diagnostic code `{code.group(1)}`{hint}"
    if error.focus != error.loc:
        focus_name = _subject(error.focus, tree)
        return f"{_capital(focus_name)}: {message}."
    return f"{_capital(_subject(error.loc, tree))}: {message}."


def _known_keys(loc: Loc) -> list[str]:
    annotation = _annotation_at(loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _choices(loc: Loc) -> list[str]:
    annotation = _annotation_at(loc)
    if get_origin(annotation) is Literal:
        return [str(arg) for arg in get_args(annotation)]
    return []


def _annotation_at(loc: Loc) -> Any:
    """The model type expected at `loc` (Workflow at the root), None when there is none."""
    annotation: Any = Workflow
    for part in loc:
        origin = get_origin(annotation)
        if isinstance(part, int):
            if origin is not list:
                return None
            annotation = get_args(annotation)[0]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found = annotation.model_fields.get(part)
            if found is None:
                return None
            annotation = found.annotation
        elif origin is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    return annotation


def _subject(loc: Loc, tree: Mapping[str, Any]) -> str:
    """How a message names the value at `loc`: "`max_tokens` in [context]", "item 2 of ..."."""
    if not loc:
        return "the file"
    *parent, last = loc
    if isinstance(last, int):
        return f"item {last + 1} of {_subject(tuple(parent), tree)}"
    container = _table_name(tuple(parent), tree)
    return f"`{last}` in {container}" if container else f"`{last}`"


def _table_name(path: Loc, tree: Mapping[str, Any]) -> str:
    if not path:
        return ""
    if isinstance(path[-1], int):
        array = _dotted(path[:-1])
        entry = _get(tree, path)
        label = None
        if isinstance(entry, dict):
            label = next(
                (entry[k] for k in ("id", "name", "pattern") if isinstance(entry.get(k), str)),
                None,
            )
        if label:
            return f'the [[{array}]] entry "{label}"'
        return f"[[{array}]] entry {path[-1] + 1}"
    return f"[{_dotted(path)}]"


def _dotted(loc: Sequence[Any]) -> str:
    parts = []
    for part in loc:
        if isinstance(part, int):
            continue
        text = str(part)
        parts.append(text if text and set(text) <= _BARE_KEY else json.dumps(text))
    return ".".join(parts)


def _show(value: Any) -> str:
    """A value as it would be written in TOML, shortened for a message."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, list):
        text = "a list" if value else "an empty list []"
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    elif isinstance(value, float) and math.isnan(value):
        text = "nan"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _or_list(items: Sequence[str], conjunction: str = "or") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
