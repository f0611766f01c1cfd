"""`handrail review`: a second reader's verdict on a block's exact content.

The strict pack asks for a second reviewer on risky code, and `accept` can ask for a review of
every block. A review is a `Review` ledger record bound to the block's content hash, so an edit
voids it like every other acknowledgement. The reviewer is git's identity on the machine that
records it, and the block's own author (who marked it, or acknowledged explaining it) is
refused: a review by the author is no second pair of eyes.

In CI, approvals can come from the code host instead (`handrail check --approved-by`): the
host has already refused the pull request's author as an approver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from handrail.ledger.evidence import EvidenceIndex
from handrail.ledger.records import Review, Verdict
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace


class ReviewedBlockJson(TypedDict):
    block: str
    path: str
    content_hash: str
    record: str


class RefusedReviewJson(TypedDict):
    block: str
    path: str
    reason: str


class ReviewJson(TypedDict):
    """`ReviewResult` as `handrail review --json` and ``handrail.review`` report it."""

    reviewer: str
    verdict: Verdict
    recorded: list[ReviewedBlockJson]
    refused: list[RefusedReviewJson]


class ReviewError(Exception):
    """The review cannot be recorded at all (no identity, nothing named, unknown block)."""


@dataclass(frozen=True, slots=True)
class ReviewedBlock:
    block_id: str
    path: str
    content_hash: str
    record_id: str


@dataclass(frozen=True, slots=True)
class RefusedReview:
    block_id: str
    path: str
    reason: str


@dataclass(slots=True)
class ReviewResult:
    reviewer: str
    verdict: Verdict
    recorded: list[ReviewedBlock] = field(default_factory=list)
    refused: list[RefusedReview] = field(default_factory=list)

    def as_json(self) -> ReviewJson:
        return {
            "reviewer": self.reviewer,
            "verdict": self.verdict,
            "recorded": [
                {
                    "block": r.block_id,
                    "path": r.path,
                    "content_hash": r.content_hash,
                    "record": r.record_id,
                }
                for r in self.recorded
            ],
            "refused": [
                {"block": r.block_id, "path": r.path, "reason": r.reason} for r in self.refused
            ],
        }


def record_reviews(
    ws: Workspace,
    target: str,
    *,
    reviewer: str | None,
    verdict: Verdict,
    note: str = "",
) -> ReviewResult:
    """Record `reviewer`'s verdict on a block, or on every block of a task, as they are now.

    Blocks the reviewer wrote are refused, one reason each; the others are recorded. Raises
    ReviewError when nothing can be recorded at all, LedgerWriteError when the ledger fails.
    """
    from handrail.verify.run import Target, VerifyError, find_blocks

    if not reviewer or not reviewer.strip():
        raise ReviewError(
            "git does not know who you are (user.name / user.email): a review must name its "
            "reviewer. Set them with `git config user.name` and `git config user.email`."
        )
    try:
        parsed = Target.parse(target)
    except VerifyError as exc:
        raise ReviewError(str(exc)) from None
    blocks = find_blocks(ws, parsed)
    if not blocks:
        what = "block" if parsed.kind == "block" else "generated block of task"
        raise ReviewError(f"there is no {what} {target} in the workspace")
    ledger = Ledger(ws)
    index = EvidenceIndex.build(ledger.read().records)
    result = ReviewResult(reviewer=reviewer, verdict=verdict)
    seen: dict[str, int] = {}
    for block in blocks:
        seen[block.block_id] = seen.get(block.block_id, 0) + 1
    for block in blocks:
        if seen[block.block_id] > 1:
            result.refused.append(
                RefusedReview(block.block_id, block.path, "it appears more than once (HR305)")
            )
            continue
        if reviewer.casefold() in index.authors_of(block.block_id, block.content_hash):
            result.refused.append(
                RefusedReview(
                    block.block_id,
                    block.path,
                    "you are its author: a second reviewer must be someone else",
                )
            )
            continue
        record = Review.create(
            block_id=block.block_id,
            content_hash=block.content_hash,
            author=reviewer,
            verdict=verdict,
            note=note,
        )
        ledger.append(record)
        result.recorded.append(
            ReviewedBlock(block.block_id, block.path, block.content_hash, record.id)
        )
    return result


def approvers_from(values: Sequence[str]) -> list[str]:
    """`--approved-by` values: names, one per flag or comma-separated, empties dropped."""
    names: list[str] = []
    for value in values:
        names.extend(part.strip() for part in value.split(","))
    return [n for n in dict.fromkeys(names) if n]
