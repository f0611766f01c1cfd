"""`handrail`: the command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from handrail import __version__
from handrail.cli import (
    check_cmd,
    context_cmd,
    init_cmd,
    lsp_cmd,
    mark_cmd,
    prompt_cmd,
    task_cmd,
    verify_cmd,
)
from handrail.cli.common import EXIT_OK, EXIT_USAGE, Context


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="handrail")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace root (default: the nearest folder above with .handrail/ or .git).",
)
@click.pass_context
def cli(click_ctx: click.Context, root: Path | None) -> None:
    """Handrail: a repeatable team workflow for AI-assisted coding.

    \b
    1 specify      handrail task new "<two-sentence spec>" --context src/a.py
    2 context      handrail context check TASK
    3 generate     handrail prompt TASK   (paste into any model), then handrail mark
    4 verify       handrail trust (once, after reading the commands), handrail verify TASK,
                   handrail trace BLOCK (risky code), handrail explain BLOCK
    5 review       handrail check   (the gate for hooks and CI; --rerun in CI)
    """
    click_ctx.obj = Context(root)


for _module in (
    init_cmd,
    task_cmd,
    context_cmd,
    prompt_cmd,
    mark_cmd,
    check_cmd,
    lsp_cmd,
    verify_cmd,
):
    _module.register(cli)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="handrail")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return EXIT_OK
        return code if isinstance(code, int) else EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
