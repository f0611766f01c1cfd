"""Verifying a task, a block or the whole workspace, and recording what happened.

One `verify` call finds the blocks it covers in the workspace, decides each block's command
(`handrail.verify.commands`), checks that every command is trusted (`handrail.verify.trust`)
and, only if all are, runs them one by one. Just before each command starts, the content hash
of every block it covers is taken again; the `VerificationRun` written afterwards holds those
hashes. A block edited while its command ran therefore keeps a hash the run did not see: the
run does not count for its new content and it stays unverified.

`rerun_all` is the CI gate's part (`handrail check --rerun --trust-commands`): every block's
verification run fresh, each failure a finding regardless of what the committed ledger says.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from handrail.blocks.markers import Block, parse_block_id, parse_blocks
from handrail.findings import Finding, findings_json
from handrail.ledger.evidence import EvidenceIndex
from handrail.ledger.records import VerificationRun
from handrail.ledger.store import Ledger, LedgerWriteError
from handrail.tasks import TaskSet, is_task_id, load_all_tasks
from handrail.verify.commands import CommandError, CommandSource, command_for, expand
from handrail.verify.runner import RunResult, run_command
from handrail.verify.trust import TrustDecision, explicit_trust, is_trusted
from handrail.workflow.load import LoadedWorkflow, find_line, load_workflow
from handrail.workflow.model import Workflow
from handrail.workspace import HANDRAIL_DIR, Workspace

RECORD_TAIL_BYTES = 256 * 1024
"""At most this much output goes into a ledger record, whatever `max_output_bytes` says, so a
record stays far below the ledger's size limit."""

_FIRST_ATTEMPT_ADVICE = (
    "Fix the spec or the context and generate again, rather than patching the output by hand."
)


class VerifyError(Exception):
    """The request cannot be carried out (unknown task or block, nothing to verify)."""


@dataclass(frozen=True, slots=True)
class Target:
    """What to verify: one task, one block, or every block of the workspace."""

    kind: Literal["task", "block", "all"]
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> Target:
        """A task id (``k3f9qa``) or a block id (``k3f9qa.1``); VerifyError otherwise."""
        if is_task_id(text):
            return cls("task", text)
        if parse_block_id(text) is not None:
            return cls("block", text)
        raise VerifyError(
            f"{text!r} is neither a task id (6 characters from a-z and 2-7, e.g. k3f9qa) "
            "nor a block id (e.g. k3f9qa.1)"
        )

    @classmethod
    def everything(cls) -> Target:
        return cls("all")

    def covers(self, block: Block) -> bool:
        if self.kind == "task":
            return block.task_id == self.value
        if self.kind == "block":
            return block.id == self.value
        return True


@dataclass(frozen=True, slots=True)
class FoundBlock:
    """A generated block as it is in the workspace now."""

    block_id: str
    task_id: str
    path: str
    begin_line: int
    end_line: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class Invocation:
    """One command run that covers one or more blocks of one task."""

    task_id: str
    source: CommandSource
    argv: tuple[str, ...]
    blocks: tuple[FoundBlock, ...]

    @property
    def block_ids(self) -> list[str]:
        return [b.block_id for b in self.blocks]


UnrunnableReason = Literal["no_command", "bad_command", "task_unreadable", "duplicate_block"]


@dataclass(frozen=True, slots=True)
class Unrunnable:
    """A block no command can verify, and why (a plain sentence)."""

    block: FoundBlock
    reason: UnrunnableReason
    message: str


@dataclass(frozen=True, slots=True)
class RunOutcome:
    invocation: Invocation
    result: RunResult
    record: VerificationRun | None
    """What was written to the ledger; None for a cancelled run or a failed write."""
    first_attempt: list[str]
    changed_during_run: list[str]
    """Blocks whose content changed while the command ran: they stay unverified."""
    vanished: list[str] = field(default_factory=list)
    """Blocks gone from their file when the run was about to start: not covered."""
    write_error: str | None = None


BlockStatus = Literal[
    "verified",
    "failed",
    "changed_during_run",
    "not_recorded",
    "cancelled",
    "untrusted",
    "not_run",
]


@dataclass(frozen=True, slots=True)
class BlockResult:
    block: FoundBlock
    status: BlockStatus | UnrunnableReason
    message: str
    first_attempt: bool = False


@dataclass(slots=True)
class VerifyReport:
    blocks: list[FoundBlock]
    planned: list[Invocation]
    runs: list[RunOutcome] = field(default_factory=list)
    unrunnable: list[Unrunnable] = field(default_factory=list)
    untrusted: list[tuple[Invocation, TrustDecision]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """HR403 for each command that was not trusted (nothing ran then)."""
    cancelled: bool = False

    @property
    def ran_anything(self) -> bool:
        return bool(self.runs)

    @property
    def ok(self) -> bool:
        """Every covered block is now verified by a recorded, passing run on its content."""
        return bool(self.blocks) and all(r.status == "verified" for r in self.block_results())

    def block_results(self) -> list[BlockResult]:
        """One line per block: what this verification did for it."""
        results: dict[str, BlockResult] = {}
        untrusted_ids = {b.block_id for inv, _ in self.untrusted for b in inv.blocks}
        for item in self.unrunnable:
            results[item.block.block_id] = BlockResult(item.block, item.reason, item.message)
        for outcome in self.runs:
            for block in outcome.invocation.blocks:
                results[block.block_id] = _block_result(outcome, block)
        for block in self.blocks:
            if block.block_id in results:
                continue
            if block.block_id in untrusted_ids:
                results[block.block_id] = BlockResult(
                    block, "untrusted", "not run: its command is not trusted on this machine"
                )
            elif self.cancelled:
                results[block.block_id] = BlockResult(block, "cancelled", "not run: cancelled")
            else:
                results[block.block_id] = BlockResult(block, "not_run", "not run")
        return [results[b.block_id] for b in self.blocks]

    def as_json(self, *, output_tail_lines: int = 0) -> dict[str, Any]:
        """What ran and what each block's status is now, as the CLI's `--json` and the
        language server's commands report it; the last `output_tail_lines` of each run's
        output are included when asked."""
        runs = []
        for outcome in self.runs:
            result = outcome.result
            run: dict[str, Any] = {
                "task": outcome.invocation.task_id,
                "command": list(result.argv),
                "source": outcome.invocation.source.where,
                "blocks": outcome.invocation.block_ids,
                "exit_code": result.exit_code,
                "passed": result.passed,
                "timed_out": result.timed_out,
                "cancelled": result.cancelled,
                "start_error": result.start_error,
                "duration_s": round(result.duration_s, 3),
                "output_bytes": result.output_bytes,
                "output_truncated": result.truncated,
                "record": outcome.record.id if outcome.record else None,
                "write_error": outcome.write_error,
                "first_attempt": outcome.first_attempt,
                "changed_during_run": outcome.changed_during_run,
            }
            if output_tail_lines:
                text = result.tail_text().rstrip("\n")
                run["output_tail"] = text.split("\n")[-output_tail_lines:] if text else []
            runs.append(run)
        return {
            "ok": self.ok,
            "trusted": not self.untrusted,
            "ran": self.ran_anything,
            "cancelled": self.cancelled,
            "runs": runs,
            "blocks": [
                {
                    "block": item.block.block_id,
                    "path": item.block.path,
                    "line": item.block.begin_line,
                    "status": item.status,
                    "message": item.message,
                    "first_attempt": item.first_attempt,
                }
                for item in self.block_results()
            ],
            "findings": findings_json(self.findings),
        }


def _block_result(outcome: RunOutcome, block: FoundBlock) -> BlockResult:
    result = outcome.result
    first = block.block_id in outcome.first_attempt
    if block.block_id in outcome.vanished:
        return BlockResult(block, "not_run", "not run: the block was gone when the run started")
    if result.cancelled:
        return BlockResult(block, "cancelled", "cancelled: nothing was recorded")
    if outcome.record is None:
        return BlockResult(
            block, "not_recorded", f"the run could not be recorded: {outcome.write_error}"
        )
    if block.block_id in outcome.changed_during_run:
        return BlockResult(
            block,
            "changed_during_run",
            "the block was edited while its verification ran: the run does not count for the "
            "new content, verify it again",
        )
    if result.passed:
        return BlockResult(block, "verified", f"passed in {result.duration_s:.1f} s", first)
    return BlockResult(block, "failed", describe_failure(result), first)


def describe_failure(result: RunResult) -> str:
    """How a run failed, as a phrase: "`pytest -q` exited with code 1"."""
    import shlex

    command = f"`{shlex.join(result.argv)}`"
    if result.start_error is not None:
        return result.start_error.rstrip(".")
    if result.timed_out:
        return f"{command} timed out"
    if result.cancelled:
        return f"{command} was cancelled"
    assert result.exit_code is not None
    if result.exit_code < 0:
        return f"{command} was ended by signal {-result.exit_code}"
    return f"{command} exited with code {result.exit_code}"


ProgressKind = Literal["start", "output", "finish"]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """For front ends: a run starts, prints, or finishes. `index` is 1-based."""

    kind: ProgressKind
    index: int
    total: int
    invocation: Invocation
    chunk: bytes = b""
    outcome: RunOutcome | None = None


ProgressCallback = Callable[[ProgressEvent], None]


# -- finding blocks ----------------------------------------------------------------------------


def read_blocks(ws: Workspace, rel: str) -> tuple[str, list[Block]] | None:
    """The text of workspace file `rel` and its well-formed blocks; None without markers."""
    from handrail.block_ids import text_with_markers

    text = text_with_markers(ws.root / rel)
    if text is None:
        return None
    return text, parse_blocks(text, rel).blocks


def _found(rel: str, block: Block) -> FoundBlock:
    return FoundBlock(
        block.id, block.task_id, rel, block.begin_line, block.end_line, block.content_hash
    )


def find_blocks(ws: Workspace, target: Target | None = None) -> list[FoundBlock]:
    """The well-formed blocks of the workspace (or of `target`), by path and line."""
    from handrail.files import list_files

    wanted = target or Target.everything()
    found: list[FoundBlock] = []
    for rel in list_files(ws):
        if rel.startswith(HANDRAIL_DIR + "/"):
            continue
        parsed = read_blocks(ws, rel)
        if parsed is None:
            continue
        found.extend(_found(rel, b) for b in parsed[1] if wanted.covers(b))
    return found


def current_hashes(ws: Workspace, blocks: Sequence[FoundBlock]) -> dict[str, str]:
    """The content hash of each of `blocks` as its file holds it now (absent when gone)."""
    wanted = {b.block_id for b in blocks}
    hashes: dict[str, str] = {}
    for rel in sorted({b.path for b in blocks}):
        parsed = read_blocks(ws, rel)
        if parsed is None:
            continue
        for block in parsed[1]:
            if block.id in wanted:
                hashes[block.id] = block.content_hash
    return hashes


# -- planning ----------------------------------------------------------------------------------


def plan(
    workflow: Workflow, tasks: TaskSet, blocks: Sequence[FoundBlock]
) -> tuple[list[Invocation], list[Unrunnable]]:
    """Group `blocks` into command runs: one per task and command text."""
    groups: dict[tuple[str, str, str], tuple[CommandSource, list[FoundBlock]]] = {}
    unrunnable: list[Unrunnable] = []
    seen: dict[str, int] = {}
    for block in blocks:
        seen[block.block_id] = seen.get(block.block_id, 0) + 1
    for block in blocks:
        if seen[block.block_id] > 1:
            # A run record maps each block id to one hash: two blocks with one id cannot
            # both be vouched for, so neither is run until the duplicate is fixed (HR305).
            unrunnable.append(
                Unrunnable(
                    block,
                    "duplicate_block",
                    f"the block id {block.block_id} is used more than once: give each block "
                    "its own id first",
                )
            )
            continue
        if block.task_id in tasks.broken:
            unrunnable.append(
                Unrunnable(
                    block,
                    "task_unreadable",
                    f"the file of task {block.task_id} cannot be read, so its verification "
                    "command is unknown: fix the task file first",
                )
            )
            continue
        source = command_for(workflow, block.path, tasks.tasks.get(block.task_id))
        if source is None:
            unrunnable.append(
                Unrunnable(
                    block,
                    "no_command",
                    f"no verification command applies to {block.path}: set `verify` in the "
                    "task file or `[verification] command` in .handrail/workflow.toml",
                )
            )
            continue
        key = (block.task_id, source.origin, source.text)
        groups.setdefault(key, (source, []))[1].append(block)
    invocations: list[Invocation] = []
    for (task_id, _origin, _text), (source, members) in groups.items():
        try:
            argv = expand(source, files=[b.path for b in members], task_id=task_id)
        except CommandError as exc:
            unrunnable.extend(Unrunnable(b, "bad_command", str(exc)) for b in members)
            continue
        invocations.append(Invocation(task_id, source, argv, tuple(members)))
    return invocations, unrunnable


# -- trust -------------------------------------------------------------------------------------


def _command_location(
    ws: Workspace, loaded: LoadedWorkflow, tasks: TaskSet, invocation: Invocation
) -> tuple[str, int]:
    """Where the command is written, for the HR403 finding: the task file or workflow line."""
    source = invocation.source
    if source.origin == "task" and source.task_id in tasks.tasks:
        task = tasks.tasks[source.task_id]
        return task.rel, task.verify_line or 1
    if loaded.path is not None and loaded.source_text is not None:
        loc: tuple[str | int, ...] = ("verification", "command")
        if source.origin == "by_path" and source.index is not None:
            loc = ("verification", "by_path", source.index, "command")
        return ws.relative(loaded.path), find_line(loaded.source_text, loc)
    first = invocation.blocks[0]
    return first.path, first.begin_line


def _untrusted_findings(
    ws: Workspace,
    loaded: LoadedWorkflow,
    tasks: TaskSet,
    untrusted: list[tuple[Invocation, TrustDecision]],
) -> list[Finding]:
    severity = loaded.workflow.severity_of("HR403")
    if severity is None:
        return []
    by_text: dict[str, list[tuple[Invocation, TrustDecision]]] = {}
    for invocation, decision in untrusted:
        by_text.setdefault(invocation.source.text, []).append((invocation, decision))
    findings: list[Finding] = []
    for text, items in by_text.items():
        invocation, decision = items[0]
        path, line = _command_location(ws, loaded, tasks, invocation)
        block_ids = sorted({b for inv, _ in items for b in inv.block_ids})
        findings.append(
            Finding(
                "HR403",
                severity,
                f"Nothing was run: the verification command `{text}` "
                f"({invocation.source.where}) is not trusted: {decision.reason}. "
                "Run `handrail trust` after reading the commands.",
                path,
                line,
                data={
                    "command": text,
                    "reason": decision.kind,
                    "blocks": block_ids,
                    "where": invocation.source.where,
                },
            )
        )
    return findings


# -- running -----------------------------------------------------------------------------------


def verify(
    ws: Workspace,
    target: Target,
    *,
    trust_commands: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Verify the blocks of `target`: run their commands if all are trusted, record each run.

    `trust_commands` is the explicit trust flag (CI); without it every command must be
    approved in this machine's trust store. When any command is not trusted, nothing runs.
    Raises VerifyError when `target` names a task or block the workspace does not have, or
    when the ledger may not be written to (records of a newer schema): nothing runs then.
    """
    loaded = load_workflow(ws)
    workflow = loaded.workflow
    tasks = load_all_tasks(ws, workflow)
    blocks = find_blocks(ws, target)
    if not blocks and target.kind == "block":
        raise VerifyError(f"there is no block {target.value} in the workspace")
    if not blocks and target.kind == "task" and target.value not in tasks.known_ids:
        known = ", ".join(sorted(tasks.tasks)) or "none yet"
        raise VerifyError(f"there is no task {target.value} (tasks: {known})")
    invocations, unrunnable = plan(workflow, tasks, blocks)
    report = VerifyReport(blocks, invocations, unrunnable=unrunnable)

    for invocation in invocations:
        decision = explicit_trust() if trust_commands else is_trusted(ws, invocation.source.text)
        if not decision.trusted:
            report.untrusted.append((invocation, decision))
    if report.untrusted:
        report.findings = _untrusted_findings(ws, loaded, tasks, report.untrusted)
        return report

    from handrail.workflow.init import git_owner

    author = git_owner(ws.root) if invocations else None
    ledger = Ledger(ws)
    if invocations:
        read_only = ledger.read(workflow).read_only
        if read_only is not None:
            # The result could not be recorded: running the commands would be wasted work.
            raise VerifyError(read_only)
    for index, invocation in enumerate(invocations, start=1):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        outcome = _run_one(
            ws, workflow, ledger, invocation, author, index, len(invocations), progress, cancel
        )
        report.runs.append(outcome)
        if outcome.result.cancelled:
            report.cancelled = True
            break
    return report


def _run_one(
    ws: Workspace,
    workflow: Workflow,
    ledger: Ledger,
    invocation: Invocation,
    author: str | None,
    index: int,
    total: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> RunOutcome:
    def emit(event: ProgressEvent) -> None:
        if progress is not None:
            progress(event)

    # The hashes the record will hold are taken now, as the run starts, not when planning.
    at_start = current_hashes(ws, invocation.blocks)
    vanished = [b for b in invocation.block_ids if b not in at_start]
    index_now = EvidenceIndex.build(ledger.read(workflow).records)
    covered = {b: at_start[b] for b in invocation.block_ids if b in at_start}

    emit(ProgressEvent("start", index, total, invocation))
    rules = workflow.verification

    def on_output(chunk: bytes) -> None:
        emit(ProgressEvent("output", index, total, invocation, chunk=chunk))

    result = run_command(
        invocation.argv,
        cwd=ws.root,
        timeout_s=rules.timeout_s,
        max_output_bytes=rules.max_output_bytes,
        cancel=cancel,
        on_output=on_output if progress is not None else None,
    )
    after = current_hashes(ws, invocation.blocks)
    changed = [b for b, h in covered.items() if after.get(b) != h]
    # A command that never started tested nothing: it is not the code's first attempt, and
    # it does not use up the first attempt of a later run that does start.
    first = [b for b in covered if not _ever_tested(index_now, b)] if result.started else []

    record: VerificationRun | None = None
    write_error: str | None = None
    if not result.cancelled and covered:
        candidate = VerificationRun.create(
            task_id=invocation.task_id,
            command=list(invocation.argv),
            exit_code=result.exit_code,
            passed=result.passed,
            timed_out=result.timed_out,
            started_at=result.started_at,
            finished_at=result.finished_at,
            blocks=covered,
            output_tail=result.tail_text(RECORD_TAIL_BYTES),
            first_attempt=first,
            author=author,
        )
        try:
            ledger.append(candidate)
            record = candidate
        except LedgerWriteError as exc:
            write_error = str(exc)
    outcome = RunOutcome(invocation, result, record, first, changed, vanished, write_error)
    emit(ProgressEvent("finish", index, total, invocation, outcome=outcome))
    return outcome


def _ever_tested(index: EvidenceIndex, block_id: str) -> bool:
    """Whether a recorded run that actually started ever covered the block."""
    return any(r.exit_code is not None or r.timed_out for r in index.runs_for(block_id))


# -- the CI gate -------------------------------------------------------------------------------


def rerun_all(
    ws: Workspace,
    *,
    trust_commands: bool,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Finding]:
    """Run every block's verification fresh; a finding for every block that did not pass.

    For `handrail check --rerun`: the findings come from the fresh runs themselves, not from
    the committed ledger, so a record someone wrote by hand cannot make the gate pass. Each is
    placed at the block's begin marker, like the evidence findings of `handrail check`
    (HR302 for a failed run, HR300 for a block that could not be run or recorded), with
    ``data["rerun"] = True``. Without `trust_commands` every command must be approved with
    `handrail trust`; otherwise nothing runs and the result is HR403.
    """
    workflow = load_workflow(ws).workflow
    try:
        report = verify(
            ws, Target.everything(), trust_commands=trust_commands, progress=progress, cancel=cancel
        )
    except VerifyError as exc:
        # The gate must not pass on old evidence because the fresh runs could not happen.
        severity = workflow.severity_of("HR300")
        if severity is None:
            return []
        return [
            Finding(
                "HR300",
                severity,
                f"Generated block {b.block_id} in {b.path} was not verified by this run: "
                f"nothing was run because {exc}",
                b.path,
                b.begin_line,
                1,
                b.end_line,
                None,
                data={"block_id": b.block_id, "content_hash": b.content_hash, "rerun": True},
            )
            for b in find_blocks(ws)
        ]
    if report.untrusted:
        return list(report.findings)
    findings: list[Finding] = []
    for item in report.block_results():
        if item.status == "verified":
            continue
        code = "HR302" if item.status == "failed" else "HR300"
        severity = workflow.severity_of(code)
        if severity is None:
            continue
        block = item.block
        if item.status == "failed":
            message = (
                f"The verification of {block.block_id} in {block.path} failed: {item.message}."
            )
            if item.first_attempt:
                message += f" It was the block's first attempt: {first_attempt_advice(workflow)}"
        else:
            message = (
                f"Generated block {block.block_id} in {block.path} was not verified by this "
                f"run: {item.message}."
            )
        findings.append(
            Finding(
                code,
                severity,
                message,
                block.path,
                block.begin_line,
                1,
                block.end_line,
                None,
                data={
                    "block_id": block.block_id,
                    "content_hash": block.content_hash,
                    "rerun": True,
                    "status": item.status,
                    "first_attempt": item.first_attempt,
                },
            )
        )
    findings.sort(key=Finding.sort_key)
    return findings


def first_attempt_advice(workflow: Workflow) -> str:
    """The workflow's "first-attempt" checkpoint advice (HR302 on a failed first run)."""
    for checkpoint in workflow.checkpoints:
        if checkpoint.id == "first-attempt" and checkpoint.otherwise.strip():
            return checkpoint.otherwise.strip()
    return _FIRST_ATTEMPT_ADVICE
