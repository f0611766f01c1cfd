"""The sentence splitter: a table of tricky specs, then properties over generated text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.spec.sentences import (
    ENDING_ABBREVIATIONS,
    NEVER_ENDING_ABBREVIATIONS,
    NUMBER_PREFIXES,
    Sentence,
    count_sentences,
    split_sentences,
)

# (text, expected sentence count). Each row is a case a reader counts without hesitating.
TRICKY: list[tuple[str, int]] = [
    ("", 0),
    ("   \n\t  \n", 0),
    ("Given a path, return the rows.", 1),
    ("Given a path, return the rows. It must stream the file.", 2),
    ("Given a path, return the rows", 1),
    # abbreviations
    ("Use a parser, e.g. the csv module, to read it.", 1),
    ("Use a parser (e.g. the csv module) to read it. Then return rows.", 2),
    ("Return the header, i.e. the first line. It must not copy.", 2),
    ("Compare old vs. new values and return the diff.", 1),
    ("Ask Dr. Smith and Mr. Jones before changing it.", 1),
    ("It takes approx. 5 ms per call.", 1),
    ("Handle CSV, TSV, etc. and return the rows.", 1),
    ("Handle CSV, TSV, etc. Then return the rows.", 2),
    ("See Fig. 3 and No. 5 for the layout.", 1),
    ("Time out after 5 min. Then retry once.", 2),
    ("Ship it in the U.S. and the E.U. before launch.", 1),
    ("Run at 5 p.m. Then report.", 2),
    # decimals, versions, files, calls
    ("Retry 3.5 times on average. Then fail.", 2),
    ("Requires Python 3.11. Then install the wheel.", 2),
    ("Pin v1.2.3 and 1.2.3-rc.1 in the lock file.", 1),
    ("Edit main.py and utils.py so they agree.", 1),
    ("Call utils.parse() on each line. Return what it yields.", 2),
    ("Use os.path.join to build the path.", 1),
    ("Read .env and .gitignore first.", 1),
    ("Edit main.py. Then run it.", 2),
    # inline code and fenced code
    ("Call `parse(x). Then(y)` on the input.", 1),
    ("Match ``a ` b. C`` exactly. Then stop.", 2),
    ("An unclosed ` backtick. Then more.", 2),
    ("Given a list:\n```python\nx = 1. \n\ny = 2.\n```\nreturn it.", 1),
    # URLs and e-mail
    ("Post to https://api.example.com/v1/items?id=3. Then read the reply.", 2),
    ("See https://example.com/a. B is next.", 2),
    ("Mail ada@example.com. She owns it.", 2),
    ("Fetch www.example.org/x.json and parse it.", 1),
    # ellipses
    ("Wait... then retry.", 1),
    ("It waits… then retries.", 1),
    ("It waits... Then it retries.", 2),
    ("It waits… Then it retries.", 2),
    ("Loop over a, b, c...", 1),
    # question and exclamation marks
    ("Does it stream? It must.", 2),
    ("Never block!! Return early.", 2),
    ("Really?! Then reject it.", 2),
    ("Is `a?b` valid? Yes.", 2),
    ("Check x != y and return it.", 1),
    # quotes and closing brackets
    ('Print "done." Then exit.', 2),
    ("Log it (once.) Then stop.", 2),
    ("Return “ok.” Then stop.", 2),
    ("**Never block.** Return early.", 2),
    # bullets and numbered lists
    ("Given:\n- a path\n- a mode", 3),
    ("- Read the file.\n- Return rows.", 2),
    ("* one\n* two\n* three", 3),
    ("1. Parse the line.\n2. Return the fields.", 2),
    ("1) parse\n2) return", 2),
    ("- Read the file. Return rows.\n- Close it.", 3),
    ("-\n-\n- only this", 1),
    ("Call it with *args and **kwargs.", 1),
    ("steps 1. parse 2. return", 1),
    # line breaks
    ("Given a path,\nreturn the rows.", 1),
    ("Given a path\n\nreturn the rows", 2),
    ("Given a path.\r\nIt must stream.\r\n\r\nFollow parse_row.", 3),
    ("A\rB\r\rC", 2),
    # lower-case starts still count
    ("Returns the count. must not block.", 2),
    # word-less stretches join a neighbour
    ("Do it. :)", 1),
    ("---\n\nDo it.", 1),
    ("...", 0),
    # CJK terminators need no space
    ("读取文件。返回行。", 2),
]


@pytest.mark.parametrize(("text", "expected"), TRICKY)
def test_tricky_specs(text: str, expected: int) -> None:
    sentences = split_sentences(text)
    assert len(sentences) == expected, [s.text for s in sentences]
    _assert_well_formed(text, sentences)


def test_table_is_big_enough() -> None:
    assert len(TRICKY) >= 40


def test_offsets_and_texts() -> None:
    text = "  Given a path, return rows.  It must stream.\n"
    assert split_sentences(text) == [
        Sentence("Given a path, return rows.", 2, 28),
        Sentence("It must stream.", 30, 45),
    ]


def test_bullet_marker_belongs_to_its_sentence() -> None:
    assert [s.text for s in split_sentences("Given:\n- a path\n1. a mode")] == [
        "Given:",
        "- a path",
        "1. a mode",
    ]


def test_wordless_prefix_joins_the_next_sentence() -> None:
    assert [s.text for s in split_sentences("... Do it.")] == ["... Do it."]


def test_count_sentences() -> None:
    assert count_sentences("One. Two! Three?") == 3


def test_abbreviation_lists_are_lower_case_without_final_dot() -> None:
    for word in NEVER_ENDING_ABBREVIATIONS | ENDING_ABBREVIATIONS | NUMBER_PREFIXES:
        assert word == word.lower()
        assert not word.endswith(".")
    assert not NEVER_ENDING_ABBREVIATIONS & ENDING_ABBREVIATIONS


# --- properties ---------------------------------------------------------------------------

_RESERVED = (
    NEVER_ENDING_ABBREVIATIONS | ENDING_ABBREVIATIONS | NUMBER_PREFIXES | {"a", "e", "i", "p"}
)
_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9).filter(
    lambda w: w not in _RESERVED
)


@st.composite
def _plain_sentence(draw: st.DrawFn) -> list[str]:
    words = draw(st.lists(_words, min_size=2, max_size=10))
    words[0] = words[0].capitalize()
    return words


_INSERTS = st.sampled_from(
    [
        "e.g.",
        "i.e.",
        "etc.",
        "vs.",
        "Dr.",
        "Mr.",
        "approx.",
        "3.5",
        "0.25",
        "v1.2.3",
        "1.2.3-rc.1",
        "main.py",
        "utils.parse()",
        "os.path.join",
        "`x. Y? z!`",
        "``a ` b. C``",
        "https://example.com/a.b?c=d!e",
        "www.example.org/x.json",
        "ada@example.com",
        "wait...",
        "so…",
        "U.S.",
        "(see Fig. 2)",
        "No. 7",
        "x != y",
    ]
)


@given(st.lists(_plain_sentence(), min_size=1, max_size=8), st.sampled_from([". ", ".\n"]))
def test_n_plain_sentences_count_n(sentences: list[list[str]], separator: str) -> None:
    text = separator.join(" ".join(words) for words in sentences) + "."
    assert count_sentences(text) == len(sentences)


@given(
    st.lists(_plain_sentence(), min_size=1, max_size=5),
    st.sampled_from([".", "!", "?", "?!", "."]),
    st.data(),
)
def test_inserting_tricky_tokens_never_changes_the_count(
    sentences: list[list[str]], terminator: str, data: st.DataObject
) -> None:
    before = " ".join(" ".join(words) + terminator for words in sentences)
    changed = []
    for words in sentences:
        mixed = [words[0]]
        for word in words[1:]:
            # Always followed by one of the sentence's own lower-case words, as in real prose:
            # "etc." or "..." before a capitalised word does end a sentence.
            if data.draw(st.booleans()):
                mixed.append(data.draw(_INSERTS))
            mixed.append(word)
        changed.append(" ".join(mixed) + terminator)
    after = " ".join(changed)
    assert count_sentences(after) == count_sentences(before) == len(sentences)


@given(st.text(max_size=400))
def test_never_crashes_and_offsets_hold(text: str) -> None:
    _assert_well_formed(text, split_sentences(text))


_SPECIALS = st.sampled_from(
    [*".!?…`'\"()[]*_-+•1) \n\n\r\t:/@#~", "```", "~~~", "\n- ", "\n1. ", "e.g.", "etc."]
)


@given(st.lists(st.one_of(_SPECIALS, st.text(max_size=4)), max_size=120))
def test_never_crashes_on_punctuation_soup(parts: list[str]) -> None:
    text = "".join(parts)
    _assert_well_formed(text, split_sentences(text))


@given(st.text(alphabet=" \t\r\n\u00a0\u2003", max_size=50))
def test_whitespace_only_is_empty(text: str) -> None:
    assert split_sentences(text) == []


@given(st.text(max_size=200))
def test_pure(text: str) -> None:
    assert split_sentences(text) == split_sentences(text)


@pytest.mark.parametrize(
    "unit",
    [
        "`",
        "``` ",
        "a.",
        "... ",
        "- x\n",
        "http://",
        "e.g. ",
        "1. ",
        "word ",
        "\n\n",
        "(",
        "`a` ",
        "``a` ",
        "x" * 50 + ". ",
        "```\na. b\n```\n\nNext.\n\n",
        "See https://x.org/a. ",
    ],
)
def test_long_inputs_split_well_formed(unit: str) -> None:
    # How the time grows with the length is measured in bench/spec_bench.py.
    large = unit * (40_000 // len(unit))
    _assert_well_formed(large, split_sentences(large))


@pytest.mark.parametrize("count", [1_000, 20_000])
def test_pathological_runs_split_well_formed(count: int) -> None:
    for text in (
        "Word. " + "! " * count,
        "See http://x" + "." * count,
        "See http://x" + ")" * count,
        "Go" + "." * count + " Now.",
        "x. " + "(" * count + " y.",
        " ".join("`" * (i % 40 + 1) + "x" for i in range(count)),
    ):
        _assert_well_formed(text, split_sentences(text))


def _assert_well_formed(text: str, sentences: list[Sentence]) -> None:
    """Offsets index the text, sentences are stripped, ordered, disjoint and cover every word."""
    previous_end = 0
    for sentence in sentences:
        assert 0 <= previous_end <= sentence.start < sentence.end <= len(text)
        assert sentence.text == text[sentence.start : sentence.end]
        assert sentence.text == sentence.text.strip()
        assert any(ch.isalnum() for ch in sentence.text)
        gap = text[previous_end : sentence.start]
        assert not any(ch.isalnum() for ch in gap), gap
        previous_end = sentence.end
    assert not any(ch.isalnum() for ch in text[previous_end:])
    if not any(ch.isalnum() for ch in text):
        assert sentences == []
