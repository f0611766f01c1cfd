"""`handrail mark`: wrap generated lines in block markers and record the block."""

from __future__ import annotations

from pathlib import Path

import click

from handrail.cli.common import EXIT_FINDINGS, Context, emit_json, fail, json_option, pass_ctx
from handrail.workspace import PathEscapesWorkspace, is_regular_file


@click.command("mark")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.argument("start", type=click.IntRange(min=1), required=False)
@click.argument("end", type=click.IntRange(min=1), required=False)
@click.option("--task", "task_id", required=True, help="The task the code was generated for.")
@click.option("--diff", is_flag=True, help="Mark every hunk added since --base (git diff).")
@click.option("--base", default="HEAD", show_default=True, help="The revision --diff compares to.")
@json_option
@pass_ctx
def mark(
    ctx: Context,
    file: Path | None,
    start: int | None,
    end: int | None,
    task_id: str,
    diff: bool,
    base: str,
    as_json: bool,
) -> None:
    """Mark lines START..END of FILE (1-based, inclusive) as generated for TASK.

    The markers use the file's own comment syntax; indentation, line endings and encoding are
    kept. The block starts unverified (HR300) until its verification runs green.

    With --diff (and no FILE), mark instead every hunk added or changed since --base, in
    every file: what a coding agent just wrote. Untracked files count as added whole.
    """
    if diff:
        if file is not None:
            fail("--diff marks every changed file: name no FILE START END with it")
        from handrail.cli.generate_cmd import mark_diff_command

        mark_diff_command(ctx, task_id, base, as_json)
        return
    if file is None or start is None or end is None:
        fail("name FILE START END, or use --diff")
    from handrail.blocks.mark import MarkError
    from handrail.ledger.store import LedgerWriteError
    from handrail.marking import mark_file_recorded
    from handrail.tasks import load_all_tasks
    from handrail.workflow.init import git_owner

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
