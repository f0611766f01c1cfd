"""`handrail lsp`: the language server on stdio."""

from __future__ import annotations

import click


@click.command("lsp")
@click.option(
    "--stdio",
    is_flag=True,
    help="Talk LSP over stdin/stdout (the default and only transport; accepted for editors "
    "that pass it).",
)
def lsp(stdio: bool) -> None:
    """Run the language server on stdin/stdout, for editors (see docs/lsp.md)."""
    from handrail.cli.entry import serve

    raise SystemExit(serve())
