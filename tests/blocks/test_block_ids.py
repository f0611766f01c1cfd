"""Block ids never collide: one allocator over the ledger and the workspace's markers,
under the ledger lock (issue 16, point 5)."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from repo_helpers import git, init_repo, run

from handrail.blocks.markers import parse_blocks
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.marking.ids import Allocation, ids_in_parse, ids_in_records
from handrail.workspace import Workspace

GOOD_SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)
TASKS = ("k3f7qa", "abcdef")


def _new_task(root: Path) -> str:
    result = run(root, "task", "new", GOOD_SPEC, "--json")
    assert result.exit_code == 0, result.output
    task_id: str = json.loads(result.output)["task"]
    return task_id


def _marked_ids(root: Path) -> list[str]:
    records = Ledger(Workspace(root)).read().records
    return sorted(r.block_id for r in records if isinstance(r, BlockMarked))


def test_mark_skips_a_number_held_only_by_markers_in_another_file(tmp_path: Path) -> None:
    """A block marked by hand (no record) in another file still holds its number."""
    root = init_repo(tmp_path / "repo", {"src/a.py": "x = 1\n", "src/b.py": "y = 2\n"})
    task = _new_task(root)
    (root / "src" / "b.py").write_text(
        f"# handrail:begin {task}.1\ny = 2\n# handrail:end {task}.1\n"
    )
    result = run(root, "mark", "src/a.py", "1", "1", "--task", task, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["block"] == f"{task}.2"


def _block(task: str, n: int, closed: bool) -> str:
    end = f"# handrail:end {task}.{n}\n" if closed else ""
    return f"# handrail:begin {task}.{n}\nx = {n}\n{end}"


@given(
    ledger_ids=st.lists(st.tuples(st.sampled_from(TASKS), st.integers(1, 40)), max_size=8),
    marker_ids=st.lists(
        st.tuples(st.sampled_from(TASKS), st.integers(1, 40), st.booleans()), max_size=8
    ),
    task=st.sampled_from(TASKS),
    count=st.integers(1, 4),
)
def test_an_allocated_id_is_never_in_the_ledger_or_the_markers(
    ledger_ids: list[tuple[str, int]],
    marker_ids: list[tuple[str, int, bool]],
    task: str,
    count: int,
) -> None:
    records = [
        BlockMarked.create(
            block_id=f"{t}.{n}", task_id=t, path="a.py", content_hash="sha256:0", begin_line=1,
            end_line=2,
        )
        for t, n in ledger_ids
    ]  # fmt: skip
    # Blocks, duplicates, unclosed begins and nesting alike: every id on a marker line counts.
    text = "".join(_block(t, n, closed) for t, n, closed in marker_ids)
    in_use = {f"{t}.{n}" for t, n in ledger_ids} | {f"{t}.{n}" for t, n, _ in marker_ids}
    allocation = Allocation(ids_in_records(records) | ids_in_parse(parse_blocks(text, "a.py")))
    given_out = [allocation.next_id(task) for _ in range(count)]
    assert not set(given_out) & in_use
    assert len(set(given_out)) == count
    highest = max(
        (n for t, n in [*ledger_ids, *[m[:2] for m in marker_ids]] if t == task), default=0
    )
    assert given_out[0] == f"{task}.{highest + 1}"


# -- concurrent marks -------------------------------------------------------------------------


def _mark_in_child(root: str, rel: str, task: str, barrier: Any, out: Any) -> None:
    """One `handrail mark` process. Every ledger read waits (briefly) for the other process
    to read too: without the lock around allocation both would pick the same number."""
    from handrail.ledger import store

    original = store.Ledger.read

    def read_together(self: store.Ledger, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        # With the allocation under the lock the other processes wait for our lock
        # instead: the barrier then breaks after its timeout, and we carry on.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=3)
        return result

    store.Ledger.read = read_together  # type: ignore[method-assign]
    result = run(Path(root), "mark", rel, "1", "1", "--task", task, "--json")
    out.put((rel, result.exit_code, result.output))


def test_concurrent_marks_of_one_task_get_distinct_ids(tmp_path: Path) -> None:
    root = init_repo(
        tmp_path / "repo", {"src/a.py": "x = 1\n", "src/b.py": "y = 2\n", "src/c.py": "z = 3\n"}
    )
    task = _new_task(root)
    context = multiprocessing.get_context("fork")
    files = ["src/a.py", "src/b.py", "src/c.py"]
    barrier = context.Barrier(len(files))
    out = context.Queue()
    children = [
        context.Process(target=_mark_in_child, args=(str(root), rel, task, barrier, out))
        for rel in files
    ]
    for child in children:
        child.start()
    results = [out.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=120)
        assert child.exitcode == 0
    assert all(code == 0 for _, code, _ in results), results
    blocks = sorted(json.loads(output)["block"] for _, _, output in results)
    assert blocks == [f"{task}.1", f"{task}.2", f"{task}.3"]
    assert _marked_ids(root) == blocks
    for rel in files:
        assert len(parse_blocks((root / rel).read_text(), rel).blocks) == 1


@pytest.mark.parametrize("extra", [[], ["k3f7qa.9"]])
def test_allocation_counts_open_buffers(extra: list[str]) -> None:
    allocation = Allocation(["k3f7qa.2", *extra])
    assert allocation.next_id("k3f7qa") == ("k3f7qa.10" if extra else "k3f7qa.3")


def test_marker_files_in_git_include_utf16_text_git_greps_as_binary(tmp_path: Path) -> None:
    """`git grep` finds the markers of UTF-8 files; a UTF-16 file (binary to git, found by its
    byte order mark) is still read, and files without markers are not."""
    import codecs

    from handrail.marking.ids import marker_texts

    marked = "# handrail:begin k3f9qa.1\nx = 1\n# handrail:end k3f9qa.1\n"
    root = init_repo(tmp_path / "repo", {"a.py": marked, "plain.py": "y = 2\n"})
    (root / "wide.ps1").write_bytes(codecs.BOM_UTF16_LE + marked.encode("utf-16-le"))
    (root / "wide_be.ps1").write_bytes(codecs.BOM_UTF16_BE + marked.encode("utf-16-be"))
    (root / "folder").mkdir()
    found = dict(marker_texts(Workspace.at(root)))
    assert sorted(found) == ["a.py", "wide.ps1", "wide_be.ps1"]
    assert found["wide.ps1"] == marked


def test_only_the_files_one_git_grep_names_are_read_for_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: one `git grep` (the marker, or a byte order mark's bytes, binary files
    included) names the files to read; no other file is opened. Tracked, untracked and UTF-32
    wide files are found; a binary file with the marker is left out, as `git grep -I` did."""
    import codecs

    from handrail.marking import ids

    marked = "# handrail:begin k3f9qa.1\nx = 1\n# handrail:end k3f9qa.1\n"
    root = init_repo(
        tmp_path / "repo",
        {"a.py": marked, "plain.py": "y = 2\n", "other.py": "z = 3\n"},
    )
    (root / "tracked.ps1").write_bytes(codecs.BOM_UTF16_LE + marked.encode("utf-16-le"))
    git(root, "add", "tracked.ps1")
    git(root, "commit", "-qm", "wide")
    (root / "wide32.txt").write_bytes(marked.encode("utf-32"))  # BOM ff fe 00 00
    # Binary (a NUL in its first bytes), the mark's bytes in its middle: read, left out.
    (root / "blob.bin").write_bytes(b"\x00\x01" + codecs.BOM_UTF16_LE + b"x\x00")
    (root / "marked.bin").write_bytes(b"\x00" + marked.encode())
    read: list[str] = []
    real = ids.text_with_markers

    def counting(path: Path, *, skip_binary: bool = False) -> str | None:
        read.append(path.name)
        return real(path, skip_binary=skip_binary)

    monkeypatch.setattr(ids, "text_with_markers", counting)
    found = dict(ids.marker_texts(Workspace.at(root)))
    assert sorted(found) == ["a.py", "tracked.ps1", "wide32.txt"]
    assert found["wide32.txt"] == marked
    assert sorted(read) == ["a.py", "blob.bin", "marked.bin", "tracked.ps1", "wide32.txt"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("in_git", [False, True])
def test_a_link_to_a_fifo_never_blocks_the_marker_scan(tmp_path: Path, in_git: bool) -> None:
    """A hostile repository's `link.py -> some.fifo` (or a FIFO outside it): outside git the
    walk lists the link, and opening it for reading waited for a writer forever."""
    from handrail.marking.ids import marker_texts

    marked = "# handrail:begin k3f9qa.1\nx = 1\n# handrail:end k3f9qa.1\n"
    root = init_repo(tmp_path / "repo", {"a.py": marked})
    if not in_git:
        import shutil

        shutil.rmtree(root / ".git")
    fifo = tmp_path / "outside.fifo"
    os.mkfifo(fifo)
    os.mkfifo(root / "inner.fifo")
    (root / "link.py").symlink_to(fifo)
    (root / "link2.py").symlink_to("inner.fifo")
    found: dict[str, str] = {}
    done = threading.Event()

    def scan() -> None:
        found.update(marker_texts(Workspace.at(root)))
        done.set()

    threading.Thread(target=scan, daemon=True).start()
    finished = done.wait(30)
    if not finished:  # let the blocked reader go before failing
        for path in (fifo, root / "inner.fifo"):
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    assert finished, "the scan waited on a FIFO"
    assert sorted(found) == ["a.py"]


def test_a_marked_file_longer_than_git_s_binary_probe_is_read_whole(tmp_path: Path) -> None:
    from handrail.marking.ids import marker_texts

    marked = "# handrail:begin k3f9qa.1\nx = 1\n# handrail:end k3f9qa.1\n"
    text = "".join(f"line_{i} = {i}\n" for i in range(2000)) + marked  # ~26 KB
    root = init_repo(tmp_path / "repo", {"long.py": text})
    assert dict(marker_texts(Workspace.at(root))) == {"long.py": text}
