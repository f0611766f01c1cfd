"""Evidence the author gives about a block: a manual trace (HR303) or "I can explain every
line" (HR304), bound to the block's exact content.

One use case for every front end: `handrail trace` / `handrail explain` find the block on
disk, the language server's ``handrail.recordTrace`` / ``handrail.explain`` in the editor's
buffer (unsaved edits included), and both hand the content they found to
`record_acknowledgement`, which appends the record and says what the block still needs. Both
print `Acknowledgement.to_json()`: one JSON shape (docs/commands.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from handrail.blocks.markers import Block, block_content, parse_blocks_bytes
from handrail.workspace import FileTooLarge, NotARegularFile, Workspace, read_regular_file

AckKind = Literal["trace", "explain"]

MAX_BLOCK_FILE_BYTES = 32 * 1024 * 1024
"""A file read from disk to find a block in is at most this large: a server must not read
a multi-gigabyte file (or wait on a FIFO) because the ledger names it."""


class BlockFileError(Exception):
    """The file said to hold a block cannot be read as a source file (the message says why)."""


class AcknowledgementJson(TypedDict):
    """`Acknowledgement` as `handrail trace --json` and ``handrail.recordTrace`` return it."""

    block: str
    path: str
    content_hash: str
    record: str
    kind: AckKind
    author: str | None
    status: str
    tier: str | None
    still_needed: list[str]
    verified: bool


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The record just written and the block's evidence with it."""

    block_id: str
    path: str
    content_hash: str
    record_id: str
    kind: AckKind
    author: str | None
    status: str
    """The block's verification status (`BlockEvidence.status`) for this content."""
    tier: str | None
    still_needed: list[str]
    """What the workflow still asks for, as sentences (empty when nothing is missing)."""
    verified: bool
    trace_required: bool = False
    """Whether the block's risk tier asks for a trace (the CLI says so when it does not)."""

    def to_json(self) -> AcknowledgementJson:
        return {
            "block": self.block_id,
            "path": self.path,
            "content_hash": self.content_hash,
            "record": self.record_id,
            "kind": self.kind,
            "author": self.author,
            "status": self.status,
            "tier": self.tier,
            "still_needed": list(self.still_needed),
            "verified": self.verified,
        }


def block_in_file(ws: Workspace, rel: str, block_id: str) -> tuple[str, Block] | None:
    """The text of workspace file `rel` and its block `block_id`, None when it holds none.

    Read with `read_regular_file`: a FIFO is refused without blocking and a file over
    `MAX_BLOCK_FILE_BYTES` without reading it. Raises `BlockFileError` for those two;
    an unreadable or vanished file is None, like a file without the block.
    """
    try:
        data = read_regular_file(ws.root / rel, MAX_BLOCK_FILE_BYTES)
    except NotARegularFile:
        raise BlockFileError(f"{rel} is not a regular file") from None
    except FileTooLarge as exc:
        raise BlockFileError(
            f"{rel} is {exc.size:,} bytes, over the {MAX_BLOCK_FILE_BYTES:,} bytes a block's file "
            "is read up to"
        ) from None
    except OSError:
        return None
    block = parse_blocks_bytes(data, rel).block(block_id)
    if block is None:
        return None
    return data.decode("utf-8", "replace"), block


def record_acknowledgement(
    ws: Workspace,
    kind: AckKind,
    block_id: str,
    path: str,
    content: str,
    *,
    author: str | None,
    note: str = "",
) -> Acknowledgement:
    """Append a `Trace` (``kind="trace"``) or an `Explanation` for `content`, the block's
    text between its markers as the caller found it, and evaluate the block after it.

    Raises `LedgerWriteError` when the record cannot be written (nothing is then recorded).
    """
    from handrail.ledger.evidence import EvidenceIndex, evaluate_block
    from handrail.ledger.records import Explanation, Trace, content_hash
    from handrail.ledger.store import Ledger
    from handrail.tasks.files import load_task
    from handrail.tasks.model import TaskFileError
    from handrail.workflow.load import load_workflow

    task_id = block_id.rpartition(".")[0]
    try:
        task = load_task(ws, task_id).task
    except TaskFileError:
        task = None
    digest = content_hash(content)
    record: Trace | Explanation
    if kind == "trace":
        record = Trace.create(block_id=block_id, content_hash=digest, note=note, author=author)
    else:
        record = Explanation.create(
            block_id=block_id,
            content_hash=digest,
            author=author,
            spec_hash=task.spec_hash if task is not None else None,
        )
    ledger = Ledger(ws)
    ledger.append(record)

    workflow = load_workflow(ws).workflow
    evidence = evaluate_block(
        EvidenceIndex.build(ledger.read(workflow).records),
        block_id,
        path,
        content,
        workflow,
        task_risk=task.risk if task is not None else None,
    )
    still: list[str] = []
    if evidence.status != "verified":
        still.append("a passing verification run on this content (`handrail verify`)")
    still += [n.replace("_", " ") for n in evidence.needs]
    if evidence.explanation_required and not evidence.explained:
        still.append(f"your explanation (`handrail explain {block_id}`)")
    return Acknowledgement(
        block_id=block_id,
        path=path,
        content_hash=digest,
        record_id=record.id,
        kind=kind,
        author=author,
        status=evidence.status,
        tier=evidence.tier.name if evidence.tier else None,
        still_needed=still,
        verified=evidence.is_verified,
        trace_required=evidence.tier is not None and "trace" in evidence.tier.requires,
    )


def content_of(text: str, block: Block) -> str:
    """The content `record_acknowledgement` takes: the text between the block's markers."""
    return block_content(text, block)
