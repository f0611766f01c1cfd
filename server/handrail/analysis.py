"""Per-document analysis: the one place that turns a file's text into findings.

`handrail check` runs it over every file of a workspace; the language server runs it on the
text of an open buffer. Both get the same findings because both call these functions.

Each rule family runs through a `RuleRunner`. The gate's runs it plainly, so a rule that
raises fails the gate closed; the editor's (`GuardedRules`) keeps going without that rule's
findings and remembers the failure, so one broken rule never blanks a document's other
findings (esbonio's per-feature isolation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from handrail.blocks.check import TakenIds, check_blocks
from handrail.blocks.markers import Block, ParseResult, normalise_newlines, parse_blocks
from handrail.evidence.probe_findings import probe_findings
from handrail.findings import Finding
from handrail.ledger.evidence import BlockEvidence, EvidenceIndex, evaluate_block, evidence_findings
from handrail.ledger.store import Ledger, LedgerRead
from handrail.tasks.blocks import task_block_findings
from handrail.tasks.files import check_task_source, load_all_tasks
from handrail.tasks.model import LoadedTask, TaskSet
from handrail.workflow.checks import check_workflow
from handrail.workflow.load import LoadedWorkflow, load_workflow
from handrail.workspace import Workspace

if TYPE_CHECKING:
    from handrail.context.check import ContextReport
    from handrail.context.tokens import TokenCounter
    from handrail.ignore import IgnoreMatcher
    from handrail.marking.ids import MarkerIndex

T = TypeVar("T")
P = ParamSpec("P")


class RuleRunner:
    """Runs one rule family of a document's analysis. This one, the gate's, lets an exception
    through: a check that cannot run must never let the gate pass."""

    def run(
        self, rule: str, fallback: T, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`call(*args, **kwargs)`, the findings of rule family `rule`; `fallback` when a
        guarded runner caught its exception."""
        return call(*args, **kwargs)


@dataclass(slots=True)
class RuleFailure:
    rule: str
    """What a user reads: "the block checks (HR305-HR307)"."""
    error: Exception


class GuardedRules(RuleRunner):
    """The editor's runner: a rule that raises gives `fallback` (no findings of its own) and is
    remembered once, however many blocks it failed on; the other rules still report."""

    def __init__(self) -> None:
        self.failures: list[RuleFailure] = []

    def run(
        self, rule: str, fallback: T, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if all(f.rule != rule for f in self.failures):
                self.failures.append(RuleFailure(rule, exc))
            return fallback


_STRICT = RuleRunner()
BLOCK_CHECKS = "the block checks (HR305-HR307)"
EVIDENCE = "the evidence rules (HR300-HR304)"
PROBE = "the probe findings (HR313)"
TASK_BLOCKS = "the task rules for blocks (HR314, HR315)"
SPEC_CHECKS = "the spec checks (HR100-HR103)"
CONTEXT_CHECKS = "the context checks (HR200-HR206)"
WORKFLOW_CHECKS = "the workflow checks (HR400-HR402)"


@dataclass(slots=True)
class Snapshot:
    """What analysing one document needs to know about its workspace, loaded once.

    A long-running front end keeps one per workspace folder and calls `refresh` when
    `.handrail/**` changes on disk.
    """

    ws: Workspace
    workflow: LoadedWorkflow
    tasks: TaskSet
    ledger: LedgerRead
    index: EvidenceIndex
    _ignore: IgnoreMatcher | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls, ws: Workspace, *, ledger: Ledger | None = None, host_approvers: Sequence[str] = ()
    ) -> Snapshot:
        workflow = load_workflow(ws)
        tasks = load_all_tasks(ws, workflow.workflow)
        read = (ledger or Ledger(ws)).read(workflow.workflow)
        index = EvidenceIndex.build(read.records, host_approvers=host_approvers)
        return cls(ws, workflow, tasks, read, index)

    @property
    def ignore(self) -> IgnoreMatcher:
        if self._ignore is None:
            from handrail.ignore import IgnoreMatcher

            rules = self.workflow.workflow.context
            self._ignore = IgnoreMatcher.for_workspace(
                self.ws, rules.ignore, use_gitignore=rules.use_gitignore
            )
        return self._ignore

    def counter(self) -> TokenCounter:
        from handrail.context.tokens import TokenCounter

        return TokenCounter.for_workflow(self.workflow.workflow)


@dataclass(slots=True)
class SourceAnalysis:
    parsed: ParseResult
    findings: list[Finding]
    evidence: dict[str, BlockEvidence]
    """Evidence of every well-formed block whose id no other file uses, by block id."""


# Evidence of a block, by (block id, path, content hash, task risk): what it was judged on.
EvidenceMemo = dict[tuple[str, str, str, str | None], BlockEvidence]


def analyze_source(
    snapshot: Snapshot,
    rel: str,
    text: str,
    *,
    memo: EvidenceMemo | None = None,
    markers: MarkerIndex | None = None,
    rules: RuleRunner = _STRICT,
    parsed: ParseResult | None = None,
    taken: TakenIds | None = None,
) -> SourceAnalysis:
    """Markers, block checks (HR305-HR307) and evidence (HR300-HR304) of one source file.

    The text is split into lines once, however many blocks it holds. A front end that
    analyses the same file after every edit passes a `memo` bound to `snapshot`: a block whose
    content did not change then reuses the evidence judged before. `markers` tells which
    other files use which block ids: a block whose id another file uses is HR305 and gets no
    evidence, like a block whose id this file uses twice. `rules` runs each rule family (see
    `RuleRunner`); a block whose evidence could not be judged gets no evidence entry.
    `parsed` is `parse_blocks(text, rel)` when the caller has it already; `taken` the
    block ids in use (`taken_ids`) when the caller keeps them from one check to the next.
    """
    wf = snapshot.workflow.workflow
    if parsed is None:
        parsed = parse_blocks(text, rel)
    elsewhere = markers.elsewhere(rel, (b.id for b in parsed.blocks)) if markers else {}
    findings: list[Finding] = rules.run(
        BLOCK_CHECKS,
        [],
        check_blocks,
        parsed,
        path=rel,
        workflow=wf,
        known_tasks=snapshot.tasks.known_ids,
        elsewhere=elsewhere,
        taken=taken if taken is not None else taken_ids(snapshot, markers),
    )
    evidence: dict[str, BlockEvidence] = {}
    lines: list[str] | None = None
    for block in parsed.blocks:
        if block.id in elsewhere:
            continue  # which block the id's evidence belongs to cannot be told
        task = snapshot.tasks.tasks.get(block.task_id)
        risk = task.task.risk if task else None
        key = (block.id, rel, block.content_hash, risk)
        found = memo.get(key) if memo is not None else None
        if found is None:
            if lines is None:
                # Split only as far as the last block's end line: the lines below it are
                # never read (issue 17).
                last = max(b.end_line for b in parsed.blocks)
                lines = normalise_newlines(text).split("\n", last)
            content = "".join(line + "\n" for line in lines[block.begin_line : block.end_line - 1])
            found = rules.run(
                EVIDENCE,
                None,
                evaluate_block,
                snapshot.index,
                block.id,
                rel,
                content,
                wf,
                task_risk=risk,
            )
            if found is None:
                continue  # its other rules need the evidence: the failure's note says so
            if memo is not None:
                memo[key] = found
        evidence[block.id] = found
        _block_findings(snapshot, rel, block, found, task, rules, findings)
    return SourceAnalysis(parsed, findings, evidence)


def _block_findings(
    snapshot: Snapshot,
    rel: str,
    block: Block,
    found: BlockEvidence,
    task: LoadedTask | None,
    rules: RuleRunner,
    findings: list[Finding],
) -> None:
    """Add the findings of one block with its evidence judged, one rule family at a time."""
    wf = snapshot.workflow.workflow
    findings += rules.run(
        EVIDENCE,
        [],
        evidence_findings,
        found,
        block_id=block.id,
        path=rel,
        line=block.begin_line,
        end_line=block.end_line,
        workflow=wf,
    )
    findings += rules.run(
        PROBE,
        [],
        probe_findings,
        snapshot.index.probes_for(block.id),
        block_id=block.id,
        path=rel,
        content_hash=block.content_hash,
        begin_line=block.begin_line,
        end_line=block.end_line,
        tier=found.tier,
        verified=found.status == "verified",
        workflow=wf,
    )
    findings += rules.run(
        TASK_BLOCKS,
        [],
        task_block_findings,
        snapshot.index,
        found,
        task.task if task else None,
        path=rel,
        line=block.begin_line,
        end_line=block.end_line,
        workflow=wf,
    )


def taken_ids(snapshot: Snapshot, markers: MarkerIndex | None) -> TakenIds:
    """Block ids in use (the ledger's, then every file's), listed only if a marker problem
    asks for a free id: a check of a clean file does not list them (issue 17)."""

    def ids() -> Iterator[str]:
        yield from snapshot.index.block_ids()
        if markers is not None:
            yield from markers.ids()

    return TakenIds(ids)


class SourceAnalysisCache:
    """`analyze_source` for a long-running front end, with an evidence memo bound to one
    snapshot: make a new one when the snapshot is reloaded."""

    def __init__(self, snapshot: Snapshot, *, max_entries: int = 50_000) -> None:
        self.snapshot = snapshot
        self.max_entries = max_entries
        self._memo: EvidenceMemo = {}
        self._taken: tuple[MarkerIndex | None, int, TakenIds] | None = None
        """The ids in use, with the marker index and its generation they were read at: the
        snapshot's ids never change, the index's with every save."""

    def __len__(self) -> int:
        return len(self._memo)

    def analyze_source(
        self,
        rel: str,
        text: str,
        *,
        markers: MarkerIndex | None = None,
        rules: RuleRunner = _STRICT,
    ) -> SourceAnalysis:
        if len(self._memo) >= self.max_entries:
            self._memo.clear()
        return analyze_source(
            self.snapshot,
            rel,
            text,
            memo=self._memo,
            markers=markers,
            rules=rules,
            taken=self._taken_ids(markers),
        )

    def _taken_ids(self, markers: MarkerIndex | None) -> TakenIds:
        # The generation is read before the ids are listed: ids read later are never older.
        generation = markers.generation if markers is not None else 0
        known = self._taken
        if known is not None and known[0] is markers and known[1] == generation:
            return known[2]
        taken = taken_ids(self.snapshot, markers)
        self._taken = (markers, generation, taken)
        return taken


@dataclass(slots=True)
class TaskAnalysis:
    loaded: LoadedTask | None
    findings: list[Finding]
    context: ContextReport | None


def analyze_task(
    snapshot: Snapshot,
    rel: str,
    text: str,
    *,
    with_context: bool = True,
    rules: RuleRunner = _STRICT,
) -> TaskAnalysis:
    """Spec checks (HR100-HR103) and, when asked, context checks (HR200-HR206) of a task file."""
    wf = snapshot.workflow.workflow
    no_task: tuple[LoadedTask | None, list[Finding]] = (None, [])
    loaded, findings = rules.run(
        SPEC_CHECKS, no_task, check_task_source, text, wf, path=snapshot.ws.root / rel, rel=rel
    )
    report = None
    # A closed task's context is not checked: files it named may since have gone, rightly.
    if loaded is not None and with_context and not loaded.task.is_closed:
        report = rules.run(CONTEXT_CHECKS, None, context_report, snapshot, loaded, task_text=text)
        if report is not None:
            findings = findings + report.findings
    return TaskAnalysis(loaded, findings, report)


def context_report(
    snapshot: Snapshot, loaded: LoadedTask, *, task_text: str | None = None
) -> ContextReport:
    from handrail.context.check import check_context

    return check_context(
        snapshot.ws,
        snapshot.workflow.workflow,
        loaded.task.context,
        task_rel=loaded.rel,
        entry_lines=loaded.context_lines,
        ignore=snapshot.ignore,
        counter=snapshot.counter(),
        task_text=task_text,
        pins=loaded.task.context_hashes,
    )


def analyze_workflow(
    ws: Workspace, text: str | None, *, today: dt.date, rules: RuleRunner = _STRICT
) -> list[Finding]:
    """HR400-HR402 of the workflow file (`text`: an editor's unsaved buffer, else the file)."""

    def run() -> list[Finding]:
        loaded = load_workflow(ws, text=text)
        return list(loaded.findings) + check_workflow(loaded, ws, today=today)

    return rules.run(WORKFLOW_CHECKS, [], run)
