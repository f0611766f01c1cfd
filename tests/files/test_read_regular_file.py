"""`workspace.read_regular_file`: the one reader of workflow and task files from a repository.

It must never block (a FIFO where a file should be), never read past its limit, and refuse a
symlink when the caller resolved the path itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handrail.workspace import FileTooLarge, NotARegularFile, read_regular_file


@pytest.mark.timeout(30)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "workflow.toml"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFile):
        read_regular_file(fifo, 100)


def test_a_folder_is_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(NotARegularFile):
        read_regular_file(tmp_path, 100)


def test_the_limit_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_bytes(b"x" * 100)
    assert read_regular_file(path, 100) == b"x" * 100
    with pytest.raises(FileTooLarge) as raised:
        read_regular_file(path, 99)
    assert raised.value.size == 100


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="needs O_NOFOLLOW")
def test_a_symlink_is_refused_when_the_caller_resolved_the_path(tmp_path: Path) -> None:
    target = tmp_path / "target.toml"
    target.write_text("a = 1\n")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    assert read_regular_file(link, 100) == b"a = 1\n"
    with pytest.raises(OSError):
        read_regular_file(link, 100, follow_symlinks=False)
