"""The engine's buffer edits: the region that differs, applied back, never splitting CRLF."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.text_changes import TextChange, apply_changes, changed_region

_TEXT = st.lists(st.sampled_from(["a", "b", "é", "😀", "\n", "\r", "\r\n", " "])).map("".join)


@given(_TEXT, _TEXT)
def test_changed_region_turns_old_into_new(old: str, new: str) -> None:
    change = changed_region(old, new)
    if old == new:
        assert change is None
    else:
        assert change is not None
        assert apply_changes(old, [change]) == new


@given(_TEXT, _TEXT)
def test_changed_region_never_splits_a_crlf_pair(old: str, new: str) -> None:
    change = changed_region(old, new)
    if change is None:
        return
    lines = old.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line, column in ((change.line, change.column), (change.end_line, change.end_column)):
        assert 1 <= line <= len(lines)
        assert 1 <= column <= len(lines[line - 1]) + 1


def test_changed_region_is_small() -> None:
    old = "one\ntwo\nthree\n"
    change = changed_region(old, "one\ntwo\n# x\nthree\n")
    assert change == TextChange(3, 1, 3, 1, "# x\n")


def test_apply_changes_refuses_overlaps() -> None:
    with pytest.raises(ValueError):
        apply_changes("abcdef", [TextChange(1, 1, 1, 4, "x"), TextChange(1, 2, 1, 3, "y")])


def test_apply_changes_reads_positions_against_the_original() -> None:
    text = "a\nb\nc"
    changes = [TextChange(1, 1, 1, 1, "0\n"), TextChange(3, 2, 3, 2, "\n9")]
    assert apply_changes(text, changes) == "0\na\nb\nc\n9"
