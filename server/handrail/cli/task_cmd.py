"""`handrail task new`: stage 1, a checked two-sentence spec before anything is generated."""

from __future__ import annotations

import click

from handrail.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    Context,
    echo_findings,
    emit_json,
    fail,
    json_option,
    pass_ctx,
)
from handrail.findings import Finding, findings_json


@click.group("task")
def task() -> None:
    """Create and inspect tasks (.handrail/tasks/<id>.toml)."""


@task.command("new")
@click.argument("spec")
@click.option(
    "--context",
    "-c",
    "entries",
    multiple=True,
    metavar="ENTRY",
    help="A workspace-relative file, optionally with a line range: src/a.py#L10-L40. Repeatable.",
)
@click.option("--verify", help="The task's own verification command (overrides the rules).")
@json_option
@pass_ctx
def task_new(
    ctx: Context, spec: str, entries: tuple[str, ...], verify: str | None, as_json: bool
) -> None:
    """Create a task from SPEC, refusing a spec with an error-severity finding.

    Nothing is written when the spec is refused (exit 1).
    """
    from handrail.check import task_context_reports
    from handrail.context.entries import EntryError, parse_entry
    from handrail.tasks import create_task
    from handrail.workflow.load import load_workflow
    from handrail.workflow.model import Workflow

    ws = ctx.ws
    for raw in entries:
        try:
            parse_entry(raw)
        except EntryError as exc:
            fail(f"--context {raw!r}: {exc}")
    loaded = load_workflow(ws)
    if loaded.findings:
        echo_findings(loaded.findings, err=True)
        fail("the workflow file is invalid: fix it first", EXIT_USAGE)
    workflow: Workflow = loaded.workflow
    created = create_task(ws, workflow, spec, list(entries), verify=verify)
    if created.task is not None:
        from handrail.agents.state import set_active_task

        # An agent working in a terminal: its hooks mark and check this task from now on.
        set_active_task(ws, created.task.task.id)
    context_findings: list[Finding] = []
    if created.task is not None and created.task.task.context:
        (report,) = task_context_reports(ws, workflow, [created.task])
        context_findings = report.findings
    if as_json:
        emit_json(
            {
                "task": created.task.task.id if created.task else None,
                "path": created.task.rel if created.task else None,
                "findings": findings_json(created.findings),
                "context_findings": findings_json(context_findings),
            }
        )
    else:
        if created.task is None:
            # The findings point into a task file that was never written: show them bare.
            for f in created.findings:
                click.echo(f"spec: {f.severity.value} {f.code} {f.message}", err=True)
            click.echo("Spec refused: nothing was written.", err=True)
        else:
            echo_findings(created.findings)
            click.echo(f"Created task {created.task.task.id}: {created.task.rel}")
            if context_findings:
                echo_findings(context_findings)
                click.echo(
                    f"Its context needs work before generation: "
                    f"handrail context check {created.task.task.id}"
                )
            else:
                click.echo(f"Next: handrail prompt {created.task.task.id}")
    if created.task is None:
        raise SystemExit(EXIT_FINDINGS)
