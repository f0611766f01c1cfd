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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lsprotocol import types

from handrail.lsp.convert import code_units, index_of_units, split_lines_keepends


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
    _lines: list[str]
    _text: str | None = None
    out_of_sync: str | None = None
    """Why the text no longer matches the editor's; None while in sync."""
    changes: list[AppliedChange] = field(default_factory=list)
    """The incremental changes of the latest didChange, in order (for HR308)."""

    @classmethod
    def create(cls, uri: str, language_id: str, version: int | None, text: str) -> Document:
        return cls(uri, language_id, version, split_lines_keepends(text), text)

    @property
    def text(self) -> str:
        """The whole text; the same object until the next change, so callers can tell
        versions apart by identity."""
        if self._text is None:
            self._text = "".join(self._lines)
        return self._text

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def replace_all(self, text: str, version: int | None) -> None:
        self._lines = split_lines_keepends(text)
        self._text = text
        self.version = version
        self.out_of_sync = None

    def _offset(self, position: types.Position, encoding: str, what: str) -> tuple[int, int]:
        """(line index, code-point index in that line) of a position, or ChangeRejected."""
        if position.line < 0 or position.character < 0:
            raise ChangeRejected(f"the {what} position {_show(position)} is negative")
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
            self._lines = split_lines_keepends(change.text)
            self._text = change.text
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
        lines[first : last + 1] = replacement
        self._text = None
        self.changes.append(
            AppliedChange(
                start_line=start_line,
                removed_lines=end_line - start_line,
                inserted_lines=len(split_lines_keepends(change.text)) - 1,
                ends_with_break=change.text.endswith(("\n", "\r")),
            )
        )


def _show(position: types.Position) -> str:
    return f"{position.line}:{position.character}"


class DocumentStore:
    """The open documents by URI."""

    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}

    def __contains__(self, uri: object) -> bool:
        return uri in self._documents

    def uris(self) -> list[str]:
        """The open URIs (a copy: handlers may open and close documents meanwhile)."""
        return list(self._documents)

    def get(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def open(self, uri: str, language_id: str, version: int | None, text: str) -> Document:
        document = Document.create(uri, language_id, version, text)
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
        return document, refused
