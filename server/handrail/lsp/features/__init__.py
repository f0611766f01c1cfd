"""The editor features of the language server, one module each, over the engine's results.

`register_all` registers each module's handlers; a module that fails to register is logged
and left out, so the others (and diagnostics) keep working.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handrail.lsp.server import HandrailServer

log = logging.getLogger("handrail.lsp")


def register_all(server: HandrailServer) -> None:
    from handrail.lsp.features import (
        code_actions,
        code_lens,
        commands,
        context_paths,
        generate,
        hover,
        inlay_hints,
        trust_commands,
        verification,
    )

    for module in (
        commands,
        verification,
        code_actions,
        code_lens,
        hover,
        inlay_hints,
        context_paths,
        generate,
        trust_commands,
    ):
        try:
            module.register(server)
        except Exception:
            log.exception("Handrail feature %s could not be registered", module.__name__)
