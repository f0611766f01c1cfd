"""The gate: every check of PRODUCT.md §4 over a workspace, as one list of findings.

Front ends (`handrail check`, CI, git hooks) call `run_check`; the language server runs the
same per-document pieces on open buffers.
"""

from __future__ import annotations

import datetime as dt
import mmap
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from handrail.blocks.check import check_blocks, duplicate_ids_across_files
from handrail.blocks.markers import (
    Block,
    ParseResult,
    block_content,
    decode_source,
    parse_blocks_bytes,
)
from handrail.findings import Finding, Severity
from handrail.ledger.evidence import EvidenceIndex, evaluate_block, evidence_findings
from handrail.ledger.store import Ledger
from handrail.tasks import LoadedTask, check_task, load_all_tasks
from handrail.workflow.checks import check_workflow
from handrail.workflow.load import LoadedWorkflow, load_workflow
from handrail.workflow.model import Workflow
from handrail.workspace import HANDRAIL_DIR, Workspace

if TYPE_CHECKING:
    from handrail.context.check import ContextReport

MARKER_NEEDLE = b"handrail:"
# UTF-16/32 text has NUL bytes and spells "handrail:" with them; its byte order mark says so.
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Files this large are searched for markers through mmap rather than read whole.
_MMAP_FROM_BYTES = 1 << 20


@dataclass(slots=True)
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    workflow: LoadedWorkflow | None = None

    @property
    def workflow_invalid(self) -> bool:
        return any(f.code == "HR400" and f.severity is Severity.ERROR for f in self.findings)


def run_check(
    ws: Workspace,
    *,
    paths: Sequence[str] = (),
    today: dt.date | None = None,
    check_context_entries: bool = True,
) -> CheckResult:
    """Check the workspace (or only the workspace-relative `paths` and what is under them)."""
    from handrail.files import list_files

    today = today or dt.date.today()
    loaded = load_workflow(ws)
    wf = loaded.workflow
    result = CheckResult(workflow=loaded)
    findings = result.findings
    scope = _Scope(paths)

    if scope.covers(loaded_rel(ws, loaded)):
        findings.extend(loaded.findings)
        findings.extend(check_workflow(loaded, ws, today=today))

    task_set = load_all_tasks(ws, wf)
    findings.extend(f for f in task_set.findings if scope.covers(f.path))
    in_scope_tasks = [t for t in task_set.tasks.values() if scope.covers(t.rel)]
    for loaded_task in in_scope_tasks:
        findings.extend(check_task(loaded_task, wf))
    if check_context_entries and in_scope_tasks:
        findings.extend(_context_findings(ws, wf, in_scope_tasks))

    ledger = Ledger(ws).read(wf)
    findings.extend(f for f in ledger.findings if scope.covers(f.path))
    index = EvidenceIndex.build(ledger.records)

    files = [
        rel
        for rel in list_files(ws, ignore_patterns=())
        if scope.covers(rel) and not rel.startswith(HANDRAIL_DIR + "/")
    ]
    result.files_checked = len(files) + len(in_scope_tasks)
    known_tasks = task_set.known_ids
    blocks_by_path: dict[str, list[Block]] = {}
    for rel in files:
        parsed, text = _parse_file(ws.root / rel, rel)
        if parsed is None:
            continue
        findings.extend(check_blocks(parsed, path=rel, workflow=wf, known_tasks=known_tasks))
        if parsed.blocks:
            blocks_by_path[rel] = list(parsed.blocks)
        for block in parsed.blocks:
            task = task_set.tasks.get(block.task_id)
            content = block_content(text, block)
            evidence = evaluate_block(
                index, block.id, rel, content, wf, task_risk=task.task.risk if task else None
            )
            findings.extend(
                evidence_findings(
                    evidence,
                    block_id=block.id,
                    path=rel,
                    line=block.begin_line,
                    end_line=block.end_line,
                    workflow=wf,
                )
            )
    findings.extend(duplicate_ids_across_files(blocks_by_path, wf))
    findings.sort(key=Finding.sort_key)
    return result


def loaded_rel(ws: Workspace, loaded: LoadedWorkflow) -> str:
    path = loaded.path or ws.workflow_path
    return ws.relative(path)


def task_context_reports(
    ws: Workspace, wf: Workflow, tasks: Sequence[LoadedTask]
) -> list[ContextReport]:
    """The context check of each task, sharing one ignore matcher and one token counter."""
    from handrail.context.check import check_context
    from handrail.context.tokens import TokenCounter
    from handrail.ignore import IgnoreMatcher

    ignore = IgnoreMatcher.for_workspace(
        ws, wf.context.ignore, use_gitignore=wf.context.use_gitignore
    )
    counter = TokenCounter.for_workflow(wf)
    return [
        check_context(
            ws,
            wf,
            loaded_task.task.context,
            task_rel=loaded_task.rel,
            entry_lines=loaded_task.context_lines,
            ignore=ignore,
            counter=counter,
        )
        for loaded_task in tasks
    ]


def _context_findings(ws: Workspace, wf: Workflow, tasks: Sequence[LoadedTask]) -> list[Finding]:
    return [f for report in task_context_reports(ws, wf, tasks) for f in report.findings]


def _parse_file(path: Path, rel: str) -> tuple[ParseResult | None, str]:
    """Parse `path` for markers; (None, "") when it holds none or cannot be read."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return None, ""
            if size >= _MMAP_FROM_BYTES:
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                    if mapped.find(MARKER_NEEDLE) < 0:
                        return None, ""
                    data = bytes(mapped)
            else:
                data = handle.read()
    except (OSError, ValueError):
        return None, ""
    if MARKER_NEEDLE not in data and not data.startswith(_WIDE_BOMS):
        return None, ""
    parsed = parse_blocks_bytes(data, rel)
    if not parsed.blocks and not parsed.problems:
        return None, ""
    text, _encoding = decode_source(data)
    return parsed, text


class _Scope:
    """Which workspace-relative paths a check covers (everything when no path was named)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._prefixes = [p.strip("/") for p in paths if p.strip("/") not in ("", ".")]

    def covers(self, rel: str) -> bool:
        if not self._prefixes:
            return True
        return any(rel == p or rel.startswith(p + "/") for p in self._prefixes)
