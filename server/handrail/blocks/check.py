"""Block checks: broken markers (HR305), unknown tasks (HR306), over-long blocks (HR307),
and the editor hints for unmarked insertions (HR308): large edits, and changes on disk."""

from __future__ import annotations

import threading
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass

from handrail.blocks.markers import (
    Block,
    MarkerProblem,
    ParseResult,
    ProblemKind,
    normalise_newlines,
    parse_block_id,
)
from handrail.findings import Finding, Severity
from handrail.workflow.model import Workflow

Location = tuple[str, int]
"""(workspace-relative path, begin line) of a block."""


_ID_HELP = (
    "A block id is a 6-character task id (lowercase letters and digits) and a block number "
    "from 1, like k3f9qa.1."
)


def check_blocks(
    result: ParseResult,
    *,
    path: str,
    workflow: Workflow,
    known_tasks: Container[str] | None,
    elsewhere: Mapping[str, Sequence[Location]] | None = None,
    taken: Iterable[str] | TakenIds = (),
) -> list[Finding]:
    """HR305 for every marker problem and every block whose id other files use too
    (`elsewhere`: block id -> where), HR306 for blocks of unknown tasks, HR307 for long ones.

    `known_tasks` holds the ids of the workspace's tasks; None skips HR306 (no task list).
    `taken` holds ids used outside this file (the ledger's, other files'): a suggested
    new id avoids them. A `TakenIds` is read once for all the checks that share it.
    """
    findings: list[Finding] = []
    hr305 = workflow.severity_of("HR305")
    # `taken` is listed only when an id may be suggested: a clean file never pays for it.
    if hr305 is not None and (result.problems or elsewhere):
        used = _Taken(taken)
        for block_id in [*(b.id for b in result.blocks), *(p.block_id for p in result.problems)]:
            used.add(block_id)
        for block in result.blocks:
            others = elsewhere.get(block.id) if elsewhere else None
            if others:
                suggested = used.next_id(block.task_id)
                findings.append(duplicate_in_other_files(block, path, others, hr305, suggested))
        for problem in result.problems:
            message, data = _describe(problem, used)
            if "suggested_id" in data:
                used.add(str(data["suggested_id"]))
            findings.append(
                Finding(
                    "HR305",
                    hr305,
                    message,
                    path,
                    line=problem.line,
                    column=problem.column,
                    end_line=problem.line,
                    end_column=problem.end_column,
                    data=data,
                )
            )
    hr306 = workflow.severity_of("HR306")
    if hr306 is not None and known_tasks is not None:
        for block in result.blocks:
            if block.task_id in known_tasks:
                continue
            findings.append(
                _on_begin(
                    block,
                    "HR306",
                    hr306,
                    path,
                    f"Block {block.id} refers to task {block.task_id}, which has no task file "
                    f"(.handrail/tasks/{block.task_id}.toml). Create the task with "
                    "`handrail task new`, or correct the id in both markers of the block.",
                    {
                        "block_id": block.id,
                        "task_id": block.task_id,
                        "begin_line": block.begin_line,
                        "end_line": block.end_line,
                    },
                )
            )
    hr307 = workflow.severity_of("HR307")
    cap = workflow.generation.max_block_lines
    if hr307 is not None:
        for block in result.blocks:
            if block.content_line_count <= cap:
                continue
            findings.append(
                _on_begin(
                    block,
                    "HR307",
                    hr307,
                    path,
                    f"Block {block.id} has {block.content_line_count} lines between its markers, "
                    f"more than the generation cap of {cap} ([generation] max_block_lines). "
                    "A block this long is hard to review and to verify: split the work into "
                    "smaller tasks and generate one block for each.",
                    {
                        "block_id": block.id,
                        "lines": block.content_line_count,
                        "max_block_lines": cap,
                        "begin_line": block.begin_line,
                        "end_line": block.end_line,
                    },
                )
            )
    return findings


def ids_used_in_other_files(
    blocks_by_path: Mapping[str, Sequence[Block]],
) -> dict[str, dict[str, list[Location]]]:
    """For each path, its block ids that other files use too, with where (sorted)."""
    where: dict[str, list[Location]] = {}
    for path in sorted(blocks_by_path):
        for block in blocks_by_path[path]:
            where.setdefault(block.id, []).append((path, block.begin_line))
    found: dict[str, dict[str, list[Location]]] = {}
    for block_id, places in where.items():
        paths = {path for path, _ in places}
        if len(paths) < 2:
            continue
        for path in paths:
            others = [p for p in places if p[0] != path]
            found.setdefault(path, {})[block_id] = others
    return found


def duplicate_in_other_files(
    block: Block, path: str, others: Sequence[Location], severity: Severity, suggested: str
) -> Finding:
    """HR305 on a block whose id other files use too (every occurrence gets one)."""
    other_path, other_line = others[0]
    more = f" and {len(others) - 1} more" if len(others) > 1 else ""
    return _on_begin(
        block,
        "HR305",
        severity,
        path,
        f"Block id {block.id} is also used in {other_path} (line {other_line}){more}; every "
        "block id must be unique in the workspace, or its evidence is mixed up with the other "
        "block's, so neither counts as verified. After a merge of two branches, run "
        f"`handrail renumber`; or renumber one of them, e.g. this one to {suggested}, in both "
        "of its markers.",
        {
            "fix": "renumber",
            "block_id": block.id,
            "suggested_id": suggested,
            "lines": [block.begin_line, block.end_line],
            "other_path": other_path,
            "other_line": other_line,
        },
    )


def large_insertion(
    text: str,
    result: ParseResult,
    *,
    path: str,
    start_line: int,
    end_line: int,
    workflow: Workflow,
) -> Finding | None:
    """HR308 when one change inserted `[detection] large_insertion_lines` or more lines outside
    any block: lines `start_line`..`end_line` (1-based, inclusive) of `text` after the change.

    Blank lines do not count. ``data`` carries the range to mark when it touches no block
    and no marker, so the editor can offer "Mark as generated".
    """
    severity = workflow.severity_of("HR308")
    if severity is None:
        return None
    threshold = workflow.detection.large_insertion_lines
    found = _unmarked_lines(text, result, start_line, end_line)
    if found is None or len(found.counted) < threshold:
        return None
    return found.finding(
        severity,
        path,
        f"{len(found.counted)} lines were inserted here at once, outside any generated block "
        f"(the hint starts at {threshold}, [detection] large_insertion_lines). Was this code "
        "generated? If so, mark it as generated so that it is verified and reviewed like "
        "every other block.",
        {},
    )


def disk_insertion(
    text: str,
    result: ParseResult,
    *,
    path: str,
    start_line: int,
    end_line: int,
    workflow: Workflow,
    task_id: str,
) -> Finding | None:
    """HR308 for lines that appeared in a file on disk (not typed in the editor) while task
    `task_id` was active, outside any block: lines `start_line`..`end_line` of `text`.

    Any size counts: an agent's three-line fix needs verifying as much as a new module.
    ``data["task"]`` names the active task, so "Mark as generated" can offer it first.
    """
    severity = workflow.severity_of("HR308")
    if severity is None:
        return None
    found = _unmarked_lines(text, result, start_line, end_line)
    if found is None:
        return None
    count = len(found.counted)
    noun = "line" if count == 1 else "lines"
    return found.finding(
        severity,
        path,
        f"{count} {noun} changed on disk outside the editor while task {task_id} was active, "
        "outside any generated block (by a coding agent?). If this code was generated, mark "
        "it as generated so that it is verified and reviewed like every other block.",
        {"task": task_id, "origin": "disk"},
    )


@dataclass(frozen=True, slots=True)
class _Unmarked:
    """The non-blank lines of a range that lie outside every block."""

    counted: list[int]
    lines: list[str]
    markable: bool

    def finding(
        self, severity: Severity, path: str, message: str, extra: dict[str, object]
    ) -> Finding:
        first, last = self.counted[0], self.counted[-1]
        data: dict[str, object] = {
            "inserted_lines": len(self.counted),
            "start_line": first,
            "end_line": last,
            **extra,
        }
        if self.markable:
            data["fix"] = "mark"
        return Finding(
            "HR308",
            severity,
            message,
            path,
            line=first,
            column=1,
            end_line=last,
            end_column=len(self.lines[last - 1]) + 1,
            data=data,
        )


def _unmarked_lines(
    text: str, result: ParseResult, start_line: int, end_line: int
) -> _Unmarked | None:
    """Lines `start_line`..`end_line` outside blocks; markable when the span from the first to
    the last touches no block and no marker problem. None when there is no such line."""
    if end_line < start_line:
        return None
    lines = normalise_newlines(text).split("\n")
    start_line = max(start_line, 1)
    end_line = min(end_line, len(lines))
    enclosed = result.enclosed
    counted = [
        number
        for number in range(start_line, end_line + 1)
        if lines[number - 1].strip() and not any(b.covers(number) for b in enclosed)
    ]
    if not counted:
        return None
    first, last = counted[0], counted[-1]
    markable = not any(b.begin_line <= last and b.end_line >= first for b in enclosed)
    markable = markable and not any(first <= p.line <= last for p in result.problems)
    return _Unmarked(counted, lines, markable)


def _on_begin(
    block: Block, code: str, severity: Severity, path: str, message: str, data: dict[str, object]
) -> Finding:
    return Finding(
        code,
        severity,
        message,
        path,
        line=block.begin_line,
        column=block.begin_columns[0],
        end_line=block.begin_line,
        end_column=block.begin_columns[1],
        data=data,
    )


class TakenIds:
    """Block ids in use outside the checked file, listed when first needed and then kept as
    the highest number of each task: a server checks a document against the same ids on
    every edit (550 of them in a 100,000-line file were read again for each), and a check of
    a clean file never lists them."""

    def __init__(self, ids: Callable[[], Iterable[str]]) -> None:
        self._ids = ids
        self._highest: dict[str, int] | None = None
        self._lock = threading.Lock()

    def highest(self) -> Mapping[str, int]:
        """The highest block number of each task among the ids (read-only)."""
        with self._lock:
            if self._highest is None:
                self._highest = _highest_numbers(self._ids())
            return self._highest


def _highest_numbers(ids: Iterable[str]) -> dict[str, int]:
    highest: dict[str, int] = {}
    for block_id in ids:
        parsed = parse_block_id(block_id)
        if parsed is not None and parsed[1] > highest.get(parsed[0], 0):
            highest[parsed[0]] = parsed[1]
    return highest


class _Taken:
    """Block ids in use, as the highest number of each task: `next_block_number` over the
    same ids, without going over all of them for every suggestion (a file sharing 50 ids
    with another file of 500 asked 50 times over 575 ids on every edit)."""

    def __init__(self, taken: Iterable[str] | TakenIds) -> None:
        if isinstance(taken, TakenIds):
            self._highest = dict(taken.highest())
        else:
            self._highest = _highest_numbers(taken)

    def add(self, block_id: str) -> None:
        parsed = parse_block_id(block_id)
        if parsed is not None and parsed[1] > self._highest.get(parsed[0], 0):
            self._highest[parsed[0]] = parsed[1]

    def next_id(self, task_id: str) -> str:
        """`task_id`'s next free id (`next_block_number`), now taken too."""
        number = self._highest.get(task_id, 0) + 1
        block_id = f"{task_id}.{number}"
        self._highest[task_id] = number
        return block_id


def _describe(problem: MarkerProblem, taken: _Taken) -> tuple[str, dict[str, object]]:
    """The message and quick-fix data of one marker problem."""
    marker = f"handrail:{problem.verb} {problem.block_id}".rstrip()
    base: dict[str, object] = {"kind": problem.kind.value, "line": problem.line}
    if problem.block_id:
        base["block_id"] = problem.block_id
    kind = problem.kind
    if kind is ProblemKind.UNCLOSED:
        return (
            f"`{marker}` has no matching `handrail:end {problem.block_id}`. Add the end marker "
            f"after the last line of the block (probably after line {problem.insert_after_line}).",
            base
            | {
                "fix": "add-end",
                "insert_after_line": problem.insert_after_line,
                "new_text": problem.suggested_text,
            },
        )
    if kind is ProblemKind.UNOPENED:
        return (
            f"`{marker}` has no matching `handrail:begin {problem.block_id}` above it. Add the "
            "begin marker before the block's first line, or delete this line if the block is gone.",
            base | {"fix": "remove-line"},
        )
    if kind is ProblemKind.NESTED:
        return (
            f"Block {problem.block_id} begins inside block {problem.other_id} (begun on line "
            f"{problem.other_line}); blocks cannot nest. End {problem.other_id} before line "
            f"{problem.line}, or remove the inner markers (lines {problem.line} and "
            f"{problem.partner_line}).",
            base
            | {
                "fix": "remove-lines",
                "lines": [problem.line, problem.partner_line],
                "other_id": problem.other_id,
                "other_line": problem.other_line,
            },
        )
    if kind is ProblemKind.MISMATCHED:
        return (
            f"`{marker}` does not match the open block {problem.other_id} (begun on line "
            f"{problem.other_line}). If this line ends that block, change it to "
            f"`handrail:end {problem.other_id}`; otherwise add the missing markers.",
            base
            | {
                "fix": "replace-line",
                "new_text": problem.suggested_text,
                "other_id": problem.other_id,
                "other_line": problem.other_line,
            },
        )
    if kind is ProblemKind.DUPLICATE and problem.other_line and problem.other_line > problem.line:
        # The first use: the quick fix renumbers the later ones, so this one keeps its id.
        return (
            f"Block id {problem.block_id} is used more than once in this file (again on line "
            f"{problem.other_line}); each block needs its own id, or their evidence gets "
            "mixed up, so neither counts as verified. Renumber the later one (its quick fix), "
            "or run `handrail renumber`.",
            base | {"other_line": problem.other_line},
        )
    if kind is ProblemKind.DUPLICATE:
        task_id = problem.block_id.partition(".")[0]
        suggested = taken.next_id(task_id)
        lines = [problem.line] + ([problem.partner_line] if problem.partner_line else [])
        return (
            f"Block id {problem.block_id} is used more than once in this file (also on line "
            f"{problem.other_line}); each block needs its own id, or their evidence gets "
            "mixed up, so neither counts as verified. Renumber one of them, e.g. this one to "
            f"{suggested} in both of its markers, or run `handrail renumber`.",
            base
            | {
                "fix": "renumber",
                "suggested_id": suggested,
                "lines": lines,
                "other_line": problem.other_line,
            },
        )
    return (
        f"This handrail:{problem.verb} marker is malformed: {problem.detail}. {_ID_HELP} "
        f"Correct the marker, or remove the line if it is not meant to be one.",
        base | {"detail": problem.detail},
    )
