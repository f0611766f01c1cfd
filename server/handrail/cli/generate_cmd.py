"""`handrail generate`, `handrail export`, `handrail import`, and `handrail mark --diff`.

Stage 3 without copy and paste: the checked prompt pack goes to the developer's own
OpenAI-compatible endpoint and the answer comes back as a marked, unverified block; coding
agents' edits are marked from the git diff; other tools' attributions go in and out.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from handrail.cli.common import (
    EXIT_FINDINGS,
    Context,
    echo_findings,
    emit_json,
    fail,
    json_option,
    pass_ctx,
    write_output,
)
from handrail.findings import findings_json

if TYPE_CHECKING:
    from handrail.agents.identity import AgentIdentity
    from handrail.findings import Finding
    from handrail.workspace import Workspace


def _split_into(value: str) -> tuple[Path, int | None]:
    """``FILE[:LINE]``; a colon followed by something other than digits is part of the name."""
    name, sep, line = value.rpartition(":")
    if sep and name and line.isdigit():
        if int(line) < 1:
            fail(f"--into {value}: lines count from 1")
        return Path(name), int(line)
    return Path(value), None


@click.command("generate")
@click.argument("task_id", metavar="TASK", required=False)
@click.option(
    "--into",
    "into",
    metavar="FILE[:LINE]",
    help="Write the code into FILE before LINE (at the end without LINE), wrapped in markers.",
)
@click.option(
    "--replace",
    "replace",
    metavar="BLOCK",
    help="A new attempt in place of BLOCK (its task's; TASK may be left out): the old one is "
    "recorded as discarded.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@json_option
@pass_ctx
def generate(
    ctx: Context,
    task_id: str | None,
    into: str | None,
    replace: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Send TASK's checked prompt pack to your model and mark the code it writes.

    With --replace BLOCK the answer replaces BLOCK where it stands, as the task's next
    block: the discarded attempt counts as a failed first attempt, the new one as rework.

    The endpoint, model and the NAME of the environment variable holding the key come from
    your own settings file (docs/generate.md), never from the repository. Refused (exit 1,
    with the findings) while the spec or the context fails an error check. A network error,
    a refusal, a timeout or an answer without code exits 1 and changes no file. Without
    --into the code is printed.
    """
    from handrail.blocks.mark import MarkError
    from handrail.cli.tasks_arg import tasks_named
    from handrail.generate.client import GenerationError
    from handrail.generate.handoff import GenerationRefused, generate_code, insertion_of
    from handrail.generate.settings import SettingsError, load_settings
    from handrail.git import git_owner
    from handrail.ledger.store import LedgerWriteError
    from handrail.marking.write import Target, prepare_target, write_generated

    if replace is not None:
        if into is not None:
            fail(
                "--replace and --into cannot be used together: the new attempt goes where "
                "the old one is"
            )
        owner = replace.rpartition(".")[0]
        if not owner or (task_id is not None and task_id != owner):
            fail(
                f"--replace {replace}: name a block of task {task_id or 'TASK'} ({owner or '?'}.N)"
            )
        task_id = owner
    if task_id is None:
        fail("name the TASK to generate for (or --replace BLOCK)")
    target_path, line = _split_into(into) if into else (None, None)
    if target_path is not None:
        ctx.use_path(target_path)
    ws, workflow, (loaded_task,) = tasks_named(ctx, [task_id])
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(exc.message)
    target: Target | None = None
    if replace is not None:
        from handrail.marking.write import prepare_replacement

        try:
            target = prepare_replacement(ws, replace)
        except MarkError as exc:
            fail(f"{exc.path + ': ' if exc.path else ''}{exc.message}")
    if target_path is not None:
        try:
            target = prepare_target(ws, ctx.absolute(target_path), line, task_id)
        except MarkError as exc:
            fail(f"{exc.path or target_path}: {exc.message}")
    progress = _Progress(enabled=not quiet and not as_json)
    try:
        generated = generate_code(
            ws,
            workflow,
            loaded_task,
            settings,
            target_rel=target.rel if target else None,
            on_delta=progress.update,
            insertion=insertion_of(target) if target else None,
        )
    except GenerationRefused as exc:
        progress.clear()
        _refused(task_id, exc.findings, as_json)
    except (GenerationError, SettingsError) as exc:
        progress.clear()
        kind = exc.kind if isinstance(exc, GenerationError) else "settings"
        if as_json:
            emit_json({"task": task_id, "error": kind, "message": exc.message, "written": None})
        click.echo(f"handrail: {exc.message}", err=True)
        click.echo("No file was changed.", err=True)
        raise SystemExit(EXIT_FINDINGS) from None
    progress.done(generated.answer.model or settings.model)
    if target is None:
        if as_json:
            emit_json({"task": task_id, "code": generated.code, "written": None})
        else:
            click.echo(generated.code, nl=False)
            click.echo(
                f"Paste it, then mark it: handrail mark FILE START END --task {task_id}",
                err=True,
            )
        return
    try:
        plan = write_generated(
            ws,
            target,
            generated.code,
            task_id,
            author=git_owner(ws.root),
            produced_by=generated.produced_by,
        )
    except MarkError as exc:
        fail(f"{target.rel}: {exc.message}; no file was changed", EXIT_FINDINGS)
    except LedgerWriteError as exc:
        fail(f"{target.rel} was not changed, the block was not recorded: {exc}")
    block = plan.block
    if as_json:
        emit_json(
            {
                "task": task_id,
                "written": {
                    "block": block.id,
                    "path": target.rel,
                    "begin_line": block.begin_line,
                    "end_line": block.end_line,
                    "content_hash": block.content_hash,
                },
                "replaced": target.replaces.block_id if target.replaces else None,
            }
        )
        return
    click.echo(
        f"Wrote block {block.id} into {target.rel} (lines {block.begin_line}-{block.end_line})."
    )
    if target.replaces is not None:
        click.echo(f"It replaces {target.replaces.block_id}, recorded as a discarded attempt.")
    click.echo("It stays unverified (HR300) until its verification command runs green.")


def _refused(task_id: str, findings: Sequence[Finding], as_json: bool) -> NoReturn:
    if as_json:
        emit_json({"task": task_id, "error": "refused", "findings": findings_json(findings)})
    else:
        echo_findings(findings, err=True)
    click.echo(
        f"Generation refused: fix the findings above, then run handrail generate {task_id} "
        "again. Nothing was sent.",
        err=True,
    )
    raise SystemExit(EXIT_FINDINGS)


class _Progress:
    """Characters and lines received so far, redrawn in place on a terminal's stderr."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.chars = 0
        self.lines = 0

    def update(self, piece: str) -> None:
        self.chars += len(piece)
        self.lines += piece.count("\n")
        if self.enabled:
            click.echo(
                f"\rReceiving the answer: {self.lines} lines, {self.chars} chars",
                nl=False,
                err=True,
            )

    def clear(self) -> None:
        if self.enabled:
            click.echo("\r\033[K", nl=False, err=True)

    def done(self, model: str) -> None:
        self.clear()
        if self.enabled:
            click.echo(f"Answer from {model}: {self.lines} lines.", err=True)


def mark_diff_command(
    ctx: Context,
    task_id: str,
    base: str,
    as_json: bool,
    identity: AgentIdentity | None = None,
    ws: Workspace | None = None,
) -> None:
    """`handrail mark --diff`: the body the `mark` command calls."""
    from handrail.git import git_owner
    from handrail.marking.diff import DiffMarkError, mark_diff
    from handrail.tasks.files import load_all_tasks

    ws = ws or ctx.ws
    if task_id not in load_all_tasks(ws).tasks:
        fail(f'no task {task_id!r}: create one with handrail task new "<spec>"')
    try:
        result = mark_diff(ws, task_id, base, author=git_owner(ws.root), identity=identity)
    except DiffMarkError as exc:
        fail(str(exc))
    if result.ledger_error is not None and not as_json:
        fail(f"nothing was marked, no file was changed: {result.ledger_error}")
    if as_json:
        emit_json(
            {
                "base": base,
                "blocks": [
                    {
                        "block": m.block.id,
                        "path": m.path,
                        "begin_line": m.block.begin_line,
                        "end_line": m.block.end_line,
                        "content_hash": m.block.content_hash,
                    }
                    for m in result.marked
                ],
                "skipped": [
                    {"path": s.path, "start": s.start, "end": s.end, "reason": s.reason}
                    for s in result.skipped
                ],
                "recorded": [
                    {"path": r.path, "block": r.block_id, "start": r.start, "end": r.end}
                    for r in result.recorded
                ],
                "ledger_error": result.ledger_error,
            }
        )
    else:
        for m in result.marked:
            click.echo(
                f"Marked {m.path}:{m.block.begin_line + 1}-{m.block.end_line - 1} "
                f"as block {m.block.id}."
            )
        for r in result.recorded:
            click.echo(
                f"Recorded {r.path}:{r.start}-{r.end} as block {r.block_id} in the ledger only: "
                "its format has no comments, so it carries no markers (attributed, not gated)."
            )
        for s in result.skipped:
            click.echo(f"Skipped {s.path}:{s.start}-{s.end}: {s.reason}.", err=True)
        if not result.marked and not result.recorded:
            click.echo(f"Nothing new to mark since {base}.")
        else:
            click.echo("The blocks stay unverified (HR300) until their verification runs green.")
    if result.ledger_error is not None:
        fail(f"nothing was marked, no file was changed: {result.ledger_error}")


@click.command("export")
@click.option(
    "--agent-trace", "agent_trace", is_flag=True, required=True, help="Write Agent Trace records."
)
@click.option(
    "--range",
    "revisions",
    default="HEAD",
    show_default=True,
    metavar="REVS",
    help="A commit, or a range such as main..HEAD.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@pass_ctx
def export(ctx: Context, agent_trace: bool, revisions: str, output: Path | None) -> None:
    """Export the generated blocks of commits as Agent Trace records (JSON Lines).

    One record per commit that added or changed a block: each file's block ranges with their
    content hashes, contributor "ai", and each task's spec as the conversation summary.
    """
    import json

    from handrail.interop.agent_trace import InteropError, trace_records

    try:
        records = trace_records(ctx.ws, revisions)
    except InteropError as exc:
        fail(str(exc))
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    write_output(lines, output, what=f"{len(records)} Agent Trace record(s)")


@click.command("import")
@click.option("--git-ai", "git_ai", is_flag=True, required=True, help="Read git-ai's notes.")
@click.option("--rev", default="HEAD", show_default=True, help="The commit whose note to read.")
@click.option("--task", "task_id", required=True, help="The task the marked blocks belong to.")
@click.option("--mark", "do_mark", is_flag=True, help="Mark the offered ranges (default: list).")
@json_option
@pass_ctx
def import_(
    ctx: Context, git_ai: bool, rev: str, task_id: str, do_mark: bool, as_json: bool
) -> None:
    """Offer to mark the lines git-ai attributes to AI in a commit (refs/notes/ai).

    Lists the ranges; with --mark wraps them in markers for TASK and records the blocks.
    Ranges in files changed since the commit are not offered: their line numbers moved.
    """
    from handrail.git import git_owner
    from handrail.interop.git_ai import InteropError, offers_as_hunks, read_git_ai
    from handrail.marking.diff import mark_hunks
    from handrail.tasks.files import load_all_tasks

    ws = ctx.ws
    if task_id not in load_all_tasks(ws).tasks:
        fail(f'no task {task_id!r}: create one with handrail task new "<spec>"')
    try:
        sha, offers = read_git_ai(ws, rev)
    except InteropError as exc:
        fail(str(exc))
    result = (
        mark_hunks(ws, task_id, offers_as_hunks(offers), author=git_owner(ws.root))
        if (do_mark)
        else None
    )
    if as_json:
        emit_json(
            {
                "commit": sha,
                "offers": [
                    {
                        "path": o.path,
                        "start": o.start,
                        "end": o.end,
                        "agent": o.agent,
                        "markable": o.markable,
                        "reason": o.reason or None,
                    }
                    for o in offers
                ],
                "marked": [
                    {"block": m.block.id, "path": m.path, "begin_line": m.block.begin_line}
                    for m in (result.marked if result else [])
                ],
            }
        )
    else:
        if not offers:
            click.echo(f"Commit {sha[:12]} has no git-ai note with AI-attributed lines.")
        for o in offers:
            state = "" if o.markable else f" (not offered: {o.reason})"
            click.echo(f"{o.path}:{o.start}-{o.end} by {o.agent}{state}")
        if result is not None:
            for m in result.marked:
                click.echo(f"Marked {m.path} as block {m.block.id}.")
            for s in result.skipped:
                click.echo(f"Skipped {s.path}:{s.start}-{s.end}: {s.reason}.", err=True)
        elif any(o.markable for o in offers):
            click.echo(f"Run again with --mark to mark these ranges for task {task_id}.")
    if result is not None and result.ledger_error is not None:
        fail(f"nothing was marked, no file was changed: {result.ledger_error}")
