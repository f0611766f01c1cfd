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
    import gc

    # Start-up makes hundreds of thousands of objects (pygls' types, the engine's) and frees
    # almost none: collecting them on the way is ~5% of the time to `initialize`, for nothing
    # (issue 17). `main` freezes them and turns the collector back on once the server is built.
    gc.disable()
    from handrail.lsp.server import main

    raise SystemExit(main())
