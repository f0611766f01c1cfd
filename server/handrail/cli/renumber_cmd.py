"""`handrail renumber`: new numbers for blocks whose id another block also uses (HR305)."""

from __future__ import annotations

import click

from handrail.cli.common import EXIT_FINDINGS, Context, emit_json, fail, json_option, pass_ctx


@click.command("renumber")
@click.option("--dry-run", is_flag=True, help="Show what would be renumbered; change nothing.")
@json_option
@pass_ctx
def renumber(ctx: Context, dry_run: bool, as_json: bool) -> None:
    """Give every block whose id another block also uses the next free number.

    After merging two branches that both marked blocks for one task, the same id (such as
    k3f9qa.2) can be in two places (HR305). The block the ledger recorded first keeps its
    id; each other one is renumbered in both of its markers and recorded under its new id.
    Its evidence (verification runs, traces, explanations) is carried over only when its
    content is exactly what the old record was written for.
    """
    from handrail.blocks.mark import MarkError
    from handrail.git import git_owner
    from handrail.ledger.store import LedgerWriteError
    from handrail.marking.renumber import renumber as run_renumber

    ws = ctx.ws
    try:
        result = run_renumber(ws, author=git_owner(ws.root), dry_run=dry_run)
    except MarkError as exc:
        fail(f"{exc.path}: {exc.message}" if exc.path else exc.message, EXIT_FINDINGS)
    except LedgerWriteError as exc:
        fail(f"nothing was renumbered: {exc}")
    if as_json:
        emit_json(result.as_json(dry_run=dry_run))
        return
    if not result.renumbered:
        click.echo("Every block id is used once: nothing to renumber.")
        return
    verb = "Would renumber" if dry_run else "Renumbered"
    for r in result.renumbered:
        carried = (
            f"; carried over {len(r.carried)} evidence record(s) for its unchanged content"
            if r.carried
            else "; it starts unverified"
        )
        click.echo(
            f"{verb} {r.path}:{r.begin_line} {r.old_id} -> {r.new_id} "
            f"({r.old_id} stays with {r.kept_by[0]}:{r.kept_by[1]}){carried}."
        )
