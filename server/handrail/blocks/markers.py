"""Finding generated blocks: `handrail:begin <id>` / `handrail:end <id>` marker comments.

A marker counts only where it is the whole of a comment on its own line: leading
whitespace, the comment token, optional spaces, ``handrail:begin <id>`` or
``handrail:end <id>``, the block comment's close token where the style has one, trailing
whitespace. Text that merely mentions a marker (in a string literal, after code, in the
middle of a comment) is not one. A line in marker position with a bad id is a problem.

Lines are split the way editors split them (LSP): at ``\\r\\n``, ``\\n`` and a lone ``\\r``.
Only lines holding ``handrail:`` are examined, so a large file costs about one scan.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from handrail.blocks.comments import CommentStyle, comment_styles_for

NEEDLE = "handrail:"
BOM = "\ufeff"

_BLOCK_ID_RE = re.compile(r"([a-z0-9]{6})\.([1-9][0-9]{0,8})\Z")
"""`<task-id>.<n>`: n from 1 to 999999999 without leading zeros, so every id has one spelling.

New task ids use a-z and 2-7 (base32); any 6 lowercase letters or digits are accepted here,
so a hand-typed id such as ``k3f9qa`` is reported as an unknown task (HR306), which names
the real mistake, rather than as a broken marker.
"""

_SPACE = " \t\f\v"
_WORDS = re.compile(r"[ \t\f\v]+")


def parse_block_id(text: str) -> tuple[str, int] | None:
    """(task id, n) for a well-formed block id, else None."""
    match = _BLOCK_ID_RE.match(text)
    if match is None:
        return None
    return match.group(1), int(match.group(2))


def is_block_id(text: str) -> bool:
    return _BLOCK_ID_RE.match(text) is not None


class ProblemKind(StrEnum):
    UNCLOSED = "begin-without-end"
    UNOPENED = "end-without-begin"
    NESTED = "nested"
    MISMATCHED = "mismatched-end"
    DUPLICATE = "duplicate-id"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class MarkerProblem:
    """A marker line that does not form a well-formed block (reported as HR305).

    ``line``/``column``/``end_column`` span the marker text on its line (1-based, code
    points, end exclusive). ``block_id`` is the id as written (possibly empty or malformed).
    """

    kind: ProblemKind
    line: int
    column: int
    end_column: int
    verb: str
    block_id: str
    other_id: str | None = None
    """The block this one collides with: the open block (mismatched end, nested begin)."""
    other_line: int | None = None
    """The begin line of `other_id`, or of the first use of the id (duplicate)."""
    partner_line: int | None = None
    """The end marker that closes this begin (nested, duplicate)."""
    insert_after_line: int | None = None
    """Where the missing end marker most likely belongs (unclosed begin)."""
    suggested_text: str | None = None
    """A whole marker line (indent included, no line ending) that fixes the problem."""
    detail: str = ""
    """What is wrong with a malformed marker, as a plain phrase."""


@dataclass(frozen=True, slots=True)
class Block:
    """One well-formed generated block. Lines are 1-based: the two marker lines."""

    id: str
    task_id: str
    n: int
    begin_line: int
    end_line: int
    content_hash: str
    content_line_count: int
    indent: str
    begin_columns: tuple[int, int] = (1, 1)
    """Start and exclusive end column of the begin marker text."""
    end_columns: tuple[int, int] = (1, 1)

    @property
    def first_content_line(self) -> int:
        return self.begin_line + 1

    @property
    def last_content_line(self) -> int:
        """The last line between the markers (``begin_line`` when the block is empty)."""
        return self.end_line - 1

    def covers(self, line: int) -> bool:
        """True when `line` is one of the block's lines, its markers included."""
        return self.begin_line <= line <= self.end_line


@dataclass(frozen=True, slots=True)
class ParseResult:
    blocks: list[Block] = field(default_factory=list)
    """Well-formed blocks whose id is used once in the file: the ones evidence is judged for."""
    problems: list[MarkerProblem] = field(default_factory=list)
    duplicated: list[Block] = field(default_factory=list)
    """Well-paired blocks whose id another begin marker of the file uses too. Each has a
    DUPLICATE problem; none is a block (it has no evidence) until it is renumbered, but its
    lines are still enclosed by markers (nothing may be marked inside them)."""

    @property
    def enclosed(self) -> list[Block]:
        """Every pair of markers that encloses lines: `blocks` and `duplicated`, in order."""
        if not self.duplicated:
            return self.blocks
        return sorted([*self.blocks, *self.duplicated], key=lambda b: b.begin_line)

    def block_at(self, line: int) -> Block | None:
        """The block whose lines (markers included) hold `line`."""
        for block in self.blocks:
            if block.covers(line):
                return block
        return None

    def block(self, block_id: str) -> Block | None:
        for block in self.blocks:
            if block.id == block_id:
                return block
        return None


def hash_content(content: str) -> str:
    """The content hash of block text: sha256 of the LF-normalised text, as ``sha256:<hex>``.

    `content` is the lines between the markers, each followed by a line ending (an empty
    block is ""). Text decoded with ``surrogateescape`` hashes as the original bytes.
    """
    if "\r" in content:
        content = content.replace("\r\n", "\n").replace("\r", "\n")
    return "sha256:" + hashlib.sha256(_encode(content)).hexdigest()


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # A surrogate that no byte decoding produced (only reachable from a str built in
        # memory): keep it distinguishable instead of failing.
        return text.encode("utf-8", "surrogatepass")


def normalise_newlines(text: str) -> str:
    """`text` without a leading BOM and with every line ending made LF."""
    if text.startswith(BOM):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def block_content(text: str, block: Block) -> str:
    """The text between the markers of `block` in `text`, LF line endings, each line ended."""
    lines = normalise_newlines(text).split("\n")
    inner = lines[block.begin_line : block.end_line - 1]
    return "".join(line + "\n" for line in inner)


# -- decoding -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceEncoding:
    """How a file's bytes became text, so that writing it back changes nothing else."""

    codec: str
    bom: bytes = b""

    def encode(self, text: str) -> bytes:
        if self.codec == "utf-8":
            return self.bom + text.encode("utf-8", "surrogateescape")
        return self.bom + text.encode(self.codec)


_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_source(data: bytes) -> tuple[str, SourceEncoding]:
    """Decode file bytes: UTF-16/32 by their BOM, else UTF-8 with ``surrogateescape``.

    Bytes that are not UTF-8 (latin-1, cp1252) survive as lone surrogates and encode back
    to the same bytes; markers are ASCII, so they are found in any ASCII-compatible file.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "surrogateescape"), SourceEncoding("utf-8", data[:3])
    for bom, codec in _UNICODE_BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), SourceEncoding(codec, bom)
            except UnicodeDecodeError:
                break
    return data.decode("utf-8", "surrogateescape"), SourceEncoding("utf-8")


# -- parsing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Syntax:
    head: re.Pattern[str]
    closes: dict[str, str]


@lru_cache(maxsize=128)
def _syntax(styles: tuple[CommentStyle, ...]) -> _Syntax | None:
    if not styles:
        return None
    alternatives: dict[str, str] = {}
    closes: dict[str, str] = {}
    for style in styles:
        if style.line is not None:
            # A line token may be doubled (`;;`, `##`): still a comment on its own line.
            alternatives[style.line] = f"(?:{re.escape(style.line)})+"
        if style.block_open is not None and style.block_close is not None:
            alternatives[style.block_open] = re.escape(style.block_open)
            closes[style.block_open] = style.block_close
    ordered = sorted(alternatives.items(), key=lambda item: -len(item[0]))
    tokens = "|".join(pattern for _, pattern in ordered)
    head = re.compile(
        rf"(?P<indent>[{_SPACE}]*)(?P<open>{tokens})[ \t]*handrail:(?P<verb>begin|end)(?P<rest>.*)",
        re.DOTALL,
    )
    return _Syntax(head, closes)


@dataclass(slots=True)
class _Marker:
    verb: str
    block_id: str
    line: int
    column: int
    end_column: int
    indent: str
    open: str
    close: str | None
    start: int
    """Offset of the line's first character in the text parsed."""
    stop: int
    """Offset just past the line's last character (its LF, or the end of the text)."""

    def text_for(self, verb: str, block_id: str) -> str:
        tail = f" {self.close}" if self.close else ""
        return f"{self.indent}{self.open} handrail:{verb} {block_id}{tail}"


def parse_blocks(text: str, path: str) -> ParseResult:
    """The blocks and marker problems of `text`, a file at workspace-relative `path`.

    `path` chooses the comment syntax (see `comment_styles_for`). Never raises on any text.
    """
    if NEEDLE not in text:
        return ParseResult()
    syntax = _syntax(tuple(comment_styles_for(path)))
    if syntax is None:
        return ParseResult()
    if text.startswith(BOM):
        text = text[1:]
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        # Lone CRs end lines too: normalise. CRLF alone (the common case) is parsed in place,
        # which spares copying a large file: lines are found by their LF either way.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    markers, problems = _scan(text, syntax)
    blocks, duplicated = _pair(text, markers, problems)
    problems.sort(key=lambda p: (p.line, p.kind))
    return ParseResult(blocks, problems, duplicated)


def parse_blocks_bytes(data: bytes, path: str) -> ParseResult:
    """`parse_blocks` for file bytes in any encoding (see `decode_source`)."""
    if NEEDLE.encode("ascii") not in data and not data.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
    ):
        return ParseResult()
    text, _ = decode_source(data)
    return parse_blocks(text, path)


def _scan(text: str, syntax: _Syntax) -> tuple[list[_Marker], list[MarkerProblem]]:
    markers: list[_Marker] = []
    problems: list[MarkerProblem] = []
    line_no = 1
    counted_to = 0
    pos = text.find(NEEDLE)
    while pos >= 0:
        start = text.rfind("\n", 0, pos) + 1
        stop = text.find("\n", pos)
        if stop < 0:
            stop = len(text)
        line_no += text.count("\n", counted_to, start)
        counted_to = start
        line = text[start:stop]
        if line.endswith("\r"):
            line = line[:-1]
        match = syntax.head.match(line)
        if match is not None:
            found = _classify(match, syntax, line, line_no, start, stop)
            if isinstance(found, _Marker):
                markers.append(found)
            elif found is not None:
                problems.append(found)
        pos = text.find(NEEDLE, stop)
    return markers, problems


def _classify(
    match: re.Match[str], syntax: _Syntax, line: str, line_no: int, start: int, stop: int
) -> _Marker | MarkerProblem | None:
    indent, opener, verb, rest = match.group("indent", "open", "verb", "rest")
    close = syntax.closes.get(opener)
    if rest and rest[0] not in _SPACE and not (close and rest.startswith(close)):
        # `handrail:beginning`, `handrail:end-to-end`: words, not markers.
        return None
    column = len(indent) + 1
    end_column = len(line.rstrip(_SPACE)) + 1
    body = rest.rstrip(_SPACE)
    detail = ""
    if close is not None:
        if body.endswith(close):
            body = body[: -len(close)]
        else:
            detail = f"the comment is not closed with {close} on the marker line"
    written = body.strip(_SPACE)
    if not detail and not is_block_id(written):
        words = _WORDS.split(written) if written else []
        if not words:
            detail = "the block id is missing"
        elif len(words) > 1 and is_block_id(words[0]):
            detail = f"there is text after the block id {words[0]}"
        else:
            detail = f"{words[0]!r} is not a block id"
        written = words[0] if words else ""
    if detail:
        return MarkerProblem(
            ProblemKind.MALFORMED, line_no, column, end_column, verb, written, detail=detail
        )
    return _Marker(verb, written, line_no, column, end_column, indent, opener, close, start, stop)


def _pair(
    text: str, markers: list[_Marker], problems: list[MarkerProblem]
) -> tuple[list[Block], list[Block]]:
    stack: list[_Marker] = []
    paired: list[tuple[_Marker, _Marker]] = []
    next_line = _next_marker_lines(markers)

    def unclosed(begin: _Marker, before_line: int | None) -> None:
        after = (before_line - 1) if before_line is not None else _last_text_line(text)
        problems.append(
            _problem(
                ProblemKind.UNCLOSED,
                begin,
                insert_after_line=max(begin.line, after),
                suggested_text=begin.text_for("end", begin.block_id),
            )
        )

    for marker in markers:
        if marker.verb == "begin":
            stack.append(marker)
            continue
        found = next(
            (i for i in range(len(stack) - 1, -1, -1) if stack[i].block_id == marker.block_id),
            None,
        )
        if found is None:
            if not stack:
                problems.append(_problem(ProblemKind.UNOPENED, marker))
            else:
                open_block = stack[-1]
                problems.append(
                    _problem(
                        ProblemKind.MISMATCHED,
                        marker,
                        other_id=open_block.block_id,
                        other_line=open_block.line,
                        suggested_text=marker.text_for("end", open_block.block_id),
                    )
                )
            continue
        for dangling in stack[found + 1 :]:
            unclosed(dangling, marker.line)
        del stack[found + 1 :]
        begin = stack.pop()
        if stack:
            outer = stack[-1]
            problems.append(
                _problem(
                    ProblemKind.NESTED,
                    begin,
                    other_id=outer.block_id,
                    other_line=outer.line,
                    partner_line=marker.line,
                )
            )
        else:
            paired.append((begin, marker))
    for begin in stack:
        unclosed(begin, next_line.get(begin.line))

    flagged = {p.line for p in problems}
    ends = {begin.line: end for begin, end in paired}
    # Every begin of an id used twice is a duplicate, the first as much as the later ones:
    # which of them the evidence belongs to cannot be told from the file.
    uses: dict[str, list[int]] = {}
    for marker in markers:
        if marker.verb == "begin":
            uses.setdefault(marker.block_id, []).append(marker.line)
    duplicates: set[int] = set()
    for marker in markers:
        lines = uses.get(marker.block_id, [])
        if marker.verb != "begin" or len(lines) < 2 or marker.line in flagged:
            continue
        end = ends.get(marker.line)
        duplicates.add(marker.line)
        problems.append(
            _problem(
                ProblemKind.DUPLICATE,
                marker,
                other_line=next(line for line in lines if line != marker.line),
                partner_line=end.line if end is not None else None,
            )
        )
    blocks = [_block(text, begin, end) for begin, end in paired if begin.line not in duplicates]
    blocks.sort(key=lambda b: b.begin_line)
    duplicated = [_block(text, begin, end) for begin, end in paired if begin.line in duplicates]
    duplicated.sort(key=lambda b: b.begin_line)
    return blocks, duplicated


def _problem(
    kind: ProblemKind,
    marker: _Marker,
    *,
    other_id: str | None = None,
    other_line: int | None = None,
    partner_line: int | None = None,
    insert_after_line: int | None = None,
    suggested_text: str | None = None,
) -> MarkerProblem:
    return MarkerProblem(
        kind,
        marker.line,
        marker.column,
        marker.end_column,
        marker.verb,
        marker.block_id,
        other_id=other_id,
        other_line=other_line,
        partner_line=partner_line,
        insert_after_line=insert_after_line,
        suggested_text=suggested_text,
    )


def _next_marker_lines(markers: Iterable[_Marker]) -> dict[int, int]:
    """For each marker line, the line of the marker after it."""
    lines = [m.line for m in markers]
    return dict(itertools.pairwise(lines))


def _last_text_line(text: str) -> int:
    """The last line that holds more than whitespace (1 for an empty text)."""
    trimmed = text.rstrip(_SPACE + "\r\n")
    return trimmed.count("\n") + 1


def _block(text: str, begin: _Marker, end: _Marker) -> Block:
    # begin.stop is the LF ending the begin line: everything up to the end line's first
    # character is the content, each of its lines ended by LF.
    content = text[begin.stop + 1 : end.start]
    if "\r" in content:
        content = content.replace("\r\n", "\n")
    task_id, _, number = begin.block_id.partition(".")
    return Block(
        id=begin.block_id,
        task_id=task_id,
        n=int(number),
        begin_line=begin.line,
        end_line=end.line,
        content_hash="sha256:" + hashlib.sha256(_encode(content)).hexdigest(),
        content_line_count=content.count("\n"),
        indent=begin.indent,
        begin_columns=(begin.column, begin.end_column),
        end_columns=(end.column, end.end_column),
    )
