"""The document store: validated incremental edits against a reference string model.

A store with a size limit holds a document over it as its text alone (no lines): the same
edits must give the same text in both forms, and a document moves between them as it grows
and shrinks.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from handrail.lsp import documents
from handrail.lsp.convert import UTF8, UTF16, UTF32, code_units, split_lines
from handrail.lsp.documents import DocumentStore

pieces = st.sampled_from([*list("ab é中😀🎉\t"), "\r\n", "\n", "\r"])
texts = st.lists(pieces, max_size=30).map("".join)
URI = "file:///w/a.py"


def position_of(text: str, offset: int, encoding: str) -> types.Position:
    """The LSP position of code-point `offset` in `text` (a client's view)."""
    before = text[:offset]
    lines = split_lines(before)
    return types.Position(line=len(lines) - 1, character=code_units(lines[-1], encoding))


def valid_offset(text: str, offset: int) -> int:
    """Offsets between CR and LF have no LSP position: step back before the CR."""
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return offset - 1
    return offset


def change(
    start: types.Position, end: types.Position, text: str
) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=start, end=end), text=text
    )


@given(
    texts,
    st.sampled_from([UTF8, UTF16, UTF32]),
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), texts), max_size=12),
    st.none() | st.integers(1, 80),
    st.sampled_from([1, 2, 3, documents._BLOCK]),
)
def test_any_valid_edit_sequence_matches_the_reference(
    initial: str,
    encoding: str,
    edits: list[tuple[float, float, str]],
    limit: int | None,
    block: int,
) -> None:
    # Small blocks make the line search of a document held as text cross block boundaries
    # (and CRLFs at them) as a large document does.
    saved, documents._BLOCK = documents._BLOCK, block
    try:
        _check_edits(initial, encoding, edits, limit)
    finally:
        documents._BLOCK = saved


def _check_edits(
    initial: str, encoding: str, edits: list[tuple[float, float, str]], limit: int | None
) -> None:
    store = DocumentStore(lambda: limit)
    store.open(URI, "python", 1, initial)
    reference = initial
    for version, (a, b, new) in enumerate(edits, start=2):
        start = valid_offset(reference, round(a * len(reference)))
        end = valid_offset(reference, round(b * len(reference)))
        start, end = min(start, end), max(start, end)
        edit = change(
            position_of(reference, start, encoding), position_of(reference, end, encoding), new
        )
        document, refused = store.change(URI, version, [edit], encoding)
        reference = reference[:start] + new + reference[end:]
        assert refused == []
        assert document.text == reference
        assert document.line_count == len(split_lines(reference))
        size = len(reference.encode("utf-8", "surrogatepass"))
        assert document.over_limit == (limit is not None and size > limit)
        assert document.holds_lines == (not document.over_limit)
        # What a push reads instead of splitting the analysed text (issue 17).
        now = document.lines_now()
        if document.holds_lines:
            assert now is not None
            assert list(now) == split_lines(reference) and len(now) == len(split_lines(reference))
            assert [now[i] for i in range(len(now))] == split_lines(reference)
        else:
            assert now is None


def test_a_batch_of_changes_applies_in_order() -> None:
    store = DocumentStore()
    store.open(URI, "python", 1, "one\ntwo\n")
    p = types.Position
    document, refused = store.change(
        URI,
        2,
        [
            change(p(line=0, character=0), p(line=0, character=3), "1"),
            change(p(line=1, character=3), p(line=1, character=3), "!"),
        ],
        UTF16,
    )
    assert refused == [] and document.text == "1\ntwo!\n"


@pytest.mark.parametrize("limit", [None, 1])
def test_bad_changes_are_refused_and_leave_the_document_out_of_sync(limit: int | None) -> None:
    p = types.Position
    cases = [
        (change(p(line=0, character=3), p(line=0, character=1), "x"), "ends before it starts"),
        (change(p(line=5, character=0), p(line=5, character=0), "x"), "past the last line"),
        (change(p(line=0, character=2), p(line=0, character=2), "x"), "inside a character"),
    ]
    for bad, reason in cases:
        store = DocumentStore(lambda: limit)
        store.open(URI, "python", 1, "a😀b\n")
        document, refused = store.change(URI, 2, [bad], UTF16)
        assert len(refused) == 1 and reason in refused[0]
        assert document.text == "a😀b\n"
        assert document.out_of_sync is not None
        # Later incremental edits are not applied to text we no longer trust...
        good = change(p(line=0, character=0), p(line=0, character=0), "z")
        document, refused = store.change(URI, 3, [good], UTF16)
        assert document.text == "a😀b\n" and document.out_of_sync is not None
        # ...and a full-text change brings the document back.
        full = types.TextDocumentContentChangeWholeDocument(text="fresh\n")
        document, refused = store.change(URI, 4, [full], UTF16)
        assert refused == [] and document.out_of_sync is None and document.text == "fresh\n"


def test_a_version_that_does_not_increase_is_refused() -> None:
    store = DocumentStore()
    store.open(URI, "python", 5, "abc")
    p = types.Position
    document, refused = store.change(
        URI, 5, [change(p(line=0, character=0), p(line=0, character=0), "x")], UTF16
    )
    assert refused and "versions must increase" in refused[0]
    assert document.text == "abc" and document.out_of_sync is not None


@pytest.mark.parametrize("limit", [None, 1])
def test_a_character_past_the_line_end_means_the_line_end(limit: int | None) -> None:
    # LSP: "If the character value is greater than the line length it defaults back to the
    # line length" - a client may rely on it, so it is not an error.
    store = DocumentStore(lambda: limit)
    store.open(URI, "python", 1, "ab\r\ncd")
    p = types.Position
    document, refused = store.change(
        URI, 2, [change(p(line=0, character=99), p(line=0, character=99), "!")], UTF16
    )
    assert refused == [] and document.text == "ab!\r\ncd"
