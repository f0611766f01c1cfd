"""`handrail mark`: wrap generated lines in block markers and record the block."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from handrail.cli.common import EXIT_FINDINGS, Context, emit_json, fail, json_option, pass_ctx
from handrail.workspace import PathEscapesWorkspace, is_regular_file


@click.command("mark")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.argument("start", type=click.IntRange(min=1), required=False)
@click.argument("end", type=click.IntRange(min=1), required=False)
@click.option(
    "--task",
    "task_id",
    envvar="HANDRAIL_TASK",
    help="The task the code was generated for (default: $HANDRAIL_TASK).",
)
@click.option("--diff", is_flag=True, help="Mark every hunk added since --base (git diff).")
@click.option("--base", default="HEAD", show_default=True, help="The revision --diff compares to.")
@click.option("--agent", help="With --diff: the coding agent that wrote the code (recorded).")
@click.option("--model", help="With --agent: the model the agent used (recorded).")
@click.option("--session", help="With --agent: the agent's session id (recorded).")
@click.option(
    "--hook-input",
    is_flag=True,
    help="With --diff --agent: read the agent's hook JSON on stdin (session, model, folder); "
    "without a task, report it and exit 0 so the agent is never blocked by the hook.",
)
@json_option
@pass_ctx
def mark(
    ctx: Context,
    file: Path | None,
    start: int | None,
    end: int | None,
    task_id: str | None,
    diff: bool,
    base: str,
    agent: str | None,
    model: str | None,
    session: str | None,
    hook_input: bool,
    as_json: bool,
) -> None:
    """Mark lines START..END of FILE (1-based, inclusive) as generated for TASK.

    The markers use the file's own comment syntax; indentation, line endings and encoding are
    kept. The block starts unverified (HR300) until its verification runs green.

    With --diff (and no FILE), mark instead every hunk added or changed since --base, in
    every file: what a coding agent just wrote. Untracked files count as added whole.
    """
    if (model or session or hook_input) and not agent:
        fail("--model, --session and --hook-input go with --agent NAME")
    if agent and not diff:
        fail("--agent goes with --diff (an agent's edits); FILE START END is marked by you")
    if diff:
        if file is not None:
            fail("--diff marks every changed file: name no FILE START END with it")
        from handrail.cli.generate_cmd import mark_diff_command

        if agent:
            _mark_agent_diff(ctx, task_id, base, agent, model, session, hook_input, as_json)
            return
        if task_id is None:
            fail("name the task: --task TASK (or set HANDRAIL_TASK)")
        mark_diff_command(ctx, task_id, base, as_json)
        return
    if task_id is None:
        fail("name the task: --task TASK (or set HANDRAIL_TASK)")
    if file is None or start is None or end is None:
        fail("name FILE START END, or use --diff")
    from handrail.blocks.mark import MarkError
    from handrail.git import git_owner
    from handrail.ledger.store import LedgerWriteError
    from handrail.marking.write import mark_file_recorded
    from handrail.tasks.files import load_all_tasks

    if end < start:
        fail(f"END ({end}) is before START ({start})")
    ws = ctx.use_path(file)
    absolute = ctx.absolute(file)
    try:
        rel = ws.relative(absolute)
        real = ws.resolve_inside(rel)
    except PathEscapesWorkspace:
        fail(f"{file} is outside the workspace {ws.root}")
    if not is_regular_file(real):
        fail(f"{rel} is not a regular file")
    tasks = load_all_tasks(ws).tasks
    if task_id not in tasks:
        fail(f'no task {task_id!r}: create one with handrail task new "<spec>"')

    try:
        block = mark_file_recorded(ws, real, rel, start, end, task_id, author=git_owner(ws.root))
    except MarkError as exc:
        fail(f"{rel}: {exc}; nothing was marked", EXIT_FINDINGS)
    except LedgerWriteError as exc:
        fail(f"{rel} was not marked: {exc}")
    if as_json:
        emit_json(
            {
                "block": block.id,
                "path": rel,
                "begin_line": block.begin_line,
                "end_line": block.end_line,
                "content_hash": block.content_hash,
            }
        )
        return
    click.echo(
        f"Marked {rel}:{start}-{end} as block {block.id} "
        f"(markers on lines {block.begin_line} and {block.end_line})."
    )
    click.echo("It stays unverified (HR300) until its verification command runs green.")


def _mark_agent_diff(
    ctx: Context,
    task_id: str | None,
    base: str,
    agent: str,
    model: str | None,
    session: str | None,
    hook_input: bool,
    as_json: bool,
) -> None:
    """`mark --diff --agent`: an agent's post-edit hook, with who wrote the code recorded.

    The task is --task/$HANDRAIL_TASK, else the active task (docs/agents.md): the session's
    task, else the one last chosen through the MCP server.
    """
    from handrail.agents.active import active_task
    from handrail.agents.identity import AgentIdentity, HookInput, HookInputError
    from handrail.cli.agent_cmd import hook_workspace, read_hook_input
    from handrail.cli.generate_cmd import mark_diff_command
    from handrail.ledger.store import Ledger
    from handrail.tasks.files import load_all_tasks
    from handrail.workspace import Workspace

    ws = ctx.ws
    if hook_input:
        try:
            hook = HookInput.parse(read_hook_input())
        except HookInputError as exc:
            click.echo(f"handrail: {exc}; nothing marked", err=True)
            raise SystemExit(0) from None
        model = model or hook.model
        session = session or hook.session
        ws = Workspace.find(hook_workspace(ctx, hook.cwd))
    if task_id is None:
        found = active_task(ws, load_all_tasks(ws), Ledger(ws).read().records, session=session)
        if found is None:
            message = (
                "no active task: the agent's edits were not marked (create one with the MCP "
                'tool check_spec or handrail task new "<spec>", or set HANDRAIL_TASK)'
            )
            if hook_input:
                click.echo(f"handrail: {message}", err=True)
                raise SystemExit(0)
            fail(message)
        task_id = found.task_id
    identity = AgentIdentity(agent, model, session)
    if not hook_input:
        mark_diff_command(ctx, task_id, base, as_json, identity=identity, ws=ws)
        return
    # A hook's stdout is the agent's to read (Cursor parses it as JSON): report on stderr.
    with contextlib.redirect_stdout(sys.stderr):
        mark_diff_command(ctx, task_id, base, as_json, identity=identity, ws=ws)
