"""The `handrail` console script and `python -m handrail`.

Editors start `handrail lsp` (or `handrail lsp --stdio`) at every launch, and the server never
uses the command-line parser: that exact command goes straight to the server, without
importing click (about 35 ms, a tenth of the time to `initialize`; issue 17). Git hooks and
CI run `handrail check` on every commit: its common command lines (`cli.check_core`) run
without click too. Everything else, `handrail lsp --help` and `handrail check --help`
included, goes through `handrail.cli.main`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

_SERVER_ARGS = (["lsp"], ["lsp", "--stdio"])


def main(argv: Sequence[str] | None = None) -> int:
    args = list(argv) if argv is not None else sys.argv[1:]
    if args in _SERVER_ARGS:
        return serve()
    if args[:1] == ["check"]:
        from handrail.gate.reuse import replay_if_unchanged

        # A run whose inputs did not change since the last one prints its result again,
        # before any of the engine is imported (gate.reuse proves the inputs unchanged).
        reused = replay_if_unchanged(args[1:])
        if reused is not None:
            return reused
        from handrail.cli.check_core import run_common
        from handrail.gate.early import start_gate_git

        code = run_common(args[1:], prepare=start_gate_git)
        if code is not None:
            return code
    from handrail.cli.main import main as cli_main

    # `argv` as given: with None click reads sys.argv itself (and expands globs on Windows).
    return cli_main(argv)


def serve() -> int:
    """Run the language server on stdio; its exit code."""
    import gc

    # Start-up makes hundreds of thousands of objects (pygls' types, the engine's) and frees
    # almost none: collecting them on the way is ~5% of the time to `initialize`, for nothing
    # (issue 17). The server freezes them and turns the collector back on once it is built.
    gc.disable()
    from handrail.lsp.server import main as server_main

    return server_main()
