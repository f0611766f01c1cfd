"""The gate: every check of PRODUCT.md §4 over a workspace, as one list of findings.

Front ends (`handrail check`, CI, git hooks) call `run_check`; the per-file work is
`handrail.analysis`, which the language server runs on open buffers too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from handrail.analysis import Snapshot, analyze_source, context_report
from handrail.blocks.markers import parse_blocks
from handrail.findings import Finding, Severity
from handrail.marking.ids import MarkerIndex, marker_texts
from handrail.tasks.findings import check_task
from handrail.tasks.model import LoadedTask
from handrail.workflow.checks import check_workflow
from handrail.workflow.load import LoadedWorkflow
from handrail.workflow.model import Workflow
from handrail.workspace import HANDRAIL_DIR, Workspace

if TYPE_CHECKING:
    from handrail.context.check import ContextReport


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
    host_approvers: Sequence[str] = (),
) -> CheckResult:
    """Check the workspace (or only the workspace-relative `paths` and what is under them).

    `host_approvers` are the code host's approvers of the change (CI's `--approved-by`): they
    count as every block's second reviewer.
    """
    from handrail.files import list_files

    today = today or dt.date.today()
    snapshot = Snapshot.load(ws, host_approvers=host_approvers)
    loaded = snapshot.workflow
    wf = loaded.workflow
    result = CheckResult(workflow=loaded)
    findings = result.findings
    scope = _Scope(paths)

    if scope.covers(ws.relative(loaded.path or ws.workflow_path)):
        findings.extend(loaded.findings)
        findings.extend(check_workflow(loaded, ws, today=today))

    findings.extend(f for f in snapshot.tasks.findings if scope.covers(f.path))
    tasks = [t for t in snapshot.tasks.tasks.values() if scope.covers(t.rel)]
    for loaded_task in tasks:
        findings.extend(check_task(loaded_task, wf))
        if check_context_entries and not loaded_task.task.is_closed:
            findings.extend(context_report(snapshot, loaded_task).findings)
    findings.extend(f for f in snapshot.ledger.findings if scope.covers(f.path))

    listed = [rel for rel in list_files(ws) if not rel.startswith(HANDRAIL_DIR + "/")]
    result.files_checked = sum(1 for rel in listed if scope.covers(rel)) + len(tasks)
    # Every file with markers is read and indexed first, in scope or not: a block id used in
    # two files is HR305 on both, and neither gets evidence, whichever is analysed first.
    texts = list(marker_texts(ws, listed))
    parsed = {rel: parse_blocks(text, rel) for rel, text in texts}
    markers = MarkerIndex(parsed)
    for rel, text in texts:
        if scope.covers(rel):
            analysis = analyze_source(snapshot, rel, text, markers=markers, parsed=parsed[rel])
            findings.extend(analysis.findings)
    findings.sort(key=Finding.sort_key)
    return result


def findings_with_code(ws: Workspace, code: str) -> list[Finding]:
    """Every finding `code` of the workspace's marked files, as the gate sees them: what a task
    use case reports after it changed what the gate checks (HR315 after `task close`)."""
    from handrail.files import list_files

    snapshot = Snapshot.load(ws)
    found: list[Finding] = []
    for rel, text in marker_texts(ws, list_files(ws)):
        found.extend(f for f in analyze_source(snapshot, rel, text).findings if f.code == code)
    return found


def task_context_findings(ws: Workspace, wf: Workflow, loaded: LoadedTask) -> list[Finding]:
    """The context check's findings for a task just written, when it has context and is open:
    what `task new|edit` and ``handrail.newTask|editTask`` report as ``context_findings``."""
    if not loaded.task.context or loaded.task.is_closed:
        return []
    (report,) = task_context_reports(ws, wf, [loaded])
    return report.findings


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
            pins=loaded_task.task.context_hashes,
        )
        for loaded_task in tasks
    ]


class _Scope:
    """Which workspace-relative paths a check covers (everything when no path was named)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._prefixes = [p.strip("/") for p in paths if p.strip("/") not in ("", ".")]

    def covers(self, rel: str) -> bool:
        if not self._prefixes:
            return True
        return any(rel == p or rel.startswith(p + "/") for p in self._prefixes)
