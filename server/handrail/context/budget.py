"""The caps on context: total tokens (HR200), number of files (HR201), tokens per file (HR202).

Why caps exist (rules/default.toml): a model given more than it needs follows the wrong
example and loses the constraint, and a small context makes a failed generation cheap to
redo. Each message says so in one clause, because a cap without a reason reads as
bureaucracy and gets raised instead of respected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handrail.context.entries import ContextEntry, format_entry

WHY_TOTAL = "a model given more than it needs follows the wrong example and loses the constraint"
WHY_FILES = "every extra file is another example the model may follow instead of the right one"
WHY_FILE = "one large file crowds out the rest of the context and buries the part that matters"


@dataclass(frozen=True, slots=True)
class Sized:
    """One counted entry: its text as written in the task file and its tokens."""

    raw: str
    tokens: int


@dataclass(frozen=True, slots=True)
class CapIssue:
    """A cap that is exceeded; check.py turns it into a Finding at the right place."""

    code: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def choose_drop(sizes: Sequence[Sized], over_by: int) -> list[str]:
    """The fewest entries whose removal takes `over_by` tokens or more off the total.

    Taking the k largest removes the most any k entries can, so the k found that way is the
    smallest possible. Its last pick is then swapped for the smallest entry that still
    suffices, to keep as much of the chosen context as the minimum count allows.
    """
    if over_by <= 0:
        return []
    ranked = sorted(range(len(sizes)), key=lambda i: (-sizes[i].tokens, i))
    chosen: list[int] = []
    removed = 0
    for i in ranked:
        if removed >= over_by:
            break
        chosen.append(i)
        removed += sizes[i].tokens
    if removed < over_by:
        # Cannot happen when over_by <= total; return everything rather than a false fit.
        return [sizes[i].raw for i in chosen]
    if chosen:
        last = chosen.pop()
        need = over_by - (removed - sizes[last].tokens)
        taken = set(chosen)
        candidates = [i for i in ranked if i not in taken and sizes[i].tokens >= need]
        best = min(candidates, key=lambda i: (sizes[i].tokens, i)) if candidates else last
        chosen.append(best)
    chosen.sort()
    return [sizes[i].raw for i in chosen]


def over_total(sizes: Sequence[Sized], max_tokens: int) -> CapIssue | None:
    """HR200 when the counted entries exceed `max_tokens`."""
    total = sum(s.tokens for s in sizes)
    if total <= max_tokens:
        return None
    over_by = total - max_tokens
    drop = choose_drop(sizes, over_by)
    names = ", ".join(d.strip() for d in drop)
    return CapIssue(
        "HR200",
        f"The context is {total:,} tokens, {over_by:,} over the budget of {max_tokens:,} "
        f"([context].max_tokens): {WHY_TOTAL}. Dropping {names} would fit it.",
        {"drop": drop, "over_by": over_by, "total": total, "max_tokens": max_tokens},
    )


def too_many_files(
    raws: Sequence[str], sizes: Sequence[Sized], max_files: int, *, unusable: Sequence[str] = ()
) -> CapIssue | None:
    """HR201 when there are more than `max_files` entries.

    The suggestion drops entries that fail their own checks first (they cannot be sent
    anyway), then the largest by tokens.
    """
    count = len(raws)
    if count <= max_files:
        return None
    excess = count - max_files
    tokens = {s.raw: s.tokens for s in sizes}
    order = sorted(
        range(count),
        key=lambda i: (raws[i] not in unusable, -tokens.get(raws[i], 0), -i),
    )
    drop_idx = sorted(order[:excess])
    drop = [raws[i] for i in drop_idx]
    names = ", ".join(d.strip() for d in drop)
    return CapIssue(
        "HR201",
        f"The task attaches {count} context files, {excess} over the cap of {max_files} "
        f"([context].max_files): {WHY_FILES}. Drop {excess}, for example {names}.",
        {"drop": drop, "count": count, "max_files": max_files},
    )


def suggest_range(entry: ContextEntry, first_line: int, lines: int, tokens: int, cap: int) -> str:
    """A line range of about `cap` tokens from the start of what `entry` covers.

    Proportional to the file's average tokens per line, with a margin, so it is a start
    for the user to adjust rather than an exact fit.
    """
    if lines <= 0 or tokens <= 0:
        return format_entry(entry)
    keep = max(1, int(lines * cap * 0.9 / tokens))
    keep = min(keep, lines)
    end = first_line + keep - 1
    return format_entry(ContextEntry(entry.path, first_line, end, ""))


def over_file_cap(
    entry: ContextEntry, tokens: int, cap: int, *, first_line: int, lines: int
) -> CapIssue | None:
    """HR202 when one entry holds more than `cap` tokens."""
    if tokens <= cap:
        return None
    suggestion = suggest_range(entry, first_line, lines, tokens, cap)
    return CapIssue(
        "HR202",
        f"{entry.raw.strip()} is {tokens:,} tokens, over the per-file cap of {cap:,} "
        f"([context].max_file_tokens): {WHY_FILE}. Attach only the part the model needs, "
        f"for example {suggestion}.",
        {"entry": entry.raw, "tokens": tokens, "max_file_tokens": cap, "suggest": suggestion},
    )
