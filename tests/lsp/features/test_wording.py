"""Counts in the editor's texts read right for one and for two (issue 19: "1 lines ...")."""

from __future__ import annotations

from handrail.context.check import EntryReport
from handrail.lsp.features.hover import context_line
from handrail.lsp.features.inlay_hints import entry_label
from handrail.wording import plural


def test_plural_is_singular_for_one_only() -> None:
    assert plural(1, "line") == "1 line"
    assert plural(2, "line") == "2 lines"
    assert plural(0, "entry", "entries") == "0 entries"
    assert plural(12000, "token", grouped=True) == "12,000 tokens"


def test_the_inlay_hint_of_a_one_token_entry_says_token() -> None:
    assert entry_label(EntryReport("a.py", "a.py", 1, "ok")) == "1 token"
    assert entry_label(EntryReport("a.py", "a.py", 2, "ok")) == "2 tokens"


def test_the_context_hover_counts_entries() -> None:
    assert context_line(1, 10, 100, "o200k_base").startswith("**Context:** 1 entry, 10 of 100")
    assert context_line(2, 10, 100, "o200k_base").startswith("**Context:** 2 entries, 10")
