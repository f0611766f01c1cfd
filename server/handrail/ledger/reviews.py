"""Judging a block's reviews: who approved this exact content, and who asked for changes.

A reviewer's newest verdict on a content hash is the one that counts. Reviews by the block's
own authors never count. Approvals from the code host (`handrail check --approved-by`, fed by
CI from the pull request's approving reviews of its head commit) count as a second reviewer:
the host has already refused the pull request's author as an approver.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from handrail.ledger.records import Review, Verdict


def latest_verdicts(reviews: Iterable[Review], content_hash: str) -> dict[str, Verdict]:
    """Each reviewer's newest verdict on `content_hash`; `reviews` newest first."""
    verdicts: dict[str, Verdict] = {}
    for review in reviews:
        if review.content_hash == content_hash and review.author:
            verdicts.setdefault(review.author, review.verdict)
    return verdicts


def is_reviewed(
    reviews: Iterable[Review],
    content_hash: str,
    authors: Collection[str],
    host_approvers: Collection[str] = (),
) -> bool:
    """Someone other than `authors` (case-folded) approved this content and nobody's newest
    verdict on it asks for changes; or the code host approved the change."""
    verdicts = {
        who: verdict
        for who, verdict in latest_verdicts(reviews, content_hash).items()
        if who.casefold() not in authors
    }
    if "request_changes" in verdicts.values():
        return False
    return "approve" in verdicts.values() or bool(host_approvers)


def changes_requested_by(reviews: Iterable[Review], content_hash: str) -> list[str]:
    """Reviewers whose newest verdict on this content asks for changes."""
    verdicts = latest_verdicts(reviews, content_hash)
    return sorted(who for who, verdict in verdicts.items() if verdict == "request_changes")
