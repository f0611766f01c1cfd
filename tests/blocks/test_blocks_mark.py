"""Marking: indentation, line endings, encodings, refusals and the atomic file write."""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
from pathlib import Path

import pytest

from handrail.blocks import mark as mark_module
from handrail.blocks.mark import (
    MarkError,
    mark_file,
    next_block_number,
    remove_markers,
    unmark_file,
    wrap_lines,
)
from handrail.blocks.markers import parse_blocks

BID = "abcdef.1"


def test_indent_of_the_least_indented_non_blank_line() -> None:
    text = "def f():\n        a = 1\n\n    b = 2\n        c = 3\n"
    marked = wrap_lines(text, 2, 5, BID, "a.py")
    assert marked == (
        "def f():\n"
        "    # handrail:begin abcdef.1\n"
        "        a = 1\n\n    b = 2\n        c = 3\n"
        "    # handrail:end abcdef.1\n"
    )


def test_tabs_are_kept() -> None:
    text = "func f() {\n\t\tx := 1\n\ty := 2\n}\n"
    marked = wrap_lines(text, 2, 3, BID, "main.go")
    assert marked.splitlines()[1] == "\t// handrail:begin abcdef.1"
    assert marked.splitlines()[4] == "\t// handrail:end abcdef.1"


def test_only_blank_lines_are_refused() -> None:
    # Issue 19.7: a range without code (an editor's empty selection) is never a block.
    with pytest.raises(MarkError, match="hold no code"):
        wrap_lines("x\n   \n\ny\n", 2, 3, BID, "a.py")


def test_blank_lines_around_code_are_wrapped() -> None:
    marked = wrap_lines("x\n\n  y\n", 2, 3, BID, "a.py")
    assert marked == "x\n  # handrail:begin abcdef.1\n\n  y\n  # handrail:end abcdef.1\n"


def test_crlf_stays_crlf() -> None:
    text = "a\r\nb\r\nc\r\n"
    marked = wrap_lines(text, 2, 2, BID, "a.py")
    assert marked == "a\r\n# handrail:begin abcdef.1\r\nb\r\n# handrail:end abcdef.1\r\nc\r\n"


def test_missing_final_newline_stays_missing() -> None:
    assert wrap_lines("a\nb", 2, 2, BID, "a.py") == (
        "a\n# handrail:begin abcdef.1\nb\n# handrail:end abcdef.1"
    )
    assert wrap_lines("only", 1, 1, BID, "a.py") == (
        "# handrail:begin abcdef.1\nonly\n# handrail:end abcdef.1"
    )
    assert wrap_lines("a\r\nb", 2, 2, BID, "a.py").endswith("b\r\n# handrail:end abcdef.1")


def test_lone_cr_file() -> None:
    marked = wrap_lines("a\rb\rc\r", 2, 2, BID, "a.py")
    assert marked == "a\r# handrail:begin abcdef.1\rb\r# handrail:end abcdef.1\rc\r"
    assert parse_blocks(marked, "a.py").blocks[0].begin_line == 2


def test_bom_stays_first() -> None:
    marked = wrap_lines("\ufeffx = 1\n", 1, 1, BID, "a.py")
    assert marked == "\ufeff# handrail:begin abcdef.1\nx = 1\n# handrail:end abcdef.1\n"


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        (0, 1, "not inside the file"),
        (2, 1, "not inside the file"),
        (1, 99, "not inside the file"),
        (3, 3, "are inside block abcdef.1"),
        (1, 3, "overlap block abcdef.1"),
        (3, 6, "overlap block abcdef.1"),
        (1, 6, "contain block abcdef.1"),
        (2, 2, "overlap block abcdef.1"),
        (4, 4, "overlap block abcdef.1"),
    ],
)
def test_refused_ranges(start: int, end: int, match: str) -> None:
    text = "a\n# handrail:begin abcdef.1\nb\n# handrail:end abcdef.1\nc\nd\n"
    with pytest.raises(MarkError, match=match) as info:
        wrap_lines(text, start, end, "abcdef.2", "a.py")
    assert info.value.path == "a.py"


def test_refusals() -> None:
    with pytest.raises(MarkError, match="not a block id"):
        wrap_lines("a\n", 1, 1, "nope", "a.py")
    with pytest.raises(MarkError, match="empty"):
        wrap_lines("", 1, 1, BID, "a.py")
    unbalanced = "# handrail:begin abcdef.1\nb\nc\n"
    with pytest.raises(MarkError, match="unbalanced") as info:
        wrap_lines(unbalanced, 3, 3, "abcdef.2", "a.py")
    assert info.value.line == 1
    broken = "a\n# handrail:begin ABC\nb\n"
    with pytest.raises(MarkError, match="line 2 holds a broken"):
        wrap_lines(broken, 1, 3, "abcdef.2", "a.py")
    used = "# handrail:begin abcdef.1\nb\n# handrail:end abcdef.1\nc\n"
    with pytest.raises(MarkError, match="already used"):
        wrap_lines(used, 4, 4, BID, "a.py")


def test_marking_next_to_a_block_is_fine() -> None:
    text = "# handrail:begin abcdef.1\nb\n# handrail:end abcdef.1\nc\n"
    marked = wrap_lines(text, 4, 4, "abcdef.2", "a.py")
    assert [b.id for b in parse_blocks(marked, "a.py").blocks] == ["abcdef.1", "abcdef.2"]


def test_next_block_number() -> None:
    assert next_block_number("abcdef", []) == 1
    taken = ["abcdef.1", "abcdef.7", "zzzzzz.20", "abcdef.x", "garbage", "abcdef.3"]
    assert next_block_number("abcdef", taken) == 8
    assert next_block_number("zzzzzz", iter(taken)) == 21


def test_remove_markers() -> None:
    text = "a\n# handrail:begin abcdef.1\nb\n# handrail:end abcdef.1\nc"
    assert remove_markers(text, "a.py", [BID]) == "a\nb\nc"
    with pytest.raises(MarkError, match=r"no well-formed block abcdef\.2"):
        remove_markers(text, "a.py", ["abcdef.2"])
    assert remove_markers(text, "a.py", []) == text


# -- files --------------------------------------------------------------------------------


def write(path: Path, data: bytes, mode: int = 0o640) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_mark_file_keeps_mode_and_returns_the_block(tmp_path: Path) -> None:
    path = write(tmp_path / "tool.sh", b"#!/bin/sh\necho hi\necho bye\n", 0o751)
    block = mark_file(path, "tool.sh", 2, 3, BID)
    assert (block.id, block.begin_line, block.end_line, block.content_line_count) == (BID, 2, 5, 2)
    assert path.read_bytes() == (
        b"#!/bin/sh\n# handrail:begin abcdef.1\necho hi\necho bye\n# handrail:end abcdef.1\n"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert [p.name for p in tmp_path.iterdir()] == ["tool.sh"]  # no temp file left


def test_mark_file_latin1_round_trips_bytes(tmp_path: Path) -> None:
    original = b"# caf\xe9\r\nprint('na\xefve')\r\n# fin\xff\r\n"
    path = write(tmp_path / "l.py", original)
    block = mark_file(path, "l.py", 2, 2, BID)
    assert path.read_bytes() == (
        b"# caf\xe9\r\n# handrail:begin abcdef.1\r\nprint('na\xefve')\r\n"
        b"# handrail:end abcdef.1\r\n# fin\xff\r\n"
    )
    assert block.content_hash == "sha256:" + hashlib.sha256(b"print('na\xefve')\n").hexdigest()
    assert [b.id for b in unmark_file(path, "l.py", [BID])] == [BID]
    assert path.read_bytes() == original


def test_mark_file_keeps_a_utf8_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "b.py", codecs.BOM_UTF8 + "x = 'é'\n".encode())
    mark_file(path, "b.py", 1, 1, BID)
    assert path.read_bytes() == codecs.BOM_UTF8 + (
        "# handrail:begin abcdef.1\nx = 'é'\n# handrail:end abcdef.1\n".encode()
    )


def test_mark_file_utf16(tmp_path: Path) -> None:
    text = "a\r\nb\r\n"
    path = write(tmp_path / "w.ps1", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    block = mark_file(path, "w.ps1", 2, 2, BID)
    assert block.begin_line == 2
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF16_LE)
    assert data[2:].decode("utf-16-le") == (
        "a\r\n# handrail:begin abcdef.1\r\nb\r\n# handrail:end abcdef.1\r\n"
    )


def test_mark_file_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = write(tmp_path / "real.py", b"x\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    mark_file(link, "link.py", 1, 1, BID)
    assert link.is_symlink()
    assert b"handrail:begin" in real.read_bytes()


def test_mark_file_refusals(tmp_path: Path) -> None:
    with pytest.raises(MarkError, match="cannot read"):
        mark_file(tmp_path / "missing.py", "missing.py", 1, 1, BID)
    with pytest.raises(MarkError, match="not a regular file"):
        mark_file(tmp_path, "dir", 1, 1, BID)
    binary = write(tmp_path / "x.bin", b"\x00\x01\x02\n")
    with pytest.raises(MarkError, match="NUL"):
        mark_file(binary, "x.bin", 1, 1, BID)
    bad16 = write(tmp_path / "bad.txt", codecs.BOM_UTF16_LE + b"\x00\xd8")
    with pytest.raises(MarkError, match="UTF-16"):
        mark_file(bad16, "bad.txt", 1, 1, BID)
    json_file = write(tmp_path / "d.json", b'{"a": 1}\n')
    with pytest.raises(MarkError, match="no comment syntax"):
        mark_file(json_file, "d.json", 1, 1, BID)
    assert json_file.read_bytes() == b'{"a": 1}\n'


def test_a_failed_replace_leaves_the_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "a.py", b"x\ny\n")

    def refuse(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(MarkError, match="No space left"):
        mark_file(path, "a.py", 1, 2, BID)
    assert path.read_bytes() == b"x\ny\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_a_file_changed_while_marking_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "a.py", b"x\ny\n")
    real_wrap = mark_module.wrap_lines

    def wrap_while_someone_saves(*args: object) -> str:
        path.write_bytes(b"x\ny\nsaved by the editor\n")
        return real_wrap(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mark_module, "wrap_lines", wrap_while_someone_saves)
    with pytest.raises(MarkError, match="changed on disk"):
        mark_file(path, "a.py", 1, 2, BID)
    assert path.read_bytes() == b"x\ny\nsaved by the editor\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "a.py", b"x\n")

    real_open = os.open

    def no_temp(file: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        if flags & os.O_EXCL:  # the temp file beside the target: the folder refuses it
            raise PermissionError(13, "Permission denied")
        return real_open(file, flags, mode)

    monkeypatch.setattr(os, "open", no_temp)
    with pytest.raises(MarkError, match="Permission denied"):
        mark_file(path, "a.py", 1, 1, BID)
    assert path.read_bytes() == b"x\n"
