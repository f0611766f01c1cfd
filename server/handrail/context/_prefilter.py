"""Which lines of a text a regular expression can possibly match, found at C speed.

detect-secrets calls each of its ~28 detectors on every line through a reflective helper,
about 10 us a call: 0.15 MB/s on source code (measured here). Every detector reports a
secret only where one of its own expressions matches, so finding the lines those
expressions can match, over the whole text at once, and handing only those lines to
detect-secrets gives the same hits (the tests compare against detect-secrets' own loop).

Two ways to find them, both over-approximations and never under:

- Required literals: from the parsed expression, a set of strings one of which every match
  must contain (``AKIA``/``ASIA``/... for AWS keys). `str.find` locates them.
- Otherwise the expression itself, searched over the whole text, resuming at the start of
  the line after each match so a match running across a line break cannot hide one that a
  per-line search would have found.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import itertools
import re
from collections.abc import Sequence
from typing import Any

_parser: Any = importlib.import_module("re._parser")

# Characters Python's IGNORECASE equates with an ASCII letter that `str.lower` does not
# map to it (checked with re.fullmatch): KELVIN SIGN, LONG S, DOTLESS I, DOTTED CAPITAL I.
_FOLD_EXTRA = str.maketrans({"\u212a": "k", "\u017f": "s", "\u0131": "i", "\u0130": "i"})
# Shorter literals than this are not selective: search the expression instead.
_MIN_LITERAL = 2

Literals = tuple[frozenset[str], bool]
"""Strings one of which every match contains, and whether to compare them case-folded."""


_FOLD_EXTRA_CHARS = tuple(chr(c) for c in _FOLD_EXTRA)


def fold(text: str) -> str:
    # `translate` with a table runs at ~25 MB/s, `lower` on ASCII at ~1 GB/s: translate only
    # when one of its four characters is there (`isascii` and `in` run at memory speed).
    if text.isascii() or not any(c in text for c in _FOLD_EXTRA_CHARS):
        return text.lower()
    return text.translate(_FOLD_EXTRA).lower()


def required_literals(pattern: re.Pattern[str]) -> Literals | None:
    """What every match of `pattern` must contain, or None when nothing can be said."""
    return _required(pattern.pattern, pattern.flags)


@functools.lru_cache(maxsize=512)
def _required(source: str, flags: int) -> Literals | None:
    try:
        parsed = _parser.parse(source, flags)
    except Exception:
        return None
    icase = bool(parsed.state.flags & re.IGNORECASE)
    found = _sequence(list(parsed), icase)
    if found is None:
        return None
    literals, folded = found
    if not literals or min(len(s) for s in literals) < _MIN_LITERAL:
        return None
    return literals, folded


_Found = tuple[frozenset[str], bool] | None


@functools.lru_cache(maxsize=512)
def _all_required(source: str, flags: int) -> tuple[Literals, ...]:
    """Every requirement found along the expression's top-level sequence, most telling
    first: each holds for every match, so the lines meeting all of them are candidates."""
    try:
        parsed = _parser.parse(source, flags)
    except Exception:
        return ()
    icase = bool(parsed.state.flags & re.IGNORECASE)
    found: list[tuple[frozenset[str], bool]] = []
    _collect(list(parsed), icase, found)
    usable = {f for f in found if f[0] and min(len(s) for s in f[0]) >= _MIN_LITERAL}
    return tuple(
        sorted(usable, key=lambda f: (-min(len(s) for s in f[0]), len(f[0]), sorted(f[0])))
    )


def _collect(items: Sequence[Any], icase: bool, out: list[tuple[frozenset[str], bool]]) -> None:
    run: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL" and not (icase and not chr(arg).isascii()):
            run.append(fold(chr(arg)) if icase else chr(arg))
            continue
        if run:
            out.append((frozenset({"".join(run)}), icase))
            run = []
        if name == "SUBPATTERN" and not (arg[1] | arg[2]) & re.IGNORECASE:
            _collect(list(arg[3]), icase, out)
            continue
        node = _node(name, arg, icase) if name != "LITERAL" else None
        if node is not None:
            out.append(node)
    if run:
        out.append((frozenset({"".join(run)}), icase))


def _better(a: _Found, b: _Found) -> _Found:
    if a is None:
        return b
    if b is None:
        return a
    key_a = (min(len(s) for s in a[0]), -len(a[0]))
    key_b = (min(len(s) for s in b[0]), -len(b[0]))
    return a if key_a >= key_b else b


def _sequence(items: Sequence[Any], icase: bool) -> _Found:
    """Every match of a sequence contains a match of each item, so any item's set will do."""
    best: _Found = None
    run: list[str] = []

    def close_run() -> None:
        nonlocal best
        if run:
            best = _better(best, (frozenset({"".join(run)}), icase))
            run.clear()

    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            char = chr(arg)
            if icase and not char.isascii():
                # Case-insensitive non-ASCII letters have foldings we do not model.
                close_run()
                continue
            run.append(fold(char) if icase else char)
            continue
        close_run()
        best = _better(best, _node(name, arg, icase))
    close_run()
    return best


def _node(name: str, arg: Any, icase: bool) -> _Found:
    if name == "SUBPATTERN":
        _group, add_flags, del_flags, body = arg
        inner = (icase or bool(add_flags & re.IGNORECASE)) and not bool(del_flags & re.IGNORECASE)
        return _sequence(list(body), inner)
    if name == "ATOMIC_GROUP":
        return _sequence(list(arg), icase)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, body = arg
        return _sequence(list(body), icase) if low >= 1 else None
    if name == "BRANCH":
        _, branches = arg
        shared = _shared_literals([list(b) for b in branches], icase)
        if shared is not None:
            return shared
        union: set[str] = set()
        folded = icase
        for branch in branches:
            found = _sequence(list(branch), icase)
            if found is None:
                return None
            strings, branch_folded = found
            if branch_folded != folded:
                # Mixed case handling inside one alternation: compare everything folded.
                folded = True
                union = {fold(s) for s in union}
                strings = frozenset(fold(s) for s in strings)
            union |= strings
        return frozenset(union), folded
    # Character classes, anchors, lookarounds, back references: no literal to require.
    return None


_compiler: Any = importlib.import_module("re._compiler")


@functools.lru_cache(maxsize=128)
def _searchable_source(source: str, flags: int) -> re.Pattern[str]:
    multiline = flags | re.MULTILINE
    try:
        parsed = _parser.parse(source, multiline)
        items = list(parsed)
        first = next((i for i, (op, _arg) in enumerate(items) if str(op) == "LITERAL"), len(items))
        if 0 < first < len(items) and not _refers(items[first:]):
            parsed.data = items[first:]
            compiled: re.Pattern[str] = _compiler.compile(parsed, multiline)
            return compiled
    except Exception:
        pass
    return re.compile(source, multiline)


def _searchable(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern`, or the part of it from its first literal on, whichever searches faster.

    Every match of a sequence contains a match of its tail, so the lines where the tail
    matches include every line where the whole does. Python's `re` finds a pattern that
    starts with a literal character quickly, and tries one that starts with a class (the
    `\\d{8,10}:` of a Telegram token) at every digit: 50 times slower on source code.
    """
    return _searchable_source(pattern.pattern, pattern.flags)


def _refers(items: Sequence[Any]) -> bool:
    """True when the items refer to a group by number (it may be in the part left out)."""
    for op, arg in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return True
        if isinstance(arg, (list, tuple)):
            for sub in arg:
                if hasattr(sub, "data") and _refers(list(sub)):
                    return True
                if isinstance(sub, list) and any(
                    hasattr(b, "data") and _refers(list(b)) for b in sub
                ):
                    return True
        elif hasattr(arg, "data") and _refers(list(arg)):
            return True
    return False


def _runs(items: Sequence[Any], icase: bool) -> list[str]:
    """Strings every match of a sequence contains, as written (folded when `icase`)."""
    runs: list[str] = []
    run: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL" and not (icase and not chr(arg).isascii()):
            run.append(fold(chr(arg)) if icase else chr(arg))
            continue
        if run:
            runs.append("".join(run))
            run = []
        if name == "SUBPATTERN" and not (arg[1] | arg[2]) & re.IGNORECASE:
            runs.extend(_runs(list(arg[3]), icase))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[0] >= 1:
            runs.extend(_runs(list(arg[2]), icase))
    if run:
        runs.append("".join(run))
    return runs


def _shared_literals(branches: list[list[Any]], icase: bool) -> _Found:
    """Few literals covering every alternative, or None when some alternative has none.

    For ``api_?key|auth_?key|password|passwd`` the first literal of each alternative would
    be {api, auth, password, passwd}, and every line saying "api" or "auth" a candidate;
    {key, pass} covers the same alternatives with fewer, more telling strings. Any part of
    a required literal is required too, so the parts are candidates (a greedy set cover).
    """
    choices: list[set[str]] = []
    for branch in branches:
        parts = {
            run[i:j]
            for run in _runs(branch, icase)
            for i in range(len(run))
            for j in range(i + max(_MIN_LITERAL + 1, 3), len(run) + 1)
        }
        parts |= {run for run in _runs(branch, icase) if len(run) >= _MIN_LITERAL}
        if not parts:
            return None
        choices.append(parts)
    chosen: set[str] = set()
    left = set(range(len(choices)))
    while left:
        counts: dict[str, int] = {}
        for i in left:
            for part in choices[i]:
                counts[part] = counts.get(part, 0) + 1
        best = max(counts, key=lambda part: (counts[part], len(part), part))
        chosen.add(best)
        left = {i for i in left if best not in choices[i]}
    return frozenset(chosen), icase


# Candidate lines beyond which an expression's other requirements are searched too.
_INTERSECT_ABOVE = 32
_INTERSECTED = 3

_PARTS: dict[tuple[str, bool], tuple[str, bool]] = {}
"""A literal -> a shorter one, searched before it, whose lines include its lines (or itself,
when none was: then it is searched without looking for one again)."""


class LineIndex:
    """A text as lines (trailing whitespace stripped, as detect-secrets sees them)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.count = len(lines)
        self.stripped = [line.rstrip() for line in lines]
        self.joined = "\n".join(self.stripped)
        self.starts = _starts(self.stripped)
        self._folded: tuple[str, list[int]] | None = None
        # Detectors share literals ("key", "pass", "gl"...) and expressions: each is searched
        # once per text, and a literal containing one already searched reuses its lines.
        self._literal_lines: dict[tuple[str, bool], set[int]] = {}
        self._pattern_lines: dict[tuple[str, int], set[int]] = {}
        self._set_lines: dict[Literals, set[int]] = {}

    def folded(self) -> tuple[str, list[int]]:
        if self._folded is None:
            whole = fold(self.joined)
            if len(whole) == len(self.joined):
                # `fold` maps one character to one (U+0130, the only exception to
                # `str.lower`, is translated first), so the offsets still hold.
                self._folded = (whole, self.starts)
            else:
                lines = [fold(line) for line in self.stripped]
                self._folded = ("\n".join(lines), _starts(lines))
        return self._folded

    def lines_for(self, pattern: re.Pattern[str]) -> set[int]:
        """0-based indices of every line on which `pattern` could match (maybe more).

        The set returned may be shared with other calls: do not modify it.
        """
        key = (pattern.pattern, pattern.flags)
        found = self._pattern_lines.get(key)
        if found is not None:
            return found
        direct = _direct(pattern.pattern, pattern.flags)
        literals = None if direct is not None else required_literals(pattern)
        if direct is not None:
            found = self._regex_lines(direct)
        elif literals is None:
            found = self._regex_lines(_searchable(pattern))
        else:
            found = self._lines_of_set(literals)
            if len(found) > _INTERSECT_ABOVE:
                # `cl` is on 6,000 lines of 4 MB of code, `cl` and one of key|pwd|pass|token
                # on a handful: the other requirements cost a pass each (or nothing, when
                # another detector searched them), the candidates ~5 us each.
                for other in _all_required(pattern.pattern, pattern.flags)[:_INTERSECTED]:
                    if other != literals:
                        found = found & self._lines_of_set(other)
        self._pattern_lines[key] = found
        return found

    def _lines_of_set(self, literals: Literals) -> set[int]:
        # Detectors repeat whole sets too (the keyword detector's ten expressions).
        found = self._set_lines.get(literals)
        if found is None:
            strings, folded = literals
            found = set()
            for literal in strings:
                found |= self._lines_with(literal, folded)
            self._set_lines[literals] = found
        return found

    def lines_for_any(self, combined: re.Pattern[str]) -> set[int]:
        """Lines on which any of the patterns `combined` was made of (`combine`) could match."""
        return self._regex_lines(combined)

    def _lines_with(self, literal: str, folded: bool) -> set[int]:
        """Lines containing `literal` (compared case-folded when `folded`), maybe more."""
        found = self._literal_lines.get((literal, folded))
        if found is not None:
            return found
        # A line containing `literal` contains every part of it: the lines of a shorter
        # literal already searched are a superset, and cost nothing more.
        key = (literal, folded)
        part = _PARTS.get(key)
        if part is not None and part in self._literal_lines:
            found = self._literal_lines[key] = self._literal_lines[part]
            return found
        known_items = () if part == key else self._literal_lines.items()
        as_folded = literal if folded or not known_items else fold(literal)
        for known, lines in known_items:
            known_literal, known_folded = known
            # A folded literal was searched in the folded text, which holds the folded form
            # of every line; an exact one only answers for exact literals.
            if (
                (known_literal in as_folded)
                if known_folded
                else (not folded and known_literal in literal)
            ):
                # The relation holds in every text: remember it (the scan asks for the same
                # literals in the same order, text after text).
                if len(_PARTS) < 4096:
                    _PARTS[(literal, folded)] = known
                self._literal_lines[(literal, folded)] = lines
                return lines
        if part is None and len(_PARTS) < 4096:
            _PARTS[key] = key  # no part of it was searched before it: search it
        text, starts = self.folded() if folded else (self.joined, self.starts)
        found = set()
        pos = text.find(literal)
        while pos >= 0:
            line = bisect.bisect_right(starts, pos) - 1
            found.add(line)
            if line + 1 >= len(starts):
                break
            pos = text.find(literal, starts[line + 1])
        self._literal_lines[(literal, folded)] = found
        return found

    def _regex_lines(self, pattern: re.Pattern[str]) -> set[int]:
        # MULTILINE: `^` and `$` then match at line boundaries, as they do on one line.
        found: set[int] = set()
        pos = 0
        starts = self.starts
        while True:
            match = pattern.search(self.joined, pos)
            if match is None:
                return found
            first = bisect.bisect_right(starts, match.start()) - 1
            last = bisect.bisect_right(starts, max(match.end() - 1, match.start())) - 1
            found.update(range(first, last + 1))
            if first + 1 >= len(starts):
                return found
            pos = starts[first + 1]


def _starts(lines: Sequence[str]) -> list[int]:
    """Offset of each line in the lines joined by one newline each."""
    # map() rather than a generator: this runs once per line of every text scanned.
    return list(itertools.accumulate(map((1).__add__, map(len, lines)), initial=0))[:-1]


# Searching the whole text with a detector's own expression (instead of its literals, then
# each candidate line) pays when `re` can skip to the expression's start quickly and the
# expression rules out nearly every line holding its literals: `gh` is on 950 lines of 4 MB
# of the standard library, `(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}` on none.
_DIRECT_PREFIX = 2


def _line_safe(items: Sequence[Any]) -> bool:
    """True when a match within one line is still a match in the lines joined by newlines.

    Searched over the joined text (MULTILINE), a match found on its own line stays a match
    unless it relied on the end or start of the string (`\\A`, `\\Z`) or on a negative
    assertion that the newline now beside the line defeats (`(?!\\s)` at a line's end).
    Positive assertions and `$`/`^` hold as before; a class that matches the newline only
    lets matches run on, and `_regex_lines` marks every line a match spans.
    """
    for op, arg in items:
        name = str(op)
        if name == "AT" and str(arg) in ("AT_BEGINNING_STRING", "AT_END_STRING"):
            return False
        if name == "ASSERT_NOT":
            _direction, body = arg
            width = body.getwidth()
            if width != (1, 1) or not _line_safe(list(body)) or _matches_newline(body):
                return False
            continue
        if name == "ASSERT":
            if not _line_safe(list(arg[1])):
                return False
            continue
        if name == "GROUPREF_EXISTS":
            return False
        for sub in arg if isinstance(arg, (list, tuple)) else (arg,):
            if hasattr(sub, "data") and not _line_safe(list(sub)):
                return False
            if isinstance(sub, list) and any(
                hasattr(b, "data") and not _line_safe(list(b)) for b in sub
            ):
                return False
    return True


def _matches_newline(body: Any) -> bool:
    try:
        compiled: re.Pattern[str] = _compiler.compile(body, 0)
    except Exception:
        return True
    return compiled.match("\n") is not None


def _first_chars(items: Sequence[Any]) -> str | None:
    """The literal characters a match must start with, or None when it may start otherwise."""
    if not items:
        return None
    op, arg = items[0]
    name = str(op)
    if name == "LITERAL":
        return chr(arg)
    if name == "SUBPATTERN" and not (arg[1] | arg[2]):
        return _first_chars(list(arg[3]))
    if name == "BRANCH":
        chars = [_first_chars(list(branch)) for branch in arg[1]]
        if any(c is None for c in chars):
            return None
        return "".join(sorted(set("".join(c for c in chars if c is not None))))
    return None


def _prefix(items: Sequence[Any]) -> str:
    """The literal text every match starts with ("" when none)."""
    out: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
            continue
        if name == "SUBPATTERN" and not (arg[1] | arg[2]):
            inner = list(arg[3])
            head = _prefix(inner)
            out.append(head)
            if len(head) == len(inner) and all(str(o) == "LITERAL" for o, _a in inner):
                continue
        break
    return "".join(out)


def _parsed(source: str, flags: int) -> list[Any] | None:
    try:
        return list(_parser.parse(source, flags))
    except Exception:
        return None


def _tail(source: str, flags: int) -> tuple[list[Any], Any] | None:
    """The parsed expression from its first literal character on, and the parse state.

    Every match of a sequence contains a match of its tail, so searching the tail finds
    every line the whole can match on; `re` skips quickly to a tail's literal start.
    """
    try:
        parsed = _parser.parse(source, flags)
    except Exception:
        return None
    items = list(parsed)
    if not _line_safe(items) or _refers(items):
        return None
    first = next((i for i in range(len(items)) if len(_prefix(items[i:])) >= _DIRECT_PREFIX), 0)
    return items[first:], parsed


def _compile_items(items: list[Any], parsed: Any, flags: int) -> re.Pattern[str] | None:
    try:
        parsed.data = items
        compiled: re.Pattern[str] = _compiler.compile(parsed, flags | re.MULTILINE)
    except Exception:
        return None
    return compiled


@functools.lru_cache(maxsize=256)
def _direct(source: str, flags: int) -> re.Pattern[str] | None:
    """The expression (or its tail) compiled for a whole-text search, when that beats its
    literals: it starts with two literal characters or more, and is case-sensitive."""
    if flags & (re.IGNORECASE | re.DOTALL | re.VERBOSE):
        return None
    found = _tail(source, flags)
    if found is None or len(_prefix(found[0])) < _DIRECT_PREFIX:
        return None
    return _compile_items(*found, flags)


# First characters rare enough in code that one expression made of every detector starting
# with one of them costs less than their passes one by one (CPU time on 4 MB of the standard
# library: 14 detectors in 12 ms, against 40 ms). Only literal starts: `re` then skips to
# the next capital; a class start (Discord's `[MNO]`) made the same expression 90 ms.
_RARE_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def combinable(pattern: re.Pattern[str]) -> bool:
    """True when `pattern` may go into the expression `combine` builds."""
    return _combinable_form(pattern.pattern, pattern.flags) is not None


@functools.lru_cache(maxsize=256)
def _combinable_form(source: str, flags: int) -> str | None:
    """The source of the expression (or of its tail) that `combine` puts in, or None."""
    if flags & ~(re.UNICODE | re.MULTILINE):
        return None  # the combined expression has the default flags
    items = _parsed(source, flags)
    if items is None or not _line_safe(items) or _refers(items):
        return None
    first = _first_chars(items)
    if not first or not set(first) <= _RARE_FIRST:
        return None
    return source


def combine(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One expression matching wherever any of `patterns` (all `combinable`) matches."""
    sources = [_combinable_form(p.pattern, p.flags) for p in patterns]
    if not patterns or any(s is None for s in sources):
        return None
    try:
        return re.compile("|".join(f"(?:{s})" for s in sources), re.MULTILINE)
    except re.error:
        # Two detectors naming the same group, say: each is then searched on its own.
        return None
