"""`handrail mark` and `mark --diff` write the markers and the record, both or neither
(issue 16, point 8): a full disk or a read-only file system leaves every file byte-identical
and the ledger without a record, says so in one line, and the same command works once the
failure is gone."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from repo_helpers import GOOD_SPEC, git, init_repo, run

from handrail.ledger import store
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

SOURCE = "def words(text):\n    return text.split()\n"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    root = init_repo(tmp_path / "repo", {"src/words.py": SOURCE})
    result = run(root, "task", "new", GOOD_SPEC, "--json")
    assert result.exit_code == 0, result.output
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root, json.loads(result.output)["task"]


def _disk_full(self: Ledger, folder: Path, target: Path, data: bytes, rel: str) -> None:
    raise store._write_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), rel)


def _read_only(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.EROFS, os.strerror(errno.EROFS))


# Only marking's own file write fails: its `atomic` stands in, the ledger's stays real.
_READ_ONLY_ATOMIC = SimpleNamespace(replace=_read_only)
FAILURES: dict[str, tuple[str, object, str]] = {
    "ledger write": ("handrail.ledger.store.Ledger._write_new", _disk_full, "disk is full"),
    "file replace": ("handrail.blocks.mark.atomic", _READ_ONLY_ATOMIC, "Read-only file system"),
}


def _records(root: Path) -> list[BlockMarked]:
    return [r for r in Ledger(Workspace(root)).read().records if isinstance(r, BlockMarked)]


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted((root / "src").rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_mark_leaves_nothing_half_done(
    repo: tuple[Path, str], failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, task = repo
    target, broken, said = FAILURES[failure]
    before = _files(root)
    with monkeypatch.context() as patch:
        patch.setattr(target, broken)
        result = run(root, "mark", "src/words.py", "1", "2", "--task", task)
    assert result.exit_code != 0
    assert _files(root) == before  # byte-identical
    assert _records(root) == []
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("handrail: src/words.py")
    assert said in line
    assert "Traceback" not in result.output

    again = run(root, "mark", "src/words.py", "1", "2", "--task", task, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["block"] == f"{task}.1"
    assert [r.block_id for r in _records(root)] == [f"{task}.1"]


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_mark_diff_leaves_nothing_half_done(
    repo: tuple[Path, str], failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, task = repo
    (root / "src" / "words.py").write_text(SOURCE + "\n\ndef top(text):\n    return 1\n")
    (root / "src" / "new.py").write_text("def d():\n    return 4\n")
    target, broken, said = FAILURES[failure]
    before = _files(root)
    with monkeypatch.context() as patch:
        patch.setattr(target, broken)
        result = run(root, "mark", "--diff", "--task", task)
    assert _files(root) == before
    assert _records(root) == []
    if failure == "ledger write":
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("handrail: nothing was marked, no file was changed")
        assert said in line
    else:
        # Each file that cannot be written is skipped with the reason, its record taken back.
        assert result.stderr.count(said) == 2

    again = run(root, "mark", "--diff", "--task", task, "--json")
    assert again.exit_code == 0, again.output
    marked = json.loads(again.output)["blocks"]
    assert sorted(m["block"] for m in marked) == [f"{task}.1", f"{task}.2"]
    assert sorted(r.block_id for r in _records(root)) == [f"{task}.1", f"{task}.2"]


def test_a_failed_record_in_the_middle_takes_back_the_ones_before(
    repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mark --diff` writes every record before any file: the second record failing takes
    the first back, and no file changes."""
    root, task = repo
    (root / "src" / "a.py").write_text("a = 1\n")
    (root / "src" / "b.py").write_text("b = 2\n")
    real = Ledger._write_new
    calls: list[str] = []

    def second_fails(self: Ledger, folder: Path, target: Path, data: bytes, rel: str) -> None:
        calls.append(rel)
        if len(calls) == 2:
            _disk_full(self, folder, target, data, rel)
        real(self, folder, target, data, rel)

    before = _files(root)
    monkeypatch.setattr(Ledger, "_write_new", second_fails)
    result = run(root, "mark", "--diff", "--task", task)
    assert result.exit_code == 2
    assert len(calls) == 2
    assert _files(root) == before
    assert _records(root) == []


def test_a_file_whose_name_is_not_utf8_is_refused_with_nothing_written(
    repo: tuple[Path, str],
) -> None:
    # Git allows any bytes in a name; the ledger records names as text. Pydantic refused the
    # record with a traceback; now a sentence, before anything is written.
    root, task = repo
    odd = os.fsencode(root) + b"/src/we\xffird.py"
    with open(odd, "w") as handle:
        handle.write(SOURCE)
    before = _files(root)
    result = run(root, "mark", os.fsdecode(odd), "1", "2", "--task", task)
    assert result.exit_code == 1
    assert "not UTF-8" in result.output and "nothing was marked" in result.output
    assert _files(root) == before
    assert _records(root) == []
