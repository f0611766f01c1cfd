"""Hypothesis properties of the marker parser and of marking."""

from __future__ import annotations

import hashlib
import re

from hypothesis import assume, given
from hypothesis import strategies as st

from handrail.blocks.mark import remove_markers, wrap_lines
from handrail.blocks.markers import ProblemKind, parse_blocks, parse_blocks_bytes

_ORACLE_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
PATHS = ["a.py", "b.ts", "c.sql", "d.el", "e.css", "f.html", "g.vue", "h.php", "i.unknown"]

line_chars = st.characters(exclude_characters="\r\n", codec="utf-8")
indents = st.sampled_from(["", "", " ", "  ", "\t", "    ", "\t  "])
lines = st.lists(
    st.tuples(indents, st.text(alphabet=line_chars, max_size=12)).map("".join),
    min_size=1,
    max_size=12,
)
eols = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def texts(draw: st.DrawFn) -> str:
    bodies = draw(lines)
    parts = [body + draw(eols) for body in bodies]
    if draw(st.booleans()):
        parts[-1] = bodies[-1]  # no final newline
    bom = "\ufeff" if draw(st.booleans()) else ""
    return bom + "".join(parts)


def oracle_lines(text: str) -> list[str]:
    """Lines with their endings, split the LSP way, by a method independent of the code."""
    return _ORACLE_LINES.findall(text)


def body(line: str) -> str:
    return line.rstrip("\r\n")


@given(text=texts(), data=st.data(), path=st.sampled_from(PATHS))
def test_wrap_then_parse_gives_exactly_the_wrapped_lines(
    text: str, data: st.DataObject, path: str
) -> None:
    if "handrail:" in text or not text.lstrip("\ufeff"):
        return
    had_bom = text.startswith("\ufeff")
    numbered = oracle_lines(text.lstrip("\ufeff") if had_bom else text)
    if not numbered:
        return
    start = data.draw(st.integers(1, len(numbered)), label="start")
    end = data.draw(st.integers(start, len(numbered)), label="end")
    # A range of blank lines is refused (test_only_blank_lines_are_refused).
    assume(any(body(line).strip() for line in numbered[start - 1 : end]))

    marked = wrap_lines(text, start, end, "abcdef.1", path)

    result = parse_blocks(marked, path)
    assert result.problems == []
    [block] = result.blocks
    assert (block.begin_line, block.end_line) == (start, end + 2)
    wrapped = [body(line) for line in numbered[start - 1 : end]]
    expected = "".join(line + "\n" for line in wrapped).encode()
    assert block.content_hash == "sha256:" + hashlib.sha256(expected).hexdigest()
    assert block.content_line_count == end - start + 1
    assert set(block.indent) <= {" ", "\t"}
    indents = [len(w) - len(w.lstrip(" \t")) for w in wrapped if w.strip()]
    assert len(block.indent) == (min(indents) if indents else 0)

    prefix = ("\ufeff" if had_bom else "") + "".join(numbered[: start - 1])
    assert marked.startswith(prefix)
    suffix = "".join(numbered[end:])
    assert marked.endswith(suffix)
    assert remove_markers(marked, path, ["abcdef.1"]) == text


@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    for path in ("a.py", "a.html", "a.unknown", "a.json"):
        check_invariants(parse_blocks(text, path), text)


fragments = st.sampled_from(
    [
        "# handrail:begin abcdef.1",
        "# handrail:end abcdef.1",
        "<!-- handrail:end abcdef.1 -->",
        "handrail:",
        "# handrail:begin",
        "\r",
        "\n",
        "\r\n",
        "\ufeff",
        " ",
        "\t",
        "é",
        "#",
        "-->",
    ]
)


@given(st.lists(st.one_of(fragments, st.text(max_size=5)), max_size=40).map("".join))
def test_marker_shaped_text_never_raises(text: str) -> None:
    for path in ("a.py", "a.html", "a.unknown"):
        check_invariants(parse_blocks(text, path), text)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    parse_blocks_bytes(data, "a.py")
    parse_blocks_bytes(
        b"# handrail:begin abcdef.1\n" + data + b"\n# handrail:end abcdef.1\n", "a.py"
    )


def check_invariants(result: object, text: str) -> None:
    from handrail.blocks.markers import ParseResult

    assert isinstance(result, ParseResult)
    previous_end = 0
    for block in result.blocks:
        assert previous_end < block.begin_line < block.end_line
        assert block.content_line_count == block.end_line - block.begin_line - 1
        previous_end = block.end_line
    assert len({b.id for b in result.blocks}) == len(result.blocks)


# -- marker soup ------------------------------------------------------------------------------

IDS = ["abcdef.1", "abcdef.2", "abcdef.3"]
NOT_MARKERS = [
    "x = 1",
    "",
    's = "# handrail:begin abcdef.1"',
    "y = 2  # handrail:end abcdef.2",
    "# see handrail:begin abcdef.3",
    "#handrail:beginning",
]
MALFORMED = ["# handrail:begin ABCDEF.1", "# handrail:end", "  ## handrail:begin abcdef.01"]


@st.composite
def soup_line(draw: st.DrawFn) -> tuple[str, str]:
    """(line, what it is: "begin", "end", "malformed" or "code")."""
    kind = draw(st.sampled_from(["begin", "end", "malformed", "code"]))
    if kind in ("begin", "end"):
        indent = draw(st.sampled_from(["", "  ", "\t"]))
        token = draw(st.sampled_from(["#", "##", "# "]))
        return f"{indent}{token} handrail:{kind} {draw(st.sampled_from(IDS))}", kind
    if kind == "malformed":
        return draw(st.sampled_from(MALFORMED)), kind
    return draw(st.sampled_from(NOT_MARKERS)), kind


@given(st.lists(soup_line(), max_size=30), eols)
def test_every_marker_pairs_or_yields_a_problem(soup: list[tuple[str, str]], eol: str) -> None:
    text = "".join(line + eol for line, _ in soup)
    result = parse_blocks(text, "a.py")
    check_invariants(result, text)
    in_blocks = {line for b in result.blocks for line in (b.begin_line, b.end_line)}
    reported = {p.line for p in result.problems}
    partners = {p.partner_line for p in result.problems if p.partner_line is not None}
    for number, (line, kind) in enumerate(soup, 1):
        if kind == "code":
            assert number not in in_blocks | reported | partners, line
        elif kind == "malformed":
            assert any(
                p.line == number and p.kind is ProblemKind.MALFORMED for p in result.problems
            )
        else:
            assert number in in_blocks | reported | partners, (number, line)
    for block in result.blocks:
        begin_line, begin_kind = soup[block.begin_line - 1]
        end_line, end_kind = soup[block.end_line - 1]
        assert (begin_kind, end_kind) == ("begin", "end")
        assert begin_line.endswith(block.id) and end_line.endswith(block.id)


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Balanced, unnested blocks with unique ids, between code lines; and the expected blocks."""
    out: list[str] = []
    expected: list[tuple[str, int, int]] = []
    for n in range(1, draw(st.integers(0, 6)) + 1):
        out.extend(draw(st.lists(st.sampled_from(NOT_MARKERS), max_size=3)))
        block_id = f"{draw(st.sampled_from(['abcdef', 'zz22zz']))}.{n}"
        begin = len(out) + 1
        out.append(f"# handrail:begin {block_id}")
        out.extend(draw(st.lists(st.sampled_from(NOT_MARKERS), max_size=4)))
        out.append(f"# handrail:end {block_id}")
        expected.append((block_id, begin, len(out)))
    return out, expected


@given(well_formed(), eols)
def test_well_formed_files_parse_exactly(
    case: tuple[list[str], list[tuple[str, int, int]]], eol: str
) -> None:
    out, expected = case
    result = parse_blocks(eol.join(out), "a.py")
    assert result.problems == []
    assert [(b.id, b.begin_line, b.end_line) for b in result.blocks] == expected
