"""The risk tier's fast paths (issue 17) decide exactly as the plain character-by-character
lexer and the keyword expression on every block did: a reference copy of that code is kept
here and compared on generated text full of quotes, comment tokens and case oddities."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from handrail.blocks.comments import comment_styles_for
from handrail.ledger.risk import _END, _START, code_of, decide_tier
from handrail.workflow.model import Workflow


def reference_code_of(path: str, content: str) -> str:
    """`code_of` as it was before issue 17: one character at a time."""
    styles = comment_styles_for(path)
    prefixes = [s.line for s in styles if s.line]
    pairs = [(s.block_open, s.block_close) for s in styles if s.block_open and s.block_close]
    python = path.endswith((".py", ".pyi"))
    blank = lambda text: re.sub(r"[^\n]", " ", text)  # noqa: E731
    out: list[str] = []
    i, n = 0, len(content)
    while i < n:
        if python and content.startswith(('"""', "'''"), i):
            quote = content[i : i + 3]
            end = content.find(quote, i + 3)
            end = n if end < 0 else end + 3
            statement = not content[content.rfind("\n", 0, i) + 1 : i].strip()
            text = content[i:end]
            out.append(blank(text) if statement else text)
            i = end
            continue
        char = content[i]
        if char in "\"'`":
            j = i + 1
            while j < n and content[j] not in (char, "\n"):
                j += 2 if content[j] == "\\" else 1
            out.append(content[i : j + 1])
            i = j + 1
            continue
        skipped = False
        for opening, closing in pairs:
            assert opening is not None and closing is not None
            if content.startswith(opening, i):
                end = content.find(closing, i + len(opening))
                end = n if end < 0 else end + len(closing)
                out.append(blank(content[i:end]))
                i, skipped = end, True
                break
        if not skipped:
            for prefix in prefixes:
                assert prefix is not None
                if content.startswith(prefix, i):
                    end = content.find("\n", i)
                    end = n if end < 0 else end
                    out.append(" " * (end - i))
                    i, skipped = end, True
                    break
        if not skipped:
            out.append(char)
            i += 1
    return "".join(out)


def reference_keyword_tier(path: str, content: str, workflow: Workflow) -> str | None:
    """The first tier with a whole-word keyword in the code, searched on every block."""
    code = reference_code_of(path, content)
    for tier in workflow.risk_tiers:
        words = [k.strip() for k in tier.keywords if k.strip()]
        if not words:
            continue
        alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        if re.search(f"{_START}(?i:{alternation}){_END}", code):
            return tier.name
    return None


# Languages with every kind of token: Python (docstrings), C-like, SQL (`--`, `/*`), Lua
# (`--[[`), batch (`REM`, a word), Pascal (`{`), HTML (`<!--`), Vim (`"` as a comment),
# Haskell (`{-`), an unknown extension (the common tokens).
PATHS = [
    "a.py",
    "a.js",
    "a.sql",
    "a.lua",
    "a.bat",
    "a.pas",
    "a.html",
    "a.vim",
    "a.hs",
    "a.unknown",
    "Makefile",
]
PIECES = [
    '"""', "'''", '"', "'", "`", "\\", "\n", " ", "#", "//", "/*", "*/", "--", "--[[", "]]",
    "{", "}", "{-", "-}", "<!--", "-->", "REM", "rem", "(*", "*)", ";", "%", "x", "=",
    "password", "Password", "PASSWORD", "paſsword", "getPassword", "Kelvin", "\u212a", "é",
    "jwt", "JWT", "amount", "api key", "session_token", "_", "1",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=600)
@given(st.sampled_from(PATHS), texts)
def test_code_of_equals_the_character_by_character_lexer(path: str, content: str) -> None:
    assert code_of(path, content) == reference_code_of(path, content)


@settings(max_examples=300)
@given(st.sampled_from(PATHS), st.text(max_size=120))
def test_code_of_equals_the_lexer_on_any_text(path: str, content: str) -> None:
    assert code_of(path, content) == reference_code_of(path, content)


keyword_sets = st.lists(
    st.sampled_from(["password", "jwt", "amount", "api key", "kelvin", "sſs", "é", "x y", "REM"]),
    min_size=1,
    max_size=3,
)


@settings(max_examples=400)
@given(st.sampled_from(PATHS), texts, keyword_sets, keyword_sets)
# re's case pairs beyond lower(): `ſ` is an `s`, the Kelvin sign a `k`.
@example("a.py", "x = pa\u017fsword", ["password"], ["jwt"])
@example("a.py", "x = \u212aelvin", ["jwt"], ["kelvin"])
# Spaces (and a kept line break) that only the blanking of a comment puts between two words.
@example("a.pas", "a{}b", ["jwt"], ["a  b"])
@example("a.py", "api#\nkey", ["api \nkey"], ["jwt"])
def test_keyword_tier_equals_searching_every_block(
    path: str, content: str, first: list[str], second: list[str]
) -> None:
    # Keywords with a space (a blanked comment makes spaces) and non-ASCII keywords or text
    # (re's case pairs beyond lower()) take the careful paths; the decision never changes.
    wf = Workflow.model_validate(
        {"risk_tiers": [{"name": "one", "keywords": first}, {"name": "two", "keywords": second}]}
    )
    tier, _why = decide_tier(path, content, wf)
    assert (tier.name if tier else None) == reference_keyword_tier(path, content, wf)
