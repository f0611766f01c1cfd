"""Position conversion (engine code points <-> LSP code units) and finding conversion."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from handrail.codes import doc_url
from handrail.findings import Finding, Severity
from handrail.lsp.convert import (
    UTF8,
    UTF16,
    UTF32,
    LinesWithoutBreaks,
    code_units,
    editor_message,
    finding_to_diagnostic,
    from_lsp_position,
    split_lines,
    split_lines_keepends,
    to_lsp_range,
)

ENCODINGS = [UTF8, UTF16, UTF32]
CODEC = {UTF8: "utf-8", UTF16: "utf-16-le", UTF32: "utf-32-le"}
WIDTH = {UTF8: 1, UTF16: 2, UTF32: 4}

# Letters from every width class: ASCII, Latin-1, CJK, emoji (astral), plus the line breaks.
chars = st.sampled_from([*list("ab é中文😀🎉\t"), "\r\n", "\n", "\r"])
texts = st.lists(chars, max_size=40).map("".join)


def units(text: str, encoding: str) -> int:
    return len(text.encode(CODEC[encoding])) // WIDTH[encoding]


@given(texts)
def test_lines_split_at_lsp_breaks_only(text: str) -> None:
    assert "".join(split_lines_keepends(text)) == text
    assert [line.rstrip("\r\n") for line in split_lines_keepends(text)] == split_lines(text)
    view = LinesWithoutBreaks(split_lines_keepends(text))
    assert list(view) == split_lines(text) and len(view) == len(split_lines(text))
    assert [view[i] for i in range(-len(view), len(view))] == split_lines(text) * 2
    assert view[1:-1] == split_lines(text)[1:-1]
    breaks = text.count("\r\n") + text.replace("\r\n", "").count("\r") + text.count("\n")
    breaks -= text.count("\r\n")
    assert len(split_lines(text)) == breaks + 1


def test_other_unicode_breaks_are_not_lines() -> None:
    assert split_lines("a\u2028b\x0cc\nd") == ["a\u2028b\x0cc", "d"]
    assert split_lines_keepends("a\u2028b\nc") == ["a\u2028b\n", "c"]


@given(texts, st.sampled_from(ENCODINGS), st.data())
def test_round_trip_every_character_boundary(text: str, encoding: str, data: st.DataObject) -> None:
    lines = split_lines(text)
    line = data.draw(st.integers(1, len(lines)))
    column = data.draw(st.integers(1, len(lines[line - 1]) + 1))
    rng = to_lsp_range(lines, line, column, line, column, encoding)
    assert rng.start == rng.end
    assert rng.start.line == line - 1
    # The character is the code-unit length of the text before the column, by the codec.
    assert rng.start.character == units(lines[line - 1][: column - 1], encoding)
    assert from_lsp_position(lines, rng.start, encoding) == (line, column)


@given(texts, st.sampled_from(ENCODINGS), st.integers(-3, 50), st.integers(-3, 200))
def test_from_lsp_never_raises_and_clamps(
    text: str, encoding: str, line: int, character: int
) -> None:
    lines = split_lines(text)
    got_line, got_column = from_lsp_position(
        lines, types.Position(line=max(line, 0), character=max(character, 0)), encoding
    )
    assert 1 <= got_line <= len(lines)
    assert 1 <= got_column <= len(lines[got_line - 1]) + 1


def test_inside_a_surrogate_pair_snaps_to_the_character_start() -> None:
    lines = ["a😀b"]
    assert from_lsp_position(lines, types.Position(line=0, character=2), UTF16) == (1, 2)
    assert from_lsp_position(lines, types.Position(line=0, character=3), UTF16) == (1, 3)
    assert from_lsp_position(lines, types.Position(line=0, character=3), UTF8) == (1, 2)
    assert from_lsp_position(lines, types.Position(line=0, character=5), UTF8) == (1, 3)


def test_range_ends_are_clamped_and_widened() -> None:
    lines = ["中文 x", "b"]
    # No end: to the end of the start line.
    assert to_lsp_range(lines, 1, 2, None, None, UTF8) == types.Range(
        start=types.Position(line=0, character=3), end=types.Position(line=0, character=8)
    )
    # Past the end of the text: the end of the last line.
    far = to_lsp_range(lines, 1, 1, 9, 9, UTF16)
    assert far.end == types.Position(line=1, character=1)
    # An end before the start collapses onto the start.
    back = to_lsp_range(lines, 2, 2, 1, 1, UTF16)
    assert back.end == back.start
    assert code_units("😀", UTF16) == 2 and code_units("😀", UTF8) == 4


def test_finding_to_diagnostic_carries_code_docs_and_data() -> None:
    finding = Finding(
        "HR305",
        Severity.WARNING,
        "Broken marker.",
        "src/a.py",
        line=2,
        column=3,
        end_line=2,
        end_column=5,
        data={"fix": "add-end"},
    )
    diagnostic = finding_to_diagnostic(finding, ["x", "é😀ab"], UTF16, "https://docs.example/codes")
    assert diagnostic.range == types.Range(
        start=types.Position(line=1, character=3), end=types.Position(line=1, character=5)
    )
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.code == "HR305" and diagnostic.source == "handrail"
    assert diagnostic.code_description is not None
    assert diagnostic.code_description.href == "https://docs.example/codes/HR305.md"
    assert diagnostic.data == {"fix": "add-end", "code": "HR305", "path": "src/a.py"}
    local = finding_to_diagnostic(finding, ["x"], UTF16, None)
    assert local.code_description is not None
    assert local.code_description.href == doc_url("HR305")


def test_a_block_finding_sits_on_its_begin_marker_with_the_span_in_data() -> None:
    # Issue 19.2: the whole block was one red squiggle that buried the real errors inside.
    lines = ["x = 0", "  # handrail:begin abcdef.1", "  y = 1", "  # handrail:end abcdef.1", ""]
    block = Finding("HR300", Severity.ERROR, "m", "a.py", 2, 1, 4, None, {"block_id": "abcdef.1"})
    diagnostic = finding_to_diagnostic(block, lines, UTF16, None)
    assert diagnostic.range == types.Range(
        start=types.Position(line=1, character=0), end=types.Position(line=1, character=27)
    )
    assert diagnostic.data["block_range"] == {
        "start": {"line": 1, "character": 0},
        "end": {"line": 3, "character": 25},
    }
    # A finding on some lines inside the block (not from its marker) keeps its own range.
    inside = Finding("HR312", Severity.WARNING, "m", "a.py", 3, 3, 3, 8, {"block_id": "abcdef.1"})
    kept = finding_to_diagnostic(inside, lines, UTF16, None)
    assert (kept.range.start.line, kept.range.end.line, kept.range.end.character) == (2, 2, 7)
    assert "block_range" not in kept.data
    # A finding without a block keeps its multi-line range.
    other = Finding("HR305", Severity.ERROR, "m", "a.py", 2, 1, 4, None, {})
    assert finding_to_diagnostic(other, lines, UTF16, None).range.end.line == 3


def test_editor_messages_name_the_lens_not_the_cli() -> None:
    # Issue 19.6: the editor's messages named CLI commands instead of the lens or command.
    finding = Finding(
        "HR303",
        Severity.ERROR,
        "Walk through it by hand, then record it with `handrail trace k3f7qa.1`.",
        "a.py",
        1,
    )
    message = finding_to_diagnostic(finding, ["x"], UTF16, None).message
    assert message == "Walk through it by hand, then record it with the Trace lens."
    assert editor_message("Run its command (`handrail verify`) now.") == (
        "Run its command (the Verify lens on its begin marker) now."
    )
    assert editor_message("record it with `handrail explain k3f7qa.1`. Read") == (
        "record it with the Explain lens. Read"
    )
    # A command with no editor counterpart is left as it is.
    assert editor_message("Run `handrail renumber`.") == "Run `handrail renumber`."
