"""`handrail prompt`: stage 3, the checked prompt pack for any model."""

from __future__ import annotations

import click

from handrail.cli.common import (
    EXIT_FINDINGS,
    Context,
    echo_findings,
    emit_json,
    fail,
    json_option,
    pass_ctx,
)
from handrail.cli.tasks_arg import tasks_named
from handrail.findings import findings_json


@click.command("prompt")
@click.argument("task_id", metavar="TASK")
@json_option
@pass_ctx
def prompt(ctx: Context, task_id: str, as_json: bool) -> None:
    """Print the prompt pack of TASK: spec, context rules, generation settings, context files.

    Refused (exit 1, with the findings) while the spec or the context fails an error check.
    """
    from handrail.check import task_context_reports
    from handrail.prompt import build_prompt_pack

    if not task_id:
        fail("name a task")
    ws, workflow, (loaded_task,) = tasks_named(ctx, [task_id])
    (report,) = task_context_reports(ws, workflow, [loaded_task])
    pack = build_prompt_pack(loaded_task, workflow, report)
    if as_json:
        emit_json(
            {
                "task": task_id,
                "refused": pack.refused,
                "prompt": pack.text or None,
                "temperature": workflow.generation.temperature,
                "findings": findings_json(pack.findings),
            }
        )
    elif pack.refused:
        echo_findings(pack.findings, err=True)
        click.echo(
            f"Prompt refused: fix the findings above, then run handrail prompt {task_id} again.",
            err=True,
        )
    else:
        click.echo(pack.text, nl=False)
    if pack.refused:
        raise SystemExit(EXIT_FINDINGS)
