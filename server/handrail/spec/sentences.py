"""Sentence splitting for specs.

Handrail asks for a spec of at most two sentences, so counting them must agree with what a
reader counts. A spec is developer prose: it names files (``main.py``), calls
(``utils.parse()``), versions (``v1.2.3``), URLs, inline code and short lists. The rules,
in the order they apply (docs/specs.md explains them with examples):

1. Structure first. A blank line ends a sentence. A bullet line (``- x``, ``* x``, ``+ x``,
   ``• x``, ``1. x``, ``1) x``, ``a) x``) starts a new one; its marker belongs to the
   sentence and the ``1.`` of a numbered list is never a terminator. A single line break
   inside a sentence is just a space. A fenced code block (a closed pair of ``````` or ``~~~``
   lines) belongs to the sentence around it and is never split, blank lines included.
2. Protected spans are never split: inline code in backticks, URLs, and list markers.
3. A terminator is a run of ``.``, ``!``, ``?``, ``…`` (and the CJK ``。！？``), optionally
   followed by closing quotes or brackets, and then by whitespace or the end of the text.
   So dots followed directly by a letter or digit never end a sentence: ``3.5``,
   ``v1.2.3-rc.1``, ``main.py``, ``os.path.join``, ``ada@example.com``. CJK terminators
   need no following space.
4. A run holding ``!`` or ``?`` (``?!`` too) always ends the sentence.
5. A single ``.`` ends it unless the word before it is an abbreviation:
   - never-ending ones (``e.g.``, ``i.e.``, ``vs.``, ``Dr.``, ``Mr.``, ``approx.`` …) never end it;
   - number prefixes (``No.``, ``Fig.``, ``p.`` …) do not end it before a digit;
   - ending ones (``etc.``, ``Inc.``, ``min.``, dotted letters like ``U.S.``/``p.m.``) and a
     bare small number (``at most 3.``) end it only when the next word starts with a
     capital letter.
6. An ellipsis (``...`` or ``…``) ends the sentence only when the next word starts with a
   capital letter: "wait... then retry" is one sentence, "It waits... Then it retries." two.
7. A stretch with no letter or digit (``:)``, ``---``, an empty bullet) is not a sentence of its
   own: it joins the sentence before it in the same paragraph, else the one after it, else it
   is dropped.

Every step is linear in the text, or n log n for matching backtick runs; there is no
backtracking regular expression, so arbitrary input cannot stall the language server.
"""

from __future__ import annotations

import bisect
import itertools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "ENDING_ABBREVIATIONS",
    "NEVER_ENDING_ABBREVIATIONS",
    "NUMBER_PREFIXES",
    "Sentence",
    "count_sentences",
    "split_sentences",
]


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: ``text == source[start:end]``, with no surrounding whitespace."""

    text: str
    start: int
    end: int


# Abbreviations are compared lower-cased and without their final dot.
NEVER_ENDING_ABBREVIATIONS: frozenset[str] = frozenset(
    {
        "e.g", "eg", "i.e", "ie", "vs", "viz", "cf", "approx", "ca", "incl", "excl", "esp",
        "w.r.t", "a.k.a", "dr", "mr", "mrs", "ms", "prof", "mt", "resp",
    }
)  # fmt: skip
"""Never end a sentence: the phrase always goes on ("e.g. Python", "Dr. Smith")."""

ENDING_ABBREVIATIONS: frozenset[str] = frozenset(
    {
        "etc", "al", "inc", "ltd", "co", "corp", "jr", "sr", "min", "max", "sec",
        "hr", "hrs", "mins", "secs", "jan", "feb", "mar", "apr", "jun", "jul",
        "aug", "sep", "sept", "oct", "nov", "dec",
    }
)  # fmt: skip
"""May end a sentence: they do only when the next word starts with a capital letter."""

NUMBER_PREFIXES: frozenset[str] = frozenset(
    {"no", "nos", "nr", "fig", "figs", "eq", "eqs", "ch", "p", "pp", "vol", "art", "ex", "sec"}
)
"""Abbreviations that stand before a number ("see Fig. 3", "No. 5"): never a terminator there."""

_HARD = frozenset("!?。！？‼⁇⁈⁉")
_CJK_ENDS = frozenset("。！？")
_CLOSERS = frozenset("\"'”’»)]}›*_")
_OPENERS = frozenset("\"'“‘«([{‹*_")
_TERMINATOR_RUN = re.compile(r"[.!?…。！？‼⁇⁈⁉]+")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_BULLET = re.compile(r"[ \t]*(?:[-*+•‣◦]|\d{1,9}[.)]|[a-z]\))(?=[ \t]|$)")
_FENCE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")
# The scheme is bounded (at most 16 characters) so a failed match costs a constant per position.
_URL = re.compile(r"(?<![\w.+-])(?:[A-Za-z][A-Za-z0-9+.\-]{0,15}://|www\.)[^\s`<>\"]+")
_URL_TRAILING = ".,;:!?'\"*_"
_DOTTED_LETTERS = re.compile(r"(?:[a-z]\.)+[a-z]")
_WORD_CHARS_BEFORE_DOT = 32  # longer than any abbreviation we keep


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of `text`, in order, with offsets into `text`.

    Whitespace-only text gives ``[]``. Pure, and linear-ish in ``len(text)``.
    """
    if not text or text.isspace():
        return []
    fences = _fenced_blocks(text)
    sentences: list[Sentence] = []
    for start, end, marker_end in _blocks(text, fences):
        sentences.extend(_split_block(text, start, end, marker_end, fences))
    return sentences


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


# --- structure: lines, fences, blocks -------------------------------------------------------


def _lines(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, content end, next line start) for every line; CRLF, CR and LF all end a line."""
    pos = 0
    length = len(text)
    while pos < length:
        match = _LINE.match(text, pos)
        assert match is not None  # the pattern matches the empty string
        stop = match.end()
        content_end = stop
        while content_end > pos and text[content_end - 1] in "\r\n":
            content_end -= 1
        yield pos, content_end, stop
        if stop == pos:  # defensive: never loop without progress
            break
        pos = stop


def _fenced_blocks(text: str) -> list[tuple[int, int]]:
    """Spans of closed fenced code blocks (opening line start to closing line content end).

    An unclosed fence is taken literally rather than swallowing the rest of the spec, so a
    stray ``` can never hide sentences from the count.
    """
    spans: list[tuple[int, int]] = []
    opener: tuple[int, str, int] | None = None  # (start, fence char, run length)
    for start, content_end, _ in _lines(text):
        match = _FENCE.match(text, start, content_end)
        if match is None:
            continue
        run = match.group(1)
        if opener is None:
            opener = (start, run[0], len(run))
        elif (
            run[0] == opener[1]
            and len(run) >= opener[2]
            and not text[match.end() : content_end].strip()
        ):
            spans.append((opener[0], content_end))
            opener = None
    return spans


def _inside(spans: list[tuple[int, int]], pos: int) -> tuple[int, int] | None:
    """The span of sorted, disjoint `spans` that holds `pos`, if any."""
    index = bisect.bisect_right(spans, (pos, sys.maxsize)) - 1
    if index >= 0 and spans[index][0] <= pos < spans[index][1]:
        return spans[index]
    return None


def _blocks(text: str, fences: list[tuple[int, int]]) -> Iterator[tuple[int, int, int]]:
    """Paragraphs and bullet items as (start, end, end of the list marker or start)."""
    block_start: int | None = None
    block_end = 0
    marker_end = 0
    fence_until = -1
    fence_index = 0
    for start, content_end, _ in _lines(text):
        if start < fence_until:  # inside a fenced block: no structure
            block_end = content_end
            continue
        while fence_index < len(fences) and fences[fence_index][0] < start:
            fence_index += 1
        if fence_index < len(fences) and fences[fence_index][0] == start:
            fence_until = fences[fence_index][1]
            if block_start is None:
                block_start = start
                marker_end = start
            block_end = content_end
            continue
        if not text[start:content_end].strip():
            if block_start is not None:
                yield block_start, block_end, marker_end
                block_start = None
            continue
        bullet = _BULLET.match(text, start, content_end)
        if bullet is not None:
            if block_start is not None:
                yield block_start, block_end, marker_end
            block_start = start
            marker_end = bullet.end()
        elif block_start is None:
            block_start = start
            marker_end = start
        block_end = content_end
    if block_start is not None:
        yield block_start, block_end, marker_end


# --- protected spans ----------------------------------------------------------------------


def _code_spans(text: str, start: int, end: int, fences: list[tuple[int, int]]) -> list[int]:
    """Backtick code spans in [start, end) as a flat sorted list [s0, e0, s1, e1, ...].

    A run of N backticks opens a span that the next run of exactly N backticks closes
    (CommonMark); a run with no partner is a literal backtick.
    """
    runs = [
        (m.start(), m.end() - m.start())
        for m in _BACKTICKS.finditer(text, start, end)
        if _inside(fences, m.start()) is None
    ]
    by_length: dict[int, list[int]] = {}
    for pos, length in runs:
        by_length.setdefault(length, []).append(pos)
    spans: list[int] = []
    cursor = start
    for pos, length in runs:
        if pos < cursor:
            continue
        same = by_length[length]
        after = bisect.bisect_right(same, pos)
        if after < len(same):
            close = same[after] + length
            spans.extend((pos, close))
            cursor = close
    return spans


def _url_spans(text: str, start: int, end: int) -> list[int]:
    spans: list[int] = []
    for match in _URL.finditer(text, start, end):
        begin, stop = match.start(), match.end()
        # Trailing punctuation belongs to the prose, as linkifiers decide; a closing
        # bracket stays only while it balances one opened inside the URL.
        opened, closed = text.count("(", begin, stop), text.count(")", begin, stop)
        while stop > begin:
            last = text[stop - 1]
            if last in _URL_TRAILING:
                stop -= 1
            elif last == ")" and closed > opened:
                stop -= 1
                closed -= 1
            else:
                break
        if stop > begin:
            spans.extend((begin, stop))
    return spans


def _merge_spans(*flat_lists: list[int]) -> list[tuple[int, int]]:
    pairs = sorted((flat[i], flat[i + 1]) for flat in flat_lists for i in range(0, len(flat), 2))
    merged: list[tuple[int, int]] = []
    for s, e in pairs:
        if merged and s < merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


# --- terminators --------------------------------------------------------------------------


def _word_before(text: str, pos: int, floor: int) -> str | None:
    """The run of letters, digits and dots that ends at `pos`; None when too long to matter."""
    limit = max(floor, pos - _WORD_CHARS_BEFORE_DOT)
    begin = pos
    while begin > limit and (text[begin - 1].isalnum() or text[begin - 1] == "."):
        begin -= 1
    if begin == limit > floor and (text[begin - 1].isalnum() or text[begin - 1] == "."):
        return None
    return text[begin:pos]


def _next_visible(text: str, pos: int, end: int) -> str:
    """The first character at or after `pos` that is neither whitespace nor an opener."""
    while pos < end and (text[pos].isspace() or text[pos] in _OPENERS):
        pos += 1
    return text[pos] if pos < end else ""


def _ends_sentence(
    text: str, run_start: int, run_end: int, after: int, block: int, end: int
) -> bool:
    """Whether the terminator run text[run_start:run_end] (closers up to `after`) ends one."""
    run = text[run_start:run_end]
    if any(ch in _HARD for ch in run):
        return True
    following = _next_visible(text, after, end)
    soft = following == "" or following.isupper()
    if run != ".":
        return soft  # an ellipsis: "...", "…", ".."
    word = _word_before(text, run_start, block)
    if word is None or word == "":
        return True
    lowered = word.lower()
    if lowered in NEVER_ENDING_ABBREVIATIONS:
        return False
    if lowered in NUMBER_PREFIXES and following.isdigit():
        return False
    if lowered in ENDING_ABBREVIATIONS or _DOTTED_LETTERS.fullmatch(lowered):
        return soft
    if word.isdigit() and len(word) <= 3:
        return soft  # "1. parse 2. return" is an inline list, "at most 3. Then" ends
    return True


def _boundaries(text: str, start: int, end: int, protected: list[tuple[int, int]]) -> Iterator[int]:
    for match in _TERMINATOR_RUN.finditer(text, start, end):
        run_start, run_end = match.start(), match.end()
        span = _inside(protected, run_start)
        if span is not None:
            if span[1] >= run_end:
                continue
            run_start = span[1]
        stop = run_end
        while stop < end and text[stop] in _CLOSERS:
            stop += 1
        cjk = text[run_end - 1] in _CJK_ENDS
        if stop < end and not text[stop].isspace() and not cjk:
            continue
        if _ends_sentence(text, run_start, run_end, stop, start, end):
            yield stop


def _split_block(
    text: str, start: int, end: int, marker_end: int, fences: list[tuple[int, int]]
) -> list[Sentence]:
    marker = [(start, marker_end)] if marker_end > start else []
    first_fence = bisect.bisect_left(fences, (start, -1))
    last_fence = bisect.bisect_left(fences, (end, -1))
    has_code = text.find("`", start, end) >= 0
    has_url = text.find("://", start, end) >= 0 or text.find("www.", start, end) >= 0
    if has_code or has_url or first_fence < last_fence:
        protected = _merge_spans(
            _code_spans(text, start, end, fences) if has_code else [],
            _url_spans(text, start, end) if has_url else [],
            [offset for span in fences[first_fence:last_fence] for offset in span],
            [offset for span in marker for offset in span],
        )
    else:
        protected = marker  # the common case, kept cheap for specs made of many bullets
    cuts = [start, *_boundaries(text, start, end, protected), end]
    spans: list[list[int]] = []
    pending: int | None = None  # start of word-less text waiting for the next sentence
    for left, right in itertools.pairwise(cuts):
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if left == right:
            continue
        if not any(ch.isalnum() for ch in text[left:right]):
            if spans:
                spans[-1][1] = right
            elif pending is None:
                pending = left
            continue
        if pending is not None:
            left, pending = pending, None
        spans.append([left, right])
    return [Sentence(text[left:right], left, right) for left, right in spans]
