"""Inserting generated code into a file's text, and writing it back safely."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.blocks.mark import MarkError
from handrail.ledger.store import Ledger, LedgerWriteError
from handrail.marking.write import insert_code, prepare_target, replace_file, write_generated
from handrail.workspace import Workspace

line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
)
texts = st.tuples(
    st.lists(line_text, max_size=8), st.sampled_from(["\n", "\r\n"]), st.booleans()
).map(lambda t: (t[1].join(t[0]) + (t[1] if t[2] and t[0] else ""), t[1]))


@given(texts, st.lists(line_text, min_size=1, max_size=5), st.data())
def test_inserted_code_sits_at_its_lines_and_the_rest_is_kept(
    text_eol: tuple[str, str], code_lines: list[str], data: st.DataObject
) -> None:
    text, eol = text_eol
    file_eol = eol if eol in text else "\n"  # a file without line endings gets "\n"
    old = text.split(eol) if text else []
    ended = bool(text) and text.endswith(eol)
    if ended:
        old.pop()
    line = data.draw(st.one_of(st.none(), st.integers(1, len(old) + 1)))
    at = len(old) + 1 if line is None else line
    new, first, last = insert_code(text, "\n".join(code_lines) + "\n", line, "a.py")
    assert (first, last) == (at, at + len(code_lines) - 1)
    rows = old[: at - 1] + code_lines + old[at - 1 :]
    if old and not ended and at <= len(old):
        assert new == file_eol.join(rows)  # the last line keeps its missing line ending
    else:
        assert new == "".join(row + file_eol for row in rows)


def test_a_line_past_the_end_says_how_to_append() -> None:
    with pytest.raises(MarkError, match="use 3 to append"):
        insert_code("a\nb\n", "x\n", 4, "a.py")


def test_a_file_changed_since_it_was_read_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text("old\n")
    before = os.stat(path)
    path.write_text("someone else's edit\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    with pytest.raises(MarkError, match="changed on disk"):
        replace_file(path, "a.py", b"new\n", before)
    assert path.read_text() == "someone else's edit\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_a_new_file_is_never_written_over_one_created_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "new.py"
    path.write_text("theirs\n")
    with pytest.raises(MarkError, match="created by someone else"):
        replace_file(path, "new.py", b"ours\n", None)
    assert path.read_text() == "theirs\n"
    assert [p.name for p in tmp_path.iterdir()] == ["new.py"]


def test_permission_bits_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "run.sh"
    path.write_text("echo\n")
    path.chmod(0o755)
    replace_file(path, "run.sh", b"echo hi\n", os.stat(path))
    assert path.read_text() == "echo hi\n" and (path.stat().st_mode & 0o777) == 0o755


def test_a_new_file_gets_the_umask_mode_and_no_temp_is_left(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        replace_file(tmp_path / "new.py", "new.py", b"x = 1\n", None)
    finally:
        os.umask(old)
    assert (tmp_path / "new.py").read_bytes() == b"x = 1\n"
    assert stat.S_IMODE(os.stat(tmp_path / "new.py").st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["new.py"]


@pytest.mark.parametrize("failure", ["ledger", "file"])
def test_write_generated_is_both_or_neither(
    workspace: Workspace, failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`generate --into`: a record that cannot be written leaves the file as it was; a file
    that cannot be written leaves no record. Then the same write works."""
    import errno

    from handrail.ledger import store

    path = workspace.root / "a.py"
    path.write_bytes(b"x = 1\n")
    target = prepare_target(workspace, path, None, "k3f7qa")

    def disk_full(self: object, folder: Path, target: Path, data: bytes, rel: str) -> None:
        raise store._write_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), rel)

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    with monkeypatch.context() as patch:
        if failure == "ledger":
            patch.setattr(store.Ledger, "_write_new", disk_full)
            expected: type[Exception] = LedgerWriteError
        else:
            # Only marking's own file write fails: the ledger's `atomic` stays real.
            patch.setattr("handrail.blocks.mark.atomic", SimpleNamespace(replace=read_only))
            expected = MarkError
        with pytest.raises(expected):
            write_generated(workspace, target, "y = 2\n", "k3f7qa", author=None)
    assert path.read_bytes() == b"x = 1\n"
    assert Ledger(workspace).read().records == []

    target = prepare_target(workspace, path, None, "k3f7qa")
    plan = write_generated(workspace, target, "y = 2\n", "k3f7qa", author=None)
    assert plan.block_id == "k3f7qa.1"
    assert [r.id for r in Ledger(workspace).read().records] != []


PY = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"


def test_spaced_insertion_follows_the_files_blank_lines() -> None:
    from handrail.marking.write import blank_line_gap

    assert blank_line_gap(PY.splitlines(keepends=True)) == 2
    assert blank_line_gap(["x = 1\n", "y = 2\n"]) is None  # no example: nothing added
    new, first, last = insert_code(PY, "def c():\n    return 3\n", None, "a.py", spaced=True)
    assert new == PY + "\n\ndef c():\n    return 3\n"
    assert (first, last) == (9, 10)
    # Between two functions: two blank lines on each side, code lines reported exactly.
    new, first, last = insert_code(PY, "def c():\n    return 3\n", 4, "a.py", spaced=True)
    assert new == "def a():\n    return 1\n\n\ndef c():\n    return 3\n\n\ndef b():\n    return 2\n"
    assert new.splitlines()[first - 1 : last] == ["def c():", "    return 3"]
    js = "function a() {\n  return 1;\n}\n\nfunction b() {\n  return 2;\n}\n"
    new, first, _ = insert_code(js, "function c() {}\n", None, "a.js", spaced=True)
    assert new == js + "\nfunction c() {}\n" and first == 9
    # Code inside a body (indented) is never spaced.
    new, _, _ = insert_code(PY, "    x = 0\n", 2, "a.py", spaced=True)
    assert new == "def a():\n    x = 0\n    return 1\n\n\ndef b():\n    return 2\n"
