"""The generated blocks the work tree holds now, with the evidence for each."""

from __future__ import annotations

from dataclasses import dataclass

from handrail.analysis import Snapshot, SourceAnalysis, analyze_source
from handrail.ledger.evidence import BlockEvidence, block_evidence
from handrail.ledger.risk import tier_for


@dataclass(frozen=True, slots=True)
class SourceFile:
    rel: str
    text: str
    analysis: SourceAnalysis


def files_with_blocks(snapshot: Snapshot) -> list[SourceFile]:
    """Every file of the workspace that holds markers, analysed as `handrail check` does."""
    from handrail.marking.ids import marker_texts

    # The gate's own scan (one `git grep` in a repository), UTF-16 files included: a block
    # `check` sees and `pr`, `stats` or `accept` did not would be generated code hidden.
    return [
        SourceFile(rel, text, analyze_source(snapshot, rel, text))
        for rel, text in marker_texts(snapshot.ws)
    ]


def evidence_for_content(
    snapshot: Snapshot, block_id: str, path: str, content_hash: str
) -> BlockEvidence:
    """The evidence for a block's content known only by its hash (its markers are gone).

    The risk tier comes from the path and the task's `risk` (the content's keywords are not
    at hand), the review knobs from the workflow, as `evaluate_block` does for marked blocks.
    """
    workflow = snapshot.workflow.workflow
    marked = snapshot.index.marked(block_id)
    task = snapshot.tasks.tasks.get(marked.task_id if marked else block_id.split(".")[0])
    tier = tier_for(path, "", workflow, task_risk=task.task.risk if task else None)
    return block_evidence(
        snapshot.index,
        block_id,
        content_hash,
        tier,
        require_explanation=workflow.review.require_explanation,
        require_second_reviewer=tier is not None
        and tier.name in workflow.review.require_second_reviewer_for,
    )
