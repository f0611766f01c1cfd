"""The tolerant scanner of a task file's context array, and removing entries from it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.context_array import ContextEditError, remove_context_entries, scan_context_array
from handrail.tasks import Task, parse_task, render_task

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
