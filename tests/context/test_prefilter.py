"""The prefiltered scan must report exactly what detect-secrets' own line loop reports."""

from __future__ import annotations

import re

from ctxdata import ANTHROPIC_KEY, AWS_KEY, GITHUB_TOKEN, OPENAI_PROJECT_KEY, PEM
from hypothesis import example, given
from hypothesis import strategies as st

import handrail.context.secrets as secrets_mod
from handrail.context._prefilter import (
    LineIndex,
    _direct,
    combinable,
    combine,
    fold,
    required_literals,
)
from handrail.context.resolve import split_lines

VALUES = [
    AWS_KEY,
    GITHUB_TOKEN,
    ANTHROPIC_KEY,
    OPENAI_PROJECT_KEY,
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "glpat-" + "AbCdEfGhIjKlMnOpQrSt",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "npm_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "https://user:hunter2pass@example.com/path",
    "AKCp" + "8jQ3XyZ9aBcDeFgHiJkL",
    "12345678:" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345678",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG9m",
    "hunter2hunter2",
    "${TEMPLATED}",
]
SHAPES = [
    '{k} = "{v}"',
    "{k}: {v}",
    "{k}={v}",
    "f({v!r})",
    '{k} := "{v}"',
    '"{k}": "{v}",',
    "  {v}   ",
    "{v}",
    "if {k} == '{v}':",
    '{k} => "{v}";',
    "<!-- {v} -->",
    '{k} = "{v}"  # pragma: allowlist secret',
    "# pragma: allowlist nextline secret",
]
KEYS = [
    "password",
    "PASSWORD",
    "pa\u017fsword",
    "db_pass",
    "api_key",
    "secret",
    "token",
    "cloudant_password",
    "ibm_cloud_iam_key",
    "softlayer_api_key",
    "x",
    "\u0130d",
]
NOISE = st.text(alphabet="ab =:\"'()[]{}-_./\t\u0131\u212a\u017f\u0130#;", max_size=12)


@st.composite
def lines(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.text(max_size=40))
    shape = draw(st.sampled_from(SHAPES))
    line = shape.format(k=draw(st.sampled_from(KEYS)), v=draw(st.sampled_from(VALUES)))
    return draw(NOISE) + line + draw(NOISE) + draw(st.sampled_from(["", " ", "\t  "]))


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, str]:
    body = draw(st.lists(lines(), max_size=12))
    if draw(st.booleans()):
        body.insert(draw(st.integers(0, len(body))), PEM.strip())
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    name = draw(
        st.sampled_from(["a.py", "a.go", "a.yaml", "a.ini", "a.txt", "a.js", "a.cpp", "a.env"])
    )
    return ending.join(body), name


def both(text: str, filename: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    with secrets_mod._scan_lock:
        secrets_mod._configure()
        fast = sorted(set(secrets_mod._raw_hits(text, filename)))
        slow = sorted(set(secrets_mod._raw_hits(text, filename, reference=True)))
    return fast, slow


@given(documents())
def test_prefiltered_scan_equals_detect_secrets(doc: tuple[str, str]) -> None:
    fast, slow = both(*doc)
    assert fast == slow


def test_fixtures_agree_and_find_something() -> None:
    text = "\n".join(f'{k} = "{v}"' for k, v in zip(KEYS, VALUES, strict=False)) + "\n" + PEM
    fast, slow = both(text, "settings.py")
    assert fast == slow
    assert len(fast) > 5


def test_required_literals() -> None:
    assert required_literals(re.compile("AKIA[0-9A-Z]{16}")) == (frozenset({"AKIA"}), False)
    found = required_literals(re.compile("(?i)(password|secret)_x"))
    assert found is not None
    assert found[1] is True
    # Either alternative set or the common suffix is a valid requirement.
    assert found[0] in (frozenset({"password", "secret"}), frozenset({"_x"}))
    assert required_literals(re.compile("[a-z]+")) is None
    assert required_literals(re.compile("(?:abc)?def")) == (frozenset({"def"}), False)
    assert required_literals(re.compile("x|yz")) is None  # too short to be selective


@given(st.text(max_size=60), st.text(alphabet="abkKsSiI\u0131\u212a\u017f\u0130", max_size=4))
def test_literal_lines_cover_every_regex_match(text: str, word: str) -> None:
    if len(word) < 2 or not word.isascii():
        return
    pattern = re.compile(re.escape(word), re.IGNORECASE)
    lines = re.split(r"\r\n|\r|\n", text)
    index = LineIndex(lines)
    expected = {i for i, line in enumerate(index.stripped) if pattern.search(line)}
    assert expected <= index.lines_for(pattern)


def test_fold_keeps_length() -> None:
    sample = "".join(chr(c) for c in range(0x20, 0x3000) if not 0xD800 <= c <= 0xDFFF)
    assert len(fold(sample)) == len(sample)


@given(st.lists(st.text(alphabet="12ab:.\t \u212a", max_size=20), max_size=8))
def test_regex_lines_cover_every_match(lines: list[str]) -> None:
    # No literal of two characters or more: these are found through the pattern's tail.
    for source in (r"\d{2,3}:[a-z]{2}", r"[12]\.[ab]{1,2}\.", r"(['\"])(\d{2,})(\1)"):
        pattern = re.compile(source)
        assert required_literals(pattern) is None
        index = LineIndex(lines)
        expected = {i for i, line in enumerate(index.stripped) if pattern.search(line)}
        assert expected <= index.lines_for(pattern), source


# Expressions searched over the whole text (`_direct`) or in one combined expression: every
# line on which one matches by itself must be among the lines found, whatever the
# assertions next to the line break.
DIRECT_SOURCES = [
    r"ab[0-9]{2}",
    r"(abx|aby)_\d",
    r"\bab-\d+",
    r"(?:\s|=|^)AB[0-9]+(?:\s|$)",
    r"ab\d(?!\w)",
    r"ab\d(?!\s)",
    r"(?<!\s)ab\d",
    r"\Aab\d",
    r"ab\d\Z",
    r"ab[^x]*\d",
    r"ab\s*\d",
]


@given(st.lists(st.text(alphabet="ab12AB_- \tx=", max_size=12), max_size=8))
def test_direct_search_lines_cover_every_match(lines: list[str]) -> None:
    index = LineIndex(lines)
    for source in DIRECT_SOURCES:
        pattern = re.compile(source)
        expected = {i for i, line in enumerate(index.stripped) if pattern.search(line)}
        assert expected <= index.lines_for(pattern), source


@given(st.lists(st.text(alphabet="AB12KSIC_- \tx=", max_size=12), max_size=8))
def test_combined_lines_cover_every_match(lines: list[str]) -> None:
    sources = [r"AB[0-9]{2}", r"(?:ABI|ASI)[0-9]", r"KS\d(?!\w)", r"(A1|B2)C", r"\AB1", r"C\s*\d"]
    patterns = [re.compile(s) for s in sources]
    members = [p for p in patterns if combinable(p)]
    assert len(members) >= 3
    combined = combine(members)
    assert combined is not None
    index = LineIndex(lines)
    found = index.lines_for_any(combined)
    for pattern in members:
        expected = {i for i, line in enumerate(index.stripped) if pattern.search(line)}
        assert expected <= found, pattern.pattern


def test_line_break_sensitive_expressions_are_not_searched_whole() -> None:
    # A negative assertion the newline defeats, or the string's own start or end: the
    # whole-text search could miss a line, so these keep the literal path.
    assert _direct(r"ab\d(?!\s)", 0) is None
    assert _direct(r"(?<!\s)ab\d", 0) is None
    assert _direct(r"\Aab\d", 0) is None
    assert _direct(r"ab\d\Z", 0) is None
    assert _direct(r"ab\d(?!\w)", 0) is not None
    assert _direct(r"(?i)ab\d", re.IGNORECASE) is None
    assert not combinable(re.compile(r"\AB1"))
    assert not combinable(re.compile(r"[MNO]x"))  # a class start: slow when combined


INI_LINES = st.sampled_from(
    ["", "  ", "# c", "; c", "[db]", " [db] ", "[]", "key = value", "password: hunter2hunter2",
     "  indented = x", "[x", "x]", "\ufeff[db]", "=", "import os"]
)  # fmt: skip


@given(st.lists(INI_LINES, max_size=8), st.sampled_from(["\n", "\r\n", "\r"]))
@example(["; c", "", "[db]", "key = value"], "\n")
@example(["# c", " [db] ", "password: hunter2hunter2"], "\r")
def test_ini_reading_skipped_only_where_configparser_fails(body: list[str], ending: str) -> None:
    from detect_secrets.transformers import get_transformed_file

    text = ending.join(body)
    for name in ("a.ini", "a.py", "a.yaml", "a.txt"):
        ours = secrets_mod._transformed(secrets_mod._NamedText(text, name))
        theirs = get_transformed_file(secrets_mod._NamedText(text, name))  # type: ignore[arg-type]
        assert ours == theirs, (name, text)


@given(
    st.text(alphabet="apiAPI_kKeEyYsSwWoOrRdD\u212a\u017f\u0131\u0130=:'\" ", max_size=30),
    st.sampled_from(["a.py", "a.go", "a.yaml", "a.cpp", "a.m", "a.txt"]),
)
def test_keyword_shortcut_never_hides_a_report(line: str, filename: str) -> None:
    # The shortcut (a denylist word in the folded line) must hold wherever the detector's
    # own expressions report something.
    from detect_secrets.plugins import keyword
    from detect_secrets.util.filetype import determine_file_type

    table = keyword.REGEX_BY_FILETYPE.get(
        determine_file_type(filename), keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP
    )
    words = secrets_mod._keyword_words(table)
    assert words is not None
    for candidate in (line, f"password = '{line}'", f'api_{line}key = "xyz{line}"'):
        reported = next(keyword.KeywordDetector().analyze_string(candidate, table), None)
        if reported is not None:
            assert any(word in fold(candidate) for word in words), candidate


@given(st.text(alphabet="ab \t\n\x0b\x0c\x1c\x85\u2028", max_size=30))
def test_lines_split_on_lf_are_split_lines(text: str) -> None:
    # Without CR the fast path splits on LF and restores each line's ending on demand.
    if not text:
        return
    lines = secrets_mod._EndedLines(text)
    expected = split_lines(text)
    assert len(lines) == len(expected)
    assert lines[0 : len(lines)] == expected
    assert [lines[i] for i in range(len(lines))] == expected
    assert lines[-1] == expected[-1]
