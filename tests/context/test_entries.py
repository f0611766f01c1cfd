from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.context.entries import (
    ContextEntry,
    EntryError,
    format_entry,
    normalise_path,
    parse_entry,
)


@pytest.mark.parametrize(
    ("text", "path", "start", "end"),
    [
        ("src/parser.py", "src/parser.py", None, None),
        ("src/parser.py#L10-L40", "src/parser.py", 10, 40),
        ("src/parser.py#L10", "src/parser.py", 10, 10),
        ("src/parser.py#L10-40", "src/parser.py", 10, 40),
        ("src/parser.py#L7-L7", "src/parser.py", 7, 7),
        ("  ./src/parser.py  ", "src/parser.py", None, None),
        ("src\\win\\file.py#L1-L2", "src/win/file.py", 1, 2),
        ("./././a//b/./c.txt", "a/b/c.txt", None, None),
        ("a file with spaces.md", "a file with spaces.md", None, None),
        # Escapes parse: refusing them is resolve's job, with a finding naming them.
        ("../../etc/passwd", "../../etc/passwd", None, None),
        ("/etc/passwd", "/etc/passwd", None, None),
        ("\\\\server\\share\\x", "/server/share/x", None, None),
    ],
)
def test_parse_valid(text: str, path: str, start: int | None, end: int | None) -> None:
    entry = parse_entry(text)
    assert (entry.path, entry.start_line, entry.end_line) == (path, start, end)
    assert entry.raw == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a.py#L0", "line 0"),
        ("a.py#L0-L3", "line 0"),
        ("a.py#L40-L10", "reversed"),
        ("a.py#", "unreadable line range"),
        ("a.py#foo", "unreadable line range"),
        ("a.py#L", "unreadable line range"),
        ("a.py#L1-", "unreadable line range"),
        ("a.py#L1-L2-L3", "unreadable line range"),
        ("a.py#L\u0661", "unreadable line range"),  # an Arabic-Indic digit
        ("notes#1.md#L1", "more than one '#'"),
        ("#L1", "names no file"),
        ("./", "names no file"),
        ("/", "names no file"),
        ("a\nb.py", "control character"),
        ("a\x00b.py", "control character"),
    ],
)
def test_parse_invalid(text: str, fragment: str) -> None:
    with pytest.raises(EntryError) as info:
        parse_entry(text)
    assert fragment in info.value.message


def test_reversed_range_message_suggests_the_fix() -> None:
    with pytest.raises(EntryError, match="#L10-L40"):
        parse_entry("a.py#L40-L10")


def test_non_string_is_an_entry_error() -> None:
    with pytest.raises(EntryError):
        parse_entry(42)  # type: ignore[arg-type]


def test_format_canonical() -> None:
    assert format_entry(ContextEntry("a.py", None, None, "")) == "a.py"
    assert format_entry(ContextEntry("a.py", 3, 3, "")) == "a.py#L3"
    assert format_entry(ContextEntry("a.py", 3, 9, "")) == "a.py#L3-L9"


def test_normalise_keeps_parent_and_absolute_markers() -> None:
    assert normalise_path("./a/../b") == "a/../b"
    assert normalise_path("/x/./y") == "/x/y"


_segment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="#/\\"),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".",) and s.strip() == s and s != "")


@st.composite
def entries(draw: st.DrawFn) -> ContextEntry:
    parts = draw(st.lists(_segment, min_size=1, max_size=4))
    path = "/".join(parts)
    if draw(st.booleans()):
        start = draw(st.integers(min_value=1, max_value=10**9))
        end = draw(st.integers(min_value=start, max_value=start + 10**6))
        return ContextEntry(path, start, end, "")
    return ContextEntry(path, None, None, "")


@given(entries())
def test_round_trip(entry: ContextEntry) -> None:
    text = format_entry(entry)
    back = parse_entry(text)
    assert (back.path, back.start_line, back.end_line) == (
        entry.path,
        entry.start_line,
        entry.end_line,
    )
    assert back.raw == text


@given(st.text(max_size=80))
def test_arbitrary_text_raises_only_entry_error(text: str) -> None:
    try:
        entry = parse_entry(text)
    except EntryError as exc:
        assert exc.message
        return
    assert entry.path
    assert "\\" not in entry.path
    assert not entry.path.startswith("./")
    assert "#" not in entry.path
    if entry.start_line is not None:
        assert entry.end_line is not None
        assert 1 <= entry.start_line <= entry.end_line
    # Normalised entries are fixed points of format -> parse.
    again = parse_entry(format_entry(entry))
    assert (again.path, again.start_line, again.end_line) == (
        entry.path,
        entry.start_line,
        entry.end_line,
    )


def test_a_path_left_with_a_blank_by_normalising_is_a_fixed_point() -> None:
    # Found by Hypothesis: `0 \` normalised to `0 `, which read back as `0`.
    entry = parse_entry("0 \\")
    assert entry.path == "0"
    assert parse_entry(format_entry(entry)).path == entry.path


@given(
    st.text(alphabet="aL#-0123456789./\\ \t", max_size=30),
)
def test_range_like_text_raises_only_entry_error(text: str) -> None:
    try:
        entry = parse_entry(text)
    except EntryError:
        return
    assert "#" not in entry.path
    assert "#" not in text or entry.start_line is not None
