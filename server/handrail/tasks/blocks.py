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
from dataclasses import dataclass

from handrail.findings import Finding
from handrail.ledger.evidence import BlockEvidence, EvidenceIndex
from handrail.ledger.records import BlockMarked
from handrail.tasks.model import LoadedTask, Task
from handrail.workflow.model import Workflow

__all__ = [
    "HandEdit",
    "first_seen_by_hand",
    "generated_under_earlier_spec",
    "hand_edit",
    "task_block_findings",
]


@dataclass(frozen=True, slots=True)
class HandEdit:
    """The task's spec was changed outside `task edit` (in the TOML, by hand): the spec
    history cannot say when, so the ledger bounds it."""

    after: dt.datetime
    """The newest block marked under another spec with no edit recorded since: the spec
    changed after it."""
    first_seen: dt.datetime
    """The first record made under the current spec after that (a marking, a run, an
    explanation), else the task file's modification time, else `after`."""


def hand_edit(
    task: Task, index: EvidenceIndex, *, modified: dt.datetime | None = None
) -> HandEdit | None:
    """Whether the task's spec was changed by hand since blocks were marked under it.

    Every marking records the spec's hash: a block marked under a spec that is not the
    current one, later than the last edit the history records, saw a spec that was then
    replaced without `task edit`. `modified` is the task file's modification time.
    """
    current = task.spec_hash
    since = task.spec_since
    blocks = index.blocks_of_task(task.id)
    stale = [
        m.at
        for m in (index.marked(b) for b in blocks)
        if m is not None
        and m.spec_hash is not None
        and m.spec_hash != current
        and (since is None or m.at > since)
    ]
    if not stale:
        return None
    after = max(stale)
    seen = [
        r.at
        for b in blocks
        for r in (index.marked(b), *index.runs_for(b), *index.explanations_for(b))
        if r is not None and r.spec_hash == current and r.at > after
    ]
    if seen:
        first = min(seen)
    elif modified is not None and modified > after:
        first = modified
    else:
        first = after
    return HandEdit(after=after, first_seen=first)


def first_seen_by_hand(loaded: LoadedTask, index: EvidenceIndex) -> dt.datetime | None:
    """When the task's spec was first seen changed by hand (`hand_edit`), else None."""
    try:
        modified = dt.datetime.fromtimestamp(loaded.path.stat().st_mtime, dt.UTC)
    except OSError:
        modified = None
    found = hand_edit(loaded.task, index, modified=modified)
    return found.first_seen if found is not None else None


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
    index: EvidenceIndex,
    evidence: BlockEvidence,
    since: dt.datetime,
    spec: str,
    *,
    explanation: bool,
) -> bool:
    """Whether the block's current content passed a run, and was explained, under the spec
    whose hash is `spec`: a record that holds the spec's hash is compared with it (so a run
    made before a hand edit does not count, whatever its date); an older one, by time with
    `since`."""

    def under_spec(recorded: str | None, moment: dt.datetime) -> bool:
        return recorded == spec if recorded is not None else moment >= since

    passed = any(
        run.passed
        and run.blocks.get(evidence.block_id) == evidence.content_hash
        and under_spec(run.spec_hash, run.finished_at)
        for run in index.runs_for(evidence.block_id)
    )
    if not passed:
        return False
    if not explanation:
        return True
    return any(
        e.content_hash == evidence.content_hash and under_spec(e.spec_hash, e.at)
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
    marked = evidence.marked or index.marked(block_id)
    since = generated_under_earlier_spec(marked, task)
    if (
        severity is not None
        and since is not None
        and not _rechecked_since(
            index, evidence, since, task.spec_hash, explanation=evidence.explanation_required
        )
    ):
        by_hand = (
            marked is not None
            and marked.spec_hash is not None
            and (task.spec_since is None or task.spec_since < marked.at)
        )
        when = since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        changed = f"changed by hand after {when}" if by_hand else f"changed {when}"
        findings.append(
            Finding(
                code="HR314",
                severity=severity,
                message=(
                    f"Block {block_id} was generated under an earlier spec of task {task.id} "
                    f"(the spec {changed}): verify and explain it again against the new "
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
