from __future__ import annotations

import os
from pathlib import Path

import pytest
from ctxdata import AWS_KEY
from hypothesis import given
from hypothesis import strategies as st

import handrail.context.resolve as resolve_mod
from handrail.context.entries import parse_entry
from handrail.context.resolve import EntryProblem, EntryText, read_entry, split_lines
from handrail.workspace import PathEscapesWorkspace, Workspace

LIMIT = 2_000_000


def read(ws: Workspace, text: str, limit: int = LIMIT) -> EntryText | EntryProblem:
    return read_entry(ws, parse_entry(text), max_file_bytes=limit)


def problem(ws: Workspace, text: str, limit: int = LIMIT) -> EntryProblem:
    result = read(ws, text, limit)
    assert isinstance(result, EntryProblem), result
    return result


def ok(ws: Workspace, text: str) -> EntryText:
    result = read(ws, text)
    assert isinstance(result, EntryText), result
    return result


def write(ws: Workspace, rel: str, data: bytes | str) -> Path:
    path = ws.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


class OpenSpy:
    """Records every path `os.open` is asked for while still opening it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real = os.open

        def spy(path: object, *args: object, **kwargs: object) -> int:
            self.paths.append(os.fspath(path))  # type: ignore[arg-type]
            return real(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(resolve_mod.os, "open", spy)


def test_whole_file(workspace: Workspace) -> None:
    write(workspace, "src/a.py", "one\ntwo\n")
    got = ok(workspace, "src/a.py")
    assert (got.text, got.first_line, got.file_lines, got.rel) == ("one\ntwo\n", 1, 2, "src/a.py")


def test_utf8_bom_is_fine_and_dropped(workspace: Workspace) -> None:
    write(workspace, "bom.txt", b"\xef\xbb\xbfhello\n")
    assert ok(workspace, "bom.txt").text == "hello\n"


def test_line_range_applies(workspace: Workspace) -> None:
    write(workspace, "r.txt", "".join(f"line {i}\n" for i in range(1, 11)))
    got = ok(workspace, "r.txt#L3-L5")
    assert got.text == "line 3\nline 4\nline 5\n"
    assert got.first_line == 3
    assert ok(workspace, "r.txt#L10").text == "line 10\n"


def test_line_range_with_crlf_and_cr(workspace: Workspace) -> None:
    write(workspace, "w.txt", "a\r\nb\rc\nd")
    assert ok(workspace, "w.txt#L2-L3").text == "b\rc\n"
    assert ok(workspace, "w.txt#L4").text == "d"


@pytest.mark.parametrize("entry", ["r.txt#L3-L12", "r.txt#L11", "r.txt#L20-L30"])
def test_range_past_the_end_names_the_length(workspace: Workspace, entry: str) -> None:
    write(workspace, "r.txt", "x\n" * 10)
    p = problem(workspace, entry)
    assert (p.code, p.status) == ("HR205", "missing")
    assert "has 10 lines" in p.message
    assert p.data["file_lines"] == 10


def test_missing(workspace: Workspace) -> None:
    p = problem(workspace, "nope/missing.py")
    assert (p.code, p.status) == ("HR205", "missing")
    assert "nope/missing.py does not exist" in p.message


def test_file_used_as_folder_is_missing(workspace: Workspace) -> None:
    write(workspace, "plain.txt", "x")
    assert problem(workspace, "plain.txt/inner.py").status == "missing"


@pytest.mark.parametrize("entry", ["../../etc/passwd", "/etc/passwd", "a/../../x", "C:/x.py"])
def test_outside_paths_are_refused(workspace: Workspace, entry: str) -> None:
    p = problem(workspace, entry)
    assert (p.code, p.status) == ("HR205", "outside")
    assert "outside the workspace" in p.message


def test_symlink_out_of_the_workspace(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("top secret")
    (workspace.root / "link.txt").symlink_to(secret)
    spy = OpenSpy(monkeypatch)
    p = problem(workspace, "link.txt")
    assert p.status == "outside"
    assert spy.paths == []


def test_symlinked_folder_out_of_the_workspace(workspace: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "id_rsa").write_text("key")
    (workspace.root / "docs").symlink_to(outside, target_is_directory=True)
    assert problem(workspace, "docs/id_rsa").status == "outside"


def test_dev_zero_via_symlink(workspace: Workspace) -> None:
    (workspace.root / "zero").symlink_to("/dev/zero")
    assert problem(workspace, "zero").status == "outside"


def test_symlink_inside_is_followed(workspace: Workspace) -> None:
    write(workspace, "real/file.txt", "content\n")
    (workspace.root / "alias.txt").symlink_to(workspace.root / "real" / "file.txt")
    got = ok(workspace, "alias.txt")
    assert got.rel == "real/file.txt"
    assert got.text == "content\n"


def test_symlink_loop(workspace: Workspace) -> None:
    (workspace.root / "a").symlink_to(workspace.root / "b")
    (workspace.root / "b").symlink_to(workspace.root / "a")
    p = problem(workspace, "a")
    assert p.code == "HR205"


@pytest.mark.timeout(60)
def test_fifo_never_blocks(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    os.mkfifo(workspace.root / "pipe")
    spy = OpenSpy(monkeypatch)
    p = problem(workspace, "pipe")
    assert (p.code, p.status) == ("HR205", "not-a-file")
    assert "named pipe" in p.message
    assert spy.paths == []


@pytest.mark.timeout(60)
def test_symlink_to_fifo_inside(workspace: Workspace) -> None:
    os.mkfifo(workspace.root / "pipe")
    (workspace.root / "innocent.txt").symlink_to(workspace.root / "pipe")
    assert problem(workspace, "innocent.txt").status == "not-a-file"


def test_folder_is_not_a_file(workspace: Workspace) -> None:
    (workspace.root / "src").mkdir()
    p = problem(workspace, "src")
    assert (p.code, p.status) == ("HR205", "not-a-file")
    assert "folder" in p.message


def test_huge_sparse_file_is_never_read(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = workspace.root / "big.log"
    with open(big, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    spy = OpenSpy(monkeypatch)
    p = problem(workspace, "big.log")
    assert (p.code, p.status) == ("HR206", "too-large")
    assert p.data["size"] == 50 * 1024 * 1024
    assert "52.4 MB" in p.message and "not read" in p.message
    assert spy.paths == []


def test_file_that_grows_after_the_stat_is_cut_off(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(workspace, "grow.txt", "x" * 5000)
    real_stat = os.stat
    small = real_stat(write(workspace, "small.txt", "x"))

    def lying_stat(p: object, *a: object, **k: object) -> os.stat_result:
        st_ = real_stat(p, *a, **k)  # type: ignore[arg-type]
        if os.fspath(p) == str(path):  # type: ignore[arg-type]
            fields = list(st_)
            fields[6] = small.st_size
            return os.stat_result(fields)
        return st_

    monkeypatch.setattr(resolve_mod.os, "stat", lying_stat)
    assert problem(workspace, "grow.txt", limit=1000).status == "too-large"


def test_file_swapped_after_the_stat(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(workspace, "a.txt", "a\n")
    other = os.stat(write(workspace, "b.txt", "b\n"))
    real_stat = os.stat

    def swapped(p: object, *a: object, **k: object) -> os.stat_result:
        if os.fspath(p) == str(path):  # type: ignore[arg-type]
            return other
        return real_stat(p, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(resolve_mod.os, "stat", swapped)
    p = problem(workspace, "a.txt")
    assert (p.code, p.status) == ("HR206", "unscannable")
    assert "replaced" in p.message


def test_latin1_file_is_unscannable(workspace: Workspace) -> None:
    write(workspace, ".env.latin1", f"# caf\xe9\nAWS_ACCESS_KEY_ID={AWS_KEY}\n".encode("latin-1"))
    p = problem(workspace, ".env.latin1")
    assert (p.code, p.status) == ("HR206", "unscannable")
    assert "not valid UTF-8" in p.message and "line 1" in p.message
    assert "never treated as clean" in p.message
    assert AWS_KEY not in p.message


def test_utf16_file_is_unscannable(workspace: Workspace) -> None:
    write(workspace, "u16.txt", "hello\n".encode("utf-16"))
    p = problem(workspace, "u16.txt")
    assert p.status == "unscannable"
    assert "UTF-16" in p.message


def test_utf16_without_bom_is_binary(workspace: Workspace) -> None:
    write(workspace, "u16le.txt", "hello\n".encode("utf-16-le"))
    p = problem(workspace, "u16le.txt")
    assert (p.status, p.data["reason"]) == ("unscannable", "binary")


def test_nul_byte_file_is_unscannable(workspace: Workspace) -> None:
    write(workspace, "blob.bin", b"line one\nab\x00cd\n")
    p = problem(workspace, "blob.bin")
    assert (p.code, p.status, p.data["reason"]) == ("HR206", "unscannable", "binary")
    assert "line 2" in p.message


def test_unreadable_file(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    write(workspace, "locked.txt", "x")

    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(resolve_mod.os, "open", denied)
    p = problem(workspace, "locked.txt")
    assert (p.code, p.status) == ("HR206", "unscannable")
    assert "permission denied" in p.message


def test_empty_file_is_fine(workspace: Workspace) -> None:
    write(workspace, "empty.txt", "")
    got = ok(workspace, "empty.txt")
    assert (got.text, got.file_lines) == ("", 0)


@given(st.text(alphabet="ab\r\n", max_size=40))
def test_split_lines_is_lossless(text: str) -> None:
    lines = split_lines(text)
    assert "".join(lines) == text
    for line in lines[:-1]:
        assert line.endswith(("\n", "\r"))
    assert all(line for line in lines)


@given(st.text(alphabet="ab\r\n", max_size=40))
def test_count_lines_agrees_with_split_lines(text: str) -> None:
    assert resolve_mod.count_lines(text) == len(split_lines(text))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"plain\n",
        "caf\u00e9 \u2603 \U0001f600\n".encode(),
        b"\xef\xbb\xbfwith a BOM\n",
        b"\xef\xbb\xbf",
    ],
)
def test_digest_of_the_bytes_read_is_the_digest_of_the_text(
    workspace: Workspace, data: bytes
) -> None:
    # The token and scan caches are keyed by `text_digest(text)`; the read takes it from the
    # bytes, which must give the same key (BOM or not), or every cached count is lost.
    write(workspace, "f.txt", data)
    got = ok(workspace, "f.txt")
    assert got.digest == resolve_mod.text_digest(got.text)


# -- the read memo and the folder cache --------------------------------------------------------


def test_unchanged_old_file_is_not_read_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(workspace, "old.txt", "first version\n")
    # Pretend the file was written long ago (the memo never trusts a fresh file).
    monkeypatch.setattr(resolve_mod._MEMO, "RACY_NS", 0)
    assert ok(workspace, "old.txt").text == "first version\n"
    spy = OpenSpy(monkeypatch)
    again = ok(workspace, "old.txt")
    assert again.text == "first version\n"
    assert spy.paths == []
    # Same size, new content, new mtime: read again.
    before = os.stat(path)
    path.write_text("other version\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    assert ok(workspace, "old.txt").text == "other version\n"
    assert spy.paths == [str(path)]


def test_fresh_file_is_always_read(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(workspace, "new.txt", "x\n")
    ok(workspace, "new.txt")
    spy = OpenSpy(monkeypatch)
    ok(workspace, "new.txt")
    assert spy.paths == [str(path)]


def test_memo_is_bounded(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    memo = resolve_mod._ReadMemo()
    monkeypatch.setattr(memo, "RACY_NS", 0)
    monkeypatch.setattr(memo, "MAX_CHARS", 100)
    st_ = os.stat(write(workspace, "a.txt", "x"))
    for i in range(10):
        memo.put((f"f{i}", 0, i, 0, 0, 0), resolve_mod._FileText("y" * 20, 20), st_)
    assert memo.get(("f0", 0, 0, 0, 0, 0)) is None
    assert memo.get(("f9", 0, 9, 0, 0, 0)) is not None


def test_ranges_of_a_remembered_file(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    write(workspace, "r.txt", "a\nb\nc\n")
    monkeypatch.setattr(resolve_mod._MEMO, "RACY_NS", 0)
    ok(workspace, "r.txt")
    got = ok(workspace, "r.txt#L2-L3")
    assert got.text == "b\nc\n"
    assert got.digest == resolve_mod.text_digest("b\nc\n")


def test_locator_agrees_with_resolve_inside(workspace: Workspace, tmp_path: Path) -> None:
    root = workspace.root
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "f.txt").write_text("x")
    (root / "real" / "deep").mkdir(parents=True)
    (root / "real" / "deep" / "f.txt").write_text("x")
    (root / "real" / "f.txt").write_text("x")
    (root / "in_link").symlink_to(root / "real", target_is_directory=True)
    (root / "out_link").symlink_to(outside, target_is_directory=True)
    (root / "real" / "file_link.txt").symlink_to(root / "real" / "f.txt")
    (root / "real" / "out_file.txt").symlink_to(outside / "sub" / "f.txt")
    (root / "real" / "dangling").symlink_to(root / "nowhere")
    names = [
        "real",
        "in_link",
        "out_link",
        "deep",
        "sub",
        "f.txt",
        "file_link.txt",
        "out_file.txt",
        "dangling",
        "missing",
        "..",
    ]
    locator = resolve_mod.Locator(workspace)
    checked = 0
    for a in names:
        for b in [None, *names]:
            for c in [None, "f.txt", "deep"]:
                parts = [p for p in (a, b, c) if p is not None]
                rel = "/".join(parts)
                try:
                    expected: object = workspace.resolve_inside(rel)
                except Exception as exc:
                    expected = type(exc)
                entry = parse_entry(rel)
                got = locator.locate(entry)
                if isinstance(got, EntryProblem):
                    assert got.status == "outside", (rel, got)
                    assert expected is PathEscapesWorkspace, rel
                else:
                    assert got.real == expected, rel
                    assert got.rel == workspace.relative(got.real), rel
                checked += 1
    assert checked > 300
