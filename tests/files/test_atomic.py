"""The two durable-write verbs every writer uses (`handrail.atomic`): what a reader and an
attacker who plants links can and cannot see."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from handrail import atomic


def _names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_replace_writes_all_bytes_and_replaces_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old")
    data = bytes(range(256)) * 4096  # 1 MiB: more than one write call may take
    atomic.replace(path, data)
    assert path.read_bytes() == data
    assert _names(tmp_path) == ["state.json"]


def test_replace_creates_a_missing_file_with_the_mode_asked(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    atomic.replace(path, b"x", mode=0o600)
    assert path.read_bytes() == b"x"
    if os.name != "nt":
        assert path.stat().st_mode & 0o777 == 0o600


def test_replace_never_writes_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"keep")
    link = tmp_path / "link"
    link.symlink_to(outside)
    atomic.replace(link, b"new")
    assert outside.read_bytes() == b"keep"
    assert not link.is_symlink() and link.read_bytes() == b"new"


def test_replace_does_not_follow_a_link_planted_under_the_temp_name(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"keep")
    planted = tmp_path / "planted.tmp"
    planted.symlink_to(outside)
    with pytest.raises(FileExistsError):
        atomic.replace(tmp_path / "target", b"new", temp=planted)
    assert outside.read_bytes() == b"keep"
    assert not (tmp_path / "target").exists()


def test_replace_failure_keeps_the_old_file_and_removes_the_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old")
    real_write = os.write

    def disk_fills_halfway(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[:3]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", disk_fills_halfway)
    with pytest.raises(OSError) as raised:
        atomic.replace(path, b"new content")
    monkeypatch.undo()
    assert raised.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"old"
    assert _names(tmp_path) == ["state.json"]


def test_replace_prepare_can_refuse_and_nothing_changes(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old")

    def changed_meanwhile(temp: Path) -> None:
        assert temp.read_bytes() == b"new"  # the data is complete before the check
        raise RuntimeError("changed meanwhile")

    with pytest.raises(RuntimeError):
        atomic.replace(path, b"new", prepare=changed_meanwhile)
    assert path.read_bytes() == b"old"
    assert _names(tmp_path) == ["state.json"]


def test_replace_retries_a_busy_target_then_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    calls: list[object] = []

    def busy(source: object, target: object) -> None:
        calls.append(target)
        raise PermissionError(errno.EACCES, "in use by another program")

    monkeypatch.setattr(os, "replace", busy)
    with pytest.raises(atomic.RenameBusy) as raised:
        atomic.replace(path, b"x", retry_delays=(0.0, 0.0))
    monkeypatch.undo()
    assert len(calls) == 3  # the first try and one per delay
    assert isinstance(raised.value, PermissionError)
    assert raised.value.strerror == "in use by another program"
    assert _names(tmp_path) == []


def test_create_new_writes_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    atomic.create_new(path, b"a = 1\n")
    assert path.read_bytes() == b"a = 1\n"
    assert _names(tmp_path) == ["new.toml"]


@pytest.mark.parametrize("kind", ["file", "folder", "symlink", "dangling symlink"])
def test_create_new_never_overwrites(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "there"
    outside = tmp_path / "outside"
    outside.write_bytes(b"keep")
    if kind == "file":
        path.write_bytes(b"keep")
    elif kind == "folder":
        path.mkdir()
    elif kind == "symlink":
        path.symlink_to(outside)
    else:
        path.symlink_to(tmp_path / "missing")
    with pytest.raises(FileExistsError):
        atomic.create_new(path, b"new")
    assert outside.read_bytes() == b"keep"
    assert not (tmp_path / "missing").exists()
    if kind == "file":
        assert path.read_bytes() == b"keep"
    assert _names(tmp_path) == ["outside", "there"]


def test_create_new_without_hard_links_still_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "hard links are not supported here")

    monkeypatch.setattr(os, "link", no_links)
    fresh = tmp_path / "fresh"
    atomic.create_new(fresh, b"new")
    assert fresh.read_bytes() == b"new"
    with pytest.raises(FileExistsError):
        atomic.create_new(fresh, b"other")
    assert fresh.read_bytes() == b"new"
    assert _names(tmp_path) == ["fresh"]


def test_create_new_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        atomic.create_new(tmp_path / "new", b"data")
    monkeypatch.undo()
    assert _names(tmp_path) == []
