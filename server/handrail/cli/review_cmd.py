"""`handrail pr`, `doc`, `stats`, `review`, `accept` and `workflow reviewed`: stage 5 on the
command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TextIO

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
    write_output,
)
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace


def _valid_workflow(ws: Workspace) -> Workflow:
    from handrail.workflow.load import load_workflow

    loaded = load_workflow(ws)
    if loaded.findings:
        echo_findings(loaded.findings, err=True)
        fail(f"{ws.relative(ws.workflow_path)} is invalid: fix it first", EXIT_USAGE)
    return loaded.workflow


_output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)


# -- pr ------------------------------------------------------------------------------------------


@click.command("pr")
@click.option("--base", help="The branch the pull request targets (default: origin/HEAD, main).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
)
@_output_option
@pass_ctx
def pr(ctx: Context, base: str | None, fmt: str, output: Path | None) -> None:
    """Summarise the AI involvement of this branch for a pull request description or comment.

    Lists exactly the generated blocks the branch adds or changes against BASE (at their merge
    base), each with its task and spec, verification runs, trace and explanation; outstanding
    findings first. Exit 0 when it could be made, 2 when git cannot compare the branches.
    """
    import json

    from handrail.review.pr import PrError, build_summary, default_base, render_markdown

    ws = ctx.ws
    try:
        summary = build_summary(ws, base or default_base(ws))
    except PrError as exc:
        fail(str(exc))
    if fmt == "json":
        text = json.dumps(summary.as_json(), indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_markdown(summary)
    write_output(text, output)


# -- doc -----------------------------------------------------------------------------------------


@click.command("doc")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 when WORKFLOW.md is stale.")
@json_option
@pass_ctx
def doc(ctx: Context, check: bool, as_json: bool) -> None:
    """Render WORKFLOW.md from the rules: stages, checkpoints, risk tiers, context rules, owner.

    With --check (for CI) nothing is written: exit 1 when WORKFLOW.md is missing or no longer
    matches the rules, 0 when it does.
    """
    from handrail.review.doc import DocError, check_doc, write_doc

    ws = ctx.ws
    workflow = _valid_workflow(ws)
    try:
        if check:
            status = check_doc(ws, workflow)
            if as_json:
                emit_json({"path": status.rel, "state": status.state})
            elif status.state == "current":
                click.echo(f"{status.rel} matches the rules.")
            elif status.state == "missing":
                click.echo(f"{status.rel} does not exist: run `handrail doc` and commit it.")
            else:
                click.echo(
                    f"{status.rel} no longer matches the rules in "
                    f"{ws.relative(ws.workflow_path)}: run `handrail doc` and commit the result."
                )
            raise SystemExit(EXIT_OK if status.state == "current" else EXIT_FINDINGS)
        changed = write_doc(ws, workflow)
    except DocError as exc:
        fail(str(exc))
    if as_json:
        emit_json({"path": "WORKFLOW.md", "changed": changed})
    else:
        click.echo("wrote WORKFLOW.md" if changed else "WORKFLOW.md is already current")


# -- stats ---------------------------------------------------------------------------------------


@click.command("stats")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only blocks marked (and runs made) on or after this day, YYYY-MM-DD (UTC).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
)
@_output_option
@pass_ctx
def stats(ctx: Context, since: dt.datetime | None, fmt: str, output: Path | None) -> None:
    """Whether the workflow works: first-attempt pass rate, rework, time to verified, backlog,
    gate failures.

    Computed from the ledger and git history (gate runs from the notes that `handrail check
    --record-gate` writes), overall, per author and per week. The HTML report is one
    self-contained file with charts (no network needed to view it).
    """
    import json

    from handrail.review.stats import collect_stats, gate_warnings, render_text
    from handrail.review.stats_html import render_html

    ws = ctx.ws
    result, warnings = collect_stats(ws, since=since.date() if since else None)
    for warning in warnings:
        click.echo(f"handrail: skipped an unreadable ledger record: {warning}", err=True)
    for warning in gate_warnings(result):
        click.echo(f"handrail: {warning}", err=True)
    if fmt == "json":
        text = json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "html":
        text = render_html(result)
    else:
        text = render_text(result)
    write_output(text, output)


# -- review --------------------------------------------------------------------------------------


@click.command("review")
@click.argument("target", metavar="BLOCK|TASK")
@click.option("--approve", "verdict", flag_value="approve", default=True, help="Approve (default).")
@click.option("--request-changes", "verdict", flag_value="request_changes", help="Ask for changes.")
@click.option("--note", default="", help="A sentence for the record (what you checked, or why).")
@json_option
@pass_ctx
def review(ctx: Context, target: str, verdict: str, note: str, as_json: bool) -> None:
    """Record your review of a block (or every block of a task) as its content is now.

    You are git's user.name and user.email here; a block you marked or explained is refused,
    since its second reviewer must be someone else. Editing a block voids its reviews. Exit 0
    when every block was recorded, 1 when any was refused, 2 for a usage error.
    """
    from handrail.git import git_owner
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.reviews import ReviewError, record_reviews

    ws = ctx.ws
    try:
        result = record_reviews(
            ws,
            target,
            reviewer=git_owner(ws.root),
            verdict="approve" if verdict == "approve" else "request_changes",
            note=note,
        )
    except ReviewError as exc:
        fail(str(exc))
    except LedgerWriteError as exc:
        fail(f"the review was not recorded: {exc}", EXIT_FINDINGS)
    if as_json:
        emit_json(result.as_json())
    else:
        word = "approval" if result.verdict == "approve" else "request for changes"
        for done in result.recorded:
            click.echo(
                f"Recorded {result.reviewer}'s {word} of {done.block_id} in {done.path}, for its "
                f"current content ({done.content_hash[:19]}…). Editing the block voids it."
            )
        for refused in result.refused:
            click.echo(f"{refused.block_id} in {refused.path}: not recorded: {refused.reason}.")
    raise SystemExit(EXIT_FINDINGS if result.refused else EXIT_OK)


# -- blame ---------------------------------------------------------------------------------------


@click.command("blame")
@click.argument("target", metavar="FILE[:LINE]")
@json_option
@pass_ctx
def blame(ctx: Context, target: str, as_json: bool) -> None:
    """Which lines of FILE were generated, under which task and spec, and what proved them.

    Works while a block is marked and after `handrail accept` removed its markers: accepted
    lines are found again by their hashes, wherever a rebase or a squash merge moved them
    (state marked, accepted, moved, edited or gone). With :LINE, only the block holding it.
    """
    from handrail.review.blame import BlameError, blame_file, render_text

    rel, line = _file_and_line(target)
    from handrail.workspace import PathEscapesWorkspace

    ws = ctx.ws
    try:
        result = blame_file(ws, ws.relative(ctx.absolute(Path(rel))))
    except PathEscapesWorkspace:
        fail(f"{rel} is outside the workspace {ws.root}")
    except BlameError as exc:
        fail(str(exc))
    if line is not None and not 1 <= line <= max(result.line_count, 1):
        fail(f"{result.path} has {result.line_count} lines; there is no line {line}")
    if as_json:
        emit_json(result.as_json(line))
    else:
        click.echo(render_text(result, line), nl=False)


def _file_and_line(target: str) -> tuple[str, int | None]:
    """`src/a.py:12` -> ("src/a.py", 12); a name without a numeric suffix is a file."""
    head, sep, tail = target.rpartition(":")
    if sep and head and tail.isdigit():
        return head, int(tail)
    return target, None


# -- attribute -----------------------------------------------------------------------------------


@click.command("attribute")
@click.argument("message_file", metavar="COMMIT_MSG_FILE", type=click.Path(dir_okay=False))
@pass_ctx
def attribute(ctx: Context, message_file: str) -> None:
    """The commit-msg hook: add the workflow's AI trailer to a commit that adds generated code.

    `[attribution] policy` names the trailer (Assisted-by, Generated-by or a custom key); with
    `none` (the default) nothing is added. The value is AGENT:MODEL from the blocks' records,
    else the workflow's `value`. Never blocks a commit: a problem is a warning, and the gate
    (`handrail check --commits`) reports commits without the trailer.
    """
    from handrail.review.attribution import AttributionError, add_trailer

    ws = ctx.ws
    workflow = _valid_workflow(ws)
    try:
        added = add_trailer(ws, workflow.attribution, message_file)
    except AttributionError as exc:
        click.echo(f"handrail attribute: warning: {exc}", err=True)
        return
    if added:
        click.echo(f"handrail: added `{added}` (this commit adds generated code)", err=True)


# -- accept --------------------------------------------------------------------------------------


@click.command("accept")
@click.argument("blocks", nargs=-1)
@click.option("--all", "accept_all", is_flag=True, help="Every finished block in the workspace.")
@json_option
@pass_ctx
def accept(ctx: Context, blocks: tuple[str, ...], accept_all: bool, as_json: bool) -> None:
    """Remove the markers of reviewed BLOCKS (verified and explained); keep their records.

    Any other block is refused, with the reasons. Exit 0 when everything named was accepted,
    1 when something was refused.
    """
    from handrail.git import git_owner
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.accept import accept_blocks

    if accept_all == bool(blocks):
        fail("name the blocks to accept (such as k3f9qa.1), or pass --all")
    ws = ctx.ws
    try:
        result = accept_blocks(ws, None if accept_all else list(blocks), author=git_owner(ws.root))
    except LedgerWriteError as exc:
        fail(f"nothing more was accepted: {exc}", EXIT_FINDINGS)
    code = EXIT_FINDINGS if result.refused else EXIT_OK
    if as_json:
        emit_json(
            {
                "accepted": [
                    {"block": a.block_id, "path": a.path, "record": a.record_id}
                    for a in result.accepted
                ],
                "refused": [
                    {"block": r.block_id, "path": r.path, "reasons": r.reasons}
                    for r in result.refused
                ],
            }
        )
        raise SystemExit(code)
    for item in result.accepted:
        click.echo(f"accepted {item.block_id} in {item.path}: markers removed, records kept")
    for refusal in result.refused:
        click.echo(refusal.message, err=True)
    if not result.accepted and not result.refused:
        click.echo("There are no generated blocks to accept.")
    raise SystemExit(code)


# -- note ----------------------------------------------------------------------------------------


@click.command("note")
@click.argument("sentence", required=False, default="")
@click.option("--helped", "verdict", flag_value="helped", help="The workflow helped here.")
@click.option(
    "--in-the-way",
    "verdict",
    flag_value="in_the_way",
    default=True,
    help="The workflow got in the way here (the default).",
)
@click.option("--code", help="The finding it is about, such as HR201.")
@click.option("--file", "where", metavar="FILE[:LINE]", help="Where it happened.")
@click.option(
    "--answered-by",
    type=click.Choice(["docs", "colleague"]),
    help="Where you found the answer, if you want to say (the docs or a person).",
)
@click.option(
    "--from-pr",
    "from_pr",
    type=click.File("r", encoding="utf-8"),
    help='Record the "Workflow notes" lines of a pull request description (a file, - for stdin).',
)
@json_option
@pass_ctx
def note(
    ctx: Context,
    sentence: str,
    verdict: str,
    code: str | None,
    where: str | None,
    answered_by: str | None,
    from_pr: TextIO | None,
    as_json: bool,
) -> None:
    """Note for the next workflow review where the workflow helped or got in the way.

    One sentence (optional) with the code, the place and the stage; never any file content.
    The note is a ledger record (commit it) and `handrail workflow review` lists it. With
    --from-pr, the lines of the PR template's "Workflow notes" section are recorded instead.
    """
    from handrail.git import git_owner
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.notes import (
        NoteError,
        NoteRequest,
        describe,
        record_note,
        record_pr_notes,
    )
    from handrail.workspace import PathEscapesWorkspace

    ws = ctx.ws
    if from_pr is not None:
        try:
            recorded_pr, skipped = record_pr_notes(ws, from_pr.read(), author=git_owner(ws.root))
        except (NoteError, UnicodeDecodeError) as exc:
            fail(f"{from_pr.name}: {exc}")
        except LedgerWriteError as exc:
            fail(f"the notes were not recorded: {exc}", EXIT_FINDINGS)
        if as_json:
            emit_json(
                {
                    "recorded": [n.model_dump(mode="json", by_alias=True) for n in recorded_pr],
                    "already_recorded": skipped,
                }
            )
            return
        for item in recorded_pr:
            click.echo(describe(item))
        if not recorded_pr:
            click.echo(f"No new workflow notes in {from_pr.name}.")
        return
    path: str | None = None
    line: int | None = None
    if where:
        rel, line = _file_and_line(where)
        try:
            path = ws.relative(ctx.absolute(Path(rel)))
        except PathEscapesWorkspace:
            fail(f"{rel} is outside the workspace {ws.root}")
    request = NoteRequest(
        verdict="helped" if verdict == "helped" else "in_the_way",
        text=sentence,
        code=code,
        path=path,
        line=line,
        source="cli",
        answered_by=answered_by,
    )
    try:
        recorded = record_note(ws, request, author=git_owner(ws.root))
    except NoteError as exc:
        fail(str(exc))
    except LedgerWriteError as exc:
        fail(f"the note was not recorded: {exc}", EXIT_FINDINGS)
    if as_json:
        emit_json(recorded.model_dump(mode="json", by_alias=True))
    else:
        click.echo(describe(recorded))


# -- workflow reviewed ---------------------------------------------------------------------------


@click.group("workflow")
def workflow() -> None:
    """The workflow's upkeep: prepare its review meeting, record that it happened."""


@workflow.command("review")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html", "json"]),
    default="text",
    show_default=True,
)
@_output_option
@pass_ctx
def review_agenda(ctx: Context, fmt: str, output: Path | None) -> None:
    """Prepare the workflow review meeting: the agenda since the last review.

    The notes the team left (`handrail note`, the editor, the chat, the PR template) by stage
    and code; which checks fire, are overridden, block merges; the four signs that the workflow
    works, with small samples flagged; suggested changes. Markdown is for the meeting doc, HTML
    has charts. After the meeting: `handrail workflow reviewed`.
    """
    import json

    from handrail.review.agenda import collect_agenda
    from handrail.review.agenda_render import render_html, render_markdown, render_text

    ws = ctx.ws
    _valid_workflow(ws)
    agenda = collect_agenda(ws, today=dt.date.today())
    for warning in agenda.warnings:
        click.echo(f"handrail: skipped an unreadable ledger record: {warning}", err=True)
    if fmt == "json":
        text = json.dumps(agenda.as_json(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "html":
        text = render_html(agenda)
    elif fmt == "markdown":
        text = render_markdown(agenda)
    else:
        text = render_text(agenda)
    write_output(text, output)


@workflow.command("reviewed")
@click.option("--by", help='Who led the review (default: git\'s "Name <email>").')
@click.option("--attendee", "attendees", multiple=True, help="Who took part (repeat the option).")
@click.option(
    "--changed", "changes", multiple=True, help="What the team changed (repeat the option)."
)
@json_option
@pass_ctx
def reviewed(
    ctx: Context,
    by: str | None,
    attendees: tuple[str, ...],
    changes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Record that the team reviewed the workflow today; moves the next review date (HR401).

    Sets `[workflow] reviewed` and records the meeting (who led it, who attended, what
    changed) in the ledger, where the next `handrail workflow review` starts its period.
    """
    from handrail.git import git_owner
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.meeting import ReviewedError, mark_reviewed, record_meeting

    ws = ctx.ws
    who = by if by is not None else git_owner(ws.root) or ""
    today = dt.date.today()
    try:
        result = mark_reviewed(ws, today=today, by=who)
    except ReviewedError as exc:
        fail(f"{exc.path}:{exc.line}: {exc}")
    try:
        meeting = record_meeting(
            ws, today=today, by=result.by, attendees=list(attendees), changes=list(changes)
        )
    except (ValueError, LedgerWriteError) as exc:
        fail(
            f"the review date was set, but the meeting was not recorded in the ledger: {exc}",
            EXIT_FINDINGS,
        )
    if as_json:
        emit_json(
            {
                "path": result.path,
                "reviewed": result.reviewed.isoformat(),
                "by": result.by,
                "previous": result.previous.isoformat() if result.previous else None,
                "next_review": result.next_review.isoformat(),
                "attendees": meeting.attendees,
                "changes": meeting.changes,
                "record": meeting.id,
            }
        )
        return
    click.echo(
        f"Recorded the review of {result.path} by {result.by} on "
        f"{result.reviewed.isoformat()}; the next review is due {result.next_review.isoformat()}."
    )
    if meeting.attendees or meeting.changes:
        click.echo(
            f"With {len(meeting.attendees)} attendee{'s' if len(meeting.attendees) != 1 else ''}"
            f" and {len(meeting.changes)} change{'s' if len(meeting.changes) != 1 else ''} noted; "
            "the next `handrail workflow review` starts from here."
        )
