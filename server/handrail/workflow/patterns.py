"""Regular expressions written in workflow files, compiled with RE2.

A workflow file comes with the repository, so its patterns are input from other people.
Python's `re` backtracks: `[spec.required] evil = '^(a+)+$'` takes exponential time on a spec
of a few dozen `a`s, stalling `handrail check` in a hook and the language server in an editor.
RE2 (the `google-re2` wheel pathspec already brings) matches in time linear in the text and
refuses the constructs that need backtracking (lookaround, backreferences, atomic groups,
possessive repeats). Such a pattern is HR400 with a plain reason; there is deliberately no
fallback to `re`, which would bring the hang back.

RE2's `\\w`, `\\d`, `\\s` and `\\b` are ASCII-only, and its `$` (without `(?m)`) matches only at
the very end: docs/workflow.md says so to the teams who write patterns.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Protocol

import re2

__all__ = ["Match", "Pattern", "PatternError", "compile_pattern"]


class Match(Protocol):
    def start(self) -> int: ...

    def end(self) -> int: ...

    def group(self) -> str: ...


class Pattern(Protocol):
    """What the checks use of a compiled pattern (RE2's `_Regexp` has these, as `re` does)."""

    @property
    def pattern(self) -> str: ...

    def search(self, text: str) -> Match | None: ...

    def finditer(self, text: str) -> Iterator[Match]: ...


class PatternError(ValueError):
    """A pattern RE2 cannot compile; the message says why in plain words."""


def _options() -> Any:
    options = re2.Options()
    # RE2 logs every refused pattern to stderr by itself; the refusal is reported as HR400.
    options.log_errors = False
    return options


_OPTIONS = _options()

# RE2's error text (after the colon it names the construct) -> what to tell the user.
_REASONS: tuple[tuple[str, str], ...] = (
    ("(?<=", "lookbehind `(?<=...)` is not supported"),
    ("(?<!", "negative lookbehind `(?<!...)` is not supported"),
    ("(?=", "lookahead `(?=...)` is not supported"),
    ("(?!", "negative lookahead `(?!...)` is not supported"),
    ("(?>", "atomic groups `(?>...)` are not supported"),
    ("(?#", "comments `(?#...)` are not supported"),
    ("(?x", "the verbose flag `(?x)` is not supported; write the pattern on one line"),
    ("\\Z", "`\\Z` is not supported; use `\\z` for the end of the text"),
    ("\\G", "`\\G` is not supported"),
)


def _reason(raw: str) -> str:
    detail = raw.split(": ", 1)[1] if ": " in raw else raw
    for marker, reason in _REASONS:
        if detail.startswith(marker):
            return reason
    if detail == "(?P":  # RE2 reads (?P<name>...) but not (?P=name) or (?P>name)
        return "named backreferences `(?P=name)` are not supported"
    if raw.startswith("invalid escape sequence: \\") and detail[1:2].isdigit():
        return f"backreferences like `{detail}` are not supported"
    if raw.startswith("bad repetition operator") and detail.endswith("+"):
        return f"possessive repeats like `{detail}` are not supported"
    if raw.startswith("invalid repetition size"):
        return f"the repeat count {detail} is too large (at most 1000)"
    if raw.startswith("pattern too large"):
        return "it is too large to match in bounded memory"
    return raw


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Pattern:
    """`pattern` compiled with RE2; `PatternError` when RE2 refuses it.

    Handrail matches workflow patterns in time linear in the text (see the module docstring).
    """
    try:
        compiled: Pattern = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else ""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise PatternError(
            f"invalid regular expression {pattern!r}: {_reason(text)} (workflow patterns "
            "use RE2 syntax, which matches in linear time; see docs/workflow.md)"
        ) from exc
    except (TypeError, ValueError) as exc:  # a surrogate or NUL the binding cannot encode
        raise PatternError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return compiled
