"""`handrail context check|candidates`: stage 2, the files attached to a task against the caps,
and the files a task may attach."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from handrail.cli.common import (
    Context,
    echo_findings,
    emit_json,
    exit_for,
    fail,
    json_option,
    pass_ctx,
)
from handrail.cli.tasks_arg import tasks_named

if TYPE_CHECKING:
    from handrail.context.check import ContextReport


@click.group("context")
def context() -> None:
    """Check the context attached to tasks."""


@context.command("check")
@click.argument("task_ids", nargs=-1, metavar="[TASK]...")
@json_option
@pass_ctx
def context_check(ctx: Context, task_ids: tuple[str, ...], as_json: bool) -> None:
    """Check the context of TASK (default: every task): tokens, caps, ignores, secrets.

    Prints each entry with its tokens and status, the total against the budget and, when over,
    which entries to drop.
    """
    from handrail.gate.run import task_context_reports

    ws, workflow, tasks = tasks_named(ctx, task_ids)
    reports = task_context_reports(ws, workflow, tasks)
    findings = [f for r in reports for f in r.findings]
    if as_json:
        emit_json({"tasks": [r.as_json(t.task.id) for t, r in zip(tasks, reports, strict=True)]})
    else:
        for loaded_task, report in zip(tasks, reports, strict=True):
            _print_report(loaded_task.task.id, loaded_task.rel, report)
        if not tasks:
            click.echo('No tasks yet: handrail task new "<spec>" --context <file>')
    raise SystemExit(exit_for(findings))


def _print_report(task_id: str, rel: str, report: ContextReport) -> None:
    click.echo(click.style(f"Task {task_id}", bold=True) + f"  ({rel})")
    if not report.entries:
        click.echo("  no context entries")
    width = max([len(e.raw) for e in report.entries] + [5])
    click.echo(f"  {'entry':<{width}}  {'tokens':>8}  status")
    for entry in report.entries:
        tokens = f"{entry.tokens:,}" if entry.tokens is not None else "-"
        status = entry.status
        colour = "green" if status == "ok" else "red"
        click.echo(f"  {entry.raw:<{width}}  {tokens:>8}  {click.style(status, fg=colour)}")
    over = report.total_tokens > report.max_tokens
    total_line = (
        f"  total {report.total_tokens:,} of {report.max_tokens:,} tokens ({report.encoding_used})"
    )
    click.echo(click.style(total_line, fg="red") if over else total_line)
    if report.encoding_note:
        click.echo(f"  note: {report.encoding_note}")
    if report.drop:
        click.echo("  to fit, drop: " + ", ".join(report.drop))
    echo_findings(report.findings)
    click.echo()


@context.command("candidates")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@json_option
@pass_ctx
def context_candidates(ctx: Context, paths: tuple[str, ...], as_json: bool) -> None:
    """The files a task may attach (default: every file not ignored), with their tokens.

    What the editors' "Add to Handrail Context" picker lists (``handrail.contextCandidates``,
    the same use case and, with --json, the same JSON). A file that cannot be attached whole
    shows why instead of a count.
    """
    from handrail.analysis import Snapshot
    from handrail.context.candidates import context_candidates as list_candidates

    snapshot = Snapshot.load(ctx.ws)
    if snapshot.workflow.findings:
        echo_findings(snapshot.workflow.findings, err=True)
        fail("the workflow file is invalid: fix it first")
    found = list_candidates(snapshot, list(paths) if paths else None)
    if as_json:
        emit_json(found.to_json())
        return
    width = max([len(f"{f.tokens:,}") for f in found.files if f.tokens is not None] + [6])
    for candidate in found.files:
        counted = f"{candidate.tokens:,}" if candidate.tokens is not None else candidate.status
        click.echo(f"{counted:>{width}}  {candidate.path}")
    click.echo(
        f"{len(found.files)} file(s); a task's budget is {found.max_tokens:,} tokens and "
        f"{found.max_files} files ({found.encoding})."
        + (" Only the first files are listed." if found.truncated else "")
    )
