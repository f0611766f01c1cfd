"""The tolerant scanner of a task file's context array, and removing entries from it."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.tasks.context_array import (
    ContextEditError,
    add_context_entries,
    remove_context_entries,
    scan_context_array,
)
from handrail.tasks.files import parse_task, render_task
from handrail.tasks.model import Task

_ENTRY = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20
)
_SPEC = st.lists(st.sampled_from([*"ab .\n'\"[]#=", "context = [", '"""'])).map("".join)


@given(st.lists(_ENTRY, max_size=6), _SPEC)
def test_finds_every_entry_of_a_rendered_task(entries: list[str], spec: str) -> None:
    text = render_task(Task(id="k3f7qa", spec=spec or "x", context=entries))
    array = scan_context_array(text)
    assert array is not None
    assert [e.value for e in array.entries] == entries
    lines = text.split("\n")
    for entry in array.entries:
        assert entry.closed
        inner = lines[entry.line - 1][entry.column - 1 : entry.end_column - 1]
        assert inner == entry.value or "\\" in inner
    assert array.close is not None
    assert lines[array.close[0] - 1][array.close[1] - 1] == "]"


@given(st.text(alphabet=st.sampled_from(list("context=[]\"'#\n\r ab{}\\"))))
def test_never_raises_on_any_text(text: str) -> None:
    array = scan_context_array(text)
    if array is not None:
        for entry in array.entries:
            assert entry.column <= entry.end_column


def test_an_entry_being_typed_runs_to_the_end_of_its_line() -> None:
    text = 'id = "k3f7qa"\ncontext = [\n    "src/ut\n]\n'
    array = scan_context_array(text)
    assert array is not None
    (entry,) = array.entries
    assert (entry.value, entry.line, entry.column, entry.end_column, entry.closed) == (
        "src/ut",
        3,
        6,
        12,
        False,
    )
    assert array.entry_at(3, 12) is entry
    assert array.entry_at(3, 4) is None


def test_an_unclosed_array_stops_at_the_next_key() -> None:
    text = 'context = [\n  "a.py",\nverify = "make"\n'
    array = scan_context_array(text)
    assert array is not None
    assert [e.value for e in array.entries] == ["a.py"]
    assert array.close is None


def test_context_inside_a_spec_or_a_table_is_not_the_array() -> None:
    assert scan_context_array("spec = '''\ncontext = [\"x\"]\n'''\n") is None
    assert scan_context_array('[table]\ncontext = ["x"]\n') is None


@given(st.lists(st.sampled_from(["a.py", "b.py", "c.py#L1-L2", "d e.py"]), unique=True), st.data())
def test_remove_entries_keeps_the_others_in_order(entries: list[str], data: st.DataObject) -> None:
    drop = data.draw(st.sets(st.sampled_from(entries))) if entries else set()
    text = "# a comment\n" + render_task(Task(id="k3f7qa", spec="x", context=entries))
    edited = remove_context_entries(text, drop)
    loaded = parse_task(edited, path=__import__("pathlib").Path("k3f7qa.toml"), rel="k3f7qa.toml")
    assert loaded.task.context == [e for e in entries if e not in drop]
    assert edited.startswith("# a comment\n")


def test_remove_entries_refuses_text_that_is_not_toml() -> None:
    with pytest.raises(ContextEditError, match="not valid TOML"):
        remove_context_entries('context = ["a.py"', {"a.py"})
    with pytest.raises(ContextEditError, match="no context"):
        remove_context_entries('id = "k3f7qa"\n', {"a.py"})


# -- adding entries (the edit behind handrail.editTaskContext) --------------------------------

TASK = """# Handrail task: edit the spec and the context freely.
id = "qqpas5"
spec = '''
Given a text, return its longest word.'''
context = [
    "src/wordcount.py",
    ".env",
]
created = 2026-11-25T17:12:13Z
"""


def _added(text: str, *entries: str) -> str:
    result = add_context_entries(text, entries)
    assert result.added, result
    return result.text


def test_a_new_entry_goes_on_its_own_line_before_the_closing_bracket() -> None:
    assert _added(TASK, "tests/test_wordcount.py") == TASK.replace(
        '    ".env",\n', '    ".env",\n    "tests/test_wordcount.py",\n'
    )


def test_a_last_value_without_a_trailing_comma_gets_one() -> None:
    text = 'context = [\n  "a",\n  "b"\n]\n'
    assert _added(text, "c", "d") == 'context = [\n  "a",\n  "b",\n  "c",\n  "d"\n]\n'


def test_one_line_and_empty_arrays() -> None:
    assert _added("context = [\"a\", 'b']\n", "c") == 'context = ["a", \'b\', "c"]\n'
    assert _added("context = []\n", "a", "b") == 'context = ["a", "b"]\n'
    assert _added("context = [\n]\n", "a") == 'context = [\n    "a",\n]\n'
    assert _added("context = [\r\n]\r\n", "a") == 'context = [\r\n    "a",\r\n]\r\n'


def test_a_file_without_context_gets_one_before_its_tables() -> None:
    text = 'id = "k3f7qa"\nspec = "x"\n\n[[spec_history]]\nspec = "old"\n'
    edited = _added(text, "a.py")
    assert tomllib.loads(edited)["context"] == ["a.py"]
    assert edited.index("context") < edited.index("[[spec_history]]")


def test_entries_already_present_are_not_added_twice() -> None:
    result = add_context_entries(TASK, [".env", "x.py", "x.py"])
    assert (result.added, result.present) == (["x.py"], [".env", "x.py"])
    assert add_context_entries(TASK, [".env"]).text == TASK


def test_an_array_that_is_not_a_plain_list_of_strings_is_refused_not_rewritten() -> None:
    for text in [
        "context = [1, 2]\n",
        'context = ["a" "b"]\n',
        'context = ["a",,]\n',
        'context = ["a"\n',
        "context = ['''a''']\n",
        'context = "a"\n',
    ]:
        with pytest.raises(ContextEditError):
            add_context_entries(text, ["x"])


_LAYOUT = st.fixed_dictionaries(
    {
        "multiline": st.booleans(),
        "trailing_comma": st.booleans(),
        "indent": st.sampled_from(["", "  ", "    ", "\t"]),
        "comment": st.booleans(),
        "literal": st.booleans(),
        "eol": st.sampled_from(["\n", "\r\n"]),
    }
)


def _array(values: list[str], layout: dict[str, Any]) -> str:
    def quote(value: str) -> str:
        if layout["literal"] and "'" not in value and value.isprintable():
            return f"'{value}'"
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")

    eol, indent = layout["eol"], layout["indent"]
    comment = " # a comment" if layout["comment"] else ""
    if not layout["multiline"]:
        return "[" + ", ".join(map(quote, values)) + "]"
    body = f",{comment}{eol}".join(indent + quote(v) for v in values)
    tail = "," if layout["trailing_comma"] and values else ""
    return f"[{comment}{eol}{body}{tail}{eol}]" if values else f"[{eol}]"


@given(st.lists(_ENTRY, max_size=4, unique=True), st.lists(_ENTRY, max_size=3), _LAYOUT)
def test_adding_keeps_the_array_and_everything_around_it(
    values: list[str], entries: list[str], layout: dict[str, Any]
) -> None:
    eol = layout["eol"]
    before = f'id = "k3f7qa"{eol}spec = "x"{eol}context = '
    after = f"{eol}verify = 'make'{eol}"
    text = before + _array(values, layout) + after
    result = add_context_entries(text, entries)
    new = list(dict.fromkeys(e for e in entries if e not in values))
    assert result.added == new
    assert tomllib.loads(result.text)["context"] == values + new
    assert result.text.startswith(before) and result.text.endswith(after)
    if values and new:
        assert result.text.count("\n") == text.count("\n") + (
            len(new) if layout["multiline"] else 0
        )
