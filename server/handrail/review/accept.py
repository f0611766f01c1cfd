"""`handrail accept`: remove the markers of reviewed blocks, keep their records.

Markers are how a reviewer sees AI involvement in a diff; once a block is verified, explained
and reviewed they have done their job. Accepting records an `Accepted` record for the block's
exact content first and then removes the two marker lines, so the ledger (and `handrail
stats`) keeps the block's whole history. Any block that is not finished is refused, with the
reasons in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from handrail.analysis import Snapshot
from handrail.blocks.mark import MarkError, unmark_file
from handrail.blocks.markers import block_content
from handrail.ledger.evidence import BlockEvidence
from handrail.ledger.records import Accepted, line_hash
from handrail.ledger.reviews import changes_requested_by
from handrail.ledger.store import Ledger
from handrail.review._tree import SourceFile, files_with_blocks
from handrail.workspace import PathEscapesWorkspace, Workspace


@dataclass(frozen=True, slots=True)
class AcceptedBlock:
    block_id: str
    path: str
    begin_line: int
    content_hash: str
    record_id: str


@dataclass(frozen=True, slots=True)
class Refusal:
    block_id: str
    path: str | None
    reasons: list[str]

    @property
    def message(self) -> str:
        where = f" in {self.path}" if self.path else ""
        return f"{self.block_id}{where} was not accepted: " + "; ".join(self.reasons) + "."


@dataclass(slots=True)
class AcceptResult:
    accepted: list[AcceptedBlock] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def refusal_reasons(evidence: BlockEvidence, *, require_review: bool = False) -> list[str]:
    """Why a block with this evidence may not be accepted yet (empty: it may).

    `require_review` is the workflow's `review.require_review_to_accept`."""
    block = evidence.block_id
    reasons: list[str] = []
    if evidence.status == "unverified":
        reasons.append(f"it has never been verified (run `handrail verify {block}`)")
    elif evidence.status == "changed":
        reasons.append(
            f"it changed since its last passing run (run `handrail verify {block}` again)"
        )
    elif evidence.status == "failed":
        reasons.append("its latest verification failed (fix it and verify again)")
    if "trace" in evidence.needs:
        tier = evidence.tier.name if evidence.tier else "its"
        reasons.append(f"the {tier!r} risk tier needs a manual trace (`handrail trace {block}`)")
    if "second_reviewer" in evidence.needs:
        reasons.append(
            "its risk tier needs a second reviewer's approval of this content "
            f"(a teammate runs `handrail review {block} --approve`)"
        )
    elif require_review and not evidence.reviewed:
        reasons.append(
            "no one but its author has approved this content, and the workflow asks for it "
            f"(a teammate runs `handrail review {block} --approve`)"
        )
    if evidence.explanation_required and not evidence.explained:
        reasons.append(
            f"its author has not acknowledged explaining every line (`handrail explain {block}`)"
        )
    return reasons


def accept_blocks(
    ws: Workspace, block_ids: Sequence[str] | None, *, author: str | None
) -> AcceptResult:
    """Accept the named blocks (None: every block in the workspace), refusing unfinished ones.

    Raises LedgerWriteError when the ledger cannot be written: then nothing of that block
    changed. A file that cannot be rewritten becomes a refusal, its record kept (the record
    of acceptance is harmless while the markers are still there).
    """
    snapshot = Snapshot.load(ws)
    sources = files_with_blocks(snapshot)
    where: dict[str, list[SourceFile]] = {}
    malformed: dict[str, str] = {}
    for source in sources:
        for block in source.analysis.parsed.blocks:
            where.setdefault(block.id, []).append(source)
        for problem in source.analysis.parsed.problems:
            if problem.block_id:
                malformed.setdefault(problem.block_id, source.rel)

    wanted = sorted(where) if block_ids is None else list(dict.fromkeys(block_ids))
    result = AcceptResult()
    ready: dict[str, list[tuple[str, str]]] = {}
    contents: dict[str, str] = {}
    for block_id in wanted:
        found = where.get(block_id, [])
        if block_id in malformed:
            result.refused.append(
                Refusal(
                    block_id,
                    malformed[block_id],
                    ["its markers are malformed or duplicated (HR305): fix them first"],
                )
            )
            continue
        if not found:
            accepted = snapshot.index.accepted_for(block_id)
            reason = (
                "it was already accepted: its markers are gone"
                if accepted
                else "there is no such block in the workspace"
            )
            result.refused.append(Refusal(block_id, None, [reason]))
            continue
        if len(found) > 1:
            places = ", ".join(s.rel for s in found)
            result.refused.append(
                Refusal(block_id, None, [f"it appears in more than one file ({places}) (HR305)"])
            )
            continue
        source = found[0]
        evidence = source.analysis.evidence[block_id]
        reasons = refusal_reasons(
            evidence, require_review=snapshot.workflow.workflow.review.require_review_to_accept
        )
        asking = changes_requested_by(snapshot.index.reviews_for(block_id), evidence.content_hash)
        if asking:
            reasons.append(f"{', '.join(asking)} asked for changes to this content")
        if reasons:
            result.refused.append(Refusal(block_id, source.rel, reasons))
            continue
        ready.setdefault(source.rel, []).append((block_id, evidence.content_hash))
        parsed = source.analysis.parsed.block(block_id)
        contents[block_id] = block_content(source.text, parsed) if parsed else ""

    ledger = Ledger(ws)
    for rel, blocks in sorted(ready.items()):
        spans = _content_spans(where[blocks[0][0]][0], [b for b, _ in blocks])
        records = [
            Accepted.create(
                block_id=block_id,
                content_hash=digest,
                author=author,
                path=rel,
                begin_line=spans[block_id][0] if spans.get(block_id) else None,
                end_line=spans[block_id][1] if spans.get(block_id) else None,
                line_hashes=[line_hash(line) for line in contents[block_id].splitlines()],
            )
            for block_id, digest in blocks
        ]
        for record in records:
            ledger.append(record)
        try:
            path = ws.resolve_inside(rel)
            removed = unmark_file(path, rel, [b for b, _ in blocks])
        except (MarkError, PathEscapesWorkspace, OSError) as exc:
            reason = f"its markers could not be removed ({exc}); the acceptance is recorded"
            result.refused += [Refusal(b, rel, [reason]) for b, _ in blocks]
            continue
        lines = {b.id: b.begin_line for b in removed}
        for (block_id, digest), record in zip(blocks, records, strict=True):
            result.accepted.append(
                AcceptedBlock(block_id, rel, lines.get(block_id, 1), digest, record.id)
            )
    return result


def _content_spans(source: SourceFile, block_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Where each block's content will stand once the markers of `block_ids` are removed:
    every removed block above it moves it up two lines. Blocks with no content are absent."""
    wanted = set(block_ids)
    removed = sorted(
        (b for b in source.analysis.parsed.blocks if b.id in wanted), key=lambda b: b.begin_line
    )
    spans: dict[str, tuple[int, int]] = {}
    for above, block in enumerate(removed):
        lines = block.end_line - block.begin_line - 1
        if lines > 0:
            begin = block.begin_line + 1 - 2 * above - 1
            spans[block.id] = (begin, begin + lines - 1)
    return spans
