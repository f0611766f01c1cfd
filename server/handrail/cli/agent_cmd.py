"""`handrail agent`: the stop hook that keeps a coding agent working until its code is proven."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from handrail.cli.common import Context, fail, pass_ctx


@click.group("agent")
def agent() -> None:
    """Hooks for coding agents (Claude Code, Cursor, Codex); see docs/agents.md."""


def read_hook_input() -> str:
    """The hook's JSON from stdin; nothing when stdin is a terminal (run by hand)."""
    stream = sys.stdin
    if stream is None or stream.isatty():
        return ""
    return stream.read()


def hook_workspace(ctx: Context, cwd: str | None) -> Path:
    """The folder a hook works in: --root, else the hook input's `cwd`, else the current one."""
    if ctx.root is not None:
        return ctx.root
    if cwd and Path(cwd).is_absolute() and Path(cwd).is_dir():
        return Path(cwd)
    return Path.cwd()


@agent.command("stop-check")
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Refused stops in a row before the hook lets the agent go anyway.",
)
@click.option(
    "--agent",
    help="The agent being held (claude-code, cursor, codex): the marking command the reason "
    "names records it.",
)
@pass_ctx
def stop_check(ctx: Context, max_attempts: int, agent: str | None) -> None:
    """Refuse to let an agent stop while its generated code is not proven.

    Reads the agent's Stop hook input on stdin. While the session's task (or, with no active
    task, the workspace) has code that is unmarked, unverified, failing or executed by no
    test, exits 2 with the reason and the next command on stderr (Claude Code, Codex), or
    prints a follow-up message for Cursor. Exits 0 when all is clear, outside a Handrail
    workspace, and after --max-attempts refused stops in a row.
    """
    from handrail.agents.identity import HookInput, HookInputError
    from handrail.agents.stopcheck import decide
    from handrail.workspace import Workspace

    try:
        hook = HookInput.parse(read_hook_input())
    except HookInputError as exc:
        # A broken payload must not trap the agent: say so and let it stop.
        click.echo(f"handrail: {exc}; not checking", err=True)
        raise SystemExit(0) from None
    ws = Workspace.find(hook_workspace(ctx, hook.cwd))
    try:
        decision = decide(ws, hook, max_attempts=max_attempts, agent=agent)
    except Exception as exc:  # never a traceback into an agent's transcript
        click.echo(f"handrail: the stop check failed ({exc}); not holding the agent", err=True)
        raise SystemExit(0) from None
    if decision.stdout:
        click.echo(decision.stdout)
    if decision.stderr:
        sys.stderr.write(decision.stderr)
        sys.stderr.flush()
    raise SystemExit(decision.exit_code)


@agent.command("status")
@click.option("--session", help="The agent session whose task to check.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_ctx
def status(ctx: Context, session: str | None, as_json: bool) -> None:
    """What the stop hook would say now, without counting an attempt."""
    from handrail.agents.active import active_task
    from handrail.agents.outstanding import outstanding
    from handrail.analysis import Snapshot
    from handrail.cli.common import emit_json

    ws = ctx.ws
    if not ws.handrail_dir.is_dir():
        fail(f"{ws.root} has no .handrail/ folder: run handrail init")
    snapshot = Snapshot.load(ws)
    task = active_task(ws, snapshot.tasks, snapshot.ledger.records, session=session)
    report = outstanding(ws, task_id=task.task_id if task else None, snapshot=snapshot)
    if as_json:
        payload = report.as_json()
        payload["active_task"] = (
            {"task": task.task_id, "source": task.source} if task is not None else None
        )
        emit_json(payload)
    elif report.clear:
        scope = f"task {task.task_id}" if task else "the workspace"
        click.echo(f"Nothing outstanding for {scope}: an agent may stop.")
    else:
        click.echo(report.reason())
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    raise SystemExit(0 if report.clear else 1)
