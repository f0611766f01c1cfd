"""Risk tiers: which blocks need more evidence than a green test run.

A block's tier is, in order: the one its task names (`risk = "auth"`), else the first tier
whose path globs match the block's file, else the first tier with a keyword in the block's
content. Order matters so that the team decides, by the order of `[[risk_tiers]]`, which
tier wins when several apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pathspec import GitIgnoreSpec

from handrail.workflow.model import RiskTier, Workflow

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


@dataclass(frozen=True, slots=True)
class _Compiled:
    tiers: tuple[_CompiledTier, ...]
    problems: tuple[str, ...]


_TierKey = tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]


def _key(workflow: Workflow) -> _TierKey:
    return tuple((t.name, tuple(t.paths), tuple(t.keywords)) for t in workflow.risk_tiers)


@lru_cache(maxsize=32)
def _compile(key: _TierKey) -> _Compiled:
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
        spec = GitIgnoreSpec.from_lines(valid) if valid else None
        words = [k.strip() for k in keywords if k.strip()]
        regex = None
        if words:
            # Longest first so that "session_token" wins over a shorter keyword it contains.
            alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
            regex = re.compile(f"{_START}(?i:{alternation}){_END}")
        tiers.append(_CompiledTier(index, spec, regex))
    return _Compiled(tuple(tiers), tuple(problems))


def tier_for(
    path: str, content: str, workflow: Workflow, *, task_risk: str | None = None
) -> RiskTier | None:
    """The risk tier of a block at workspace-relative `path` holding `content`, or None.

    With `task_risk` (the task's `risk` field) the tier of that name, or None when no tier
    has that name (the caller may warn about the unknown name).
    """
    tiers = workflow.risk_tiers
    if task_risk is not None:
        wanted = task_risk.strip().casefold()
        return next((t for t in tiers if t.name.casefold() == wanted), None)
    compiled = _compile(_key(workflow))
    rel = path.replace("\\", "/").lstrip("/")
    for tier in compiled.tiers:
        if tier.paths is not None and tier.paths.match_file(rel):
            return tiers[tier.tier_index]
    for tier in compiled.tiers:
        if tier.keywords is not None and tier.keywords.search(content):
            return tiers[tier.tier_index]
    return None


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
