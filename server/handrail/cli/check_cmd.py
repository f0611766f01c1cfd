"""`handrail check`: the gate for git hooks and CI."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from handrail import __version__
from handrail.cli.common import EXIT_USAGE, Context, exit_for, fail, pass_ctx
from handrail.workspace import PathEscapesWorkspace


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts, sarif for code scanning, github for annotations.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the text output (default: when a terminal)."
)
@pass_ctx
def check(ctx: Context, paths: tuple[Path, ...], fmt: str, color: bool | None) -> None:
    """Report every finding in the workspace, or under PATHS.

    Exit 0 when clean, 1 when any finding is an error, 2 for a usage or configuration error.
    """
    from handrail.check import run_check
    from handrail.report import CheckSummary, render

    if paths:
        ctx.use_path(paths[0])
    ws = ctx.ws
    try:
        rel_paths = [_relative(ctx, p) for p in paths]
    except PathEscapesWorkspace as exc:
        fail(f"{exc} is outside the workspace {ws.root}")
    result = run_check(ws, paths=rel_paths)
    summary = CheckSummary(
        files_checked=result.files_checked, root=str(ws.root), tool_version=__version__
    )
    use_color = sys.stdout.isatty() if color is None else color
    click.echo(render(fmt, result.findings, summary, color=use_color), nl=False)
    if result.workflow_invalid:
        click.echo(
            f"handrail: {ws.relative(ws.workflow_path)} is invalid: "
            "fix it before the gate can pass.",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(exit_for(result.findings))


def _relative(ctx: Context, path: Path) -> str:
    absolute = ctx.absolute(path)
    if not absolute.exists():
        fail(f"{path}: no such file or folder")
    return ctx.ws.relative(absolute.resolve())


def register(group: click.Group) -> None:
    group.add_command(check)
