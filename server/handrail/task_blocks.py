"""What a block owes its task: HR314 (generated under an earlier spec) and HR315 (its task
was closed while the block is still unverified).

Evidence (HR300-HR304) says whether the block's content passed its checks; these two say
whether those checks still answer the task's question. A spec edited after generation asks
a different one, so the block must be checked and explained again against the new spec (or
regenerated); a task closed with unverified blocks left behind is a loose end nobody is
looking at any more, since closed tasks leave the menus.
"""

from __future__ import annotations

import datetime as dt

from handrail.findings import Finding
from handrail.ledger.evidence import BlockEvidence, EvidenceIndex
from handrail.ledger.records import BlockMarked
from handrail.tasks import Task
from handrail.workflow.model import Workflow

__all__ = ["generated_under_earlier_spec", "task_block_findings"]


def generated_under_earlier_spec(marked: BlockMarked | None, task: Task) -> dt.datetime | None:
    """When the block's spec was replaced, if it was generated under an earlier spec; else None.

    A record that holds the spec's hash is compared with the current spec (so a spec
    edited by hand in the TOML counts too); an older record without one is compared by
    time with the spec history.
    """
    if marked is None:
        return None
    since = task.spec_since
    if marked.spec_hash is not None:
        if marked.spec_hash == task.spec_hash:
            return None
        # Edited by hand (no history): the block's own marking is the latest safe bound.
        return since if since is not None and since > marked.at else marked.at
    if since is not None and marked.at < since:
        return since
    return None


def _rechecked_since(
    index: EvidenceIndex, evidence: BlockEvidence, since: dt.datetime, *, explanation: bool
) -> bool:
    """Whether the block's current content passed a run, and was explained, after `since`."""
    passed = any(
        run.passed
        and run.blocks.get(evidence.block_id) == evidence.content_hash
        and run.finished_at >= since
        for run in index.runs_for(evidence.block_id)
    )
    if not passed:
        return False
    if not explanation:
        return True
    return any(
        e.content_hash == evidence.content_hash and e.at >= since
        for e in index.explanations_for(evidence.block_id)
    )


def task_block_findings(
    index: EvidenceIndex,
    evidence: BlockEvidence,
    task: Task | None,
    *,
    path: str,
    line: int,
    end_line: int,
    workflow: Workflow,
) -> list[Finding]:
    """HR314 and HR315 of one block (placed on its begin marker, like HR300)."""
    if task is None:
        return []
    findings: list[Finding] = []
    block_id = evidence.block_id
    severity = workflow.severity_of("HR314")
    since = generated_under_earlier_spec(evidence.marked or index.marked(block_id), task)
    if (
        severity is not None
        and since is not None
        and not _rechecked_since(index, evidence, since, explanation=evidence.explanation_required)
    ):
        when = since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        findings.append(
            Finding(
                code="HR314",
                severity=severity,
                message=(
                    f"Block {block_id} was generated under an earlier spec of task {task.id} "
                    f"(the spec changed {when}): verify and explain it again against the new "
                    f"spec, or regenerate it (handrail generate --replace {block_id})."
                ),
                path=path,
                line=line,
                end_line=end_line,
                data={"block": block_id, "task": task.id, "spec_changed": since.isoformat()},
            )
        )
    severity = workflow.severity_of("HR315")
    if severity is not None and task.is_closed and not evidence.is_verified:
        advice = (
            "remove the block, or reopen the task"
            if task.status == "abandoned"
            else f"verify it (handrail verify {block_id}), or reopen the task"
        )
        findings.append(
            Finding(
                code="HR315",
                severity=severity,
                message=(
                    f"Task {task.id} is closed ({task.status}) but block {block_id} is not "
                    f"verified: {advice} (handrail task reopen {task.id})."
                ),
                path=path,
                line=line,
                end_line=end_line,
                data={"block": block_id, "task": task.id, "status": task.status},
            )
        )
    return findings
