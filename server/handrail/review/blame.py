"""`handrail blame`: for any line, whether it was generated, under which task and spec, and
what proved it — with markers, and after `accept` removed them.

Marked blocks are read from their markers. Accepted blocks are found again from their
`accepted` record: the hash of each of their lines, taken when the markers came off. The lines
are looked for where the record left them, then anywhere in the file (a rebase, a squash merge
or code added above moves them), then as the best partial match (someone edited them since).
Each block gets a state that says which:

- `marked`: the markers are still there;
- `accepted`: the accepted content stands where it was accepted;
- `moved`: the whole content stands elsewhere in the file;
- `edited`: at least half of its non-blank lines are still there, the rest changed;
- `gone`: too little of it is left in this file (deleted, rewritten, or moved to another file).

The ledger survives squash merges and rebases because it is part of the tree, so none of this
needs a hosted service.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from handrail.analysis import Snapshot, analyze_source
from handrail.blocks.markers import decode_source, normalise_newlines
from handrail.ledger.evidence import BlockEvidence
from handrail.ledger.records import Accepted, line_hash
from handrail.review._tree import evidence_for_content
from handrail.workspace import PathEscapesWorkspace, Workspace

State = Literal["marked", "accepted", "moved", "edited", "gone"]
MAX_FILE_BYTES = 8 * 1024 * 1024
_BLANK = line_hash("")


class BlameError(Exception):
    """The file cannot be blamed: outside the workspace, missing, not a regular file."""


@dataclass(frozen=True, slots=True)
class Event:
    what: str
    who: str | None
    at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {"what": self.what, "who": self.who, "at": self.at.isoformat()}


@dataclass(frozen=True, slots=True)
class BlameBlock:
    block_id: str
    task_id: str
    spec: str | None
    state: State
    lines: tuple[int, ...]
    """Lines of the file now that hold the block's content (markers included while marked)."""
    detail: str
    status: str
    verified: bool
    events: tuple[Event, ...]
    """Marked, verified, explained, traced, reviewed, accepted: oldest first."""

    @property
    def first_line(self) -> int:
        return self.lines[0] if self.lines else 0

    @property
    def last_line(self) -> int:
        return self.lines[-1] if self.lines else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "block": self.block_id,
            "task": self.task_id,
            "spec": self.spec,
            "state": self.state,
            "lines": _ranges(self.lines),
            "detail": self.detail,
            "status": self.status,
            "verified": self.verified,
            "events": [e.as_json() for e in self.events],
        }


@dataclass(slots=True)
class BlameResult:
    path: str
    line_count: int
    blocks: list[BlameBlock] = field(default_factory=list)

    def at(self, line: int) -> BlameBlock | None:
        """The block that holds `line`, if any: generated code, marked or accepted."""
        for block in self.blocks:
            if line in block.lines:
                return block
        return None

    def as_json(self, line: int | None = None) -> dict[str, Any]:
        if line is not None:
            block = self.at(line)
            return {
                "path": self.path,
                "line": line,
                "generated": block is not None,
                "block": block.as_json() if block else None,
            }
        return {"path": self.path, "blocks": [b.as_json() for b in self.blocks]}


def _ranges(lines: tuple[int, ...]) -> list[list[int]]:
    runs: list[list[int]] = []
    for n in lines:
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return runs


def _read(ws: Workspace, rel: str) -> tuple[str, str]:
    try:
        path = ws.resolve_inside(rel)
    except PathEscapesWorkspace as exc:
        raise BlameError(f"{rel} is outside the workspace {ws.root}") from exc
    rel = ws.relative(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise BlameError(f"{rel}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise BlameError(f"{rel} is not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise BlameError(f"{rel} is over {MAX_FILE_BYTES // (1024 * 1024)} MB: not read")
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    text, _encoding = decode_source(data)
    return rel, normalise_newlines(text)


def blame_file(ws: Workspace, rel: str, *, snapshot: Snapshot | None = None) -> BlameResult:
    """Every generated block of workspace file `rel`, marked or accepted, with its lines now."""
    rel, text = _read(ws, rel)
    return blame_text(snapshot or Snapshot.load(ws), rel, text)


def blame_text(snapshot: Snapshot, rel: str, text: str) -> BlameResult:
    """`blame_file` for the text of `rel` as an editor holds it (LF line endings)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    result = BlameResult(rel, len(lines))
    analysis = analyze_source(snapshot, rel, text)
    marked_here: set[str] = set()
    for block in analysis.parsed.blocks:
        marked_here.add(block.id)
        evidence = analysis.evidence.get(block.id)
        if evidence is None:
            continue
        result.blocks.append(
            _blame_block(
                snapshot,
                block.id,
                evidence,
                "marked",
                tuple(range(block.begin_line, block.end_line + 1)),
                "between its handrail markers",
            )
        )
    result.blocks += accepted_blocks(snapshot, rel, lines, skip=marked_here)
    result.blocks.sort(key=lambda b: (b.first_line or 10**9, b.block_id))
    return result


def accepted_blocks(
    snapshot: Snapshot, rel: str, lines: list[str], *, skip: set[str] | None = None
) -> list[BlameBlock]:
    """The accepted blocks of `rel` found again in `lines` (the file's lines, no endings)."""
    records = [r for r in _newest_acceptances(snapshot, rel) if r.block_id not in (skip or ())]
    if not records:
        return []
    # Hashing every line costs ~1.5 us a line (15 ms at 10,000 lines, on the editor's event
    # loop for its hover): a block still where it was accepted needs only its own lines.
    hashes: list[str] | None = None
    found: list[BlameBlock] = []
    for record in records:
        placed = _in_place(record, lines)
        if placed is not None:
            state, where, detail = placed
        else:
            if hashes is None:
                hashes = [line_hash(line) for line in lines]
            state, where, detail = locate(record, hashes)
        evidence = evidence_for_content(snapshot, record.block_id, rel, record.content_hash)
        found.append(_blame_block(snapshot, record.block_id, evidence, state, where, detail))
    return found


def _in_place(record: Accepted, lines: list[str]) -> tuple[State, tuple[int, ...], str] | None:
    """`locate`'s answer when the lines stand where they were accepted, else None."""
    wanted = record.line_hashes
    begin = record.begin_line
    if not wanted or begin is None:
        return None
    size = len(wanted)
    # The same slice `locate` takes of the hashes, taken of the lines.
    if [line_hash(line) for line in lines[begin - 1 : begin - 1 + size]] != wanted:
        return None
    return "accepted", tuple(range(begin, begin + size)), "as accepted"


def _newest_acceptances(snapshot: Snapshot, rel: str) -> list[Accepted]:
    newest: dict[str, Accepted] = {}
    for record in snapshot.ledger.records:
        if isinstance(record, Accepted) and record.path == rel:
            newest[record.block_id] = record
    return list(newest.values())


def locate(record: Accepted, hashes: list[str]) -> tuple[State, tuple[int, ...], str]:
    """Where the accepted lines of `record` stand in a file whose line hashes are `hashes`."""
    wanted = record.line_hashes
    size = len(wanted)
    if not wanted:
        return "gone", (), "its record predates line tracking: the lines cannot be found again"
    begin = record.begin_line
    if begin is not None and hashes[begin - 1 : begin - 1 + size] == wanted:
        return "accepted", tuple(range(begin, begin + size)), "as accepted"
    starts = [i for i in range(len(hashes) - size + 1) if hashes[i : i + size] == wanted]
    if starts:
        best = min(starts, key=lambda i: abs(i + 1 - (begin or 1)))
        was = f" (accepted at lines {begin}-{begin + size - 1})" if begin else ""
        return "moved", tuple(range(best + 1, best + 1 + size)), f"moved{was}"
    # The best partial match: each matching non-blank line votes for a start.
    where: dict[str, list[int]] = {}
    for i, h in enumerate(hashes):
        if h != _BLANK:
            where.setdefault(h, []).append(i)
    votes: Counter[int] = Counter()
    for k, h in enumerate(wanted):
        for i in where.get(h, ()):
            votes[i - k] += 1
    meaningful = sum(1 for h in wanted if h != _BLANK)
    if votes and meaningful:
        start, count = max(votes.items(), key=lambda kv: (kv[1], -abs(kv[0] + 1 - (begin or 1))))
        if count * 2 >= meaningful:
            found = tuple(
                start + k + 1
                for k, h in enumerate(wanted)
                if h != _BLANK and 0 <= start + k < len(hashes) and hashes[start + k] == h
            )
            return "edited", found, f"edited since accepted: {count} of {meaningful} lines remain"
    return "gone", (), "not in this file any more (deleted, rewritten, or moved to another file)"


def _blame_block(
    snapshot: Snapshot,
    block_id: str,
    evidence: BlockEvidence,
    state: State,
    lines: tuple[int, ...],
    detail: str,
) -> BlameBlock:
    index = snapshot.index
    digest = evidence.content_hash
    marked = evidence.marked
    task_id = marked.task_id if marked else block_id.split(".")[0]
    task = snapshot.tasks.tasks.get(task_id)
    events: list[Event] = []
    if marked is not None:
        events.append(Event("marked", marked.author, marked.at))
    run = evidence.deciding_run
    if run is not None and run.passed and run.blocks.get(block_id) == digest:
        events.append(Event("verified", run.author, run.finished_at))
    events += [
        Event("explained", e.author, e.at)
        for e in index.explanations_for(block_id)
        if e.content_hash == digest
    ]
    events += [
        Event("traced", t.author, t.at)
        for t in index.traces_for(block_id)
        if t.content_hash == digest
    ]
    events += [
        Event("approved" if r.verdict == "approve" else "changes requested", r.author, r.at)
        for r in index.reviews_for(block_id)
        if r.content_hash == digest
    ]
    events += [
        Event("accepted", a.author, a.at)
        for a in index.accepted_for(block_id)
        if a.content_hash == digest
    ]
    events.sort(key=lambda e: e.at)
    return BlameBlock(
        block_id=block_id,
        task_id=task_id,
        spec=task.task.spec if task else None,
        state=state,
        lines=lines,
        detail=detail,
        status=evidence.status,
        verified=evidence.is_verified,
        events=tuple(events),
    )


def render_text(result: BlameResult, line: int | None = None) -> str:
    """For people: one paragraph per block (or for the block holding `line`)."""
    if line is not None:
        block = result.at(line)
        if block is None:
            return f"{result.path}:{line}: not generated (no marked or accepted block holds it)\n"
        return f"{result.path}:{line}: generated\n" + _paragraph(block)
    if not result.blocks:
        return f"{result.path}: no generated code (no marked or accepted block)\n"
    return "\n".join(_paragraph(b) for b in result.blocks)


def _paragraph(block: BlameBlock) -> str:
    where = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in _ranges(block.lines))
    head = f"{block.block_id} ({block.state}"
    head += f", lines {where})" if where else ")"
    out = [head, f"  {block.detail}"]
    spec = " ".join((block.spec or "(the task file is gone)").split())
    out.append(f"  task {block.task_id}: {spec}")
    verdict = "verified" if block.verified else f"not verified ({block.status})"
    out.append(f"  evidence for this content: {verdict}")
    for event in block.events:
        who = f" by {event.who}" if event.who else ""
        out.append(f"  {event.at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC {event.what}{who}")
    return "\n".join(out) + "\n"
