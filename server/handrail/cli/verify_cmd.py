"""`handrail verify`, `trace`, `explain` and `trust`: stage 4 on the command line."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from handrail.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    Context,
    echo_findings,
    emit_json,
    fail,
    json_option,
    pass_ctx,
)
from handrail.cli.interrupts import Interruption, run_interruptibly
from handrail.verify.commands import CommandSource
from handrail.verify.run import (
    FoundBlock,
    ProgressEvent,
    Target,
    VerifyError,
    VerifyReport,
)
from handrail.workspace import Workspace

if TYPE_CHECKING:
    from handrail.review.acknowledgements import AckKind
    from handrail.verify.trust import TrustRequest
    from handrail.verify.with_probe import VerifiedAndProbed

_TAIL_LINES = 30
"""Lines of a failed command's output shown when its output was not streamed."""


def _visible(text: str) -> str:
    """`text` as typed, unless it holds characters a terminal would hide or act on.

    A command shown for approval must look exactly like what runs: an escape sequence or a
    carriage return could otherwise hide part of it.
    """
    if text.isprintable():
        return text
    return repr(text)


def _err(message: str = "") -> None:
    click.echo(message, err=True)


def _load_valid_workflow(ws: Workspace) -> None:
    from handrail.workflow.load import load_workflow

    loaded = load_workflow(ws)
    if loaded.findings:
        echo_findings(loaded.findings, err=True)
        fail(f"{ws.relative(ws.workflow_path)} is invalid: fix it first", EXIT_USAGE)


# -- verify --------------------------------------------------------------------------------------


class LiveProgress:
    """Live progress on stderr: a line when a run starts and when it ends."""

    def __init__(self, *, stream_output: bool) -> None:
        self.stream_output = stream_output
        self._last: object = None

    def __call__(self, event: ProgressEvent) -> None:
        inv = event.invocation
        if event.kind == "start":
            blocks = ", ".join(inv.block_ids)
            if event.joins is not None:
                _err(
                    f"[{event.index}/{event.total}] {inv.task_id}: {blocks} share the run of "
                    f"[{event.joins}/{event.total}] (the same command, {inv.source.where})"
                )
                return
            _err(
                f"[{event.index}/{event.total}] {inv.task_id}: running "
                f"`{_visible(shlex.join(inv.argv))}` for {blocks} ({inv.source.where})"
            )
        elif event.kind == "output" and self.stream_output:
            sys.stderr.buffer.write(event.chunk)
            sys.stderr.buffer.flush()
        elif event.kind == "finish" and event.outcome is not None:
            from handrail.verify.run import describe_failure

            result = event.outcome.result
            if result.cancelled:
                return  # the caller says once why the run stopped
            if event.outcome.shared and result is self._last:
                _err("      (the same run as above: one run, shared)")
                return
            self._last = result
            if event.outcome.could_not_run is not None:
                _err(f"      could not run: {event.outcome.could_not_run}")
                return
            if result.passed:
                _err(f"      passed in {result.duration_s:.1f} s")
                return
            took = "" if result.start_error else f" after {result.duration_s:.1f} s"
            _err(f"      failed: {describe_failure(result)}{took}")
            if not self.stream_output and result.output_bytes:
                lines = result.tail_text().rstrip("\n").split("\n")[-_TAIL_LINES:]
                _err(f"      last {len(lines)} lines of its output:")
                for line in lines:
                    _err(f"      | {line}")


def _run_verify(
    ws: Workspace, target: Target, progress: LiveProgress, *, probe_all: bool, budget_s: float
) -> tuple[VerifiedAndProbed, Interruption]:
    """Run the engine (verify, then the probe where asked) so that Ctrl-C or SIGTERM stops
    the running command's, or the running mutants', whole process group."""
    from handrail.cli.verify_probe import ProbeDisplay
    from handrail.verify.with_probe import verify_with_probe

    return run_interruptibly(
        lambda cancel: verify_with_probe(
            ws,
            target,
            probe_all=probe_all,
            budget_s=budget_s,
            progress=progress,
            probe_progress=ProbeDisplay(),
            cancel=cancel,
        )
    )


def _first_attempt_advice(ws: Workspace) -> str:
    from handrail.verify.run import first_attempt_advice
    from handrail.workflow.load import load_workflow

    return first_attempt_advice(load_workflow(ws).workflow)


def _print_report(ws: Workspace, report: VerifyReport) -> None:
    if report.untrusted:
        echo_findings(report.findings, err=True)
        _err("Nothing was run. The commands that need your approval:")
        for text in dict.fromkeys(inv.source.text for inv, _ in report.untrusted):
            _err(f"    {_visible(text)}")
        _err("Read them (and what they run), then run `handrail trust` if you trust them.")
        return
    advice: str | None = None
    for item in report.block_results():
        where = f"{item.block.path}:{item.block.begin_line}"
        label = item.status.replace("_", " ")
        line = f"{item.block.block_id}  {where}  {label}: {item.message}"
        if item.first_attempt and item.status == "failed":
            advice = advice or _first_attempt_advice(ws)
            line += f". It was the block's first attempt: {advice}"
        click.echo(line)


@click.command("verify")
@click.argument("target", required=False)
@click.option("--all", "all_blocks", is_flag=True, help="Verify every block of the workspace.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Stream each command's output to stderr as it runs."
)
@click.option(
    "--probe",
    is_flag=True,
    help="Then probe every block that passed: do its tests fail when it is broken?",
)
@click.option(
    "--probe-budget",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds the probe may spend on one block.",
)
@click.option("--dismiss", metavar="MUTANT", help="Dismiss a surviving mutant of BLOCK.")
@click.option("--reason", help="Why the dismissed mutant makes no difference (recorded).")
@json_option
@pass_ctx
def verify_cmd(
    ctx: Context,
    target: str | None,
    all_blocks: bool,
    verbose: bool,
    probe: bool,
    probe_budget: float,
    dismiss: str | None,
    reason: str | None,
    as_json: bool,
) -> None:
    """Run the verification of TARGET (a task id or block id), or of every block with --all.

    Commands come from the task's `verify` field, else the workflow's `[verification]` rules,
    and run only when trusted on this machine (`handrail trust`). Each run is recorded in the
    ledger with the hash of every block it covered, taken as the run started.

    With --probe (and always for blocks whose risk tier asks for it) each block that passed
    is then probed: small mutants of its lines, each run against the tests that executed it;
    "caught K of N" is recorded (HR313). `--dismiss MUTANT --reason "..."` records that a
    surviving mutant of BLOCK makes no difference, and runs nothing.

    Exit 0 when every covered block is now verified, 1 when a run failed or nothing could
    run (HR403) or a tier's probe caught nothing, 2 for a usage or configuration error.
    """
    if dismiss is not None:
        from handrail.cli.verify_probe import dismiss_mutant

        dismiss_mutant(ctx.ws, target, dismiss, reason, as_json)
        return
    if (target is None) == (not all_blocks):
        fail("name a TASK or BLOCK to verify, or pass --all (not both)")
    try:
        chosen = Target.everything() if all_blocks else Target.parse(target or "")
    except VerifyError as exc:
        fail(str(exc))
    ws = ctx.ws
    _load_valid_workflow(ws)
    try:
        done, interruption = _run_verify(
            ws,
            chosen,
            LiveProgress(stream_output=verbose),
            probe_all=probe,
            budget_s=probe_budget,
        )
    except VerifyError as exc:
        fail(str(exc))
    report = done.report
    if interruption.interrupted:
        # Runs that finished before the signal are recorded (their results are true); the
        # interrupted one is not. Scripts still get the JSON report, with "cancelled": true.
        if as_json:
            emit_json(report.as_json())
        if report.cancelled or done.probe is None:
            interruption.exit(
                "the running verification command was stopped and its run was not recorded"
            )
        interruption.exit("the probe was stopped: its mutants were killed, nothing recorded")
    probed = None
    if done.probe is not None:
        from handrail.cli.verify_probe import summarize_probes

        probed = summarize_probes(done.probe)
    if as_json:
        emit_json(report.as_json() | ({"probe": probed.as_json()} if probed else {}))
    else:
        if not report.blocks:
            what = "the workspace" if chosen.kind == "all" else f"task {chosen.value}"
            click.echo(f"No generated blocks in {what}: nothing to verify.")
        _print_report(ws, report)
        if probed is not None:
            from handrail.cli.verify_probe import print_probes

            print_probes(probed)
    if not report.blocks:
        raise SystemExit(EXIT_OK)
    if report.unrunnable and not report.untrusted:
        # No command, a command that cannot be split, a broken task file: the set-up needs
        # fixing, which is a configuration error rather than a failed verification.
        raise SystemExit(EXIT_USAGE)
    if probed is not None and (probed.failed or probed.report.untrusted):
        raise SystemExit(EXIT_FINDINGS)
    raise SystemExit(EXIT_OK if report.ok else EXIT_FINDINGS)


# -- trace and explain ---------------------------------------------------------------------------


def _the_block(ws: Workspace, block_id: str) -> tuple[FoundBlock, str]:
    """The block `block_id` as it is now and its content; a usage error when absent."""
    from handrail.blocks.markers import block_content
    from handrail.verify.run import find_blocks, read_blocks

    try:
        target = Target.parse(block_id)
    except VerifyError as exc:
        fail(str(exc))
    if target.kind != "block":
        fail(f"{block_id!r} is a task id: name one block, such as {block_id}.1")
    found = find_blocks(ws, target)
    if not found:
        fail(f"there is no block {block_id} in the workspace")
    if len(found) > 1:
        places = ", ".join(f"{b.path}:{b.begin_line}" for b in found)
        fail(f"block {block_id} appears more than once ({places}): fix the duplicate (HR305)")
    block = found[0]
    read = read_blocks(ws, block.path)
    parsed = next((b for b in read[1] if b.id == block_id), None) if read else None
    if read is None or parsed is None:
        fail(f"block {block_id} changed while it was being read: try again")
    return block, block_content(read[0], parsed)


def _record_ack(ctx: Context, block_id: str, kind: AckKind, note: str, as_json: bool) -> None:
    from handrail.git import git_owner
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.acknowledgements import record_acknowledgement

    ws = ctx.ws
    block, content = _the_block(ws, block_id)
    try:
        done = record_acknowledgement(
            ws, kind, block_id, block.path, content, author=git_owner(ws.root), note=note
        )
    except LedgerWriteError as exc:
        fail(f"the {kind} was not recorded: {exc}", EXIT_FINDINGS)
    if as_json:
        emit_json(done.to_json())
        return
    who = f" by {done.author}" if done.author else ""
    what = "manual trace" if kind == "trace" else "acknowledgement that you can explain every line"
    click.echo(
        f"Recorded your {what} of {block_id} in {block.path}{who}, for its current content "
        f"({done.content_hash[:19]}…). Editing the block voids it."
    )
    if kind == "trace" and not done.trace_required:
        click.echo("(Its risk tier does not require a trace; the record is kept anyway.)")
    if done.still_needed:
        click.echo("Still needed: " + "; ".join(done.still_needed) + ".")
    else:
        click.echo(f"{block_id} has everything the workflow asks for.")


@click.command("trace")
@click.argument("block")
@click.option("--note", default="", help="What you checked, in a sentence (kept in the record).")
@json_option
@pass_ctx
def trace_cmd(ctx: Context, block: str, note: str, as_json: bool) -> None:
    """Record that you traced BLOCK's current content by hand (risk tiers require it, HR303).

    The record names who, when and the exact content hash: edit the block and trace again.
    """
    _record_ack(ctx, block, "trace", note, as_json)


@click.command("explain")
@click.argument("block")
@json_option
@pass_ctx
def explain_cmd(ctx: Context, block: str, as_json: bool) -> None:
    """Record that you can explain every line of BLOCK's current content (HR304)."""
    _record_ack(ctx, block, "explain", "", as_json)


# -- trust ---------------------------------------------------------------------------------------


@click.command("trust")
@click.option("--show", is_flag=True, help="Show what is trusted here, approve nothing.")
@click.option("--revoke", is_flag=True, help="Forget this workspace's approval.")
@json_option
@pass_ctx
def trust_cmd(ctx: Context, show: bool, revoke: bool, as_json: bool) -> None:
    """Approve this workspace's verification commands on this machine, exactly as printed.

    Records the hash of .handrail/workflow.toml and of every command text (the workflow's and
    each task's `verify`) in your user state folder, outside the repository. Any edit to the
    workflow file voids the approval; a new or changed task command needs approving again.
    """
    from handrail.verify import trust as trust_mod

    if show and revoke:
        fail("--show and --revoke cannot be combined")
    ws = ctx.ws
    try:
        if revoke:
            _trust_revoke(ws, as_json)
        elif show:
            _trust_show(ws, as_json)
        else:
            _trust_grant(ws, as_json)
    except trust_mod.WorkflowNotTrustable as exc:
        # The same refusal and exit code as `handrail check` on this workflow file.
        fail(str(exc), EXIT_USAGE)
    except trust_mod.TrustError as exc:
        fail(str(exc), EXIT_FINDINGS)


def _idle_commands(ws: Workspace, request: TrustRequest) -> set[int]:
    """Positions in `request.commands` of those no file of this repository would run."""
    from handrail.files import list_files
    from handrail.verify.commands import applies_to_files

    workflow = request.workflow
    if workflow is None:
        return set()
    files = list_files(ws)
    return {
        i
        for i, command in enumerate(request.commands)
        if not applies_to_files(workflow, command, files)
    }


_IDLE_NOTE = "no file here"


def _trust_grant(ws: Workspace, as_json: bool) -> None:
    from handrail.verify import trust as trust_mod

    request = trust_mod.pending(ws)
    if request.workflow_problems:
        _load_valid_workflow(ws)
    entry = trust_mod.trust(ws, request)
    idle = _idle_commands(ws, request)
    if as_json:
        emit_json(
            {
                "workspace": request.key,
                "workflow": request.workflow_rel,
                "runs_sha256": request.runs_sha256,
                "commands": [
                    {
                        "command": c.text,
                        "where": c.where,
                        "sha256": trust_mod.command_digest(c.text),
                        "applies_here": i not in idle,
                    }
                    for i, c in enumerate(request.commands)
                ],
                "unreadable_tasks": request.unreadable_tasks,
                "store": str(trust_mod.store_path()),
                "approved_at": entry.approved_at,
            }
        )
        return
    click.echo(f"Trusted on this machine, for {request.key}:")
    _echo_commands(request.commands, idle, lambda _: "")
    state = (
        f"{request.workflow_rel}'s commands and per-path rules as they are now "
        f"(sha256 {request.runs_sha256[:12]}…)"
        if request.has_workflow_file
        else f"the default pack ({request.workflow_rel} does not exist)"
    )
    click.echo(f"with {state}.")
    for task_id in request.unreadable_tasks:
        _err(
            f"handrail: task {task_id}'s file cannot be read: its command (if any) is not "
            "approved; fix the file and run `handrail trust` again."
        )
    click.echo(
        f"Recorded in {trust_mod.store_path()}. A change to a command or to the per-path rules "
        f"in {request.workflow_rel} voids this (a review date, a cap or a timeout does not); a "
        "new or changed task command needs `handrail trust` again."
    )


def _echo_commands(
    commands: list[CommandSource], idle: set[int], mark: Callable[[int], str]
) -> None:
    """The commands that apply here, then, marked, those no file of this repository would run."""
    if not commands:
        click.echo("    (no verification commands are defined)")
        return
    width = max(len(_visible(c.text)) for c in commands)
    used = [i for i in range(len(commands)) if i not in idle]
    for i in used:
        click.echo(f"  {mark(i)}  {_visible(commands[i].text):<{width}}   ({commands[i].where})")
    if idle:
        click.echo(f"  and, though no file in this repository would run them ({_IDLE_NOTE}):")
        for i in sorted(idle):
            click.echo(
                f"  {mark(i)}  {_visible(commands[i].text):<{width}}   ({commands[i].where})"
            )


def _trust_show(ws: Workspace, as_json: bool) -> None:
    from handrail.verify import trust as trust_mod

    request = trust_mod.pending(ws)
    entry = trust_mod.entry_for(ws)
    rows = []
    for command in request.commands:
        decision = trust_mod.is_trusted(ws, command.text)
        rows.append((command, decision))
    idle = _idle_commands(ws, request)
    unchanged = entry is not None and entry.runs_sha256 == request.runs_sha256
    if as_json:
        emit_json(
            {
                "workspace": request.key,
                "recorded": entry.as_json() if entry else None,
                "workflow_unchanged": unchanged,
                "commands": [
                    {
                        "command": c.text,
                        "where": c.where,
                        "trusted": d.trusted,
                        "reason": d.kind,
                        "applies_here": i not in idle,
                    }
                    for i, (c, d) in enumerate(rows)
                ],
            }
        )
        return
    if entry is None:
        click.echo(f"Nothing is trusted for {request.key} on this machine.")
    else:
        click.echo(
            f"Trusted on {entry.approved_at} for {request.key}; what {request.workflow_rel} runs "
            + (
                "is unchanged since."
                if unchanged
                else "has CHANGED since (a command or a per-path rule): that approval is void."
            )
        )
    _echo_commands(
        request.commands, idle, lambda i: "trusted  " if rows[i][1].trusted else "untrusted"
    )


def _trust_revoke(ws: Workspace, as_json: bool) -> None:
    from handrail.verify import trust as trust_mod

    removed = trust_mod.revoke(ws)
    if as_json:
        emit_json({"workspace": trust_mod.workspace_key(ws), "revoked": removed})
        return
    if removed:
        click.echo(f"Forgot the approval of {trust_mod.workspace_key(ws)}: nothing runs there now.")
    else:
        click.echo(f"{trust_mod.workspace_key(ws)} was not trusted on this machine.")
