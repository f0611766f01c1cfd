"""One vocabulary for what is wrong in a TOML file: syntax errors and validation errors.

Two kinds of mistakes reach a user from every TOML file Handrail reads (the workflow, the files
it extends, task files): text tomllib cannot parse, and values the pydantic model refuses. Both
become plain sentences with the place to fix: `toml_problem` turns tomllib's terse messages into
something a newcomer can act on, at the line and column (or, for "at end of document", where the
unclosed thing started); `sentence` turns a pydantic error into "`url` in [docs] must be ...",
naming the key the way the file writes it. Callers add only their own framing (the workflow's
fallback, a task file's "No usable spec").
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from handrail.toml.index import Loc, Span
from handrail.toml.index import index as index_of

if TYPE_CHECKING:
    from pydantic import BaseModel

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


# ---------------------------------------------------------------------------------------------
# Syntax errors (tomllib) as plain sentences
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


_UNCLOSED = {"[": "Unclosed array", "{": "Unclosed inline table"}


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
        return dotted(value)
    return text


def toml_problem(source: str, exc: Exception) -> TomlProblem:
    """What went wrong parsing `source` with tomllib, as a sentence and a span in `source`.

    Handles tomllib's own errors (position from the message, or from ``lineno``/``colno`` on
    Python 3.14+), integers too long to convert, and nesting deep enough to exhaust the stack.
    """
    index = index_of(source)
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
            # tomllib says "Invalid value" when the document ends inside an array after a
            # comma; what the user must fix is the bracket that never closes.
            opened = source[index.trouble : index.trouble + 1]
            message = _UNCLOSED.get(opened, message)
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


class TomlSyntaxError(ValueError):
    """A TOML text that does not parse; `problem` says why and where."""

    def __init__(self, problem: TomlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def parse(source: str) -> dict[str, Any]:
    """`source` read by tomllib; raises `TomlSyntaxError` with the sentence and the place.

    Catches what tomllib can raise on bad text besides its own error: integers too long to
    convert (ValueError) and nesting deep enough to exhaust the stack (RecursionError).
    """
    try:
        return tomllib.loads(source)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
        raise TomlSyntaxError(toml_problem(source, exc)) from None


# ---------------------------------------------------------------------------------------------
# Validation errors (pydantic) as plain sentences
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Invalid:
    """One pydantic validation error, as the sentences need it."""

    kind: str
    loc: Loc
    message: str
    """pydantic's message, without its "Value error, " prefix."""
    input: Any
    ctx: dict[str, Any]
    focus: Loc
    """`loc`, or the key or item inside it that a table-level error is about."""

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Invalid:
        loc: Loc = tuple(part for part in raw.get("loc", ()) if isinstance(part, str | int))
        message = str(raw.get("msg", "")).removeprefix("Value error, ")
        ctx = dict(raw.get("ctx") or {})
        return cls(str(raw.get("type", "")), loc, message, raw.get("input"), ctx, loc)


def sentence(
    error: Invalid, tree: Mapping[str, Any], model: type[BaseModel], data: dict[str, Any]
) -> str:
    """`error` as a sentence naming the value as `tree` (the file's own values) writes it.

    `model` is the root model the tree was validated against (for the keys and choices a
    message lists); `data` receives what a quick fix needs (``got``, ``expected``,
    ``suggestion``, ...).
    """
    loc, kind, ctx, got = error.loc, error.kind, error.ctx, error.input
    name = subject(loc, tree)
    shown = show(got)
    data["got"] = shown
    if kind == "extra_forbidden":
        return unknown_key(model, loc, got, tree, data)
    if kind == "missing":
        owner = table_name(loc[:-1], tree) or "the file"
        return f"{capital(owner)} is missing `{loc[-1]}`; add it." if loc else "A key is missing."
    if isinstance(got, float) and not math.isfinite(got):
        return f"{capital(name)} must be a finite number, got {shown}."
    if kind in TYPE_WORDS:
        want, example = TYPE_WORDS[kind]
        data["expected"] = want
        hint = type_hint(kind, got, loc)
        return f"{capital(name)} must be {want}{example}, got {shown}{hint}."
    if kind in BOUND_WORDS:
        words, key = BOUND_WORDS[kind]
        bound = ctx.get(key)
        data["limit"] = bound
        return f"{capital(name)} must be {words} {show(bound)}, got {shown}."
    if kind == "literal_error":
        allowed = choices(model, loc)
        listed = or_list([f'"{c}"' for c in allowed]) if allowed else ctx.get("expected", "")
        data["expected"] = list(allowed)
        close = difflib.get_close_matches(str(got), allowed, n=1) if isinstance(got, str) else []
        hint = f'; did you mean "{close[0]}"?' if close else "."
        if close:
            data["suggestion"] = close[0]
        return f"{capital(name)} must be {listed}, got {shown}{hint}"
    if kind == "value_error":
        return f"{capital(subject(error.focus, tree))}: {error.message}."
    return f"{capital(name)}: {error.message[:1].lower()}{error.message[1:]}."


TYPE_WORDS: dict[str, tuple[str, str]] = {
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
    "datetime_type": ("a date and time", ", like 2026-01-31T09:00:00Z"),
    "datetime_parsing": ("a date and time", ", like 2026-01-31T09:00:00Z"),
    "datetime_from_date_parsing": ("a date and time", ", like 2026-01-31T09:00:00Z"),
}

BOUND_WORDS: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


def type_hint(kind: str, got: Any, loc: Loc) -> str:
    """What to write instead, when the value's shape says it (quotes around a number...)."""
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


def unknown_key(
    model: type[BaseModel], loc: Loc, got: Any, tree: Mapping[str, Any], data: dict[str, Any]
) -> str:
    """ "Unknown key `x` in [t]", with the likely key meant, or the keys allowed there."""
    key = str(loc[-1]) if loc else ""
    parent = loc[:-1]
    known = known_keys(model, parent)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    data["key"] = key
    data["suggestion"] = close[0] if close else None
    data["known"] = known
    container = table_name(parent, tree)
    if not parent and isinstance(got, dict):
        what = f"unknown table [{key}]"
        hint = f"; did you mean [{close[0]}]?" if close else ""
    else:
        what = f"unknown key `{key}` in {container}" if container else f"unknown key `{key}`"
        hint = f"; did you mean `{close[0]}`?" if close else ""
    if not hint:
        hint = f". The keys allowed there are: {', '.join(known)}." if known else "."
    return capital(what) + hint


def known_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the table at `loc` may hold; empty when it is not a model."""
    from pydantic import BaseModel  # only when a message is written: the import is not free

    annotation = annotation_at(model, loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def choices(model: type[BaseModel], loc: Loc) -> list[str]:
    """The values a Literal field at `loc` allows; empty for any other field."""
    annotation = annotation_at(model, loc)
    if get_origin(annotation) is Literal:
        return [str(arg) for arg in get_args(annotation)]
    return []


def annotation_at(model: type[BaseModel], loc: Loc) -> Any:
    """The type expected at `loc` (`model` at the root), None when there is none."""
    from pydantic import BaseModel

    annotation: Any = model
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


def subject(loc: Loc, tree: Mapping[str, Any]) -> str:
    """How a message names the value at `loc`: "`max_tokens` in [context]", "item 2 of ..."."""
    if not loc:
        return "the file"
    *parent, last = loc
    if isinstance(last, int):
        return f"item {last + 1} of {subject(tuple(parent), tree)}"
    container = table_name(tuple(parent), tree)
    return f"`{last}` in {container}" if container else f"`{last}`"


def table_name(path: Loc, tree: Mapping[str, Any]) -> str:
    """How a message names the table at `path`: "[context]", 'the [[risk_tiers]] entry "auth"'."""
    if not path:
        return ""
    if isinstance(path[-1], int):
        array = dotted(path[:-1])
        entry = get(tree, path)
        label = None
        if isinstance(entry, dict):
            label = next(
                (entry[k] for k in ("id", "name", "pattern") if isinstance(entry.get(k), str)),
                None,
            )
        if label:
            return f'the [[{array}]] entry "{label}"'
        return f"[[{array}]] entry {path[-1] + 1}"
    return f"[{dotted(path)}]"


def dotted(loc: Sequence[Any]) -> str:
    """`loc`'s keys as a dotted TOML key (array positions left out)."""
    parts = []
    for part in loc:
        if isinstance(part, int):
            continue
        text = str(part)
        parts.append(text if text and set(text) <= _BARE_KEY else json.dumps(text))
    return ".".join(parts)


def show(value: Any) -> str:
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


def or_list(items: Sequence[str], conjunction: str = "or") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


MISSING: Any = object()
"""What `get` returns for a path the tree does not hold."""


def get(tree: Any, loc: Loc) -> Any:
    """The value at `loc` in a tree of dicts and lists, or `MISSING`."""
    for part in loc:
        in_table = isinstance(part, str) and isinstance(tree, dict) and part in tree
        in_array = isinstance(part, int) and isinstance(tree, list) and 0 <= part < len(tree)
        if not (in_table or in_array):
            return MISSING
        tree = tree[part]
    return tree
