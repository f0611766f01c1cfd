"""The generation handoff: the gate, the model, and the answer written as a marked block.

Order matters for "no file changed on failure": the target is checked before anything is
sent, and the file is written once, with its markers, only after a usable answer arrived.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from handrail import atomic
from handrail.block_ids import allocating
from handrail.blocks.mark import MarkError, replace_unchanged
from handrail.blocks.markers import SourceEncoding, decode_source
from handrail.findings import Finding
from handrail.generate.client import Answer, GenerationError, stream_chat
from handrail.generate.extract import extract_code
from handrail.generate.settings import GenerateSettings
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.marking import MarkPlan, marked_record, next_id_for, plan_mark, recorded
from handrail.tasks import LoadedTask
from handrail.workflow.model import Workflow
from handrail.workspace import PathEscapesWorkspace, Workspace, is_regular_file

if TYPE_CHECKING:
    from handrail.prompt import InsertionPoint

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")

__all__ = [
    "Generated",
    "GenerationError",
    "GenerationRefused",
    "Replaced",
    "Target",
    "blank_line_gap",
    "endpoint_name",
    "generate_code",
    "insert_code",
    "insertion_of",
    "prepare_replacement",
    "prepare_target",
    "replace_file",
    "without_block",
    "write_generated",
]


class GenerationRefused(Exception):
    """The gate refused: the spec or the context fails an error check. Nothing was sent."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("the prompt pack is refused")
        self.findings = findings


@dataclass(frozen=True, slots=True)
class Target:
    """Where generated code goes: before line `line` of `rel` (at the end when None)."""

    rel: str
    path: Path
    line: int | None
    exists: bool
    before: os.stat_result | None
    """The file's stat when checked: a file changed after that is not written."""
    replaces: Replaced | None = None
    """The block the code replaces (markers and content), at `line`."""


@dataclass(frozen=True, slots=True)
class Replaced:
    """A block that a new attempt replaces: its id, its lines (markers included), its hash."""

    block_id: str
    begin_line: int
    end_line: int
    content_hash: str


@dataclass(slots=True)
class Generated:
    task_id: str
    code: str
    answer: Answer
    warnings: list[Finding] = field(default_factory=list)
    """Findings below error severity that the gate let through."""
    produced_by: dict[str, Any] = field(default_factory=dict)
    """What produced the code, for its "block marked" record: endpoint (the host, never a
    key), temperature, the hashes of the spec and of the prompt pack, the model."""


def generate_code(
    ws: Workspace,
    workflow: Workflow,
    loaded_task: LoadedTask,
    settings: GenerateSettings,
    *,
    target_rel: str | None = None,
    on_delta: Callable[[str], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    insertion: InsertionPoint | None = None,
) -> Generated:
    """Send the task's checked prompt pack and return the code of the answer.

    Raises `GenerationRefused` (with findings) before sending when the gate fails,
    `SettingsError` when the key's variable is unset, and `GenerationError` when the
    endpoint fails, refuses, or answers without code.
    `target_rel` picks the language among several code blocks.
    """
    from handrail.gate.run import task_context_reports
    from handrail.prompt import build_prompt_pack

    (report,) = task_context_reports(ws, workflow, [loaded_task])
    pack = build_prompt_pack(loaded_task, workflow, report, insertion=insertion, ws=ws)
    if pack.refused:
        raise GenerationRefused(pack.findings)
    answer = stream_chat(
        settings,
        pack.text,
        temperature=workflow.generation.temperature,
        on_delta=on_delta,
        transport=transport,
    )
    code = extract_code(answer.text, target_rel)
    if code is None:
        said = " ".join(answer.text.split())
        shown = f' It said: "{said[:200]}{"..." if len(said) > 200 else ""}"' if said else ""
        raise GenerationError(
            "the answer holds no code block, so nothing was written." + shown,
            kind="no_code",
        )
    produced_by: dict[str, Any] = {
        "endpoint": endpoint_name(settings.base_url),
        "temperature": workflow.generation.temperature,
        "spec_hash": loaded_task.task.spec_hash,
        "pack_hash": "sha256:" + hashlib.sha256(pack.text.encode("utf-8", "replace")).hexdigest(),
    }
    if "model" in BlockMarked.model_fields:  # the field the agents work adds to the record
        produced_by["model"] = answer.model or settings.model
    return Generated(loaded_task.task.id, code, answer, pack.findings, produced_by)


def insertion_of(target: Target) -> InsertionPoint:
    """The insertion point the prompt pack shows for `target` (read now; "" when new)."""
    from handrail.prompt import InsertionPoint

    text = _read_text(target)[0] if target.exists else ""
    replaces = None
    if target.replaces is not None:
        replaces = (target.replaces.begin_line, target.replaces.end_line)
    return InsertionPoint(target.rel, target.line, text, replaces)


def endpoint_name(base_url: str) -> str:
    """The endpoint as a record names it: its host and port, never a user, key or path."""
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    return f"{host}:{parts.port}" if parts.port else host


def prepare_replacement(ws: Workspace, block_id: str) -> Target:
    """The target that replaces block `block_id` where it stands (a new attempt).

    Raises `MarkError` when no file holds the block, or more than one does.
    """
    from handrail.block_ids import marker_texts
    from handrail.blocks.markers import parse_blocks
    from handrail.files import list_files

    found = [
        (rel, block)
        for rel, text in marker_texts(ws, list_files(ws))
        for block in parse_blocks(text, rel).blocks
        if block.id == block_id
    ]
    if not found:
        raise MarkError(f"no file holds block {block_id} (well-formed markers around it)")
    if len(found) > 1:
        where = ", ".join(rel for rel, _ in found)
        raise MarkError(f"block {block_id} is in more than one place ({where}): renumber first")
    rel, block = found[0]
    target = prepare_target(ws, ws.root / rel, block.begin_line, block.task_id)
    replaced = Replaced(block.id, block.begin_line, block.end_line, block.content_hash)
    checked = Target(target.rel, target.path, block.begin_line, True, target.before, replaced)
    _plan(checked, _read_text(checked)[0], "placeholder\n", f"{block.task_id}.999999")
    return checked


def prepare_target(ws: Workspace, path: Path, line: int | None, task_id: str) -> Target:
    """Check that code can be marked at `path` (before line `line`) before anything is sent.

    Raises `MarkError` for a path outside the workspace, a folder, a line past the end, or a
    file whose format has no comments.
    """
    try:
        rel = ws.relative(path)
        real = ws.resolve_inside(rel)
    except PathEscapesWorkspace as exc:
        raise MarkError(f"{path} is outside the workspace {ws.root}") from exc
    exists = os.path.lexists(real)
    if exists and not is_regular_file(real):
        raise MarkError("it is not a regular file", path=rel)
    if not exists and not real.parent.is_dir():
        raise MarkError(f"its folder {real.parent} does not exist", path=rel)
    try:
        before = os.stat(real) if exists else None
    except OSError as exc:
        raise MarkError(f"cannot read it: {exc.strerror or exc}", path=rel) from exc
    target = Target(rel, real, line, exists, before)
    # A dry run with a placeholder line finds a bad line number, overlapping blocks and
    # formats without comments now, rather than after the model has been paid for.
    _plan(target, _read_text(target)[0], "placeholder\n", f"{task_id}.999999")
    return target


def write_generated(
    ws: Workspace,
    target: Target,
    code: str,
    task_id: str,
    *,
    author: str | None,
    produced_by: Mapping[str, Any] | None = None,
) -> MarkPlan:
    """Insert `code` at the target wrapped in markers, in one atomic write, and record it:
    both or neither (see `handrail.marking`).

    Raises `MarkError` when the file cannot be marked or changed since `prepare_target`
    (so the line chosen then still means the same place), `LedgerWriteError` when the
    record cannot be written; either way no file changed and nothing was recorded.
    """
    ledger = Ledger(ws)
    with allocating(ledger) as allocation:
        text, encoding = _read_text(target)
        plan = _plan(target, text, code, next_id_for(allocation, task_id, text, target.rel))
        data = encoding.encode(plan.marked_text)
        extra = dict(produced_by or {})
        if target.replaces is not None:
            extra["replaces"] = target.replaces.block_id
            extra["replaces_hash"] = target.replaces.content_hash
        record = marked_record(plan.block, task_id, target.rel, author=author, ws=ws, **extra)
        recorded(
            ledger, [record], lambda: replace_file(target.path, target.rel, data, target.before)
        )
    return plan


def _plan(target: Target, text: str, code: str, block_id: str) -> MarkPlan:
    if target.replaces is not None:
        text = without_block(text, target.replaces, target.rel)
    inserted, first, last = insert_code(text, code, target.line, target.rel, spaced=True)
    return plan_mark(inserted, target.rel, first, last, block_id)


def without_block(text: str, old: Replaced, rel: str) -> str:
    """`text` without the lines of block `old`, markers and all: a new attempt takes its place."""
    lines = _LINES.findall(text)
    if len(lines) < old.end_line:
        raise MarkError(f"block {old.block_id} is no longer where it was", path=rel)
    return "".join(lines[: old.begin_line - 1] + lines[old.end_line :])


def insert_code(
    text: str, code: str, line: int | None, rel: str, *, spaced: bool = False
) -> tuple[str, int, int]:
    """`text` with `code` inserted before line `line`, and the 1-based lines code now spans.

    With `spaced`, top-level code gets the blank lines the file puts between its top-level
    blocks (`blank_line_gap`) before and after it, outside the code's lines.
    """
    # Split at line endings only, as the markers count lines (not at form feeds or U+2028).
    lines = _LINES.findall(text)
    eol = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    code_lines = [c.rstrip("\r\n") + eol for c in _LINES.findall(code)]
    at = len(lines) + 1 if line is None else line
    if not 1 <= at <= len(lines) + 1:
        raise MarkError(
            f"line {at} is past the end of the file, which has {len(lines)} lines "
            f"(use {len(lines) + 1} to append)",
            path=rel,
            line=at,
        )
    if lines and not lines[-1].endswith(("\n", "\r")) and at == len(lines) + 1:
        lines[-1] += eol
    above: list[str] = []
    below: list[str] = []
    gap = blank_line_gap(lines) if spaced and _top_level(code_lines) else None
    if gap is not None:
        before, after = lines[: at - 1], lines[at - 1 :]
        if any(x.strip() for x in before):
            above = [eol] * max(0, gap - _blank_run(reversed(before)))
        if any(x.strip() for x in after):
            below = [eol] * max(0, gap - _blank_run(after))
    new = lines[: at - 1] + above + code_lines + below + lines[at - 1 :]
    first = at + len(above)
    return "".join(new), first, first + len(code_lines) - 1


def _blank_run(lines: Iterable[str]) -> int:
    count = 0
    for line in lines:
        if line.strip():
            break
        count += 1
    return count


def _top_level(code_lines: Sequence[str]) -> bool:
    first = next((c for c in code_lines if c.strip()), "")
    return bool(first) and not first[0].isspace()


def blank_line_gap(lines: Sequence[str]) -> int | None:
    """How many blank lines the file puts before a top-level block that follows another
    block (the most common count; PEP 8's 2 in most Python, 1 in most other code), or None
    when the file shows no example."""
    counts: dict[int, int] = {}
    blanks = 0
    previous = ""
    for line in lines:
        if not line.strip():
            blanks += 1
            continue
        closing = ("}", "};", "end", ")", ");")
        ends_block = previous[:1].isspace() or previous.strip() in closing
        if previous and not line[0].isspace() and ends_block and line.strip() not in closing:
            counts[blanks] = counts.get(blanks, 0) + 1
        previous, blanks = line, 0
    if not counts:
        return None
    return max(counts, key=lambda n: (counts[n], n))


def _read_text(target: Target) -> tuple[str, SourceEncoding]:
    if not target.exists:
        return "", SourceEncoding("utf-8")
    try:
        data = target.path.read_bytes()
    except OSError as exc:
        raise MarkError(f"cannot read it: {exc.strerror or exc}", path=target.rel) from exc
    text, encoding = decode_source(data)
    if "\0" in text:
        raise MarkError(
            "it holds NUL bytes (a binary file?); markers would corrupt it", path=target.rel
        )
    return text, encoding


def replace_file(path: Path, rel: str, data: bytes, before: os.stat_result | None) -> None:
    """Write `data` to `path` atomically.

    `before` is the file's stat when it was read (None for a new file): a file changed since
    then, or created meanwhile, is left alone and `MarkError` raised. Permission bits are kept.
    """
    if before is not None:
        replace_unchanged(path, rel, data, before)
        return
    real = Path(os.path.realpath(path))
    try:
        atomic.create_new(real, data)  # a new source file: the umask decides its mode
    except FileExistsError as exc:
        raise MarkError("it was created by someone else meanwhile; run again", path=rel) from exc
    except OSError as exc:
        raise MarkError(f"cannot write it: {exc.strerror or exc}", path=rel) from exc
