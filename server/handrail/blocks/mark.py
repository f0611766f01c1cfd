"""Writing and removing block markers, keeping every other byte of the file as it was.

`wrap_lines` works on text; `mark_file` and `unmark_file` read the file's bytes, keep its
encoding (a BOM, UTF-16, or undecodable bytes through ``surrogateescape``), its line endings
and a missing final newline, and replace it atomically so a crash leaves the old file or the
new one, never half of each.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from handrail import atomic
from handrail.blocks.comments import NoCommentSyntax, style_at
from handrail.blocks.markers import (
    BOM,
    Block,
    ParseResult,
    ProblemKind,
    SourceEncoding,
    decode_source,
    is_block_id,
    parse_block_id,
    parse_blocks,
    parse_blocks_bytes,
)

_EOL_SPLIT = re.compile(r"(\r\n|\r|\n)")
_UNBALANCED = frozenset(
    {ProblemKind.UNCLOSED, ProblemKind.UNOPENED, ProblemKind.NESTED, ProblemKind.MISMATCHED}
)


class MarkError(Exception):
    """Marking refused or failed; the message says why in a sentence for the user."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line


def next_block_number(task_id: str, taken: Iterable[str]) -> int:
    """The lowest n above every taken ``<task_id>.<n>`` (1 when the task has no block yet).

    Never reuses a gap: a number once given to a block may still have ledger records.
    """
    highest = 0
    for block_id in taken:
        parsed = parse_block_id(block_id)
        if parsed is not None and parsed[0] == task_id:
            highest = max(highest, parsed[1])
    return highest + 1


class _Lines:
    """Text as lines with their own endings (LSP splitting), BOM held aside."""

    def __init__(self, text: str) -> None:
        self.bom = BOM if text.startswith(BOM) else ""
        parts = _EOL_SPLIT.split(text[len(self.bom) :])
        self.bodies = parts[0::2]
        self.ends = [*parts[1::2], ""]
        if self.bodies[-1] == "":
            # Text ending with a line ending (or empty): no further line.
            self.bodies.pop()
            self.ends.pop()

    def __len__(self) -> int:
        return len(self.bodies)

    def first_end(self) -> str:
        return next((end for end in self.ends if end), "\n")

    def join(self) -> str:
        return self.bom + "".join(b + e for b, e in zip(self.bodies, self.ends, strict=True))


def wrap_lines(text: str, start_line: int, end_line: int, block_id: str, path: str) -> str:
    """`text` with lines `start_line`..`end_line` (1-based, inclusive) between block markers.

    The markers use the comment syntax of `path` (of the embedded part, in HTML, Vue or PHP
    files), the indentation of the least-indented non-blank wrapped line, and the line ending
    of the file; a missing final newline stays missing. Raises MarkError for a bad id, a range
    outside the file or without code (blank lines only), a range that overlaps a block or a
    broken marker, or a file whose markers are unbalanced.
    """
    if not is_block_id(block_id):
        raise MarkError(
            f"{block_id!r} is not a block id: expected <task-id>.<n>, e.g. k3f9qa.1", path=path
        )
    lines = _Lines(text)
    if len(lines) == 0:
        raise MarkError("the file is empty: there is nothing to mark", path=path)
    if not 1 <= start_line <= end_line <= len(lines):
        raise MarkError(
            f"lines {start_line}-{end_line} are not inside the file, which has "
            f"{len(lines)} line{'s' if len(lines) != 1 else ''}",
            path=path,
            line=start_line,
        )
    if not any(body.strip() for body in lines.bodies[start_line - 1 : end_line]):
        # A block of blank lines would be recorded, verified and counted as generated code
        # although it holds none; an editor's empty selection is the usual way to get one.
        raise MarkError(
            f"lines {start_line}-{end_line} hold no code: select the generated lines to mark",
            path=path,
            line=start_line,
        )
    _check_range(parse_blocks(text, path), start_line, end_line, block_id, path)

    head = zip(lines.bodies[: start_line - 1], lines.ends, strict=False)
    before = "".join(body + end for body, end in head)
    try:
        style = style_at(path, before)
    except NoCommentSyntax as exc:
        raise MarkError(str(exc), path=path) from exc
    indent = _least_indent(lines.bodies[start_line - 1 : end_line])
    eol = lines.ends[start_line - 1] or lines.first_end()

    bodies, ends = lines.bodies, lines.ends
    last = end_line - 1
    end_marker = indent + style.marker("end", block_id)
    # The end marker takes over the last wrapped line's ending; that line gets the file's.
    bodies.insert(last + 1, end_marker)
    ends.insert(last + 1, ends[last])
    ends[last] = ends[last] or eol
    bodies.insert(start_line - 1, indent + style.marker("begin", block_id))
    ends.insert(start_line - 1, eol)
    marked = lines.join()

    check = parse_blocks(marked, path).block(block_id)
    if check is None or (check.begin_line, check.end_line) != (start_line, end_line + 2):
        raise MarkError(
            f"the markers written in the comment syntax {style.marker('begin', block_id)!r} "
            "do not read back as a block here",
            path=path,
            line=start_line,
        )
    return marked


def _least_indent(bodies: list[str]) -> str:
    indents = [b[: len(b) - len(b.lstrip(" \t"))] for b in bodies if b.strip()]
    return min(indents, key=len) if indents else ""


def _check_range(
    parsed: ParseResult, start_line: int, end_line: int, block_id: str, path: str
) -> None:
    unbalanced = [p for p in parsed.problems if p.kind in _UNBALANCED]
    if unbalanced:
        first = unbalanced[0]
        raise MarkError(
            f"the file's block markers are unbalanced (line {first.line}: "
            f"handrail:{first.verb} {first.block_id}); fix them before marking more code",
            path=path,
            line=first.line,
        )
    for block in parsed.enclosed:
        if block.begin_line > end_line or block.end_line < start_line:
            continue
        if block.begin_line < start_line and end_line < block.end_line:
            where = "are inside"
        elif start_line <= block.begin_line and end_line >= block.end_line:
            where = "contain"
        else:
            where = "overlap"
        raise MarkError(
            f"lines {start_line}-{end_line} {where} block {block.id} (lines "
            f"{block.begin_line}-{block.end_line}); blocks cannot nest or overlap, so mark "
            "lines outside it",
            path=path,
            line=start_line,
        )
    for problem in parsed.problems:
        if start_line <= problem.line <= end_line:
            raise MarkError(
                f"line {problem.line} holds a broken handrail:{problem.verb} marker; fix or "
                "remove it before marking these lines",
                path=path,
                line=problem.line,
            )
    used = {b.id for b in parsed.blocks} | {p.block_id for p in parsed.problems}
    if block_id in used:
        raise MarkError(
            f"block id {block_id} is already used in this file; choose the next free number",
            path=path,
        )


def rename_markers(text: str, lines: Collection[int], old_id: str, new_id: str) -> str:
    """`text` with `old_id` changed to `new_id` on the marker lines `lines` (1-based); every
    other byte, line endings included, stays. Raises MarkError when a line holds no marker
    of `old_id`."""
    pattern = re.compile(rf"(handrail:(?:begin|end)[ \t]+){re.escape(old_id)}(?![^ \t*>-])")
    lines_of = _Lines(text)
    for number in lines:
        if not 1 <= number <= len(lines_of):
            raise MarkError(f"line {number} is past the end of the file", line=number)
        body, count = pattern.subn(rf"\g<1>{new_id}", lines_of.bodies[number - 1], count=1)
        if count != 1:
            raise MarkError(f"line {number} holds no marker of block {old_id}", line=number)
        lines_of.bodies[number - 1] = body
    return lines_of.join()


def remove_markers(text: str, path: str, block_ids: Collection[str]) -> str:
    """`text` without the two marker lines of each named block; the content lines stay.

    The exact inverse of `wrap_lines`: a final newline that marking added is taken away
    again. Raises MarkError when a named block is not a well-formed block of `text`.
    """
    parsed = parse_blocks(text, path)
    doomed: set[int] = set()
    for block_id in block_ids:
        block = parsed.block(block_id)
        if block is None:
            raise MarkError(f"there is no well-formed block {block_id} in this file", path=path)
        doomed.update((block.begin_line, block.end_line))
    lines = _Lines(text)
    total = len(lines)
    ended = bool(lines.ends[-1]) if total else True
    kept = [
        (body, end)
        for number, (body, end) in enumerate(zip(lines.bodies, lines.ends, strict=True), 1)
        if number not in doomed
    ]
    lines.bodies = [body for body, _ in kept]
    lines.ends = [end for _, end in kept]
    if not ended and total in doomed and lines.ends:
        # The end marker was the unterminated last line: the line before it got its line
        # ending from marking, and loses it again.
        lines.ends[-1] = ""
    return lines.join()


@dataclass(frozen=True, slots=True)
class FileMark:
    """Marking worked out for a file on disk, not yet written (see `prepare_file_mark`)."""

    path: Path
    rel: str
    before: os.stat_result
    """The file's stat when read: a file changed since is not overwritten."""
    text: str
    """The file's text as read, decoded."""
    new_data: bytes
    block: Block
    """The new block as parsed back from `new_data`."""

    def write(self) -> None:
        """Replace the file with the marked bytes (atomically; raises MarkError)."""
        replace_unchanged(self.path, self.rel, self.new_data, self.before)


def read_for_marking(path: Path, rel: str) -> tuple[str, SourceEncoding, os.stat_result]:
    """The file's text, encoding and stat, refusing files markers would corrupt."""
    data, before = _read(path, rel)
    text, encoding = _decode_for_writing(data, rel)
    return text, encoding, before


def prepare_file_mark(
    path: Path, rel: str, start_line: int, end_line: int, block_id: str
) -> FileMark:
    """What marking lines `start_line`..`end_line` of the file at `path` writes; nothing is
    written yet. `rel` is the workspace-relative path: it picks the comment syntax and
    names the file in errors."""
    text, encoding, before = read_for_marking(path, rel)
    marked = wrap_lines(text, start_line, end_line, block_id, rel)
    new_data = encoding.encode(marked)
    block = parse_blocks_bytes(new_data, rel).block(block_id)
    if block is None:  # wrap_lines already read the block back from the same text
        raise MarkError(f"block {block_id} does not read back after marking", path=rel)
    return FileMark(path, rel, before, text, new_data, block)


def mark_file(path: Path, rel: str, start_line: int, end_line: int, block_id: str) -> Block:
    """Wrap lines `start_line`..`end_line` of the file at `path` in markers for `block_id`.

    Returns the new block as parsed back from the written bytes. Records nothing: the
    commands mark through `handrail.marking`, which also writes the ledger record.
    """
    prepared = prepare_file_mark(path, rel, start_line, end_line, block_id)
    prepared.write()
    return prepared.block


def unmark_file(path: Path, rel: str, block_ids: Collection[str]) -> list[Block]:
    """Remove the markers of `block_ids` from the file; returns those blocks as they were."""
    data, before = _read(path, rel)
    text, encoding = _decode_for_writing(data, rel)
    parsed = parse_blocks(text, rel)
    removed = [b for b in parsed.blocks if b.id in set(block_ids)]
    replace_unchanged(path, rel, encoding.encode(remove_markers(text, rel, block_ids)), before)
    return removed


def _read(path: Path, rel: str) -> tuple[bytes, os.stat_result]:
    try:
        before = os.stat(path)
        if not stat.S_ISREG(before.st_mode):
            raise MarkError("it is not a regular file", path=rel)
        with open(path, "rb") as handle:
            return handle.read(), before
    except OSError as exc:
        raise MarkError(f"cannot read it: {exc.strerror or exc}", path=rel) from exc


def _decode_for_writing(data: bytes, rel: str) -> tuple[str, SourceEncoding]:
    text, encoding = decode_source(data)
    if encoding.codec == "utf-8" and data.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
    ):
        raise MarkError("it starts with a UTF-16/32 byte order mark but does not decode", path=rel)
    if encoding.codec == "utf-8" and "\0" in text:
        raise MarkError("it holds NUL bytes (a binary file?); markers would corrupt it", path=rel)
    return text, encoding


def replace_unchanged(path: Path, rel: str, data: bytes, before: os.stat_result) -> None:
    """Replace the file's bytes atomically (`handrail.atomic`).

    The file's permission bits are kept; a symlink is kept and its target replaced. A file
    changed by someone else since it was read is left alone rather than overwritten.
    """
    target = Path(os.path.realpath(path))

    def prepare(temp: Path) -> None:
        os.chmod(temp, stat.S_IMODE(before.st_mode))
        _keep_owner(temp, before)
        now = os.stat(target)
        if (now.st_mtime_ns, now.st_size, now.st_ino) != (
            before.st_mtime_ns,
            before.st_size,
            before.st_ino,
        ):
            raise MarkError(
                "it changed on disk since Handrail read it; nothing was written, try again",
                path=rel,
            )

    try:
        atomic.replace(target, data, prepare=prepare)
    except OSError as exc:
        raise MarkError(f"cannot write it: {exc.strerror or exc}", path=rel) from exc


def _keep_owner(temp: Path, before: os.stat_result) -> None:
    """Give the new file the old one's owner when we may (run as root on a user's file)."""
    if os.name == "nt" or (before.st_uid, before.st_gid) == (os.getuid(), os.getgid()):
        return
    with contextlib.suppress(OSError):
        os.chown(temp, before.st_uid, before.st_gid)
