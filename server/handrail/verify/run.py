"""Verifying a task, a block or the whole workspace, and recording what happened.

One `verify` call finds the blocks it covers in the workspace, decides each block's command
(`handrail.verify.commands`), checks that every command is trusted (`handrail.verify.trust`)
and, only if all are, runs them one by one. Just before each command starts, the content hash
of every block it covers is taken again; the `VerificationRun` written afterwards holds those
hashes. A block edited while its command ran therefore keeps a hash the run did not see: the
run does not count for its new content and it stays unverified.

Each distinct argv runs once, however many tasks share it; every task's record gets the same
result. While it runs, its line coverage is measured (`handrail.evidence`): the record says,
per block, which lines ran under which tests, and a failing test's failure lands on the blocks
it executed. A run that could not run (a missing tool, pytest's usage errors) is recorded
with `could_not_run`: no verdict, no first attempt.

`rerun_all` is the CI gate's part (`handrail check --rerun --trust-commands`): every block's
verification run fresh, each failure a finding regardless of what the committed ledger says.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

from handrail.blocks.markers import Block, parse_block_id, parse_blocks
from handrail.evidence.lines import LineCoverage
from handrail.evidence.probe import BlockProbeJson
from handrail.findings import Finding, FindingJson, findings_json
from handrail.ledger.diagnosis import (
    ENVIRONMENT_ADVICE,
    TIMEOUT_ADVICE,
    Cause,
    failure_cause,
    first_failure,
)
from handrail.ledger.evidence import EvidenceIndex, elsewhere_phrase, meets_min_executed
from handrail.ledger.records import BlockCoverage, BlockOutcome, VerificationRun
from handrail.ledger.store import Ledger, LedgerWriteError
from handrail.process import RunResult, run_command
from handrail.tasks.files import load_all_tasks
from handrail.tasks.model import TaskSet, is_task_id
from handrail.toml.index import find_line
from handrail.verify.commands import CommandError, CommandSource, command_for, expand
from handrail.verify.trust import TrustDecision, explicit_trust, is_trusted
from handrail.workflow.load import LoadedWorkflow, load_workflow
from handrail.workflow.model import Workflow
from handrail.workspace import HANDRAIL_DIR, PathEscapesWorkspace, Workspace

if TYPE_CHECKING:
    from handrail.evidence.probe import ProbeProgress

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
    could_not_run: str | None = None
    """Why the run could not run (HR311): no verdict for any block."""
    coverage: dict[str, BlockCoverage] = field(default_factory=dict)
    """Per block, what the run proved it executed."""
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Per block, the status this run gives it and a phrase saying why."""
    shared: bool = False
    """The process ran once for several tasks; this outcome shares its result."""


BlockStatus = Literal[
    "verified",
    "failed",
    "not_executed",
    "not_measured",
    "failed_elsewhere",
    "could_not_run",
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


class CoverageJson(TypedDict):
    """`BlockCoverage` as a run reports it: a field left at its default is left out."""

    outcome: BlockOutcome
    executable: NotRequired[str]
    executed: NotRequired[str]
    tests: NotRequired[dict[str, str]]
    more_tests: NotRequired[int]
    failed_tests: NotRequired[list[str]]
    note: NotRequired[str]


class VerifyRunJson(TypedDict):
    """One command run of `VerifyReport.as_json`."""

    task: str
    command: list[str]
    source: str
    blocks: list[str]
    exit_code: int | None
    passed: bool
    timed_out: bool
    cancelled: bool
    start_error: str | None
    duration_s: float
    output_bytes: int
    output_truncated: bool
    record: str | None
    write_error: str | None
    first_attempt: list[str]
    changed_during_run: list[str]
    could_not_run: str | None
    shared: bool
    coverage: dict[str, CoverageJson]
    output_tail: NotRequired[list[str]]
    """The last lines of the output, when asked for (the editor's answer)."""
    cause: NotRequired[Cause]
    """Only for a failed run: what it points at (issue 19.5), with its `advice`."""
    advice: NotRequired[str]
    first_failure: NotRequired[str | None]
    """The first line of the output that reads like a failure (or why it could not start)."""


class VerifyLinesJson(TypedDict):
    """The line figures of a block's run."""

    measured: bool
    executable: int
    executed: int
    tests: int
    failed_tests: list[str]
    note: str


class VerifyBlockJson(TypedDict):
    """One block of `VerifyReport.as_json`: its status after this verification."""

    block: str
    path: str
    line: int
    status: BlockStatus | UnrunnableReason
    message: str
    first_attempt: bool
    lines: NotRequired[VerifyLinesJson]
    """Only when a run measured the block."""


class VerifyReportJson(TypedDict):
    """`VerifyReport.as_json`: `handrail verify --json`, and the core of the editor's
    ``handrail.verify`` answer."""

    ok: bool
    trusted: bool
    ran: bool
    cancelled: bool
    runs: list[VerifyRunJson]
    blocks: list[VerifyBlockJson]
    findings: list[FindingJson]
    probe: NotRequired[list[BlockProbeJson]]
    """What the probe found, per block probed (`--probe`, or a risk tier that asks for it)."""


_CAUSE_ADVICE: dict[Cause, str] = {
    "environment": ENVIRONMENT_ADVICE,
    "timeout": TIMEOUT_ADVICE,
    "code": "Fix the block (or the test) and verify again.",
}


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

    def as_json(self, *, output_tail_lines: int = 0) -> VerifyReportJson:
        """What ran and what each block's status is now, as the CLI's `--json` and the
        language server's commands report it; the last `output_tail_lines` of each run's
        output are included when asked.

        Each failed run also says what it points at (``cause``: environment, timeout or code,
        with its ``advice``) and its ``first_failure`` line, so a reader can tell the
        environment from the code (issue 19.5)."""
        runs = [_run_json(outcome, output_tail_lines) for outcome in self.runs]
        blocks: list[VerifyBlockJson] = []
        for item in self.block_results():
            block: VerifyBlockJson = {
                "block": item.block.block_id,
                "path": item.block.path,
                "line": item.block.begin_line,
                "status": item.status,
                "message": item.message,
                "first_attempt": item.first_attempt,
            }
            lines = _lines_json(self, item.block.block_id)
            if lines is not None:
                block["lines"] = lines
            blocks.append(block)
        return {
            "ok": self.ok,
            "trusted": not self.untrusted,
            "ran": self.ran_anything,
            "cancelled": self.cancelled,
            "runs": runs,
            "blocks": blocks,
            "findings": findings_json(self.findings),
        }


def _run_json(outcome: RunOutcome, output_tail_lines: int) -> VerifyRunJson:
    result = outcome.result
    run: VerifyRunJson = {
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
        "could_not_run": outcome.could_not_run,
        "shared": outcome.shared,
        "coverage": {b: coverage_json(c) for b, c in outcome.coverage.items()},
    }
    if output_tail_lines:
        text = result.tail_text().rstrip("\n")
        run["output_tail"] = text.split("\n")[-output_tail_lines:] if text else []
    if not (result.passed or result.cancelled):
        output = result.tail_text()
        cause = failure_cause(
            result.exit_code, result.timed_out, output, started=result.start_error is None
        )
        run["cause"] = cause
        run["advice"] = _CAUSE_ADVICE[cause]
        run["first_failure"] = result.start_error or first_failure(output)
    return run


def coverage_json(coverage: BlockCoverage) -> CoverageJson:
    """`coverage` with the fields left at their defaults left out, as the record stores it."""
    found: CoverageJson = {"outcome": coverage.outcome}
    if coverage.executable:
        found["executable"] = coverage.executable
    if coverage.executed:
        found["executed"] = coverage.executed
    if coverage.tests:
        found["tests"] = dict(coverage.tests)
    if coverage.more_tests:
        found["more_tests"] = coverage.more_tests
    if coverage.failed_tests:
        found["failed_tests"] = list(coverage.failed_tests)
    if coverage.note:
        found["note"] = coverage.note
    return found


def _lines_json(report: VerifyReport, block_id: str) -> VerifyLinesJson | None:
    """The line figures of a block's latest run, for `--json`: executable, executed, tests."""
    for outcome in reversed(report.runs):
        found = outcome.coverage.get(block_id)
        if found is not None:
            return {
                "measured": found.outcome != "not_measured",
                "executable": len(found.executable_lines),
                "executed": len(found.executed_lines & found.executable_lines),
                "tests": found.test_count,
                "failed_tests": found.failed_tests,
                "note": found.note,
            }
    return None


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
    if outcome.could_not_run is not None:
        return BlockResult(block, "could_not_run", outcome.could_not_run)
    verdict = outcome.verdicts.get(block.block_id)
    if verdict is not None:
        status, message = verdict
        return BlockResult(block, status, message, first)  # type: ignore[arg-type]
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
    joins: int | None = None
    """On "start": the index of the invocation whose run this one shares (the same command,
    run once), so a front end does not say it runs again."""


ProgressCallback = Callable[[ProgressEvent], None]


# -- finding blocks ----------------------------------------------------------------------------


def read_blocks(ws: Workspace, rel: str) -> tuple[str, list[Block]] | None:
    """The text of workspace file `rel` and its well-formed blocks; None without markers."""
    from handrail.marking.ids import text_with_markers

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
    return {block_id: found.content_hash for block_id, found in _spans(ws, blocks).items()}


# -- planning ----------------------------------------------------------------------------------


TestsFor = Callable[[Sequence[FoundBlock]], list[str]]


def plan(
    workflow: Workflow,
    tasks: TaskSet,
    blocks: Sequence[FoundBlock],
    *,
    tests_for: TestsFor | None = None,
) -> tuple[list[Invocation], list[Unrunnable]]:
    """Group `blocks` into command runs: one per task and command text.

    `tests_for` fills ``{tests}`` (the tests that executed the blocks last time); without it
    ``{tests}`` is empty and the command runs the whole suite."""
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
            tests = tests_for(members) if tests_for is not None and "{tests}" in source.text else []
            argv = expand(source, files=[b.path for b in members], task_id=task_id, tests=tests)
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
    narrow = None if target.kind == "all" else _covering_tests(ws, workflow)
    invocations, unrunnable = plan(workflow, tasks, blocks, tests_for=narrow)
    report = VerifyReport(blocks, invocations, unrunnable=unrunnable)

    for invocation in invocations:
        decision = explicit_trust() if trust_commands else is_trusted(ws, invocation.source.text)
        if not decision.trusted:
            report.untrusted.append((invocation, decision))
    if report.untrusted:
        report.findings = _untrusted_findings(ws, loaded, tasks, report.untrusted)
        return report

    from handrail.git import git_owner

    author = git_owner(ws.root) if invocations else None
    ledger = Ledger(ws)
    if invocations:
        read_only = ledger.read(workflow).read_only
        if read_only is not None:
            # The result could not be recorded: running the commands would be wasted work.
            raise VerifyError(read_only)
    # Each distinct argv runs once; the tasks that share it share its result.
    groups: dict[tuple[str, ...], list[Invocation]] = {}
    for invocation in invocations:
        groups.setdefault(invocation.argv, []).append(invocation)
    index = 1
    everything: list[FoundBlock] | None = None
    for members in groups.values():
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        if everything is None:
            # Every block of the workspace, once per verify: failures are laid on any of them.
            everything = blocks if target.kind == "all" else find_blocks(ws)
        outcomes = _run_shared(
            ws,
            workflow,
            ledger,
            members,
            author,
            index,
            len(invocations),
            progress,
            cancel,
            everything,
        )
        index += len(members)
        report.runs.extend(outcomes)
        if any(o.result.cancelled for o in outcomes):
            report.cancelled = True
            break
    return report


def _covering_tests(ws: Workspace, workflow: Workflow) -> TestsFor:
    """For ``{tests}``: the tests that executed each block in its newest measured run.

    Empty (the whole suite) as soon as one block has no such run, or had more tests than a
    record names: narrowing must never drop a test that covers a block."""
    cache: list[EvidenceIndex] = []

    def tests_for(blocks: Sequence[FoundBlock]) -> list[str]:
        if not cache:
            cache.append(EvidenceIndex.build(Ledger(ws).read(workflow).records))
        index = cache[0]
        found: set[str] = set()
        for block in blocks:
            known = next(
                (
                    r.coverage[block.block_id]
                    for r in index.runs_for(block.block_id)
                    if r.coverage is not None
                    and block.block_id in r.coverage
                    and r.coverage[block.block_id].outcome != "not_measured"
                ),
                None,
            )
            if known is None or not known.tests or known.more_tests:
                return []
            found.update(known.tests)
        return sorted(found)

    return tests_for


def _spans(ws: Workspace, blocks: Sequence[FoundBlock]) -> dict[str, FoundBlock]:
    """The blocks as their files hold them now (lines may have moved since planning)."""
    wanted = {b.block_id for b in blocks}
    found: dict[str, FoundBlock] = {}
    for rel in sorted({b.path for b in blocks}):
        parsed = read_blocks(ws, rel)
        if parsed is None:
            continue
        for block in parsed[1]:
            if block.id in wanted:
                found[block.id] = _found(rel, block)
    return found


def _run_shared(
    ws: Workspace,
    workflow: Workflow,
    ledger: Ledger,
    members: list[Invocation],
    author: str | None,
    index: int,
    total: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    workspace_blocks: Sequence[FoundBlock],
) -> list[RunOutcome]:
    """Run the argv that `members` share once, measured; one record per member."""
    import tempfile
    from pathlib import Path

    from handrail.evidence.could_not_run import could_not_run
    from handrail.evidence.python_layer import PythonEvidence, PythonLayer

    def emit(event: ProgressEvent) -> None:
        if progress is not None:
            progress(event)

    lead = members[0]
    all_blocks = [b for inv in members for b in inv.blocks]
    # The hashes the records will hold are taken now, as the run starts, not when planning.
    at_start = _spans(ws, all_blocks)
    index_now = EvidenceIndex.build(ledger.read(workflow).records)
    for offset, invocation in enumerate(members):
        emit(
            ProgressEvent(
                "start", index + offset, total, invocation, joins=index if offset else None
            )
        )
    rules = workflow.verification

    def on_output(chunk: bytes) -> None:
        emit(ProgressEvent("output", index, total, lead, chunk=chunk))

    # Every generated Python block of the workspace is measured, not only this run's: a
    # failing test that executed another generated block lays its failure there.
    context = {b.block_id: b for b in workspace_blocks if b.block_id not in at_start}
    context.update(at_start)
    py_files = sorted({b.path for b in context.values() if b.path.endswith((".py", ".pyw"))})
    run_py = {b.path for b in at_start.values() if b.path.endswith((".py", ".pyw"))}
    python: PythonEvidence | None = None
    with tempfile.TemporaryDirectory(prefix="handrail-evidence-") as tmp:
        # Only a run that covers Python blocks is measured (a `npm test` is left as it is).
        layer = PythonLayer.prepare(Path(tmp), ws.root, py_files) if run_py else None
        result = run_command(
            lead.argv,
            cwd=ws.root,
            timeout_s=rules.timeout_s,
            max_output_bytes=rules.max_output_bytes,
            cancel=cancel,
            on_output=on_output if progress is not None else None,
            env=layer.environment() if layer is not None else None,
        )
        if layer is not None and result.started and not result.cancelled:
            python = layer.collect()
    after = _spans(ws, all_blocks)
    why = (
        None
        if result.cancelled
        else could_not_run(
            lead.argv,
            exit_code=result.exit_code,
            start_error=result.start_error,
            output=result.tail_text(),
            python=python,
        )
    )
    coverage: dict[str, Any] = dict(python.coverage) if python is not None else {}
    not_measured = _report_coverage(ws, workflow, lead, result, coverage)
    for rel in sorted(run_py):
        not_measured.setdefault(
            rel,
            f"the run never imported {rel} from the workspace (no Python process it started "
            "loaded the file under measurement)",
        )
    tests = python.tests if python is not None else {}
    attributed: dict[str, BlockCoverage] = {}
    if why is None and result.started and not result.cancelled:
        from handrail.evidence.attribution import BlockSpan, attribute

        spans = [BlockSpan(b.block_id, b.path, b.begin_line, b.end_line) for b in context.values()]
        attributed = attribute(
            spans, coverage, tests, run_passed=result.passed, not_measured=not_measured
        )
    outcomes: list[RunOutcome] = []
    for offset, invocation in enumerate(members):
        outcome = _record(
            ws,
            workflow,
            ledger,
            invocation,
            author,
            result,
            at_start,
            after,
            index_now,
            why,
            attributed,
            shared=len(members) > 1,
        )
        outcomes.append(outcome)
        emit(ProgressEvent("finish", index + offset, total, invocation, outcome=outcome))
    return outcomes


def _report_coverage(
    ws: Workspace,
    workflow: Workflow,
    invocation: Invocation,
    result: RunResult,
    coverage: dict[str, Any],
) -> dict[str, str]:
    """Add the report the command writes (`coverage` in the rules) to `coverage`; return,
    per non-Python block file, why it is not measured."""
    reasons: dict[str, str] = {}
    report_path = ""
    if invocation.source.origin == "by_path" and invocation.source.index is not None:
        report_path = workflow.verification.by_path[invocation.source.index].coverage
    elif invocation.source.origin in ("default", "task"):
        report_path = workflow.verification.coverage
    others = sorted({b.path for b in invocation.blocks if not b.path.endswith((".py", ".pyw"))})
    if not others:
        return reasons
    if not report_path:
        for rel in others:
            reasons[rel] = (
                "the command writes no coverage report Handrail knows of: name it with "
                "`[verification] coverage`"
            )
        return reasons
    try:
        # The rules come from the repository: a report path may not lead outside it.
        path = ws.resolve_inside(report_path)
    except PathEscapesWorkspace:
        for rel in others:
            reasons[rel] = f"the coverage report {report_path} is outside the workspace: not read"
        return reasons
    try:
        fresh = path.stat().st_mtime >= result.started_at.timestamp() - 1
    except OSError:
        fresh = None
    if fresh is None or not fresh:
        why = "was not written" if fresh is None else "is older than the run"
        for rel in others:
            reasons[rel] = f"the coverage report {report_path} {why}"
        return reasons
    try:
        from handrail.evidence.reports import parse_report

        parsed: LineCoverage = parse_report(path, ws.root)
    except Exception as exc:
        for rel in others:
            reasons[rel] = f"the coverage report {report_path} could not be read ({exc})"
        return reasons
    for rel in others:
        if rel in parsed:
            coverage[rel] = parsed[rel]
        else:
            reasons[rel] = f"the coverage report {report_path} does not mention {rel}"
    return reasons


def _tested(found: BlockCoverage | None, workflow: Workflow) -> bool:
    """Whether this run put the block to the test (so it is, or used up, a first attempt)."""
    knob = workflow.verification.min_executed
    if found is None:
        return False
    if found.outcome == "failed":
        return True
    if found.outcome == "passed":
        return meets_min_executed(found, knob)
    return found.outcome == "not_measured" and knob == "none"


def _verdict(
    found: BlockCoverage | None, workflow: Workflow, result: RunResult, command: str
) -> tuple[str, str]:
    knob = workflow.verification.min_executed
    if found is None:
        return (
            ("verified", f"passed in {result.duration_s:.1f} s")
            if result.passed
            else (
                "failed",
                describe_failure(result),
            )
        )
    from handrail.ledger.evidence import lines_summary

    lines = lines_summary(found) or ""
    if found.outcome == "failed":
        tests = f" (failing: {', '.join(found.failed_tests[:3])})" if found.failed_tests else ""
        return "failed", f"{describe_failure(result)}{tests}"
    if found.outcome == "failed_elsewhere":
        return "failed_elsewhere", f"{describe_failure(result)}, {elsewhere_phrase(found)}"
    if found.outcome == "not_measured":
        if knob == "none":
            return "verified", f"passed in {result.duration_s:.1f} s (not measured)"
        return "not_measured", f"{command} passed, but not measured: {found.note}"
    if meets_min_executed(found, knob):
        return "verified", f"passed in {result.duration_s:.1f} s · {lines}"
    return "not_executed", f"{command} passed, but no test executed it enough ({lines})"


def _record(
    ws: Workspace,
    workflow: Workflow,
    ledger: Ledger,
    invocation: Invocation,
    author: str | None,
    result: RunResult,
    at_start: dict[str, FoundBlock],
    after: dict[str, FoundBlock],
    index_now: EvidenceIndex,
    why: str | None,
    attributed_all: dict[str, BlockCoverage],
    *,
    shared: bool,
) -> RunOutcome:
    import shlex

    vanished = [b for b in invocation.block_ids if b not in at_start]
    covered = {b: at_start[b].content_hash for b in invocation.block_ids if b in at_start}
    changed = [b for b, h in covered.items() if b not in after or after[b].content_hash != h]
    attributed = {b: attributed_all[b] for b in covered if b in attributed_all}
    # A run that could not run tested nothing: it is not the code's first attempt, and it
    # does not use up the first attempt of a later run that does. Neither does a passing run
    # that never executed the block.
    first = (
        [
            b
            for b in covered
            if _tested(attributed.get(b), workflow) and not _ever_tested(index_now, b)
        ]
        if why is None and result.started
        else []
    )
    command = f"`{shlex.join(result.argv)}`"
    verdicts = {b: _verdict(attributed.get(b), workflow, result, command) for b in covered}

    record: VerificationRun | None = None
    write_error: str | None = None
    if not result.cancelled and covered:
        from handrail.tasks.files import current_spec_hash

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
            could_not_run=why,
            coverage=attributed or None,
            spec_hash=current_spec_hash(ws, invocation.task_id),
        )
        try:
            ledger.append(candidate)
            record = candidate
        except LedgerWriteError as exc:
            write_error = str(exc)
    return RunOutcome(
        invocation,
        result,
        record,
        first,
        changed,
        vanished,
        write_error,
        could_not_run=why,
        coverage=attributed,
        verdicts=verdicts,
        shared=shared,
    )


def _ever_tested(index: EvidenceIndex, block_id: str) -> bool:
    """Whether a recorded run ever put the block to the test (its first attempt is spent).

    Runs with line evidence say so in `first_attempt`; older records counted every run that
    started."""
    for run in index.runs_for(block_id):
        if run.could_not_run is not None:
            continue
        if run.coverage is None:
            if run.exit_code is not None or run.timed_out:
                return True
        elif block_id in run.first_attempt:
            return True
    return False


# -- the CI gate -------------------------------------------------------------------------------


@dataclass(slots=True)
class GateRerun:
    """The CI gate's fresh runs: their findings, and the blocks whose probe they judged."""

    findings: list[Finding] = field(default_factory=list)
    probe_judged: set[str] = field(default_factory=set)
    """Blocks whose tier asks for the probe: their HR313 comes from this run, not the ledger."""
    probe_cancelled: bool = False
    """The cancel came while the probe ran (the verification runs had finished)."""


def rerun_all(
    ws: Workspace,
    *,
    trust_commands: bool,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Finding]:
    """`rerun_gate`'s findings."""
    return rerun_gate(ws, trust_commands=trust_commands, progress=progress, cancel=cancel).findings


def rerun_gate(
    ws: Workspace,
    *,
    trust_commands: bool,
    progress: ProgressCallback | None = None,
    probe_progress: ProbeProgress | None = None,
    cancel: threading.Event | None = None,
) -> GateRerun:
    """Run every block's verification fresh; a finding for every block that did not pass.

    For `handrail check --rerun`: the findings come from the fresh runs themselves, not from
    the committed ledger, so a record someone wrote by hand cannot make the gate pass. Each is
    placed at the block's begin marker, like the evidence findings of `handrail check`
    (HR302 for a failed run, HR300 for a block that could not be run or recorded), with
    ``data["rerun"] = True``. Without `trust_commands` every command must be approved with
    `handrail trust`; otherwise nothing runs and the result is HR403.

    Blocks whose risk tier asks for the probe are probed after the runs
    (`handrail.verify.with_probe`), and their HR313 comes from that probe too.
    """
    from handrail.verify.with_probe import fresh_probe_findings, verify_with_probe

    workflow = load_workflow(ws).workflow
    try:
        done = verify_with_probe(
            ws,
            Target.everything(),
            trust_commands=trust_commands,
            progress=progress,
            probe_progress=probe_progress,
            cancel=cancel,
        )
    except VerifyError as exc:
        # The gate must not pass on old evidence because the fresh runs could not happen.
        severity = workflow.severity_of("HR300")
        if severity is None:
            return GateRerun()
        return GateRerun(
            [
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
        )
    report = done.report
    if report.untrusted:
        return GateRerun(list(report.findings))
    gate = GateRerun(probe_cancelled=done.probe is not None and done.probe.cancelled)
    if done.probe is not None:
        if done.probe.untrusted:
            gate.findings += done.probe.findings
        else:
            gate.probe_judged, probe_findings = fresh_probe_findings(
                ws, workflow, report, done.probe
            )
            gate.findings += probe_findings
    findings = gate.findings
    for item in report.block_results():
        if item.status == "verified":
            continue
        block = item.block
        if item.status == "could_not_run":
            # The why, as a warning; the gate still fails below: nothing verified the block.
            warning = workflow.severity_of("HR311")
            if warning is not None:
                findings.append(
                    Finding(
                        "HR311",
                        warning,
                        f"The verification of {block.block_id} in {block.path} "
                        f"could not run: {item.message}: fix the environment where the tests "
                        "run, not the spec.",
                        block.path,
                        block.begin_line,
                        1,
                        block.end_line,
                        None,
                        data={"block_id": block.block_id, "rerun": True},
                    )
                )
        code = {
            "failed": "HR302",
            "not_executed": "HR310",
            "not_measured": "HR310",
        }.get(item.status, "HR300")
        severity = workflow.severity_of(code)
        if severity is None:
            continue
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
    return gate


def first_attempt_advice(workflow: Workflow) -> str:
    """The workflow's "first-attempt" checkpoint advice (HR302 on a failed first run)."""
    for checkpoint in workflow.checkpoints:
        if checkpoint.id == "first-attempt" and checkpoint.otherwise.strip():
            return checkpoint.otherwise.strip()
    return _FIRST_ATTEMPT_ADVICE
