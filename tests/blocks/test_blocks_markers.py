"""Parsing markers: what counts as a marker, every problem kind, hashes and encodings."""

from __future__ import annotations

import codecs
import hashlib

import pytest

from handrail.blocks.markers import (
    Block,
    ProblemKind,
    block_content,
    decode_source,
    hash_content,
    is_block_id,
    parse_block_id,
    parse_blocks,
    parse_blocks_bytes,
)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


SIMPLE = """import os

# handrail:begin k3f9qa.1
def parse_header(line: str) -> list[str]:
    return line.split(",")
# handrail:end k3f9qa.1
"""


def test_a_block_and_its_fields() -> None:
    result = parse_blocks(SIMPLE, "src/p.py")
    assert result.problems == []
    [block] = result.blocks
    assert block == Block(
        id="k3f9qa.1",
        task_id="k3f9qa",
        n=1,
        begin_line=3,
        end_line=6,
        content_hash=sha(
            b'def parse_header(line: str) -> list[str]:\n    return line.split(",")\n'
        ),
        content_line_count=2,
        indent="",
        begin_columns=(1, 26),
        end_columns=(1, 24),
    )
    assert (block.first_content_line, block.last_content_line) == (4, 5)
    assert result.block_at(4) is block and result.block_at(6) is block
    assert result.block_at(2) is None and result.block_at(7) is None
    assert result.block("k3f9qa.1") is block and result.block("k3f9qa.2") is None
    assert block_content(SIMPLE, block).startswith("def parse_header")
    assert hash_content(block_content(SIMPLE, block)) == block.content_hash


def test_indented_marker_with_spaces_and_trailing_whitespace() -> None:
    text = "class A:\n\t#   handrail:begin abcdef.12  \t\n\tx = 1\n\t# handrail:end abcdef.12\n"
    [block] = parse_blocks(text, "a.py").blocks
    assert block.indent == "\t"
    assert block.n == 12
    assert block.begin_columns == (2, 30)
    assert block.content_hash == sha(b"\tx = 1\n")


def test_empty_block_hashes_nothing() -> None:
    [block] = parse_blocks("# handrail:begin abcdef.1\n# handrail:end abcdef.1", "a.py").blocks
    assert block.content_hash == sha(b"")
    assert block.content_line_count == 0


@pytest.mark.parametrize(
    "text",
    [
        's = "# handrail:begin abcdef.1"\ns2 = "# handrail:end abcdef.1"\n',
        "x = 1  # handrail:begin abcdef.1\ny = 2  # handrail:end abcdef.1\n",
        "# see handrail:begin abcdef.1 for the block\n# and handrail:end abcdef.1\n",
        '"""\nhandrail:begin abcdef.1\nhandrail:end abcdef.1\n"""\n',
        "#handrail:beginning of the file\n# handrail:end-to-end tests\n",
        "#: handrail:begin abcdef.1\n",
    ],
    ids=["string-literal", "after-code", "middle-of-comment", "docstring", "words", "other"],
)
def test_mentions_that_are_not_markers(text: str) -> None:
    result = parse_blocks(text, "a.py")
    assert result.blocks == [] and result.problems == []


def test_rust_doc_comment_is_not_a_marker() -> None:
    text = "/// handrail:begin abcdef.1\nfn f() {}\n/// handrail:end abcdef.1\n"
    result = parse_blocks(text, "lib.rs")
    assert result.blocks == [] and result.problems == []


def kinds(text: str, path: str = "a.py") -> list[tuple[ProblemKind, int]]:
    return [(p.kind, p.line) for p in parse_blocks(text, path).problems]


def test_begin_without_end() -> None:
    text = "x\n# handrail:begin abcdef.1\ny\nz\n\n\n"
    result = parse_blocks(text, "a.py")
    [problem] = result.problems
    assert (problem.kind, problem.line, problem.block_id) == (ProblemKind.UNCLOSED, 2, "abcdef.1")
    assert problem.insert_after_line == 4  # the last non-blank line
    assert problem.suggested_text == "# handrail:end abcdef.1"
    assert result.blocks == []


def test_forgotten_end_before_the_next_block() -> None:
    text = "# handrail:begin abcdef.1\na\n# handrail:begin abcdef.2\nb\n# handrail:end abcdef.2\n"
    result = parse_blocks(text, "a.py")
    assert [(p.kind, p.line) for p in result.problems] == [
        (ProblemKind.UNCLOSED, 1),
        (ProblemKind.NESTED, 3),
    ]
    unclosed, nested = result.problems
    assert unclosed.insert_after_line == 2
    assert (nested.other_id, nested.other_line, nested.partner_line) == ("abcdef.1", 1, 5)


def test_end_without_begin() -> None:
    assert kinds("x\n  // handrail:end abcdef.1\n", "a.ts") == [(ProblemKind.UNOPENED, 2)]


def test_true_nesting_keeps_the_outer_block() -> None:
    text = (
        "# handrail:begin abcdef.1\n"
        "# handrail:begin abcdef.2\n"
        "x\n"
        "# handrail:end abcdef.2\n"
        "# handrail:end abcdef.1\n"
    )
    result = parse_blocks(text, "a.py")
    assert [(p.kind, p.line, p.partner_line) for p in result.problems] == [
        (ProblemKind.NESTED, 2, 4)
    ]
    assert [b.id for b in result.blocks] == ["abcdef.1"]


def test_mismatched_end() -> None:
    text = "  # handrail:begin abcdef.1\n  x\n  # handrail:end abcdef.3\n"
    result = parse_blocks(text, "a.py")
    assert [(p.kind, p.line) for p in result.problems] == [
        (ProblemKind.UNCLOSED, 1),
        (ProblemKind.MISMATCHED, 3),
    ]
    mismatch = result.problems[1]
    assert mismatch.other_id == "abcdef.1" and mismatch.other_line == 1
    assert mismatch.suggested_text == "  # handrail:end abcdef.1"


def test_end_closes_an_outer_block_over_an_unclosed_inner_one() -> None:
    text = "# handrail:begin abcdef.1\n# handrail:begin abcdef.2\nx\n# handrail:end abcdef.1\n"
    result = parse_blocks(text, "a.py")
    assert [(p.kind, p.line, p.insert_after_line) for p in result.problems] == [
        (ProblemKind.UNCLOSED, 2, 3)
    ]
    assert [b.id for b in result.blocks] == ["abcdef.1"]


def test_duplicate_id_in_one_file() -> None:
    text = (
        "# handrail:begin abcdef.1\nx\n# handrail:end abcdef.1\n"
        "# handrail:begin abcdef.1\ny\n# handrail:end abcdef.1\n"
    )
    result = parse_blocks(text, "a.py")
    # Both uses are duplicates: which one the id's evidence belongs to cannot be told.
    assert [(p.kind, p.line, p.other_line, p.partner_line) for p in result.problems] == [
        (ProblemKind.DUPLICATE, 1, 4, 3),
        (ProblemKind.DUPLICATE, 4, 1, 6),
    ]
    assert result.blocks == []
    assert [(b.begin_line, b.end_line) for b in result.duplicated] == [(1, 3), (4, 6)]
    assert result.enclosed == result.duplicated


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ("# handrail:begin", "missing"),
        ("# handrail:begin   ", "missing"),
        ("# handrail:begin K3F9QA.1", "not a block id"),
        ("# handrail:begin k3f9qa", "not a block id"),
        ("# handrail:begin k3f9qa.0", "not a block id"),
        ("# handrail:begin k3f9qa.01", "not a block id"),
        ("# handrail:begin k3f9q.1", "not a block id"),
        ("# handrail:begin k3f9qa.1234567890", "not a block id"),
        ("# handrail:begin k3f9qa." + "9" * 5000, "not a block id"),
        ("# handrail:end k3f9qa.1 trailing words", "text after"),
        ("# handrail:begin of the parser", "not a block id"),
        ("# handrail:begin k3f9qa.1 */", "text after"),
    ],
)
def test_malformed_markers(line: str, detail: str) -> None:
    [problem] = parse_blocks(line + "\n", "a.py").problems
    assert problem.kind is ProblemKind.MALFORMED
    assert detail in problem.detail
    assert problem.line == 1 and problem.column == 1


def test_block_comment_must_close_on_the_marker_line() -> None:
    [problem] = parse_blocks("<!-- handrail:begin abcdef.1\n-->\n", "a.md").problems
    assert problem.kind is ProblemKind.MALFORMED
    assert "-->" in problem.detail
    text = "<!--handrail:begin abcdef.1-->\nx\n  <!-- handrail:end abcdef.1 -->  \n"
    [block] = parse_blocks(text, "a.md").blocks
    assert block.end_columns == (3, 33)


def test_block_ids() -> None:
    assert parse_block_id("k3f9qa.1") == ("k3f9qa", 1)
    assert parse_block_id("abcdef.999999999") == ("abcdef", 999_999_999)
    assert not is_block_id("abcdef.1\n")
    assert not is_block_id("abcdefg.1")
    assert not is_block_id("abcdef.")


def test_line_endings_give_the_same_hash() -> None:
    lf = "a\n# handrail:begin abcdef.1\nx = 1\ny = 2\n# handrail:end abcdef.1\nb\n"
    crlf = lf.replace("\n", "\r\n")
    cr = lf.replace("\n", "\r")
    mixed = "a\r\n# handrail:begin abcdef.1\rx = 1\ny = 2\r\n# handrail:end abcdef.1"
    hashes = {parse_blocks(t, "a.py").blocks[0].content_hash for t in (lf, crlf, cr, mixed)}
    assert hashes == {sha(b"x = 1\ny = 2\n")}
    lines = {
        (b.begin_line, b.end_line) for t in (lf, crlf, cr) for b in parse_blocks(t, "a.py").blocks
    }
    assert lines == {(2, 5)}


def test_editing_content_changes_the_hash_and_outside_does_not() -> None:
    before = parse_blocks(SIMPLE, "a.py").blocks[0]
    inside = SIMPLE.replace('split(",")', 'split(";")')
    outside = "import sys\n" + SIMPLE.replace("import os", "import os, re") + "\nprint()\n"
    trailing = SIMPLE.rstrip("\n")
    assert parse_blocks(inside, "a.py").blocks[0].content_hash != before.content_hash
    assert parse_blocks(outside, "a.py").blocks[0].content_hash == before.content_hash
    assert parse_blocks(trailing, "a.py").blocks[0].content_hash == before.content_hash
    whitespace = SIMPLE.replace("    return", "     return")
    assert parse_blocks(whitespace, "a.py").blocks[0].content_hash != before.content_hash


def test_bom_tabs_and_non_ascii() -> None:
    text = "\ufeff# handrail:begin abcdef.1\n\tnom = 'Zoë 日本'\n# handrail:end abcdef.1\n"
    [block] = parse_blocks(text, "a.py").blocks
    assert block.begin_line == 1 and block.begin_columns == (1, 26)
    assert block.content_hash == sha("\tnom = 'Zoë 日本'\n".encode())


def test_columns_count_code_points() -> None:
    text = "\u00a0\u00a0# handrail:begin abcdef.1\n"  # NBSP is not indentation: not a marker
    assert parse_blocks(text, "a.py").problems == []
    text = "# handrail:begin abcdef.1\n# handrail:end abcdef.1 🙂\n"
    malformed = [p for p in parse_blocks(text, "a.py").problems if p.kind == "malformed"]
    assert [(p.line, p.column, p.end_column) for p in malformed] == [(2, 1, 26)]


def test_latin1_file_parses_and_hashes_its_bytes() -> None:
    data = "x = 'café'\n# handrail:begin abcdef.1\ns = 'naïve'\n# handrail:end abcdef.1\n"
    raw = data.encode("latin-1")
    [block] = parse_blocks_bytes(raw, "a.py").blocks
    assert block.content_hash == sha("s = 'naïve'\n".encode("latin-1"))


def test_utf16_file_with_bom() -> None:
    text = "# handrail:begin abcdef.1\r\nx = 'é'\r\n# handrail:end abcdef.1\r\n"
    for codec, bom in (("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)):
        [block] = parse_blocks_bytes(bom + text.encode(codec), "a.py").blocks
        assert block.content_hash == sha("x = 'é'\n".encode())
        decoded, encoding = decode_source(bom + text.encode(codec))
        assert encoding.encode(decoded) == bom + text.encode(codec)


def test_broken_utf16_falls_back_without_raising() -> None:
    data = codecs.BOM_UTF16_LE + b"\x00\xd8"  # a lone high surrogate
    assert parse_blocks_bytes(data, "a.py").blocks == []


def test_lone_surrogate_in_text_does_not_raise() -> None:
    text = "# handrail:begin abcdef.1\nx = '\ud800'\n# handrail:end abcdef.1\n"
    [block] = parse_blocks(text, "a.py").blocks
    assert block.content_hash.startswith("sha256:")


def test_no_needle_is_fast_path() -> None:
    assert parse_blocks("x = 1\n" * 10, "a.py").blocks == []
    assert parse_blocks_bytes(b"\xff\xfe\xfa", "a.py").problems == []
