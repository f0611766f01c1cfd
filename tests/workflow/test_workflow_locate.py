"""The TOML locator: where a pydantic-style path is written in a TOML text."""

from __future__ import annotations

import json
import string
import tomllib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from handrail.toml.index import Span, find_line, locate
from handrail.workflow.init import toml_value

SAMPLE = """\
# [not] a table: a comment
extends = "default"   # trailing [comment]

[workflow]
owner = "Ada # not a comment"
"quoted key" = 1
reviewed = 2026-01-01

[context]
ignore = [
  "a]",   # a bracket inside a string
  'b',
  # a comment between items
  "c",
]
limits = { soft = 1, hard = { value = 2 } }
dotted.deep.key = true

[[risk_tiers]]
name = "auth"
requires = ["tests", "trace"]

[[risk_tiers]]
name = "money"

[[risk_tiers.notes]]
text = "nested array of tables"

[spec.required]
inputs = '(?i)\\bgiven\\b'
text = \"\"\"
one
two \\\"\"\" still inside
\"\"\"
after = 1
"""


def test_sample_is_valid_toml() -> None:
    tomllib.loads(SAMPLE)


def test_tables_keys_and_comments() -> None:
    assert find_line(SAMPLE, ("extends",)) == 2
    assert find_line(SAMPLE, ("workflow",)) == 4
    assert find_line(SAMPLE, ("workflow", "owner")) == 5
    assert find_line(SAMPLE, ("workflow", "quoted key")) == 6
    assert find_line(SAMPLE, ("workflow", "reviewed")) == 7


def test_multiline_arrays_give_each_item_its_line() -> None:
    assert find_line(SAMPLE, ("context", "ignore")) == 10
    assert find_line(SAMPLE, ("context", "ignore", 0)) == 11
    assert find_line(SAMPLE, ("context", "ignore", 1)) == 12
    assert find_line(SAMPLE, ("context", "ignore", 2)) == 14


def test_inline_tables_and_dotted_keys() -> None:
    span = locate(SAMPLE, ("context", "limits", "hard", "value"))
    assert (span.line, span.column) == (16, 31)
    value = locate(SAMPLE, ("context", "limits", "hard", "value"), value=True)
    assert (value.column, value.end_column) == (39, 40)
    assert find_line(SAMPLE, ("context", "dotted", "deep", "key")) == 17
    assert find_line(SAMPLE, ("context", "dotted")) == 17


def test_arrays_of_tables_are_indexed() -> None:
    assert find_line(SAMPLE, ("risk_tiers", 0, "name")) == 20
    assert find_line(SAMPLE, ("risk_tiers", 0, "requires", 1)) == 21
    assert find_line(SAMPLE, ("risk_tiers", 1)) == 23
    assert find_line(SAMPLE, ("risk_tiers", 1, "name")) == 24
    assert find_line(SAMPLE, ("risk_tiers", 1, "notes", 0, "text")) == 27


def test_multiline_strings_do_not_hide_later_keys() -> None:
    assert find_line(SAMPLE, ("spec", "required", "inputs")) == 30
    assert find_line(SAMPLE, ("spec", "required", "text")) == 31
    assert find_line(SAMPLE, ("spec", "required", "after")) == 35


def test_missing_paths_fall_back_to_the_nearest_written_parent() -> None:
    assert find_line(SAMPLE, ("context", "max_tokens")) == 9
    assert find_line(SAMPLE, ("risk_tiers", 1, "requires", 0)) == 23
    assert find_line(SAMPLE, ("nowhere", "at", "all")) == 1
    assert find_line("", ("x",)) == 1


def test_key_span_covers_the_key() -> None:
    span = locate("[context]\n  max_files   = 3\n", ("context", "max_files"))
    assert span == Span(2, 3, 2, 12)


# -- properties --------------------------------------------------------------------------------

_KEY = st.one_of(
    st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=8),
    st.text(min_size=1, max_size=6).filter(lambda k: "\x00" not in k),
)
_SCALAR = st.one_of(
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.text(max_size=20).filter(lambda s: all(c.isprintable() or c in "\t\n" for c in s)),
)
_LEAF = st.one_of(_SCALAR, st.lists(_SCALAR, max_size=3))


def _tables(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    if depth == 0:
        return st.dictionaries(_KEY, _LEAF, max_size=3)
    child = _tables(depth - 1)
    return st.dictionaries(
        _KEY,
        st.one_of(_LEAF, child, st.lists(child, min_size=1, max_size=2)),
        max_size=4,
    )


def _key_text(key: str) -> str:
    bare = set(string.ascii_letters + string.digits + "_-")
    return (
        key if set(key) <= bare else json.dumps(key, ensure_ascii=False).replace("\x7f", "\\u007f")
    )


def _render(tree: dict[str, Any]) -> tuple[str, dict[tuple[Any, ...], int]]:
    """TOML for `tree`, one key per line, and the line each leaf was written on."""
    lines: list[str] = []
    where: dict[tuple[Any, ...], int] = {}

    def table(node: dict[str, Any], path: tuple[Any, ...], header: str | None) -> None:
        if header is not None:
            lines.append(header)
        scalars = {k: v for k, v in node.items() if not _is_table(v) and not _is_table_array(v)}
        for key, value in scalars.items():
            lines.append(f"{_key_text(key)} = {toml_value(value)}")
            where[(*path, key)] = len(lines)
            if isinstance(value, list):
                for i in range(len(value)):
                    where[(*path, key, i)] = len(lines)
        for key, value in node.items():
            name = ".".join(_key_text(str(p)) for p in (*path, key) if not isinstance(p, int))
            if _is_table(value):
                table(value, (*path, key), f"[{name}]")
            elif _is_table_array(value):
                for i, item in enumerate(value):
                    table(item, (*path, key, i), f"[[{name}]]")

    table(tree, (), None)
    return "\n".join(lines) + "\n", where


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


@given(_tables(2))
def test_every_leaf_is_found_on_the_line_it_was_written(tree: dict[str, Any]) -> None:
    text, where = _render(tree)
    assert tomllib.loads(text) == tree  # the renderer itself is right
    for path, line in where.items():
        assert find_line(text, path) == line, (path, text)


@given(
    st.text(max_size=300),
    st.lists(st.one_of(st.text(max_size=5), st.integers(-2, 5)), max_size=5),
    st.booleans(),
)
def test_locate_never_raises_and_stays_inside_the_text(
    text: str, loc: list[str | int], value: bool
) -> None:
    span = locate(text, tuple(loc), value=value)
    lines = text.split("\n")
    assert 1 <= span.line <= len(lines)
    assert 1 <= span.end_line <= len(lines)
    assert 1 <= span.column <= len(lines[span.line - 1]) + 1
    assert (span.line, span.column) <= (span.end_line, span.end_column)
