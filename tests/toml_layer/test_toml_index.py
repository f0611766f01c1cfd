"""The one TOML index: spans that point at what tomllib reads, and a tolerant mode that never fails.

(This folder is not called ``tests/toml``: with tests/ on sys.path, a folder of that name would
be importable as a namespace package ``toml`` and hide the PyPI package of that name.)
"""

from __future__ import annotations

import json
import string
import tomllib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from handrail.toml.index import Loc, TomlIndex
from handrail.toml.problems import MISSING, get

_BARE = set(string.ascii_letters + string.digits + "_-")
_KEY = st.one_of(
    st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=6),
    st.text(min_size=1, max_size=5).filter(lambda k: "\x00" not in k),
)
_TEXT = st.one_of(
    st.text(max_size=12).filter(lambda s: "\x00" not in s),
    st.text(alphabet="ab'\"\\ #[]=,\n", max_size=8),  # what a scanner can trip on
)
_SCALAR = st.one_of(st.integers(-(10**6), 10**6), st.booleans(), _TEXT)


def _tree(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    leaf = st.one_of(_SCALAR, st.lists(_SCALAR, max_size=3))
    if depth == 0:
        return st.dictionaries(_KEY, leaf, max_size=3)
    child = _tree(depth - 1)
    return st.dictionaries(
        _KEY, st.one_of(leaf, child, st.lists(child, min_size=1, max_size=2)), max_size=4
    )


def _key(key: str) -> str:
    if key and set(key) <= _BARE:
        return key
    return json.dumps(key, ensure_ascii=False).replace("\x7f", "\\u007f")


class _Writer:
    """TOML for a tree, in a style drawn as it goes: headers, dotted keys, inline tables,
    arrays on one line or one item a line with comments, and every kind of string."""

    def __init__(self, data: st.DataObject) -> None:
        self.draw = data.draw
        self.lines: list[str] = []

    def string(self, value: str) -> str:
        style = self.draw(st.sampled_from(["basic", "literal", "multi", "multi_literal"]))
        printable = all(c.isprintable() or c == "\t" for c in value)
        if style == "literal" and printable and "'" not in value:
            return f"'{value}'"
        if style == "multi_literal" and printable and "'''" not in value:
            return f"'''{value}'''"  # up to two quotes may end the content
        if style == "multi":
            body = json.dumps(value, ensure_ascii=False)[1:-1].replace("\x7f", "\\u007f")
            if '"""' not in value:
                body = body.replace('\\"', '"')  # quotes as they are, even at the end
            return f'"""{body}"""'
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")

    def value(self, value: Any, indent: str) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, dict):
            pairs = [f"{_key(k)} = {self.value(v, indent)}" for k, v in value.items()]
            return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
        items = [self.value(item, indent + "  ") for item in value]
        if items and self.draw(st.booleans()):  # one item a line, with comments between
            inner = "".join(f"\n{indent}  {item},  # item" for item in items)
            return f"[{inner}\n{indent}]"
        return "[" + ", ".join(items) + "]"

    def table(self, node: dict[str, Any], path: tuple[str, ...]) -> None:
        later: list[tuple[str, Any]] = []
        for key, value in node.items():
            is_tables = (
                isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
            )
            as_header = (isinstance(value, dict) and bool(value)) or is_tables
            if as_header and self.draw(st.booleans()):
                later.append((key, value))
            elif isinstance(value, dict) and value and self.draw(st.booleans()):
                self.dotted(value, (key,))
            else:
                self.lines.append(f"{_key(key)} = {self.value(value, '')}")
        for key, value in later:
            name = ".".join(_key(part) for part in (*path, key))
            if isinstance(value, dict):
                self.lines.append(f"[{name}]")
                self.table(value, (*path, key))
            else:
                for item in value:
                    self.lines.append(f"[[{name}]]")
                    self.table(item, (*path, key))

    def dotted(self, node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            written = ".".join(_key(part) for part in (*prefix, key))
            if isinstance(value, dict) and value:
                self.dotted(value, (*prefix, key))
            else:
                self.lines.append(f"{written} = {self.value(value, '')}")


def _document(data: st.DataObject) -> tuple[str, dict[str, Any]]:
    tree = data.draw(_tree(2))
    writer = _Writer(data)
    writer.table(tree, ())
    text = "\n".join(writer.lines) + "\n"
    return text, tree


def _leaves(tree: Any, path: Loc = ()) -> list[Loc]:
    """Every path to a value that is not a table (a non-empty array of tables: its tables)."""
    if isinstance(tree, dict):
        if not tree and path:
            return [path]
        return [leaf for key, value in tree.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(tree, list) and tree and all(isinstance(item, dict) for item in tree):
        return [leaf for i, item in enumerate(tree) for leaf in _leaves(item, (*path, i))]
    return [path]


def _key_path(text: str) -> list[str]:
    """The path a key's text names (``a."b c".d`` -> ["a", "b c", "d"])."""
    parsed: Any = tomllib.loads(f"{text} = 0")
    path = []
    while isinstance(parsed, dict):
        (key, parsed), *_ = parsed.items()
        path.append(key)
    return path


@settings(max_examples=300)
@given(st.data())
def test_every_value_span_holds_text_tomllib_reads_as_that_value(data: st.DataObject) -> None:
    text, tree = _document(data)
    assert tomllib.loads(text) == tree, text  # the writer itself is right
    found = TomlIndex(text)
    assert found.trouble is None and not found.unclosed
    for path, (start, end) in found.offsets.items():
        expected = get(tree, path)
        assert expected is not MISSING, (path, text)
        assert tomllib.loads(f"v = {text[start:end]}")["v"] == expected, (path, text)
        span = found.values[path]
        assert found.position(start) == (span.line, span.column)
        assert found.position(end) == (span.end_line, span.end_column)
    for leaf in _leaves(tree):
        assert leaf in found.offsets or leaf in found.keys, (leaf, text)


@settings(max_examples=300)
@given(st.data())
def test_every_key_span_holds_the_key(data: st.DataObject) -> None:
    text, _ = _document(data)
    found = TomlIndex(text)
    lines = text.split("\n")
    for path, span in found.keys.items():
        if path in found.values and found.keys[path] == found.values[path]:
            continue  # an array item: its "key" is the value itself
        assert span.line == span.end_line
        written = _key_path(lines[span.line - 1][span.column - 1 : span.end_column - 1])
        names = [part for part in path if isinstance(part, str)]
        # A dotted key or header is filed under each of its prefixes: the path ends with the
        # start of what the key's text names.
        assert any(names[-size:] == written[:size] for size in range(1, len(names) + 1)), (
            path,
            written,
            text,
        )


@settings(max_examples=200)
@given(st.data())
def test_tolerant_mode_reads_a_valid_document_as_strict_mode_does(data: st.DataObject) -> None:
    text, _ = _document(data)
    strict, tolerant = TomlIndex(text), TomlIndex(text, tolerant=True)
    assert tolerant.keys == strict.keys
    assert tolerant.offsets == strict.offsets
    assert not tolerant.unclosed


@settings(max_examples=200)
@given(st.data())
def test_a_document_cut_anywhere_keeps_the_values_before_the_cut(data: st.DataObject) -> None:
    text, _ = _document(data)
    cut = data.draw(st.integers(0, len(text)))
    whole, prefix = TomlIndex(text), TomlIndex(text[:cut], tolerant=True)
    for path, (start, end) in whole.offsets.items():
        if end < cut and not any(
            whole.offsets[path[:size]][1] >= cut
            for size in range(1, len(path))
            if path[:size] in whole.offsets
        ):
            # A value wholly before the cut, not inside an array or table the cut splits.
            assert prefix.offsets.get(path) == (start, end), (path, text[:cut])


_NOISE = st.text(alphabet=st.sampled_from(list("ab=.[]{}\"',#\n\r \t\\\x00é1")), max_size=200)


@settings(max_examples=500)
@given(st.one_of(_NOISE, st.text(max_size=200)))
def test_tolerant_mode_never_raises_and_stays_inside_the_text(text: str) -> None:
    found = TomlIndex(text, tolerant=True)
    lines = text.split("\n")
    for span in [*found.keys.values(), *found.values.values()]:
        assert 1 <= span.line <= span.end_line <= len(lines)
        assert (span.line, span.column) <= (span.end_line, span.end_column)
        assert 1 <= span.column <= len(lines[span.line - 1]) + 1
    for path, (start, end) in found.offsets.items():
        assert 0 <= start <= end <= len(text)
        string = found.string(path)
        if string is not None:
            assert string.column <= string.end_column


def test_a_string_being_typed_ends_at_its_line_and_the_scan_goes_on() -> None:
    text = 'spec = "half\r\ncontext = [\n  "src/ut\n]\nverify = "make"\n'
    found = TomlIndex(text, tolerant=True)
    assert found.unclosed == {("spec",), ("context", 0)}
    spec = found.string(("spec",))
    assert spec is not None and (spec.value, spec.closed, spec.end_column) == ("half", False, 13)
    assert found.closing(("context",)) == (4, 1)
    assert found.value_text(("verify",)) == '"make"'


def test_an_array_left_open_ends_before_the_next_statement() -> None:
    text = 'context = [\n  "a.py",\n[table]\nkey = 1\n'
    found = TomlIndex(text, tolerant=True)
    assert found.items(("context",)) == [("context", 0)]
    assert ("context",) in found.unclosed and found.closing(("context",)) is None
    assert found.value_text(("table", "key")) == "1"
    assert TomlIndex(text).trouble == text.index("[")


def test_a_broken_line_is_skipped_and_a_broken_header_owns_nothing() -> None:
    text = "a = 1\n!!! what\nb = 2\n[half\nc = 3\n[t]\nd = {x = 1,\ne = 4\n"
    found = TomlIndex(text, tolerant=True)
    assert found.value_text(("a",)) == "1" and found.value_text(("b",)) == "2"
    assert ("c",) not in found.keys
    assert found.value_text(("t", "d", "x")) == "1" and ("t", "d") in found.unclosed
    assert found.value_text(("t", "e")) == "4"
    strict = TomlIndex(text)
    assert ("b",) not in strict.keys  # strict mode stops where it cannot follow


def test_a_backslash_at_the_end_of_a_line_does_not_carry_a_string_over() -> None:
    found = TomlIndex('a = "x\\\nb = "2"\n', tolerant=True)
    assert ("a",) in found.unclosed and found.value_text(("b",)) == '"2"'


def test_an_escaped_quote_in_an_array_item_does_not_end_the_array() -> None:
    """Found by Hypothesis: the item `"\\"="` was read as the key `"\\"` and `=`, so the
    tolerant index closed the array before it."""
    text = '[0]\n0 = 0\n\n1 = [\n  "\\"=",\n]\n'
    assert TomlIndex(text, tolerant=True).keys == TomlIndex(text).keys
    assert ("0", "1", 0) in TomlIndex(text, tolerant=True).values
