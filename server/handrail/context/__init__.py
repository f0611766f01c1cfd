"""Stage 2, context assembly: the files attached to a task, checked before any prompt is built.

`check.check_context` runs the whole check (HR200-HR206); the modules under it parse entries
(`entries`), read them safely (`resolve`), scan for secrets (`secrets`), count tokens
(`tokens`, cached by content in `cache`) and apply the caps (`budget`).

The names below are imported on first use: importing one light module of the package (an
editor feature that only parses entries) must not load the tokenizer, the secret scanner and
the token cache's database (issue 17).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handrail.context.check import ContextReport, EntryReport, check_context
    from handrail.context.entries import ContextEntry, EntryError, format_entry, parse_entry
    from handrail.context.tokens import EncodingUnavailable, TokenCounter

_MODULE_OF = {
    "ContextReport": "check",
    "EntryReport": "check",
    "check_context": "check",
    "ContextEntry": "entries",
    "EntryError": "entries",
    "format_entry": "entries",
    "parse_entry": "entries",
    "EncodingUnavailable": "tokens",
    "TokenCounter": "tokens",
}

__all__ = [
    "ContextEntry",
    "ContextReport",
    "EncodingUnavailable",
    "EntryError",
    "EntryReport",
    "TokenCounter",
    "check_context",
    "format_entry",
    "parse_entry",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
