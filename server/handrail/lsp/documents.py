"""The text of open documents, kept in step with the editor by validated incremental edits.

pygls applies incremental changes without checking them: it silently drops the text of a
reversed range, appends text for a line past the end, and never looks at versions. A server
that applies a bad change carries on with text the editor does not have, and every
diagnostic after that is wrong. Here every change is checked first; one that cannot be
applied exactly leaves the document *out of sync* instead:

- the change is refused with a logged error and nothing of it is applied;
- the document keeps no diagnostics (stale positions would point at the wrong code) and
  later incremental changes are not applied (they are relative to text we do not have);
- it is back in sync at the next full-text change, at save (the server asks clients to send
  the text with ``didSave``; a client that does not is reread from disk, which holds exactly
  the buffer at the moment of saving), or when it is closed and opened again.

A character past the end of its line is not an error: LSP says it "defaults back to the line
length". A line past the end of the document, a reversed range, a position inside a character
(half a UTF-16 surrogate pair, a byte inside a UTF-8 sequence) and a version that does not
increase are.

The text is held as a list of lines that keep their line breaks, so an edit touches only the
lines it covers; the whole text is joined once per version, when something asks for it.

A document over the size limit (``max_document_bytes``) is not analysed, so nothing needs its
lines: it is held as its text alone, once (a list of a million short lines costs several times
the text). Its edits are still applied, exactly and validated, to that one string, so the
document is in step when it shrinks under the limit again; the old text is let go before the
new one is built, so an edit costs at most the text once more for a moment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lsprotocol import types

from handrail.lsp.convert import (
    LINE_BREAK,
    LinesWithoutBreaks,
    code_units,
    index_of_units,
    split_lines_keepends,
)

_BLOCK = 1 << 20
"""Code points counted at a time when looking for a line in a text held without its lines."""


class ChangeRejected(ValueError):
    """A content change that cannot be applied exactly; the message says why."""


@dataclass(frozen=True, slots=True)
class AppliedChange:
    """Where one incremental change landed: 0-based LSP lines of the text after it."""

    start_line: int
    removed_lines: int
    """How many line breaks the replaced range spanned."""
    inserted_lines: int
    """How many line breaks the new text holds."""
    ends_with_break: bool = False
    """The new text ends with a line break: the line after it is not part of the insertion."""

    @property
    def last_inserted_line(self) -> int:
        """The 0-based last line holding inserted text (HR308 covers exactly these lines)."""
        return self.start_line + self.inserted_lines - (1 if self.ends_with_break else 0)


@dataclass(slots=True)
class Document:
    """One open document: its lines (each keeping its line break, the last one without), the
    whole text joined on demand, and whether it is still in step with the editor."""

    uri: str
    language_id: str
    version: int | None
    _lines: list[str] | None
    """None while the document is over `limit`: then `_text` alone holds it."""
    _text: str | None = None
    out_of_sync: str | None = None
    """Why the text no longer matches the editor's; None while in sync."""
    changes: list[AppliedChange] = field(default_factory=list)
    """The incremental changes of the latest didChange, in order (for HR308)."""
    limit: int | None = None
    """The size limit in UTF-8 bytes (`max_document_bytes`); None: no limit."""
    _length: int = 0
    """The text's length in code points, kept up to date by every edit."""
    _size: int | None = None
    """The text's length in UTF-8 bytes, once asked for (until the next change)."""

    @classmethod
    def create(
        cls, uri: str, language_id: str, version: int | None, text: str, limit: int | None = None
    ) -> Document:
        document = cls(uri, language_id, version, None, text, limit=limit, _length=len(text))
        document.fit()
        return document

    @property
    def text(self) -> str:
        """The whole text; the same object until the next change, so callers can tell
        versions apart by identity."""
        if self._text is None:
            assert self._lines is not None  # one of the two always holds the text
            self._text = "".join(self._lines)
        return self._text

    def lines_now(self) -> LinesWithoutBreaks | None:
        """The lines of the text as it is now, without their breaks (`split_lines` of
        `text`), from the lines kept: None for a document held as its text alone."""
        if self._lines is None:
            return None
        return LinesWithoutBreaks(list(self._lines))  # a copy: the next edit changes ours

    @property
    def line_count(self) -> int:
        if self._lines is None:
            return _breaks(self.text, 0, self._length) + 1
        return len(self._lines)

    @property
    def size(self) -> int:
        """The text's length in UTF-8 bytes."""
        if self._size is None:
            self._size = utf8_size(self.text)
        return self._size

    @property
    def over_limit(self) -> bool:
        """Over `limit`: not analysed, held as its text alone."""
        if self.limit is None or self._length * 4 <= self.limit:
            return False  # a code point is at most 4 bytes: no need to count
        return self._length > self.limit or self.size > self.limit

    @property
    def holds_lines(self) -> bool:
        """Whether the lines are kept besides the text (never for a document over the limit)."""
        return self._lines is not None

    def fit(self) -> None:
        """Keep the lines only for a document under the limit (after a change of text or limit)."""
        if self.over_limit:
            if self._lines is not None:
                self._text = self.text
                self._lines = None
        elif self._lines is None:
            self._lines = split_lines_keepends(self.text)

    def replace_all(self, text: str, version: int | None) -> None:
        self._lines, self._text, self._length, self._size = None, text, len(text), None
        self.version = version
        self.out_of_sync = None
        self.fit()

    def _offset(self, position: types.Position, encoding: str, what: str) -> tuple[int, int]:
        """(line index, code-point index in that line) of a position, or ChangeRejected."""
        if position.line < 0 or position.character < 0:
            raise ChangeRejected(f"the {what} position {_show(position)} is negative")
        assert self._lines is not None
        if position.line >= len(self._lines):
            raise ChangeRejected(
                f"the {what} position {_show(position)} is past the last line "
                f"(the document has {len(self._lines)} lines)"
            )
        line = self._lines[position.line]
        content = line.rstrip("\r\n") if line.endswith(("\n", "\r")) else line
        index, exact = index_of_units(content, position.character, encoding)
        if not exact and code_units(content, encoding) > position.character:
            raise ChangeRejected(
                f"the {what} position {_show(position)} falls inside a character "
                f"(in {encoding} code units)"
            )
        return position.line, index

    def apply(self, change: types.TextDocumentContentChangeEvent, encoding: str) -> None:
        """Apply one change, or raise ChangeRejected and leave the text as it was."""
        if isinstance(change, types.TextDocumentContentChangeWholeDocument):
            self._lines, self._text = None, change.text
            self._length, self._size = len(change.text), None
            self.fit()
            return
        self._size = None
        if self._lines is None:
            self._apply_to_text(change, encoding)
            return
        start_line, start = self._offset(change.range.start, encoding, "start")
        end_line, end = self._offset(change.range.end, encoding, "end")
        if (end_line, end) < (start_line, start):
            raise ChangeRejected(
                f"the range {_show(change.range.start)}-{_show(change.range.end)} ends "
                "before it starts"
            )
        lines = self._lines
        first, last = start_line, end_line
        segment = lines[start_line][:start] + change.text + lines[end_line][end:]
        # A CR at the end of one piece and an LF at the start of the next become one CRLF
        # line break: take the neighbour into the segment so the lines are split again.
        if segment.startswith("\n") and first > 0 and lines[first - 1].endswith("\r"):
            first -= 1
            segment = lines[first] + segment
        if segment.endswith("\r") and last + 1 < len(lines) and lines[last + 1].startswith("\n"):
            last += 1
            segment += lines[last]
        replacement = split_lines_keepends(segment)
        if last + 1 < len(lines) and replacement[-1] == "":
            # The segment is not the end of the document: it ends with a line break, so the
            # trailing "" of the split is not a line of its own.
            replacement.pop()
        self._length += sum(map(len, replacement)) - sum(map(len, lines[first : last + 1]))
        lines[first : last + 1] = replacement
        self._text = None
        self._applied(start_line, end_line, change.text)

    def _applied(self, start_line: int, end_line: int, text: str) -> None:
        self.changes.append(
            AppliedChange(
                start_line=start_line,
                removed_lines=end_line - start_line,
                inserted_lines=len(split_lines_keepends(text)) - 1,
                ends_with_break=text.endswith(("\n", "\r")),
            )
        )

    def _text_offset(self, position: types.Position, encoding: str, what: str) -> int:
        """The code-point offset of a position in a document held as its text alone."""
        text = self.text
        if position.line < 0 or position.character < 0:
            raise ChangeRejected(f"the {what} position {_show(position)} is negative")
        start = _line_start(text, position.line)
        if start is None:
            raise ChangeRejected(
                f"the {what} position {_show(position)} is past the last line "
                f"(the document has {self.line_count} lines)"
            )
        found = LINE_BREAK.search(text, start)
        content = text[start : found.start() if found is not None else len(text)]
        index, exact = index_of_units(content, position.character, encoding)
        if not exact and code_units(content, encoding) > position.character:
            raise ChangeRejected(
                f"the {what} position {_show(position)} falls inside a character "
                f"(in {encoding} code units)"
            )
        return start + index

    def _apply_to_text(self, change: types.TextDocumentContentChangePartial, encoding: str) -> None:
        start = self._text_offset(change.range.start, encoding, "start")
        end = self._text_offset(change.range.end, encoding, "end")
        if end < start:
            raise ChangeRejected(
                f"the range {_show(change.range.start)}-{_show(change.range.end)} ends "
                "before it starts"
            )
        head, tail = self.text[:start], self.text[end:]
        # Let the old text go before the new one is built: never three copies at once.
        self._text = None
        self._text = "".join((head, change.text, tail))
        del head, tail
        self._length = len(self._text)
        self._applied(change.range.start.line, change.range.end.line, change.text)


def utf8_size(text: str) -> int:
    """The length of `text` in UTF-8 bytes (lone surrogates as 3), without encoding it whole:
    the text of a document over the limit may be tens of megabytes."""
    if text.isascii():
        return len(text)
    return sum(
        len(text[at : at + _BLOCK].encode("utf-8", "surrogatepass"))
        for at in range(0, len(text), _BLOCK)
    )


def _breaks(text: str, start: int, end: int) -> int:
    """How many LSP line breaks (CRLF, CR, LF) `text[start:end]` holds."""
    crs = text.count("\r", start, end)
    lfs = text.count("\n", start, end)
    return lfs + crs - (text.count("\r\n", start, end) if crs and lfs else 0)


def _line_start(text: str, line: int) -> int | None:
    """The offset where 0-based LSP `line` of `text` starts; None past the last line.

    Counts breaks a block at a time (in C), then walks only the block that holds the line.
    """
    if line == 0:
        return 0
    seen, start, size = 0, 0, len(text)
    while start < size:
        end = min(start + _BLOCK, size)
        if text[end - 1] == "\r" and end < size and text[end] == "\n":
            end += 1  # never split a CRLF between two blocks
        found = _breaks(text, start, end)
        if seen + found >= line:
            for match in LINE_BREAK.finditer(text, start, end):
                seen += 1
                if seen == line:
                    return match.end()
        seen += found
        start = end
    return None


def _show(position: types.Position) -> str:
    return f"{position.line}:{position.character}"


class DocumentStore:
    """The open documents by URI."""

    def __init__(self, limit: Callable[[], int | None] = lambda: None) -> None:
        self._documents: dict[str, Document] = {}
        self._limit = limit
        """The size limit now (a setting that can change while documents are open)."""

    def __contains__(self, uri: object) -> bool:
        return uri in self._documents

    def uris(self) -> list[str]:
        """The open URIs (a copy: handlers may open and close documents meanwhile)."""
        return list(self._documents)

    def refit(self) -> None:
        """Hold every document as the limit now says (after the setting changed)."""
        limit = self._limit()
        for document in self._documents.values():
            document.limit = limit
            document.fit()

    def get(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def open(self, uri: str, language_id: str, version: int | None, text: str) -> Document:
        document = Document.create(uri, language_id, version, text, self._limit())
        self._documents[uri] = document
        return document

    def close(self, uri: str) -> Document | None:
        return self._documents.pop(uri, None)

    def change(
        self,
        uri: str,
        version: int | None,
        changes: Sequence[types.TextDocumentContentChangeEvent],
        encoding: str,
    ) -> tuple[Document, list[str]]:
        """Apply one didChange: the document, and why each refused change was refused.

        Raises KeyError for a document that is not open. A refused change leaves the
        document out of sync; a full-text change later in the same batch brings it back.
        """
        document = self._documents[uri]
        document.changes = []
        document.limit = self._limit()
        refused: list[str] = []
        previous = document.version
        document.version = version
        if version is not None and previous is not None and version <= previous:
            document.out_of_sync = (
                f"version {version} arrived after version {previous} (versions must increase)"
            )
            refused.append(document.out_of_sync)
        for change in changes:
            if isinstance(change, types.TextDocumentContentChangeWholeDocument):
                document.apply(change, encoding)
                document.out_of_sync = None
                document.changes = []
                continue
            if document.out_of_sync is not None:
                continue
            try:
                document.apply(change, encoding)
            except ChangeRejected as exc:
                document.out_of_sync = str(exc)
                document.changes = []
                refused.append(str(exc))
        document.fit()
        return document, refused
