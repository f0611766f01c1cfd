"""Positions and findings between the engine and LSP.

The engine counts 1-based lines and 1-based columns in code points; LSP counts 0-based lines
and 0-based characters in the negotiated position encoding (UTF-16 unless the client offered
UTF-8 or UTF-32). pygls' own codec clamps an over-long character to one before the line end
and mutates its argument, so the conversion is done here, property-tested.

`lines` everywhere is the document split at ``\\r\\n``, ``\\r`` and ``\\n`` (the LSP line
breaks, which are also the engine's), without the line endings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any, overload

from lsprotocol import types

from handrail.codes import doc_url
from handrail.findings import Finding, Severity

UTF8 = types.PositionEncodingKind.Utf8.value
UTF16 = types.PositionEncodingKind.Utf16.value
UTF32 = types.PositionEncodingKind.Utf32.value

LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""The LSP line breaks."""
# Characters str.splitlines() treats as line breaks but LSP does not.
_OTHER_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def split_lines(text: str) -> list[str]:
    """`text` split at the LSP line breaks, without them; "a\\n" is ["a", ""]."""
    if "\r" not in text:
        return text.split("\n")
    return LINE_BREAK.split(text)


class LinesWithoutBreaks(Sequence[str]):
    """Lines that keep their line breaks (as `split_lines_keepends` gives them), read without
    them, one at a time: `split_lines` of their text, without splitting the whole text again
    (issue 17: 0.45 ms on a 10,000-line document, for every edit) when only a few are read."""

    __slots__ = ("_lines",)

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        # A line holds no line-break character but its own break, at its end.
        if isinstance(index, slice):
            return [line.rstrip("\r\n") for line in self._lines[index]]
        return self._lines[index].rstrip("\r\n")

    def __iter__(self) -> Iterator[str]:
        return (line.rstrip("\r\n") for line in self._lines)


def split_lines_keepends(text: str) -> list[str]:
    """`text` split at the LSP line breaks, each line keeping its break; the last element
    never has one (it is "" when `text` ends with a break), so the list has one element per
    LSP line."""
    if _OTHER_BREAKS.search(text) is None:
        lines = text.splitlines(keepends=True)
    else:
        lines = []
        start = 0
        for match in LINE_BREAK.finditer(text):
            lines.append(text[start : match.end()])
            start = match.end()
        lines.append(text[start:])
        return lines
    if not lines or lines[-1].endswith(("\n", "\r")):
        lines.append("")
    return lines


def code_units(text: str, encoding: str) -> int:
    """The length of `text` in the code units of `encoding`."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _units_of(char: str, encoding: str) -> int:
    point = ord(char)
    if encoding == UTF8:
        return 1 if point < 0x80 else 2 if point < 0x800 else 3 if point < 0x10000 else 4
    if encoding == UTF16:
        return 2 if point > 0xFFFF else 1
    return 1


def index_of_units(line: str, units: int, encoding: str) -> tuple[int, bool]:
    """The code-point index in `line` (no line ending) at `units` code units.

    Returns (index, exact). Past the end the index is the line length (LSP: "defaults back to
    the line length") and exact is False; a count that falls inside one character gives the
    index of that character and exact False.
    """
    if units <= 0:
        return 0, units == 0
    if encoding == UTF32 or line.isascii():
        return (units, True) if units <= len(line) else (len(line), False)
    seen = 0
    for index, char in enumerate(line):
        if seen == units:
            return index, True
        seen += _units_of(char, encoding)
        if seen > units:
            return index, False
    return len(line), seen == units


def to_lsp_position(lines: Sequence[str], line: int, column: int, encoding: str) -> types.Position:
    """Engine 1-based (line, code-point column) to an LSP position, clamped to the text."""
    if not lines:
        return types.Position(line=0, character=0)
    index = min(max(line, 1), len(lines)) - 1
    text = lines[index]
    if line > len(lines):
        column = len(text) + 1
    points = min(max(column, 1) - 1, len(text))
    return types.Position(line=index, character=code_units(text[:points], encoding))


def to_lsp_range(
    lines: Sequence[str],
    line: int,
    column: int,
    end_line: int | None,
    end_column: int | None,
    encoding: str,
) -> types.Range:
    """Engine positions (1-based, code points, end exclusive) to an LSP range.

    A finding that knows no end is widened to the end of its start line, so that every
    editor shows it (a zero-width range is invisible in some); an end line without an end
    column runs to the end of that line. The end never precedes the start.
    """
    start = to_lsp_position(lines, line, column, encoding)
    if end_line is None:
        end_line = line
        end_column = None
    if end_column is None:
        end_column = len(lines[min(max(end_line, 1), len(lines)) - 1]) + 1 if lines else 1
    end = to_lsp_position(lines, end_line, end_column, encoding)
    if (end.line, end.character) < (start.line, start.character):
        end = start
    return types.Range(start=start, end=end)


def from_lsp_position(lines: list[str], position: types.Position, encoding: str) -> tuple[int, int]:
    """An LSP position to engine 1-based (line, code-point column); clamped, never raises.

    A line past the end is the end of the last line; a character inside a character (half a
    surrogate pair, a byte inside a UTF-8 sequence) is the start of that character.
    """
    if not lines:
        return 1, 1
    if position.line < 0:
        return 1, 1
    if position.line >= len(lines):
        return len(lines), len(lines[-1]) + 1
    index, _ = index_of_units(lines[position.line], position.character, encoding)
    return position.line + 1, index + 1


# The engine's messages name CLI commands (the gate prints them in a terminal); in the editor
# they name the lens or command that does the same (issue 19.6). Only whole, known phrases.
_EDITOR_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\(`handrail verify`\)"), "(the Verify lens on its begin marker)"),
    (re.compile(r"record it with `handrail trace [a-z0-9.]+`"), "record it with the Trace lens"),
    (
        re.compile(r"record it with `handrail explain [a-z0-9.]+`"),
        "record it with the Explain lens",
    ),
    (
        re.compile(r"run `handrail review [a-z0-9.]+ --approve`"),
        'run "Handrail: Review Block (as a second reviewer)"',
    ),
    (re.compile(r"`handrail task new`"), '"Handrail: New AI Task"'),
)


def editor_message(message: str) -> str:
    """`message` with the CLI commands it names replaced by the editor's lens or command."""
    if "`handrail " not in message:
        return message
    for pattern, words in _EDITOR_WORDS:
        message = pattern.sub(words, message)
    return message


@lru_cache(maxsize=256)
def _doc_url(code: str, base_url: str | None) -> str:
    # A file with 500 blocks asks 500 times. Always a web page (issue 12.7): VS Code opens
    # codeDescription.href in a browser, and a file: path would be this machine's only.
    return doc_url(code, base_url)


def _spans_its_block(finding: Finding, lines: Sequence[str]) -> bool:
    """Whether `finding` covers its block from the begin marker on over several lines (the
    evidence findings: HR300-HR304, the probe's); a finding on some lines inside a block keeps
    its own range."""
    block_id = finding.data.get("block_id")
    if not isinstance(block_id, str) or finding.end_line is None:
        return False
    if finding.end_line <= finding.line or not 1 <= finding.line <= len(lines):
        return False
    marker = lines[finding.line - 1]
    return "handrail:begin" in marker and block_id in marker


def finding_to_diagnostic(
    finding: Finding, lines: Sequence[str], encoding: str, docs_base_url: str | None
) -> types.Diagnostic:
    """One engine finding as an LSP diagnostic.

    ``data`` is the finding's own data plus its ``code`` and ``path``, so a quick fix can be
    built from the diagnostic the client sends back without analysing the document again.
    A finding that spans its whole block is shown on the begin-marker line only, with the
    block's range in ``data["block_range"]`` (an LSP range).
    """
    data: dict[str, Any] = dict(finding.data)
    data["code"] = finding.code
    data["path"] = finding.path
    full = to_lsp_range(
        lines, finding.line, finding.column, finding.end_line, finding.end_column, encoding
    )
    shown = full
    if _spans_its_block(finding, lines):
        # A block's evidence finding is about the whole block, but a squiggle over every line
        # of it buries the real errors inside (issue 19.2): it sits on the begin marker, the
        # span stays in `data` for quick fixes and for a client that draws the block's extent.
        shown = to_lsp_range(lines, finding.line, 1, None, None, encoding)
        data["block_range"] = {
            "start": {"line": full.start.line, "character": full.start.character},
            "end": {"line": full.end.line, "character": full.end.character},
        }
    return types.Diagnostic(
        range=shown,
        message=editor_message(finding.message),
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        code_description=types.CodeDescription(href=_doc_url(finding.code, docs_base_url)),
        source="handrail",
        data=data,
    )


def conversion_key(
    finding: Finding, lines: Sequence[str], encoding: str, docs_base_url: str | None
) -> tuple[object, ...] | None:
    """Everything `finding_to_diagnostic` reads, as one hashable value: equal keys give equal
    diagnostics, whatever else the document holds. None when the finding's data is not JSON
    (it is then converted every time).

    Besides the finding's own value (its data as JSON text: `Finding` compares without it),
    the conversion reads only the lines its range starts and ends on (UTF-16/UTF-8 offsets,
    a range widened to the end of its line, the begin marker of a block's finding) and, for a
    position past the last line, how many lines there are.
    """
    try:
        data = json.dumps(finding.data)
    except (TypeError, ValueError):
        return None
    count = len(lines)
    line = finding.line
    end_line = line if finding.end_line is None else finding.end_line
    start_text = lines[min(max(line, 1), count) - 1] if count else None
    end_text = start_text if end_line == line else _line_at(lines, end_line)
    return (
        finding.code,
        finding.severity,
        finding.message,
        finding.path,
        line,
        finding.column,
        finding.end_line,
        finding.end_column,
        data,
        encoding,
        docs_base_url,
        start_text,
        end_text,
        count if max(line, end_line) > count else -1,
    )


def _line_at(lines: Sequence[str], line: int) -> str | None:
    """The text of 1-based `line` as `to_lsp_position` clamps it (None: no lines)."""
    return lines[min(max(line, 1), len(lines)) - 1] if lines else None
