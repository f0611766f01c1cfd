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
@click.option(
    "--into",
    metavar="FILE[:LINE]",
    help="Where the code will go: the pack names FILE and shows the lines around LINE.",
)
@json_option
@pass_ctx
def prompt(ctx: Context, task_id: str, into: str | None, as_json: bool) -> None:
    """Print the prompt pack of TASK: spec, context rules, generation settings, context files.

    Refused (exit 1, with the findings) while the spec or the context fails an error check.
    """
    from handrail.blocks.mark import MarkError
    from handrail.cli.generate_cmd import _split_into
    from handrail.gate.run import task_context_reports
    from handrail.generate.handoff import insertion_of
    from handrail.marking.write import prepare_target
    from handrail.prompt import build_prompt_pack

    if not task_id:
        fail("name a task")
    target_path, line = _split_into(into) if into else (None, None)
    if target_path is not None:
        ctx.use_path(target_path)
    ws, workflow, (loaded_task,) = tasks_named(ctx, [task_id])
    insertion = None
    if target_path is not None:
        try:
            target = prepare_target(ws, ctx.absolute(target_path), line, task_id)
        except MarkError as exc:
            fail(f"{exc.path or target_path}: {exc.message}")
        insertion = insertion_of(target)
    (report,) = task_context_reports(ws, workflow, [loaded_task])
    pack = build_prompt_pack(loaded_task, workflow, report, insertion=insertion, ws=ws)
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
