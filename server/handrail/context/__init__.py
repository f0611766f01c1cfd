"""Stage 2, context assembly: the files attached to a task, checked before any prompt is built.

`check.check_context` runs the whole check (HR200-HR206); the modules under it parse entries
(`entries`), read them safely (`resolve`), scan for secrets (`secrets`), count tokens
(`tokens`, cached by content in `cache`) and apply the caps (`budget`).
"""

from handrail.context.check import ContextReport, EntryReport, check_context
from handrail.context.entries import ContextEntry, EntryError, format_entry, parse_entry
from handrail.context.tokens import EncodingUnavailable, TokenCounter

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
