"""`handrail mark --diff`: mark every hunk a coding agent added since a base revision.

The hunks come from ``git diff -U0 <base>`` against the working tree (plus untracked files,
which an agent creates and git does not diff). A pure deletion leaves nothing to mark; a
changed hunk's new lines are marked like added ones. Hunks that touch an existing block or
marker, and blank-only hunks, are skipped with the reason, which also makes a second run
mark nothing new.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from handrail.blocks.comments import comment_styles_for, language_of
from handrail.blocks.mark import MarkError, wrap_lines
from handrail.blocks.markers import Block, decode_source, parse_blocks
from handrail.git import GitError, git
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger, LedgerWriteError
from handrail.marking.ids import Allocation, allocating, ids_in_parse
from handrail.marking.record import marked_record, take_back
from handrail.workspace import HANDRAIL_DIR, PathEscapesWorkspace, Workspace, is_regular_file

if TYPE_CHECKING:
    from handrail.agents.identity import AgentIdentity

__all__ = [
    "DiffMarkError",
    "DiffMarkResult",
    "Hunk",
    "MarkedHunk",
    "RecordedRange",
    "SkippedHunk",
    "changed_hunks",
    "mark_diff",
    "mark_hunks",
    "markable_hunks",
    "parse_unified_diff",
]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_EOL = re.compile(r"\r\n|\r|\n")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


class DiffMarkError(Exception):
    """git could not produce the diff (no repository, unknown base); a sentence for the user."""


@dataclass(frozen=True, slots=True)
class Hunk:
    """Lines `start`..`start + count - 1` of the new file came in since the base."""

    start: int
    count: int

    @property
    def end(self) -> int:
        return self.start + self.count - 1


@dataclass(frozen=True, slots=True)
class MarkedHunk:
    path: str
    block: Block


@dataclass(frozen=True, slots=True)
class SkippedHunk:
    path: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class RecordedRange:
    """Lines of a file that cannot hold comments (JSON), recorded in the ledger only."""

    path: str
    block_id: str
    start: int
    end: int


@dataclass(slots=True)
class DiffMarkResult:
    base: str
    marked: list[MarkedHunk] = field(default_factory=list)
    skipped: list[SkippedHunk] = field(default_factory=list)
    recorded: list[RecordedRange] = field(default_factory=list)
    """Ledger-only ranges: files whose format has no comments get a record and no markers."""
    ledger_error: str | None = None
    """Set when the records could not be written: then no file was changed at all."""


def parse_unified_diff(diff: str) -> dict[str, list[Hunk]]:
    """The new-side hunks of each file in a ``git diff -U0`` output; deletions are dropped.

    Files deleted in the working tree (``+++ /dev/null``) have no new side and are left out.
    """
    hunks: dict[str, list[Hunk]] = {}
    current: str | None = None
    for line in diff.split("\n"):
        if line.startswith("+++ "):
            name = _unquote(line[4:].rstrip("\t"))
            current = name[2:] if name.startswith("b/") else None
            continue
        if line.startswith("diff --git "):
            current = None
            continue
        match = _HUNK.match(line)
        if match is None or current is None:
            continue
        count = 1 if match.group(2) is None else int(match.group(2))
        if count:
            hunks.setdefault(current, []).append(Hunk(int(match.group(1)), count))
    return hunks


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of a path with unusual bytes (``"b/caf\\303\\251.py"``)."""
    if not (len(name) >= 2 and name.startswith('"') and name.endswith('"')):
        return name
    body, out, i = name[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char != "\\" or i + 1 >= len(body):
            out += char.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1]
        octal = body[i + 1 : i + 4]
        if len(octal) == 3 and all(c in "01234567" for c in octal):
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out += nxt.encode("utf-8")
            i += 2
    return out.decode("utf-8", "surrogateescape")


def _git(ws: Workspace, args: list[str]) -> str:
    try:
        return git(ws.root, *args).decode("utf-8", "surrogateescape")
    except GitError as exc:
        raise DiffMarkError(f"git {args[0]} failed: {exc}") from exc


def changed_hunks(
    ws: Workspace, base: str, paths: Sequence[str] | None = None
) -> dict[str, list[Hunk]]:
    """Hunks added since `base` in the workspace's files (only `paths`, workspace-relative,
    when given), untracked files whole."""
    if base.startswith("-"):
        raise DiffMarkError(f"{base!r} is not a revision")
    try:
        _git(ws, ["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"])
    except DiffMarkError as exc:
        raise DiffMarkError(
            f"{base!r} is not a commit of this repository (is it a git repository with "
            "at least one commit?)"
        ) from exc
    # `handrail.git` runs git with literal pathspecs (a file named "*.py" is that file), so
    # Handrail's own directory is left out here rather than with an exclude pathspec.
    scope = ["."] if paths is None else list(paths)
    if not scope:
        return {}
    diff = _git(
        ws,
        ["diff", "-U0", "--no-color", "--no-ext-diff", "--relative", "--src-prefix=a/",
         "--dst-prefix=b/", base, "--", *scope],
    )  # fmt: skip
    hunks = {rel: found for rel, found in parse_unified_diff(diff).items() if not _is_handrail(rel)}
    untracked = _git(ws, ["ls-files", "-z", "--others", "--exclude-standard", "--", *scope])
    for rel in filter(None, untracked.split("\0")):
        if _is_handrail(rel):
            continue
        try:
            real = ws.resolve_inside(rel)
        except PathEscapesWorkspace:
            continue
        if not is_regular_file(real):
            continue
        try:
            text, _ = decode_source(real.read_bytes())
        except OSError:
            # Unreadable now: mark_hunks reports it when it tries the file.
            hunks[rel] = [Hunk(1, 1)]
            continue
        count = len(_EOL.split(text)) - (1 if text.endswith(("\n", "\r")) or not text else 0)
        if count:
            hunks[rel] = [Hunk(1, count)]
    return hunks


def _is_handrail(rel: str) -> bool:
    return rel == HANDRAIL_DIR or rel.startswith(HANDRAIL_DIR + "/")


def mark_diff(
    ws: Workspace,
    task_id: str,
    base: str = "HEAD",
    *,
    author: str | None = None,
    identity: AgentIdentity | None = None,
) -> DiffMarkResult:
    """Wrap each hunk added since `base` in markers for `task_id` and record the blocks
    (with the coding agent's `identity` when an agent's hook asked).

    Each file is rewritten once, atomically, keeping its encoding and line endings.
    """
    result = mark_hunks(ws, task_id, changed_hunks(ws, base), author=author, identity=identity)
    result.base = base
    return result


def mark_hunks(
    ws: Workspace,
    task_id: str,
    hunks_by_path: dict[str, list[Hunk]],
    *,
    author: str | None,
    identity: AgentIdentity | None = None,
) -> DiffMarkResult:
    """Wrap the given line ranges of each file in markers for `task_id`; record the blocks.

    Blank lines at a range's edges stay outside; ranges touching an existing block or marker,
    and files without comment syntax, are skipped with the reason.
    """
    from handrail.marking.write import replace_file
    from handrail.tasks.files import current_spec_hash

    ledger = Ledger(ws)
    result = DiffMarkResult("")
    try:
        with allocating(ledger) as allocation:
            ledger_only: list[BlockMarked] = []
            planned = _plan_files(
                ws, task_id, hunks_by_path, allocation, result.skipped, ledger_only, author
            )
            # Every record first (each reserves its id), then the files: a record that
            # cannot be written leaves every file as it was and takes back the others.
            spec = current_spec_hash(ws, task_id)
            records = [
                (
                    item,
                    [
                        marked_record(
                            b, task_id, item.rel, author=author, identity=identity, spec_hash=spec
                        )
                        for b in item.blocks
                    ],
                )
                for item in planned
            ]
            appended: list[BlockMarked] = []
            try:
                for _, file_records in records:
                    for record in file_records:
                        ledger.append(record)
                        appended.append(record)
                for record in ledger_only:
                    ledger.append(record)
                    appended.append(record)
            except BaseException:
                take_back(ledger, appended)
                raise
            result.recorded += [
                RecordedRange(r.path, r.block_id, r.begin_line, r.end_line) for r in ledger_only
            ]
            for item, file_records in records:
                try:
                    replace_file(item.real, item.rel, item.new_data, item.before)
                except BaseException as exc:
                    take_back(ledger, file_records)
                    if not isinstance(exc, MarkError):
                        raise
                    result.skipped += [
                        SkippedHunk(item.rel, h.start, h.end, exc.message) for h in item.hunks
                    ]
                    continue
                result.marked += [MarkedHunk(item.rel, b) for b in item.blocks]
    except LedgerWriteError as exc:
        result.ledger_error = str(exc)
    return result


@dataclass(frozen=True, slots=True)
class _PlannedFile:
    rel: str
    real: Path
    before: os.stat_result
    new_data: bytes
    hunks: list[Hunk]
    blocks: list[Block]


def _plan_files(
    ws: Workspace,
    task_id: str,
    hunks_by_path: dict[str, list[Hunk]],
    allocation: Allocation,
    skipped: list[SkippedHunk],
    ledger_only: list[BlockMarked] | None = None,
    author: str | None = None,
) -> list[_PlannedFile]:
    """The new bytes and blocks of each file with hunks worth marking; nothing written.

    Hunks of a file whose format has no comments (JSON) become ledger-only records in
    `ledger_only` (when given) instead of being skipped."""
    planned: list[_PlannedFile] = []
    for rel, hunks in sorted(hunks_by_path.items()):
        try:
            real = ws.resolve_inside(rel)
        except PathEscapesWorkspace:
            continue
        if not is_regular_file(real):
            continue
        try:
            before = os.stat(real)
            data = real.read_bytes()
        except OSError as exc:
            skipped.append(SkippedHunk(rel, 1, 1, f"cannot read it: {exc.strerror}"))
            continue
        text, encoding = decode_source(data)
        unfit = _unfit(rel, text)
        if unfit:
            skipped += [SkippedHunk(rel, h.start, h.end, unfit) for h in hunks]
            continue
        if ledger_only is not None and not comment_styles_for(rel):
            ledger_only += _ledger_only(text, rel, hunks, task_id, allocation, author)
            continue
        allocation.take(ids_in_parse(parse_blocks(text, rel)))
        plan = _plan_file(text, rel, hunks, task_id, allocation, skipped)
        if not plan:
            continue
        # Bottom-up, so that the markers of one hunk do not shift the lines of those above.
        for hunk, block_id in sorted(plan, key=lambda p: -p[0].start):
            text = wrap_lines(text, hunk.start, hunk.end, block_id, rel)
        ids = {block_id for _, block_id in plan}
        blocks = [b for b in parse_blocks(text, rel).blocks if b.id in ids]
        planned.append(
            _PlannedFile(rel, real, before, encoding.encode(text), [h for h, _ in plan], blocks)
        )
    return planned


def markable_hunks(text: str, rel: str, hunks: Iterable[Hunk]) -> list[Hunk]:
    """The hunks of one file's `text` that `mark_hunks` would mark now (blank edges trimmed):
    what the stop hook calls generated code nobody marked. Nothing is written."""
    if _unfit(rel, text):
        return []
    # Any well-formed task id does for the dry run; the ids are thrown away.
    return [hunk for hunk, _ in _plan_file(text, rel, hunks, "aaaaaa", Allocation(()), [])]


def _ledger_only(
    text: str,
    rel: str,
    hunks: Iterable[Hunk],
    task_id: str,
    allocation: Allocation,
    author: str | None,
) -> list[BlockMarked]:
    """Records for the non-blank hunks of a file that cannot hold markers (JSON, CSV)."""
    from handrail.blocks.markers import hash_content

    lines = _EOL.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    records: list[BlockMarked] = []
    for hunk in sorted(hunks, key=lambda h: h.start):
        body = lines[hunk.start - 1 : hunk.end]
        if hunk.end > len(lines) or not any(line.strip() for line in body):
            continue
        lead = next(i for i, line in enumerate(body) if line.strip())
        trail = next(i for i, line in enumerate(reversed(body)) if line.strip())
        start, end = hunk.start + lead, hunk.end - trail
        content = "".join(line + "\n" for line in lines[start - 1 : end])
        records.append(
            BlockMarked.create(
                block_id=allocation.next_id(task_id),
                task_id=task_id,
                path=rel,
                content_hash=hash_content(content),
                begin_line=start,
                end_line=end,
                author=author,
                ledger_only=True,
            )
        )
    return records


def _unfit(rel: str, text: str) -> str:
    """Why a file is not marked from a diff at all ("" when it may be).

    Unlike `handrail mark FILE`, where the user chose the file, a diff also holds files
    nobody meant as code: binaries, and files of unknown type whose comment syntax would be
    a guess.
    """
    if "\0" in text:
        return "a binary file"
    if language_of(rel) is None and comment_styles_for(rel):
        # Unknown type: comment syntax would be a guess. A known format without comments
        # (JSON, CSV) is recorded in the ledger only instead (`_ledger_only`).
        return "its type is unknown, so a marker could break it; mark it with handrail mark"
    return ""


def _plan_file(
    text: str,
    rel: str,
    hunks: Iterable[Hunk],
    task_id: str,
    allocation: Allocation,
    skipped: list[SkippedHunk],
) -> list[tuple[Hunk, str]]:
    """The hunks of one file worth marking, each with its block id (numbered top-down)."""
    # Lines as git counts them for the hunks and as the markers count them: by line endings
    # only (str.splitlines would also split at form feeds and U+2028).
    lines = _EOL.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    parsed = parse_blocks(text, rel)
    plan: list[tuple[Hunk, str]] = []
    for hunk in sorted(hunks, key=lambda h: h.start):
        if hunk.end > len(lines):
            skipped.append(SkippedHunk(rel, hunk.start, hunk.end, "lines past the end of the file"))
            continue
        body = lines[hunk.start - 1 : hunk.end]
        if not any(line.strip() for line in body):
            skipped.append(SkippedHunk(rel, hunk.start, hunk.end, "only blank lines"))
            continue
        # Blank lines at a hunk's edges are spacing between definitions, not generated code.
        lead = next(i for i, line in enumerate(body) if line.strip())
        trail = next(i for i, line in enumerate(reversed(body)) if line.strip())
        hunk = Hunk(hunk.start + lead, hunk.count - lead - trail)
        inside = next(
            (b for b in parsed.enclosed if b.begin_line <= hunk.end and hunk.start <= b.end_line),
            None,
        )
        if inside is not None:
            skipped.append(
                SkippedHunk(
                    rel,
                    hunk.start,
                    hunk.end,
                    f"touches block {inside.id}, which is already marked",
                )
            )
            continue
        try:
            # A dry run on the text catches files without comments and broken markers early.
            wrap_lines(text, hunk.start, hunk.end, f"{task_id}.999999", rel)
        except MarkError as exc:
            skipped.append(SkippedHunk(rel, hunk.start, hunk.end, exc.message))
            continue
        plan.append((hunk, allocation.next_id(task_id)))
    return plan
