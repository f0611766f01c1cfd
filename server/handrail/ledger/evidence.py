"""Evidence: what the ledger says about one generated block's *current* content.

Every record names the content hash it speaks for. A run, a trace or an acknowledgement
counts only for the exact content it was made on; edit the block and the evidence is
still there (history) but no longer counts. Nothing is ever invalidated in place.

A passing run counts only as far as it executed the block (`[verification] min_executed`):
a run that executed none of its lines, or that measured nothing (records made before line
evidence existed included), leaves the block unverified with HR310. A run that could not run
(HR311) gives no verdict at all: it neither verifies nor fails a block.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from handrail.findings import Finding
from handrail.ledger.records import (
    Accepted,
    BlockCoverage,
    BlockMarked,
    Explanation,
    MutantDismissed,
    ProbeRun,
    Record,
    Review,
    Trace,
    VerificationRun,
    content_hash,
)
from handrail.ledger.reviews import is_reviewed
from handrail.ledger.risk import tier_for
from handrail.workflow.model import MinExecuted, RiskTier, Workflow

Status = Literal["unverified", "changed", "failed", "verified"]
STATUSES: tuple[Status, ...] = ("unverified", "changed", "failed", "verified")

_FIRST_ATTEMPT_ADVICE = (
    "Fix the spec or the context and generate again rather than patching the output by hand."
)
_EXPLAIN_ADVICE = "It does not merge until you can: read it until you can, or rewrite it."


@dataclass(slots=True)
class _BlockRecords:
    # Each list in id (time) order, oldest first.
    marked: list[BlockMarked] = field(default_factory=list)
    runs: list[VerificationRun] = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)
    explanations: list[Explanation] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    probes: list[ProbeRun | MutantDismissed] = field(default_factory=list)


_EMPTY = _BlockRecords()


class EvidenceIndex:
    """The ledger's records grouped per block id, for O(1) lookups by block."""

    def __init__(
        self, blocks: dict[str, _BlockRecords], host_approvers: tuple[str, ...] = ()
    ) -> None:
        self._blocks = blocks
        self.host_approvers = host_approvers
        """Who approved the change on the code host (CI's `check --approved-by`)."""

    @classmethod
    def build(
        cls, records: Iterable[Record], *, host_approvers: Iterable[str] = ()
    ) -> EvidenceIndex:
        blocks: dict[str, _BlockRecords] = {}

        def slot(block_id: str) -> _BlockRecords:
            found = blocks.get(block_id)
            if found is None:
                found = blocks[block_id] = _BlockRecords()
            return found

        for record in sorted(records, key=lambda r: r.id):
            if isinstance(record, VerificationRun):
                for block_id in record.blocks:
                    slot(block_id).runs.append(record)
            elif isinstance(record, BlockMarked):
                slot(record.block_id).marked.append(record)
            elif isinstance(record, Trace):
                slot(record.block_id).traces.append(record)
            elif isinstance(record, Explanation):
                slot(record.block_id).explanations.append(record)
            elif isinstance(record, ProbeRun | MutantDismissed):
                slot(record.block_id).probes.append(record)
            elif isinstance(record, Review):
                slot(record.block_id).reviews.append(record)
            elif isinstance(record, Accepted):
                slot(record.block_id).accepted.append(record)
            # Notes and review meetings are about the workflow, not about a block.
        return cls(blocks, tuple(host_approvers))

    def block_ids(self) -> list[str]:
        return sorted(self._blocks)

    def _get(self, block_id: str) -> _BlockRecords:
        return self._blocks.get(block_id, _EMPTY)

    def runs_for(self, block_id: str) -> list[VerificationRun]:
        """Every run that covered the block, whatever its content then; newest first."""
        return self._get(block_id).runs[::-1]

    def has_run(self, block_id: str) -> bool:
        """Whether any run ever covered the block: the next one is not its first attempt."""
        return bool(self._get(block_id).runs)

    def marked(self, block_id: str) -> BlockMarked | None:
        """The newest "block marked" record of the block."""
        marks = self._get(block_id).marked
        return marks[-1] if marks else None

    def traces_for(self, block_id: str) -> list[Trace]:
        return self._get(block_id).traces[::-1]

    def explanations_for(self, block_id: str) -> list[Explanation]:
        return self._get(block_id).explanations[::-1]

    def reviews_for(self, block_id: str) -> list[Review]:
        return self._get(block_id).reviews[::-1]

    def authors_of(self, block_id: str, content_hash: str) -> set[str]:
        """Who owns this content, case-folded: whoever marked the block, and whoever
        acknowledged explaining this content. Their own reviews never count."""
        marked = self.marked(block_id)
        names = {marked.author} if marked and marked.author else set()
        names |= {
            e.author
            for e in self.explanations_for(block_id)
            if e.author and e.content_hash == content_hash
        }
        return {n.casefold() for n in names}

    def accepted_for(self, block_id: str) -> list[Accepted]:
        return self._get(block_id).accepted[::-1]

    def probes_for(self, block_id: str) -> list[ProbeRun | MutantDismissed]:
        """The probe's records of the block (`handrail.evidence.probe`), newest first."""
        return self._get(block_id).probes[::-1]

    def blocks_of_task(self, task_id: str) -> list[str]:
        """Block ids the ledger knows for a task (marked or verified)."""
        found = {
            block_id
            for block_id, recs in self._blocks.items()
            if any(m.task_id == task_id for m in recs.marked)
            or any(r.task_id == task_id for r in recs.runs)
        }
        return sorted(found)


@dataclass(frozen=True, slots=True)
class BlockEvidence:
    """The evidence for one block's current content."""

    block_id: str
    content_hash: str
    status: Status
    """unverified: no run covered this content or any earlier one; changed: a run passed,
    but on other content; failed: the latest run on this content failed (or, with no run
    on this content, the latest run at all failed); verified: the latest run on this
    content passed."""
    tier: RiskTier | None
    needs: list[str]
    """What the tier still needs for this content: "trace", "second_reviewer"."""
    explained: bool
    traced: bool
    reviewed: bool
    accepted: bool
    runs: list[VerificationRun]
    """Every run that covered the block, newest first (history, any content)."""
    deciding_run: VerificationRun | None
    """The run the status comes from (the latest on this content, or the failing one)."""
    last_passed: VerificationRun | None
    """The newest passing run on any content (HR301 says when that was)."""
    first_attempt_passed: bool | None
    """Whether the block's first run passed (the "first attempt" checkpoint); None: no run."""
    first_attempt_run: VerificationRun | None
    marked: BlockMarked | None
    explanation_required: bool = True
    """Whether HR304 applies (the workflow's `review.require_explanation`)."""
    stale_trace: bool = False
    """A trace exists, but for earlier content."""
    coverage: BlockCoverage | None = None
    """What the deciding run (on this content) proved about the block's lines."""
    unproven: str | None = None
    """Why a passing run on this content does not verify the block (HR310), as a phrase."""
    failed_elsewhere: bool = False
    """The deciding run failed, but in tests that did not execute this block."""
    could_not_run: VerificationRun | None = None
    """The newest run on this content could not run (HR311): it gave no verdict."""
    probe: ProbeRun | None = None
    """The newest probe of this content (`handrail verify --probe`), if any."""
    dismissed_mutants: frozenset[str] = frozenset()
    """Surviving mutants of this content judged to make no difference (with a reason)."""

    @property
    def is_verified(self) -> bool:
        """Verified with everything its risk tier asks for (PRODUCT.md §2)."""
        return self.status == "verified" and not self.needs


def block_evidence(
    index: EvidenceIndex,
    block_id: str,
    current_hash: str,
    tier: RiskTier | None,
    *,
    require_explanation: bool,
    require_second_reviewer: bool = False,
    min_executed: MinExecuted = "one",
) -> BlockEvidence:
    """What the ledger says about block `block_id` whose content now hashes to `current_hash`.

    `require_second_reviewer` adds "second_reviewer" to what the block needs even when its
    tier does not list it (the workflow's `review.require_second_reviewer_for`).
    `require_explanation` decides whether a missing "I can explain every line"
    acknowledgement is reported (HR304, once the block is verified).
    """
    runs = index.runs_for(block_id)
    # A run that could not run says nothing about the code: it never decides a status.
    judged = [r for r in runs if r.could_not_run is None]
    on_current = [r for r in judged if r.blocks.get(block_id) == current_hash]
    last_passed = next((r for r in judged if r.passed), None)

    status: Status
    deciding: VerificationRun | None
    coverage: BlockCoverage | None = None
    unproven: str | None = None
    elsewhere = False
    if on_current:
        deciding = on_current[0]
        outcome = deciding.block_outcome(block_id)
        coverage = deciding.coverage.get(block_id) if deciding.coverage else None
        if outcome == "failed":
            status = "failed"
        elif outcome == "failed_elsewhere":
            status, elsewhere = "unverified", True
        else:
            unproven = _unproven(deciding, coverage, min_executed)
            status = "unverified" if unproven is not None else "verified"
    elif judged and judged[0].block_outcome(block_id) == "failed":
        deciding, status = judged[0], "failed"
    elif last_passed is not None:
        deciding, status = last_passed, "changed"
    else:
        deciding, status = None, "unverified"
    newest = runs[0] if runs else None
    could_not = (
        newest
        if newest is not None
        and newest.could_not_run is not None
        and newest.blocks.get(block_id) == current_hash
        else None
    )

    first_run = next((r for r in reversed(runs) if block_id in r.first_attempt), None)
    marked = index.marked(block_id)

    traces = index.traces_for(block_id)
    traced = any(t.content_hash == current_hash for t in traces)
    explanations = [e for e in index.explanations_for(block_id) if e.content_hash == current_hash]
    reviewed = is_reviewed(
        index.reviews_for(block_id),
        current_hash,
        index.authors_of(block_id, current_hash),
        index.host_approvers,
    )
    needs: list[str] = []
    requires = set(tier.requires) if tier is not None else set()
    if "trace" in requires and not traced:
        needs.append("trace")
    if ("second_reviewer" in requires or require_second_reviewer) and not reviewed:
        needs.append("second_reviewer")
    return BlockEvidence(
        block_id=block_id,
        content_hash=current_hash,
        status=status,
        tier=tier,
        needs=needs,
        explained=bool(explanations),
        traced=traced,
        reviewed=reviewed,
        accepted=any(a.content_hash == current_hash for a in index.accepted_for(block_id)),
        runs=runs,
        deciding_run=deciding,
        last_passed=last_passed,
        first_attempt_passed=(
            first_run.block_outcome(block_id) == "passed" if first_run is not None else None
        ),
        first_attempt_run=first_run,
        marked=marked,
        explanation_required=require_explanation,
        stale_trace=bool(traces) and not traced,
        coverage=coverage,
        unproven=unproven,
        failed_elsewhere=elsewhere,
        could_not_run=could_not,
        probe=next(
            (
                p
                for p in index.probes_for(block_id)
                if isinstance(p, ProbeRun) and p.content_hash == current_hash
            ),
            None,
        ),
        dismissed_mutants=frozenset(
            p.mutant_id
            for p in index.probes_for(block_id)
            if isinstance(p, MutantDismissed) and p.content_hash == current_hash
        ),
    )


def elsewhere_phrase(coverage: BlockCoverage | None) -> str:
    """Why a failed run is not this block's failure, as a phrase."""
    if coverage is not None and coverage.failed_tests:
        names = ", ".join(coverage.failed_tests[:3])
        return f"its tests ({names}) caught a failure in other generated code they executed"
    return "in tests that did not execute this block"


def meets_min_executed(coverage: BlockCoverage, min_executed: MinExecuted) -> bool:
    """Whether the lines that ran satisfy `[verification] min_executed`."""
    executable = coverage.executable_lines
    if min_executed == "none" or not executable:
        return True
    ran = len(coverage.executed_lines & executable)
    if min_executed == "one":
        return ran >= 1
    if min_executed == "all":
        return ran == len(executable)
    return ran / len(executable) >= float(min_executed) - 1e-9


def _unproven(
    run: VerificationRun, coverage: BlockCoverage | None, min_executed: MinExecuted
) -> str | None:
    """Why the passing `run` does not prove the block ran; None when it does."""
    if min_executed == "none":
        return None
    if coverage is None:
        return "the run was recorded without line evidence (not measured)"
    if coverage.outcome == "not_measured":
        return f"not measured: {coverage.note or 'the run left no line data for the file'}"
    if meets_min_executed(coverage, min_executed):
        return None
    total = len(coverage.executable_lines)
    ran = len(coverage.executed_lines & coverage.executable_lines)
    need = {"one": "at least one", "all": "every one"}.get(str(min_executed))
    wanted = need or f"{float(min_executed):.0%}"
    return f"{ran} of its {total} executable lines ran ({wanted} must, `min_executed`)"


def evaluate_block(
    index: EvidenceIndex,
    block_id: str,
    path: str,
    content: str,
    workflow: Workflow,
    *,
    task_risk: str | None = None,
) -> BlockEvidence:
    """`block_evidence` with the hash, tier and review knobs worked out from the workflow."""
    tier = tier_for(path, content, workflow, task_risk=task_risk)
    second = tier is not None and tier.name in workflow.review.require_second_reviewer_for
    return block_evidence(
        index,
        block_id,
        content_hash(content),
        tier,
        require_explanation=workflow.review.require_explanation,
        require_second_reviewer=second,
        min_executed=workflow.verification.min_executed,
    )


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _outcome(run: VerificationRun) -> str:
    command = f"`{shlex.join(run.command)}`"
    if run.timed_out:
        return f"{command} timed out"
    if run.exit_code is None:
        return f"{command} could not be started"
    return f"{command} exited with code {run.exit_code}"


def _checkpoint(workflow: Workflow, checkpoint_id: str, default: str) -> str:
    for checkpoint in workflow.checkpoints:
        if checkpoint.id == checkpoint_id and checkpoint.otherwise.strip():
            return checkpoint.otherwise.strip()
    return default


def evidence_findings(
    evidence: BlockEvidence,
    *,
    block_id: str,
    path: str,
    line: int,
    end_line: int | None = None,
    workflow: Workflow,
    column: int = 1,
    end_column: int | None = None,
) -> list[Finding]:
    """HR300-HR304 for one block, at the range the caller gives (usually the begin marker).

    One thing at a time: HR304 (explain every line) only appears once verification passed.
    """
    findings: list[Finding] = []
    block = f"Generated block {block_id} in {path}"

    def add(code: str, message: str, **extra: Any) -> None:
        severity = workflow.severity_of(code)
        if severity is None:
            return
        data: dict[str, Any] = {
            "block_id": block_id,
            "status": evidence.status,
            "content_hash": evidence.content_hash,
            **extra,
        }
        findings.append(
            Finding(code, severity, message, path, line, column, end_line, end_column, data)
        )

    run = evidence.deciding_run
    if evidence.could_not_run is not None:
        add(
            "HR311",
            f"The verification of {block_id} in {path} could not run: "
            f"{evidence.could_not_run.could_not_run}. This is not a verdict on the code: fix "
            f"the environment (`{shlex.join(evidence.could_not_run.command)}` must be able to run "
            "its tests here) and verify again.",
            command=list(evidence.could_not_run.command),
            why=evidence.could_not_run.could_not_run,
        )
    if evidence.status == "unverified" and run is not None and evidence.unproven is not None:
        not_measured = evidence.coverage is None or evidence.coverage.outcome == "not_measured"
        what = (
            "no passing test is known to have executed"
            if not_measured
            else "no passing test executed"
        )
        add(
            "HR310",
            f"{block} is not verified: {what} it. `{shlex.join(run.command)}` passed, but "
            f"{evidence.unproven}. Add or fix a test that runs this code, then verify again.",
            command=list(run.command),
            measured=not not_measured,
        )
    elif evidence.status == "unverified" and run is not None and evidence.failed_elsewhere:
        add(
            "HR300",
            f"{block} is not verified: {_outcome(run)}, {elsewhere_phrase(evidence.coverage)}. "
            "Fix the code that failed, then verify again.",
        )
    elif evidence.status == "unverified" and evidence.could_not_run is not None:
        add(
            "HR300",
            f"{block} has not been verified: its verification could not run (HR311). Fix that, "
            "then run it again (`handrail verify`).",
        )
    elif evidence.status == "unverified":
        add(
            "HR300",
            f"{block} has not been verified: no verification run has covered it. Run its "
            f"verification command (`handrail verify`) on the current content.",
        )
    elif evidence.status == "changed" and run is not None:
        add(
            "HR301",
            f"{block} changed since it last passed verification ({_when(run.finished_at)}): "
            "that run no longer counts. Run the verification again on the current content.",
            verified_at=run.finished_at.isoformat(),
        )
    elif evidence.status == "failed" and run is not None:
        from handrail.ledger.diagnosis import ENVIRONMENT_ADVICE, TIMEOUT_ADVICE, failure_cause

        stale = run.blocks.get(block_id) != evidence.content_hash
        message = f"The latest verification of {block_id} in {path} failed: {_outcome(run)}."
        cov = run.coverage.get(block_id) if run.coverage is not None else None
        if cov is not None and cov.failed_tests:
            message += f" Failing tests that executed it: {', '.join(cov.failed_tests[:3])}."
        first = block_id in run.first_attempt
        # A command that could not run says nothing about the code (issue 19.5).
        cause = failure_cause(run.exit_code, run.timed_out, run.output_tail)
        if cause == "environment":
            message += f" {ENVIRONMENT_ADVICE}"
        elif cause == "timeout":
            message += f" {TIMEOUT_ADVICE}"
        elif first:
            advice = _checkpoint(workflow, "first-attempt", _FIRST_ATTEMPT_ADVICE)
            message += f" It was the block's first attempt: {advice}"
        if stale:
            message += " The block has changed since; run the verification again."
        elif cause == "code" and not first:
            message += " Fix the block (or the test) and run the verification again."
        add(
            "HR302",
            message,
            command=list(run.command),
            exit_code=run.exit_code,
            timed_out=run.timed_out,
            first_attempt=first,
            cause=cause,
        )

    tier = evidence.tier
    if tier is not None:
        why = f" {tier.why.strip()}" if tier.why.strip() else ""
        if "trace" in evidence.needs:
            earlier = " The trace on record is for earlier content." if evidence.stale_trace else ""
            add(
                "HR303",
                f"{block} is in the {tier.name!r} risk tier, which requires a manual trace of "
                f"this exact content.{why}{earlier} Walk through it by hand, then record it "
                f"with `handrail trace {block_id}`.",
                needs="trace",
                tier=tier.name,
            )
        if "second_reviewer" in evidence.needs:
            add(
                "HR303",
                f"{block} is in the {tier.name!r} risk tier, which requires a second reviewer "
                f"(not its author) to approve this exact content.{why} Ask a teammate to read "
                f"it and run `handrail review {block_id} --approve` (or approve the pull request "
                "where CI passes approvals with `check --approved-by`).",
                needs="second_reviewer",
                tier=tier.name,
            )

    cov = evidence.coverage
    if cov is not None and run is not None and evidence.status in ("verified", "unverified"):
        missing = sorted(cov.executable_lines - cov.executed_lines)
        for low, high in _runs_of(missing):
            count = high - low + 1
            lines = f"line {line + low}" if count == 1 else f"lines {line + low}-{line + high}"
            severity = workflow.severity_of("HR312")
            if severity is None:
                break
            findings.append(
                Finding(
                    "HR312",
                    severity,
                    f"No test ran {lines} of {block_id} ({count} of "
                    f"{len(cov.executable_lines)} executable lines).",
                    path,
                    line + low,
                    1,
                    line + high,
                    None,
                    {"block_id": block_id, "content_hash": evidence.content_hash},
                )
            )

    if evidence.explanation_required and evidence.status == "verified" and not evidence.explained:
        advice = _checkpoint(workflow, "explain-every-line", _EXPLAIN_ADVICE)
        add(
            "HR304",
            f"The author has not acknowledged being able to explain every line of {block_id} "
            f"in {path}. Read it, then record it with `handrail explain {block_id}`. {advice}",
        )
    return findings


def _runs_of(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted numbers as (first, last) runs of consecutive ones."""
    found: list[tuple[int, int]] = []
    for n in numbers:
        if found and n == found[-1][1] + 1:
            found[-1] = (found[-1][0], n)
        else:
            found.append((n, n))
    return found


def lines_summary(coverage: BlockCoverage | None) -> str | None:
    """ "12/12 lines run by 4 tests" (or why there is no such figure), for lens and hover."""
    if coverage is None:
        return None
    if coverage.outcome == "not_measured":
        return "not measured"
    executable = coverage.executable_lines
    if not executable:
        return "no executable lines"
    ran = len(coverage.executed_lines & executable)
    tests = coverage.test_count
    by = f" by {tests} test{'s' if tests != 1 else ''}" if tests else ""
    return f"{ran}/{len(executable)} lines run{by}"


def run_result_for_block(run: VerificationRun, block_id: str) -> str:
    """What one run proved for one block, in words, for the hover, `pr` and `blame`.

    The run's exit status alone says the opposite of the truth for a run that could not
    measure anything ("passed" while coverage was missing) or that never executed the block,
    so this reads the block's own verdict in the record first."""
    verdict = run.block_outcome(block_id)
    if verdict == "could_not_run":
        return f"could not run ({run.could_not_run})"
    outcome = run.outcome
    if verdict == "failed_elsewhere":
        return f"{outcome} in tests that did not execute this block"
    coverage = run.coverage.get(block_id) if run.coverage is not None else None
    if coverage is not None:
        figure = lines_summary(coverage)
        executable = coverage.executable_lines
        if run.passed and executable and not coverage.executed_lines & executable:
            outcome += " without executing this block"
        if figure:
            outcome += f", {figure}"
    return outcome


def probe_summary(evidence: BlockEvidence) -> str | None:
    """ "probe 5/6 caught" (and how many survivors were dismissed, or that the probe was cut
    short), for the lens, hover, `pr` and `blame`; None when this content was never probed."""
    probe = evidence.probe
    if probe is None:
        return None
    text = f"probe {probe.caught}/{probe.tried} caught"
    dismissed = sum(1 for m in probe.survivors if m.id in evidence.dismissed_mutants)
    if dismissed:
        text += f", {dismissed} dismissed"
    if not probe.complete:
        text += " (cut short)"
    return text


def status_summary(evidence: BlockEvidence) -> str:
    """One short line for a code lens or hover: the status and what is still missing."""
    run = evidence.deciding_run
    lines = lines_summary(evidence.coverage)
    if evidence.status == "verified" and run is not None:
        text = f"verified {_when(run.finished_at)}"
        if lines is not None:
            text += f" · {lines}"
    elif evidence.status == "unverified" and run is not None and evidence.unproven is not None:
        text = "not verified: no test ran it"
        if lines is not None:
            text += f" · {lines}"
    elif evidence.status == "unverified" and run is not None and evidence.failed_elsewhere:
        text = "not verified: its run failed in other code"
    elif evidence.status == "changed" and run is not None:
        text = f"changed since verified {_when(run.finished_at)}"
    elif evidence.status == "failed" and run is not None:
        text = f"verification failed: {_outcome(run)}"
    else:
        text = "not verified"
    if evidence.could_not_run is not None:
        text += " · last run could not run"
    probed = probe_summary(evidence)
    if probed is not None:
        text += f" · {probed}"
    missing = [n.replace("_", " ") for n in evidence.needs]
    if evidence.explanation_required and evidence.status == "verified" and not evidence.explained:
        missing.append("explanation")
    if missing:
        text += " · needs " + ", ".join(missing)
    return text
