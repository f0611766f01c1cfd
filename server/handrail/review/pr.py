"""`handrail pr`: what a reviewer needs to know about the AI involvement in a branch.

The summary lists exactly the generated blocks the branch adds or changes against its base
(compared at the merge base, as a pull request diff is), each with its task and spec, its
verification evidence, trace and explanation. Outstanding findings come first, so a reviewer
sees what still blocks the merge before the details.
"""

from __future__ import annotations

import datetime as dt
import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

from handrail.analysis import Snapshot
from handrail.blocks.markers import decode_source, parse_blocks
from handrail.findings import Finding, Severity
from handrail.git import GitError, git
from handrail.ledger.evidence import (
    BlockEvidence,
    lines_summary,
    probe_summary,
    run_result_for_block,
)
from handrail.ledger.records import Accepted, BlockMarked, VerificationRun
from handrail.review._tree import evidence_for_content, files_with_blocks
from handrail.workspace import HANDRAIL_DIR, Workspace

Change = Literal["added", "changed", "accepted"]
"""`accepted`: the branch removed the block's markers after review (`handrail accept`); the
block is listed from its ledger records, so the summary still shows all generated code."""


class PrError(ValueError):
    """The summary cannot be made: no git repository, or an unknown base."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    command: str
    passed: bool
    exit_code: int | None
    timed_out: bool
    finished_at: dt.datetime
    first_attempt: bool
    on_current_content: bool
    author: str | None
    result: str
    """What the run proved for this block ("passed, 6/6 lines run by 2 tests", "could not
    run (...)"): the exit status alone is not the block's verdict."""

    def as_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "finished_at": self.finished_at.isoformat(),
            "first_attempt": self.first_attempt,
            "on_current_content": self.on_current_content,
            "author": self.author,
            "result": self.result,
        }


@dataclass(frozen=True, slots=True)
class PrBlock:
    block_id: str
    task_id: str
    path: str
    begin_line: int
    end_line: int
    change: Change
    spec: str | None
    status: str
    verified: bool
    """Verified with everything its risk tier asks for."""
    tier: str | None
    needs: list[str]
    traced: bool
    trace_required: bool
    explained: bool
    explanation_required: bool
    explained_by: list[str]
    first_attempt_passed: bool | None
    marked_by: str | None
    runs: list[RunInfo]
    findings: list[Finding]
    generated_by: dict[str, str | None] | None = None
    """The coding agent that marked the block: agent, model and session (None: no agent)."""
    lines: str | None = None
    """What the deciding run proved: "12/12 lines run by 4 tests" (None: no measured run)."""
    parent: str | None = None
    """The task its task was decomposed from: blocks group by it."""
    probe: str | None = None
    """What the probe found on this content: "probe 5/6 caught" (None: never probed)."""

    @property
    def done(self) -> bool:
        """Verified, and explained where the workflow asks for it: ready for review."""
        return self.verified and (self.explained or not self.explanation_required)

    def as_json(self) -> dict[str, Any]:
        return {
            "block": self.block_id,
            "task": self.task_id,
            "parent": self.parent,
            "path": self.path,
            "begin_line": self.begin_line,
            "end_line": self.end_line,
            "change": self.change,
            "spec": self.spec,
            "status": self.status,
            "verified": self.verified,
            "tier": self.tier,
            "needs": self.needs,
            "traced": self.traced,
            "trace_required": self.trace_required,
            "explained": self.explained,
            "explanation_required": self.explanation_required,
            "done": self.done,
            "explained_by": self.explained_by,
            "first_attempt_passed": self.first_attempt_passed,
            "lines": self.lines,
            "probe": self.probe,
            "marked_by": self.marked_by,
            "generated_by": self.generated_by,
            "runs": [r.as_json() for r in self.runs],
            "findings": [f.as_json() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class PrSummary:
    base: str
    merge_base: str
    blocks: list[PrBlock]
    removed: list[str] = field(default_factory=list)
    """Blocks the base had that the branch no longer marks (accepted or deleted)."""
    accepted: list[str] = field(default_factory=list)
    """Of `removed`, those the ledger records as accepted after review."""
    on_base: bool = False
    """HEAD is the base's commit itself (run on `main`, say): what is committed there is not
    the branch's, so only uncommitted changes could show."""

    @property
    def findings(self) -> list[Finding]:
        """Every outstanding finding on the branch's blocks, most severe first."""
        found = [f for b in self.blocks for f in b.findings]
        return sorted(found, key=lambda f: (f.severity.rank, *f.sort_key()))

    @property
    def ready(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "merge_base": self.merge_base,
            "ready": self.ready,
            "blocks": [b.as_json() for b in self.blocks],
            "findings": [f.as_json() for f in self.findings],
            "removed": self.removed,
            "accepted": self.accepted,
            "on_base": self.on_base,
        }


def merge_base(ws: Workspace, base: str) -> str:
    """The commit the branch forked from `base` (PrError when git cannot tell)."""
    if not base or base.startswith("-"):
        # git would read it as an option, not a revision.
        raise PrError(f"{base!r} is not a branch or commit name")
    try:
        git(ws.root, "rev-parse", "--is-inside-work-tree")
    except GitError as exc:
        raise PrError(f"{ws.root} is not a git work tree: `handrail pr` compares branches") from exc
    try:
        git(ws.root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except GitError as exc:
        raise PrError(
            f"the base {base!r} is not a commit or branch here; name it with --base "
            "(in CI, fetch it first: git fetch origin main)"
        ) from exc
    try:
        out = git(ws.root, "merge-base", base, "HEAD")
    except GitError as exc:
        raise PrError(f"HEAD and {base!r} share no history: {exc}") from exc
    return out.decode().strip()


def base_blocks(ws: Workspace, commit: str) -> dict[str, str]:
    """Block id -> content hash of every well-formed block in `commit`'s tree."""
    out = git(ws.root, "grep", "-l", "-z", "--fixed-strings", "handrail:", commit, ok_codes=(0, 1))
    found: dict[str, str] = {}
    prefix = f"{commit}:"
    for entry in out.split(b"\0"):
        if not entry:
            continue
        rel = entry.decode("utf-8", errors="surrogateescape").removeprefix(prefix)
        if rel.startswith(HANDRAIL_DIR + "/"):
            continue
        data = git(ws.root, "cat-file", "blob", f"{commit}:{rel}")
        text, _encoding = decode_source(data)
        for block in parse_blocks(text, rel).blocks:
            found.setdefault(block.id, block.content_hash)
    return found


def _run_info(run: VerificationRun, block_id: str, current: str) -> RunInfo:
    return RunInfo(
        command=shlex.join(run.command),
        passed=run.passed,
        exit_code=run.exit_code,
        timed_out=run.timed_out,
        finished_at=run.finished_at,
        first_attempt=block_id in run.first_attempt,
        on_current_content=run.blocks.get(block_id) == current,
        author=run.author,
        result=run_result_for_block(run, block_id),
    )


def _generated_by(marked: BlockMarked | None) -> dict[str, str | None] | None:
    if marked is None or not marked.agent:
        return None
    return {"agent": marked.agent, "model": marked.model, "session": marked.session}


def _block_findings(findings: list[Finding], block_id: str, begin: int, end: int) -> list[Finding]:
    return [
        f
        for f in findings
        if f.data.get("block_id") == block_id
        or (not f.data.get("block_id") and begin <= f.line <= end)
    ]


def build_summary(ws: Workspace, base: str) -> PrSummary:
    """The branch's generated blocks against `base` with their evidence; PrError on git trouble."""
    commit = merge_base(ws, base)
    try:
        before = base_blocks(ws, commit)
    except GitError as exc:
        raise PrError(f"cannot read the base tree {commit[:12]}: {exc}") from exc
    snapshot = Snapshot.load(ws)
    index = snapshot.index
    blocks: list[PrBlock] = []
    present: set[str] = set()
    for source in files_with_blocks(snapshot):
        analysis = source.analysis
        for block in analysis.parsed.blocks:
            present.add(block.id)
            old = before.get(block.id)
            if old == block.content_hash:
                continue
            evidence: BlockEvidence = analysis.evidence[block.id]
            task = snapshot.tasks.tasks.get(block.task_id)
            explanations = [
                e for e in index.explanations_for(block.id) if e.content_hash == block.content_hash
            ]
            marked = evidence.marked
            blocks.append(
                PrBlock(
                    block_id=block.id,
                    task_id=block.task_id,
                    path=source.rel,
                    begin_line=block.begin_line,
                    end_line=block.end_line,
                    change="added" if old is None else "changed",
                    spec=task.task.spec if task else None,
                    status=evidence.status,
                    verified=evidence.is_verified,
                    tier=evidence.tier.name if evidence.tier else None,
                    needs=list(evidence.needs),
                    traced=evidence.traced,
                    trace_required=evidence.tier is not None and "trace" in evidence.tier.requires,
                    explained=evidence.explained,
                    explanation_required=evidence.explanation_required,
                    explained_by=sorted({e.author for e in explanations if e.author}),
                    first_attempt_passed=evidence.first_attempt_passed,
                    lines=lines_summary(evidence.coverage),
                    probe=probe_summary(evidence),
                    marked_by=marked.author if marked else None,
                    generated_by=_generated_by(marked),
                    runs=[_run_info(r, block.id, block.content_hash) for r in evidence.runs],
                    parent=task.task.parent if task else None,
                    findings=sorted(
                        _block_findings(
                            analysis.findings, block.id, block.begin_line, block.end_line
                        ),
                        key=Finding.sort_key,
                    ),
                )
            )
    try:
        base_records = ledger_files(ws, commit)
    except GitError as exc:
        raise PrError(f"cannot read the base tree {commit[:12]}: {exc}") from exc
    listed = {b.block_id for b in blocks}
    for record in accepted_on_branch(snapshot, base_records):
        if record.block_id not in listed and record.block_id not in present:
            blocks.append(_accepted_block(snapshot, record))
            listed.add(record.block_id)
    # Sub-tasks of one decomposed parent sit together, under it.
    blocks.sort(key=lambda b: (b.parent or b.task_id, b.task_id, b.path, b.begin_line))
    removed = sorted(set(before) - present)
    accepted = [b for b in removed if index.accepted_for(b)]
    try:
        on_base = git(ws.root, "rev-parse", "HEAD").decode().strip() == commit
    except GitError:
        on_base = False  # no commit yet: nothing is the base's
    return PrSummary(base, commit, blocks, removed, accepted, on_base)


def ledger_files(ws: Workspace, commit: str) -> set[str]:
    """The record file names (`<id>.json`) in `commit`'s ledger."""
    out = git(
        ws.root, "ls-tree", "-r", "--name-only", "-z", commit, "--", f"{HANDRAIL_DIR}/ledger/"
    )
    return {
        name.decode("utf-8", errors="surrogateescape").rsplit("/", 1)[-1]
        for name in out.split(b"\0")
        if name
    }


def accepted_on_branch(snapshot: Snapshot, base_records: set[str]) -> list[Accepted]:
    """Acceptances the branch added (their record files are not in the base's ledger), newest
    per block."""
    newest: dict[str, Accepted] = {}
    for record in snapshot.ledger.records:
        if isinstance(record, Accepted) and f"{record.id}.json" not in base_records:
            newest[record.block_id] = record
    return list(newest.values())


def _accepted_block(snapshot: Snapshot, record: Accepted) -> PrBlock:
    """A block whose markers the branch removed, as its records describe it."""
    index = snapshot.index
    marked = index.marked(record.block_id)
    task_id = marked.task_id if marked else record.block_id.split(".")[0]
    path = record.path or (marked.path if marked else "")
    task = snapshot.tasks.tasks.get(task_id)
    evidence = evidence_for_content(snapshot, record.block_id, path, record.content_hash)
    tier = evidence.tier
    explained_by = sorted(
        {
            e.author
            for e in index.explanations_for(record.block_id)
            if e.author and e.content_hash == record.content_hash
        }
    )
    return PrBlock(
        block_id=record.block_id,
        task_id=task_id,
        path=path,
        begin_line=record.begin_line or 0,
        end_line=record.end_line or 0,
        change="accepted",
        spec=task.task.spec if task else None,
        status=evidence.status,
        verified=evidence.is_verified,
        tier=tier.name if tier else None,
        needs=list(evidence.needs),
        traced=evidence.traced,
        trace_required=tier is not None and "trace" in tier.requires,
        explained=evidence.explained,
        explanation_required=evidence.explanation_required,
        explained_by=explained_by,
        first_attempt_passed=evidence.first_attempt_passed,
        marked_by=marked.author if marked else None,
        generated_by=_generated_by(marked),
        lines=lines_summary(evidence.coverage),
        probe=probe_summary(evidence),
        runs=[_run_info(r, record.block_id, record.content_hash) for r in evidence.runs],
        findings=[],
    )


# -- Markdown -------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text safe inside Markdown prose: no stray emphasis, links or HTML, on one line.

    Backticks stay: messages and specs use them for code, which should render as code.
    """
    out = text.replace("\\", "\\\\")
    for char in "*_<>[]|#":
        out = out.replace(char, "\\" + char)
    return " ".join(out.split())


def _code(text: str) -> str:
    """`text` as one inline code span, whatever backticks it holds (CommonMark's rule)."""
    text = " ".join(text.split())
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _run_line(run: RunInfo) -> str:
    outcome = _md(run.result)
    notes = []
    if run.first_attempt:
        notes.append("first attempt")
    notes.append("this content" if run.on_current_content else "earlier content")
    who = f" by {_md(run.author)}" if run.author else ""
    return f"{_code(run.command)} {outcome}, {_when(run.finished_at)}{who} ({', '.join(notes)})"


_STATUS = {
    "verified": "verified",
    "changed": "changed since verified",
    "failed": "verification failed",
    "unverified": "not verified",
}


def render_markdown(summary: PrSummary) -> str:
    """The summary as Markdown for a pull request description or a CI comment."""
    lines: list[str] = ["## AI involvement", ""]
    blocks = summary.blocks
    if not blocks:
        lines.append(
            f"This branch adds or changes no generated blocks against {_code(summary.base)}."
        )
        if summary.on_base:
            lines += [
                "",
                f"HEAD is {_code(summary.base)}'s own commit, so what is committed here is not "
                "a branch's change: run `handrail pr` on the pull request's branch, or name "
                "the commit the work started from with `--base`.",
            ]
    else:
        tasks = sorted({b.task_id for b in blocks})
        ready = sum(1 for b in blocks if b.done)
        noun = "block" if len(blocks) == 1 else "blocks"
        lines.append(
            f"This branch adds or changes **{len(blocks)} generated {noun}** from "
            f"{len(tasks)} task{'s' if len(tasks) != 1 else ''} against {_code(summary.base)} "
            f"(merge base {_code(summary.merge_base[:12])}): {ready} verified and explained, "
            f"{len(blocks) - ready} still need work."
        )
    findings = summary.findings
    if findings:
        lines += ["", "### Outstanding", ""]
        for f in findings:
            lines.append(
                f"- **{f.severity.value}** {f.code} {_code(f'{f.path}:{f.line}')}: {_md(f.message)}"
            )
    if blocks:
        lines += ["", "### Blocks", ""]
    for b in blocks:
        mark = "✅" if b.done else "⚠️"
        where = f" lines {b.begin_line}-{b.end_line}" if b.begin_line else ""
        change = "accepted after review: markers removed" if b.change == "accepted" else b.change
        lines.append(f"#### {mark} {_code(b.block_id)} in {_code(b.path)}{where} ({change})")
        lines.append("")
        spec = _md(b.spec) if b.spec else "*no task file: the block's task is unknown*"
        part = f" (sub-task of {_code(b.parent)})" if b.parent else ""
        lines.append(f"- **Task** {_code(b.task_id)}{part}: {spec}")
        who = f", marked by {_md(b.marked_by)}" if b.marked_by else ""
        tier = f", risk tier {_code(b.tier)}" if b.tier else ""
        lines.append(f"- **Status**: {_STATUS.get(b.status, b.status)}{tier}{who}")
        if b.generated_by is not None:
            agent = describe_agent(
                b.generated_by["agent"], b.generated_by["model"], b.generated_by["session"]
            )
            lines.append(f"- **Generated by** coding agent {_md(agent or '')}")
        if b.lines is not None:
            lines.append(f"- **Lines**: {b.lines}")
        if b.probe is not None:
            lines.append(f"- **Probe** (do the tests fail when it breaks?): {b.probe}")
        if b.first_attempt_passed is not None:
            first = "passed" if b.first_attempt_passed else "failed"
            lines.append(f"- **First attempt**: {first}")
        if b.runs:
            lines.append("- **Verification runs** (newest first):")
            lines += [f"  - {_run_line(r)}" for r in b.runs[:5]]
            if len(b.runs) > 5:
                lines.append(f"  - … and {len(b.runs) - 5} earlier runs")
        else:
            lines.append("- **Verification runs**: none")
        if b.trace_required:
            lines.append(
                f"- **Manual trace**: {'recorded for this content' if b.traced else 'missing'}"
            )
        if b.explained:
            by = f" ({', '.join(_md(a) for a in b.explained_by)})" if b.explained_by else ""
            lines.append(f"- **Author can explain every line**: yes{by}")
        else:
            lines.append("- **Author can explain every line**: not acknowledged")
        lines.append("")
    if summary.removed:
        if not blocks:
            lines.append("")
        accepted = set(summary.accepted)
        parts = [
            f"{_code(b)}{' (accepted after review)' if b in accepted else ''}"
            for b in summary.removed
        ]
        lines.append("Markers removed on this branch: " + ", ".join(parts) + ".")
        lines.append("")
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def default_base(ws: Workspace) -> str:
    """The branch a pull request most likely targets: origin's default branch, main or master."""
    for ref in ("origin/HEAD", "origin/main", "main", "origin/master", "master"):
        try:
            git(ws.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except GitError:
            continue
        return ref
    raise PrError("no base branch found (origin/HEAD, main or master): name one with --base")


def describe_agent(agent: str | None, model: str | None, session: str | None) -> str | None:
    """A record's coding agent in words, `claude-code (claude-sonnet-4-5, session 4f1c…)`;
    None when no agent was recorded. Here, not in `agents.identity`, so stage 5 needs nothing
    of the agents package (which sits above it)."""
    if not agent:
        return None
    extra = [part for part in (model, _short_session(session)) if part]
    return f"{agent} ({', '.join(extra)})" if extra else agent


def _short_session(session: str | None) -> str | None:
    if not session:
        return None
    return f"session {session[:8]}" + ("…" if len(session) > 8 else "")
