"""The editor features of the language server, one module each, over the engine's results.

`register_all` registers each module's handlers, the lifecycle (`lifecycle`: initialize,
document sync, shutdown...) first; a module that fails to register is logged and left out, so
the others keep working.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handrail.lsp.server import HandrailServer

log = logging.getLogger("handrail.lsp")


FEATURES = (
    "lifecycle",
    "commands",
    "verification",
    "code_actions",
    "code_lens",
    "hover",
    "inlay_hints",
    "context_paths",
    "generate",
    "trust_commands",
)
"""The feature modules, in registration order: the lifecycle first."""


def register_all(server: HandrailServer) -> None:
    """Import and register every feature module, each on its own: one that fails to import
    or register is logged and left out."""
    for name in FEATURES:
        try:
            module = importlib.import_module(f"handrail.lsp.features.{name}")
            module.register(server)
        except Exception:
            log.exception("Handrail feature %s could not be registered", name)
