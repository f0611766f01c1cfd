"""Counts in words: "1 entry", "2 entries", never "1 lines".

Messages, lenses, hovers and progress reports put counts before nouns in many places; one
helper keeps the singular right in all of them (issue 19: the status bar said "1 lines no
test ran").
"""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None, *, grouped: bool = False) -> str:
    """`count` and `noun`, or its plural form (`many`, by default `noun` + "s") unless
    `count` is 1; `grouped` writes thousands separators ("12,000 tokens")."""
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {noun if count == 1 else (many or noun + 's')}"
