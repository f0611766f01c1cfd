"""Risk tiers: which blocks need more evidence than a green test run.

A block's tier is, in order: the one its task names (`risk = "auth"`), else the first tier
whose path globs match the block's file, else the first tier with a keyword in the block's
code. Order matters so that the team decides, by the order of `[[risk_tiers]]`, which
tier wins when several apply.

Keywords are looked for in code only: comments and docstrings are blanked first, so a block
whose comment says "not for passwords" is not put in the auth tier by that word. Every
decision names its reason (`decide_tier`); `tier_for` returns the tier with that reason at the
start of its `why`, so the HR303 message says why this block is in the tier.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from handrail.workflow.model import RiskTier, Workflow

if TYPE_CHECKING:
    # pathspec loads with the first tier compiled, not with the server (issue 17).
    from pathspec import GitIgnoreSpec

# A keyword counts as a whole word. In code a "word" also ends at `_`, at a digit/letter
# change is not a boundary, and at a camelCase hump (`getPassword`, `JWTToken`), because
# identifiers are where these words live.
_START = r"(?:(?<![^\W_])|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]))"
_END = r"(?:(?![^\W_])|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]))"


@dataclass(frozen=True, slots=True)
class _CompiledTier:
    tier_index: int
    paths: GitIgnoreSpec | None
    keywords: re.Pattern[str] | None
    may_match: Callable[[str], bool] = lambda content: True
    """False only when no keyword can match in the code of `content` (see `_prefilter`)."""


@dataclass(frozen=True, slots=True)
class _Compiled:
    tiers: tuple[_CompiledTier, ...]
    problems: tuple[str, ...]


_TierKey = tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]


def _key(workflow: Workflow) -> _TierKey:
    return tuple((t.name, tuple(t.paths), tuple(t.keywords)) for t in workflow.risk_tiers)


@lru_cache(maxsize=32)
def _compile(key: _TierKey) -> _Compiled:
    from pathspec import GitIgnoreSpec

    from handrail.ignore import byte_view

    tiers: list[_CompiledTier] = []
    problems: list[str] = []
    for index, (name, paths, keywords) in enumerate(key):
        valid: list[str] = []
        for pattern in paths:
            try:
                GitIgnoreSpec.from_lines([pattern])
            except ValueError as exc:
                problems.append(f"risk tier {name!r}: path pattern {pattern!r} is invalid ({exc})")
                continue
            valid.append(pattern)
        # Matched byte by byte, as git matches names: a path that is not UTF-8 (its bytes kept
        # as surrogates) cannot be handed to re2 as text.
        spec = GitIgnoreSpec.from_lines([byte_view(p) for p in valid]) if valid else None
        words = [k.strip() for k in keywords if k.strip()]
        regex = None
        if words:
            # Longest first so that "session_token" wins over a shorter keyword it contains.
            alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
            regex = re.compile(f"{_START}(?i:{alternation}){_END}")
            tiers.append(_CompiledTier(index, spec, regex, _prefilter(words, alternation)))
        else:
            tiers.append(_CompiledTier(index, spec, None))
    return _Compiled(tuple(tiers), tuple(problems))


def _prefilter(words: list[str], alternation: str) -> Callable[[str], bool]:
    """A cheap test on a block's raw content that is False only when no keyword can match
    in its code, so most blocks skip `code_of` and the keyword expression (issue 17).

    `code_of` only turns characters into spaces, in place, so a keyword without a space
    found in the code is found at the same place in the content, whatever the word edges.
    ASCII content against ASCII keywords: case-insensitive matching is `lower()` equality
    (re's extra case pairs, like `ſ` with `s`, need a non-ASCII character on one side).
    """
    if any(" " in word for word in words):
        return lambda content: True  # a space may come from a blanked comment
    anywhere = re.compile(f"(?i:{alternation})")
    lowered = tuple(word.lower() for word in words) if all(w.isascii() for w in words) else None

    def may_match(content: str) -> bool:
        if lowered is not None and content.isascii():
            text = content.lower()
            return any(word in text for word in lowered)
        return anywhere.search(content) is not None

    return may_match


def tier_for(
    path: str, content: str, workflow: Workflow, *, task_risk: str | None = None
) -> RiskTier | None:
    """The risk tier of a block at workspace-relative `path` holding `content`, or None.

    With `task_risk` (the task's `risk` field) the tier of that name, or None when no tier
    has that name (the caller may warn about the unknown name). The tier's `why` starts with
    the reason it was chosen.
    """
    tier, reason = decide_tier(path, content, workflow, task_risk=task_risk)
    if tier is None or reason is None:
        return tier
    why = f"It is in this tier because {reason}. {tier.why.strip()}".strip()
    return tier.model_copy(update={"why": why})


def decide_tier(
    path: str, content: str, workflow: Workflow, *, task_risk: str | None = None
) -> tuple[RiskTier | None, str | None]:
    """The tier (as `tier_for`) and, in words, why: the task's risk, a path pattern, or the
    keyword found in the code (comments and docstrings do not count)."""
    tiers = workflow.risk_tiers
    if task_risk is not None:
        wanted = task_risk.strip().casefold()
        named = next((t for t in tiers if t.name.casefold() == wanted), None)
        return named, f'its task says risk = "{task_risk.strip()}"' if named else None
    from handrail.ignore import byte_view

    compiled = _compile(_key(workflow))
    rel = path.replace("\\", "/").lstrip("/")
    for tier in compiled.tiers:
        if tier.paths is not None and tier.paths.match_file(byte_view(rel)):
            chosen = tiers[tier.tier_index]
            pattern = next(
                (p for p in chosen.paths if _path_matches(p, rel)), ", ".join(chosen.paths)
            )
            return chosen, f"its path {rel} matches {pattern!r}"
    code: str | None = None
    for tier in compiled.tiers:
        if tier.keywords is None or not tier.may_match(content):
            continue
        if code is None:
            code = code_of(rel, content)
        found = tier.keywords.search(code)
        if found is not None:
            line = code.count("\n", 0, found.start()) + 1
            return tiers[tier.tier_index], f"its code mentions `{found.group(0)}` (line {line})"
    return None, None


def _path_matches(pattern: str, rel: str) -> bool:
    from pathspec import GitIgnoreSpec

    from handrail.ignore import byte_view

    try:
        return GitIgnoreSpec.from_lines([byte_view(pattern)]).match_file(byte_view(rel))
    except ValueError:
        return False


_TRIPLE = ('"""', "'''")
# A one-line string literal's text after its opening quote: up to the closing quote or the
# line's end, a backslash taking the next character with it.
_LITERAL_BODY = {q: re.compile(rf"[^\\{q}\n]*(?:\\[\s\S][^\\{q}\n]*)*") for q in "\"'`"}


def code_of(path: str, content: str) -> str:
    """`content` with its comments and (Python) docstrings blanked, line breaks kept.

    String literals stay: `os.environ["PASSWORD"]` is code. A small lexer, not a parser: a
    quote inside an unusual literal may hide a comment, which only errs towards a tier.
    """
    from handrail.blocks.comments import comment_styles_for

    styles = comment_styles_for(path)
    prefixes = tuple(s.line for s in styles if s.line)
    pairs = tuple((s.block_open, s.block_close) for s in styles if s.block_open and s.block_close)
    python = path.endswith((".py", ".pyi"))
    # Text between two places where a quote or a comment may start is copied as it is: found
    # by one expression rather than character by character (issue 17: 20x faster).
    special = _special_starts(pairs, prefixes)
    out: list[str] = []
    i, n = 0, len(content)
    while i < n:
        found = special.search(content, i)
        if found is None:
            out.append(content[i:])
            break
        if found.start() > i:
            out.append(content[i : found.start()])
            i = found.start()
        if python and content.startswith(_TRIPLE, i):
            quote = content[i : i + 3]
            end = content.find(quote, i + 3)
            end = n if end < 0 else end + 3
            statement = not content[content.rfind("\n", 0, i) + 1 : i].strip()
            text = content[i:end]
            out.append(_blank(text) if statement else text)
            i = end
            continue
        char = content[i]
        if char in "\"'`":
            # The literal runs to its closing quote or the line's end; a backslash escapes
            # the next character, whatever it is.
            body = _LITERAL_BODY[char].match(content, i + 1)
            j = body.end() if body is not None else i + 1
            if j < n and content[j] == "\\":  # the text's last character
                j += 2
            out.append(content[i : j + 1])
            i = j + 1
            continue
        skipped = False
        for opening, closing in pairs:
            assert opening is not None and closing is not None
            if content.startswith(opening, i):
                end = content.find(closing, i + len(opening))
                end = n if end < 0 else end + len(closing)
                out.append(_blank(content[i:end]))
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


@lru_cache(maxsize=64)
def _special_starts(
    pairs: tuple[tuple[str | None, str | None], ...], prefixes: tuple[str | None, ...]
) -> re.Pattern[str]:
    """Where `code_of` may have to do more than copy: a quote, a block or a line comment."""
    tokens = ['"', "'", "`", *(o for o, _ in pairs if o), *(p for p in prefixes if p)]
    return re.compile("|".join(re.escape(t) for t in tokens))


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def matched_keyword(tier: RiskTier, content: str) -> str | None:
    """The first of `tier`'s keywords found in `content` (as `tier_for` matches), or None.

    For messages: "in the auth tier because it mentions `password`".
    """
    for keyword in tier.keywords:
        word = keyword.strip()
        if not word:
            continue
        if re.search(f"{_START}(?i:{re.escape(word)}){_END}", content):
            return word
    return None


def tier_problems(workflow: Workflow) -> list[str]:
    """Invalid path patterns in the workflow's risk tiers; `tier_for` skips them.

    For the workflow checks (HR400), so a typo in a glob is reported rather than silently
    making a tier match less than the team meant.
    """
    return list(_compile(_key(workflow)).problems)
