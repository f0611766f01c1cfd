"""`handrail task new|list|show|edit|close|reopen`: stage 1, a checked two-sentence spec
before anything is generated, and the task's life after it (issue 13)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from handrail.findings import Finding

if TYPE_CHECKING:
    from handrail.tasks.model import LoadedTask
    from handrail.workflow.model import Workflow


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
    from handrail.context.entries import EntryError, parse_entry
    from handrail.gate.run import task_context_findings
    from handrail.tasks.files import create_task
    from handrail.tasks.results import new_task_json
    from handrail.workflow.load import load_workflow

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
    if created.task is not None:
        context_findings = task_context_findings(ws, workflow, created.task)
    if as_json:
        emit_json(new_task_json(created, context_findings))
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


def _workflow_or_fail(ctx: Context) -> Workflow:
    from handrail.workflow.load import load_workflow

    loaded = load_workflow(ctx.ws)
    if loaded.findings:
        echo_findings(loaded.findings, err=True)
        fail("the workflow file is invalid: fix it first", EXIT_USAGE)
    return loaded.workflow


def _load_or_fail(ctx: Context, task_id: str) -> LoadedTask:
    from handrail.tasks.files import load_task
    from handrail.tasks.model import TaskFileError

    try:
        return load_task(ctx.ws, task_id)
    except TaskFileError as exc:
        fail(str(exc), EXIT_USAGE)


def _blocks_of(ctx: Context, task_id: str) -> list[str]:
    """Block ids the ledger knows for the task (marked or verified)."""
    from handrail.ledger.evidence import EvidenceIndex
    from handrail.ledger.store import Ledger

    read = Ledger(ctx.ws).read()
    return EvidenceIndex.build(read.records).blocks_of_task(task_id)


@task.command("list")
@click.option("--all", "show_all", is_flag=True, help="Closed tasks too (done and abandoned).")
@json_option
@pass_ctx
def task_list(ctx: Context, show_all: bool, as_json: bool) -> None:
    """The workspace's tasks, newest first: open ones, or every one with --all."""
    from handrail.tasks.files import load_all_tasks
    from handrail.tasks.results import newest_first, task_list_json

    found = load_all_tasks(ctx.ws)
    if as_json:
        emit_json(task_list_json(found, show_all=show_all))
        return
    shown, hidden = newest_first(found, show_all=show_all)
    echo_findings(found.findings, err=True)
    for loaded in shown:
        status = "" if not loaded.task.is_closed else f" [{loaded.task.status}]"
        if loaded.task.decomposed:
            status += " [parent]"
        elif loaded.task.parent:
            status += f" [sub-task of {loaded.task.parent}]"
        title = loaded.task.spec.split("\n", 1)[0]
        click.echo(f"{loaded.task.id}{status}  {title[:70]}")
    if not shown:
        click.echo("No open tasks." if hidden else 'No tasks yet: handrail task new "<spec>"')
    if hidden:
        click.echo(f"({hidden} closed task{'s' if hidden != 1 else ''} not shown: --all)")


@task.command("show")
@click.argument("task_id", metavar="ID")
@json_option
@pass_ctx
def task_show(ctx: Context, task_id: str, as_json: bool) -> None:
    """A task's spec, context, verification command, status, spec history and blocks."""
    from handrail.ledger.evidence import EvidenceIndex
    from handrail.ledger.store import Ledger
    from handrail.tasks.blocks import first_seen_by_hand
    from handrail.tasks.model import task_json

    loaded = _load_or_fail(ctx, task_id)
    index = EvidenceIndex.build(Ledger(ctx.ws).read().records)
    blocks = index.blocks_of_task(task_id)
    by_hand = first_seen_by_hand(loaded, index)
    if as_json:
        emit_json(task_json(loaded, by_hand=by_hand, blocks=blocks))
        return
    task_ = loaded.task
    click.echo(f"Task {task_.id} ({task_.status}): {loaded.rel}")
    if task_.is_closed and task_.note:
        click.echo(f"Closed: {task_.note}")
    click.echo("Spec:")
    for line in task_.spec.splitlines():
        click.echo(f"  {line}")
    click.echo("Context:" + ("" if task_.context else " (none)"))
    for entry in task_.context:
        click.echo(f"  {entry}")
    click.echo(f"Verify: {task_.verify or '(the workflow’s command)'}")
    if task_.spec_history or by_hand is not None:
        click.echo(f"Earlier specs: {len(task_.spec_history) + (by_hand is not None)}")
        for rev in task_.spec_history:
            click.echo(f"  until {rev.replaced.isoformat()}: {rev.spec.splitlines()[0][:70]}")
        if by_hand is not None:
            # Edited in the TOML: no history entry, the ledger dates it (HR314).
            click.echo(f"  changed by hand (first seen {by_hand.isoformat()})")
    click.echo("Blocks: " + (", ".join(blocks) if blocks else "(none)"))


@task.command("edit")
@click.argument("task_id", metavar="ID")
@click.option("--spec", help="The new spec (checked as at creation; the old one is kept).")
@click.option(
    "--context",
    "-c",
    "entries",
    multiple=True,
    metavar="ENTRY",
    help="The new context, replacing the old: repeat for each entry (src/a.py#L10-L40).",
)
@click.option("--no-context", is_flag=True, help="Remove every context entry.")
@click.option("--verify", help="The task's own verification command (\"\" for the workflow's).")
@json_option
@pass_ctx
def task_edit(
    ctx: Context,
    task_id: str,
    spec: str | None,
    entries: tuple[str, ...],
    no_context: bool,
    verify: str | None,
    as_json: bool,
) -> None:
    """Change a task's spec, context or verification command; the rest of the file is kept.

    A refused spec writes nothing (exit 1). Blocks generated under the old spec are
    re-opened (HR314) until verified and explained again.
    """
    from handrail.context.entries import EntryError, parse_entry
    from handrail.gate.run import task_context_findings
    from handrail.tasks.files import edit_task
    from handrail.tasks.model import TaskFileError
    from handrail.tasks.results import edit_task_json

    if spec is None and not entries and not no_context and verify is None:
        fail("nothing to change: give --spec, --context, --no-context or --verify")
    if entries and no_context:
        fail("--context and --no-context cannot be used together")
    for raw in entries:
        try:
            parse_entry(raw)
        except EntryError as exc:
            fail(f"--context {raw!r}: {exc}")
    workflow = _workflow_or_fail(ctx)
    context = [] if no_context else (list(entries) if entries else None)
    try:
        edited = edit_task(ctx.ws, workflow, task_id, spec=spec, context=context, verify=verify)
    except TaskFileError as exc:
        fail(str(exc), EXIT_USAGE)
    context_findings: list[Finding] = []
    if edited.task is not None:
        context_findings = task_context_findings(ctx.ws, workflow, edited.task)
    reopened = _blocks_of(ctx, task_id) if edited.spec_changed else []
    if as_json:
        emit_json(edit_task_json(task_id, edited, reopened, context_findings))
    elif edited.task is None:
        for f in edited.findings:
            click.echo(f"spec: {f.severity.value} {f.code} {f.message}", err=True)
        click.echo("Spec refused: nothing was written.", err=True)
    else:
        echo_findings(edited.findings)
        echo_findings(context_findings)
        click.echo(f"Updated task {task_id}: {edited.task.rel}")
        if reopened:
            click.echo(
                f"Generated under the earlier spec, re-opened (HR314): {', '.join(reopened)}: "
                "verify and explain them again, or regenerate them."
            )
    if edited.task is None:
        raise SystemExit(EXIT_FINDINGS)


@task.command("close")
@click.argument("task_id", metavar="ID")
@click.option(
    "--reason",
    type=click.Choice(["done", "abandoned"]),
    required=True,
    help="done: the work is finished; abandoned: it was given up.",
)
@click.option("--note", help="Why, in your words (kept in the task file).")
@json_option
@pass_ctx
def task_close(ctx: Context, task_id: str, reason: str, note: str | None, as_json: bool) -> None:
    """Close a task: it leaves the menus and pickers, and its spec no longer gates.

    Its blocks that are still unverified are reported (HR315).
    """
    _set_status(ctx, task_id, reason, note, as_json)


@task.command("reopen")
@click.argument("task_id", metavar="ID")
@json_option
@pass_ctx
def task_reopen(ctx: Context, task_id: str, as_json: bool) -> None:
    """Reopen a closed task: back in the menus, its spec and context checked again."""
    _set_status(ctx, task_id, "open", None, as_json)


def _set_status(ctx: Context, task_id: str, status: str, note: str | None, as_json: bool) -> None:
    from handrail.gate.run import findings_with_code
    from handrail.tasks.files import set_task_status
    from handrail.tasks.model import TaskFileError
    from handrail.tasks.results import task_status_json

    _load_or_fail(ctx, task_id)
    try:
        loaded = set_task_status(ctx.ws, task_id, status, note=note)
    except TaskFileError as exc:
        fail(str(exc), EXIT_USAGE)
    loose = findings_with_code(ctx.ws, "HR315") if status != "open" else []
    finished = None
    if status == "done":
        from handrail.tasks.files import finish_parent

        finished = finish_parent(ctx.ws, loaded.task)
    if as_json:
        emit_json(task_status_json(loaded, finished, loose))
        return
    echo_findings(loose)
    verb = "Reopened" if status == "open" else f"Closed ({status})"
    click.echo(f"{verb} task {task_id}: {loaded.rel}")
    if finished is not None:
        click.echo(f"All sub-tasks of {finished} are done: closed {finished} (done) too.")


@task.command("decompose")
@click.argument("spec")
@click.option(
    "--sub",
    "subs",
    multiple=True,
    metavar="SPEC",
    help="A sub-task's spec (repeat; the default is one draft per sentence of SPEC).",
)
@click.option(
    "--context", "-c", "entries", multiple=True, metavar="ENTRY", help="Shared by every sub-task."
)
@click.option("--verify", help="The sub-tasks' own verification command.")
@click.option("--dry-run", is_flag=True, help="Print the draft sub-task specs; write nothing.")
@json_option
@pass_ctx
def task_decompose(
    ctx: Context,
    spec: str,
    subs: tuple[str, ...],
    entries: tuple[str, ...],
    verify: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Split a SPEC too long for one generation into a parent task and one sub-task each.

    Without --sub, each sentence of SPEC is a draft sub-task: see them with --dry-run, edit
    them, and pass them back with --sub. Every sub-spec is checked as `task new` checks one;
    if any is refused nothing is written (exit 1). The parent is closed as done when every
    sub-task is.
    """
    from handrail.context.entries import EntryError, parse_entry
    from handrail.git import git_owner
    from handrail.tasks.files import decompose_drafts, decompose_task
    from handrail.tasks.results import decompose_json

    drafts = list(subs) or decompose_drafts(spec)
    if dry_run:
        if as_json:
            emit_json(decompose_json(drafts))
        else:
            for draft in drafts:
                click.echo(draft)
        return
    for raw in entries:
        try:
            parse_entry(raw)
        except EntryError as exc:
            fail(f"--context {raw!r}: {exc}")
    if len(drafts) < 2:
        fail("decomposing needs at least two sub-tasks: give each with --sub")
    workflow = _workflow_or_fail(ctx)
    made = decompose_task(
        ctx.ws, workflow, spec, drafts, list(entries), verify=verify, author=git_owner(ctx.ws.root)
    )
    if as_json:
        emit_json(decompose_json(drafts, made))
    elif made.parent is None:
        for draft, found in zip(drafts, made.findings, strict=True):
            for f in found:
                click.echo(
                    f"sub-task {draft[:40]!r}: {f.severity.value} {f.code} {f.message}", err=True
                )
        click.echo("A sub-task's spec was refused: nothing was written.", err=True)
    else:
        click.echo(f"Created parent task {made.parent.task.id} with sub-tasks:")
        for child in made.children:
            click.echo(f"  {child.task.id}  {child.task.spec.splitlines()[0][:70]}")
    if made.parent is None:
        raise SystemExit(EXIT_FINDINGS)
