"""`handrail init`: adopt Handrail in a repository."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from handrail.cli.common import Context, emit_json, fail, json_option, pass_ctx, require_folder


@click.command("init")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option("--owner", help='Who keeps the workflow true (default: git\'s "Name <email>").')
@click.option(
    "--pack",
    default="default",
    show_default=True,
    help="The shipped pack to extend: default or strict.",
)
@click.option(
    "--with-tooling",
    is_flag=True,
    help="Also add a PR template, a pre-commit config and a CI workflow (never overwritten).",
)
@click.option(
    "--install",
    metavar="SPEC",
    help="What the CI workflow pip-installs (default: this version, handrail==VERSION).",
)
@click.option(
    "--agent",
    "agents",
    multiple=True,
    # agents.setup.SETUP_AGENTS (spelled out: importing it here would load it for every init).
    type=click.Choice(["claude-code", "cursor", "codex"]),
    help="Also write this coding agent's MCP server and hooks (merged into its files). Repeatable.",
)
@json_option
@pass_ctx
def init(
    ctx: Context,
    folder: Path | None,
    owner: str | None,
    pack: str,
    with_tooling: bool,
    install: str | None,
    agents: tuple[str, ...],
    as_json: bool,
) -> None:
    """Write .handrail/workflow.toml (extends a shipped pack) and the folders Handrail uses.

    Running it again changes nothing; an existing workflow file is never overwritten. With
    --agent, also configure that coding agent: the MCP server (`handrail mcp`), the post-edit
    hook (`mark --diff`) and the stop hook (`agent stop-check`); see docs/agents.md.
    """
    from handrail.agents.setup import SetupError
    from handrail.workflow.init import InitError, init_workspace
    from handrail.workspace import Workspace

    if folder is not None:
        # init may add .handrail/ to an existing folder, never create the folder itself.
        require_folder(folder, "the folder")
    ws = Workspace.at(folder) if folder else (Workspace.at(ctx.root) if ctx.root else None)
    if ws is None:
        ws = Workspace.for_init(Path.cwd())
    if install is not None and not with_tooling:
        fail("--install only goes with --with-tooling (it is what the CI workflow installs)")
    try:
        result = init_workspace(ws, today=dt.date.today(), owner=owner, pack=pack)
        if with_tooling:
            from handrail.review.tooling import add_tooling

            tooling = add_tooling(ws, install=install)
            result.created.extend(tooling.created)
            result.updated.extend(tooling.updated)
            result.unchanged.extend(tooling.skipped)
        if agents:
            from handrail.agents.setup import setup_agents

            configured = setup_agents(ws, list(agents))
            result.created.extend(configured.created)
            result.updated.extend(configured.updated)
            result.unchanged.extend(configured.unchanged)
    except InitError as exc:
        fail(str(exc))
    except SetupError as exc:  # an agent's configuration file that cannot be merged
        fail(str(exc))
    if as_json:
        emit_json(
            {
                "root": str(ws.root),
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            }
        )
        return
    click.echo(f"Handrail in {ws.root}")
    if folder is None and ctx.root is None and (outer := _outer_handrail(ws.root)) is not None:
        # Two candidate roots: say which one was chosen and how to take the other.
        click.echo(
            f"(the nearest git repository; {outer} above it has its own .handrail/: "
            f"`handrail --root {outer} init` uses that one)"
        )
    for rel in result.created:
        click.echo(f"created   {rel}")
    for rel in result.updated:
        click.echo(f"updated   {rel}")
    for rel in result.unchanged:
        click.echo(f"unchanged {rel}")
    if result.created:
        click.echo(
            '\nNext: handrail task new "<two-sentence spec>" --context <file>   '
            "(see WORKFLOW docs: handrail --help)"
        )


def _outer_handrail(root: Path) -> Path | None:
    """The nearest folder above `root` that has `.handrail/`, if any."""
    from handrail.workspace import HANDRAIL_DIR

    for parent in root.parents:
        if (parent / HANDRAIL_DIR).is_dir():
            return parent
    return None
