"""The store on real files: atomic appends, concurrent writers, crashes, faults (D1-D3, D6-D8)."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import ledger_workers
import pytest
from ledger_helpers import T0, at, default_workflow, run

from handrail.findings import Severity
from handrail.ledger.records import BlockMarked, Trace, dump_record, parse_record_json
from handrail.ledger.store import (
    TEMP_PREFIX,
    Ledger,
    LedgerError,
    LedgerLockTimeout,
    LedgerReadOnly,
    LedgerWriteError,
)
from handrail.workspace import Workspace

WORKERS = Path(ledger_workers.__file__)


def _trace(n: int = 0, minute: float = 0) -> Trace:
    return Trace(at=at(minute), block_id=f"k3f9qa.{n}", content_hash=f"sha256:{n:04x}")


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _temps(ledger: Ledger) -> list[Path]:
    return sorted(ledger.folder.glob(f"{TEMP_PREFIX}*"))


def test_append_writes_one_canonical_file_and_reads_back(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    record = BlockMarked(
        at=T0,
        author="ada",
        block_id="k3f9qa.1",
        task_id="k3f9qa",
        path="src/parse.py",
        content_hash="sha256:ab",
        begin_line=3,
        end_line=9,
    )
    path = ledger.append(record)
    assert path == workspace.ledger_dir / f"{record.id}.json"
    assert path.read_bytes() == dump_record(record)
    assert path.read_bytes().endswith(b"}\n")
    result = ledger.read()
    assert result.records == [record]
    assert result.problems == [] and result.findings == []
    assert _temps(ledger) == []


def test_records_come_back_sorted_by_id(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    written = [_trace(n, minute=10 - n) for n in range(10)]
    for record in written:
        ledger.append(record)
    assert [r.id for r in ledger.read().records] == sorted(r.id for r in written)
    assert Ledger(workspace).read().records[0] == written[-1]


def test_empty_or_missing_ledger_reads_empty(workspace: Workspace) -> None:
    assert Ledger(workspace).read().records == []
    workspace.ledger_dir.mkdir()
    assert Ledger(workspace).read().records == []


def test_appending_the_same_record_twice_keeps_one_file(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    record = _trace()
    ledger.append(record)
    ledger.append(record)
    assert len(list(workspace.ledger_dir.glob("*.json"))) == 1


def test_a_different_record_never_overwrites_an_existing_id(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    record = _trace()
    ledger.append(record)
    clash = Trace(id=record.id, at=record.at, block_id="other.1", content_hash="sha256:ff")
    with pytest.raises(LedgerWriteError, match="already uses the id"):
        ledger.append(clash)
    assert parse_record_json((workspace.ledger_dir / f"{record.id}.json").read_bytes()) == record


def test_lock_file_and_temps_are_gitignored(workspace: Workspace) -> None:
    Ledger(workspace).append(_trace())
    ignore = (workspace.handrail_dir / ".gitignore").read_text()
    assert ".lock" in ignore.splitlines() and "ledger/.tmp-*" in ignore.splitlines()
    (workspace.handrail_dir / ".gitignore").write_text("mine\n")
    Ledger(workspace).append(_trace(1))
    assert (workspace.handrail_dir / ".gitignore").read_text() == "mine\n"


def test_other_files_and_quarantine_are_ignored(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    ledger.append(_trace())
    folder = workspace.ledger_dir
    (folder / ".gitkeep").write_text("")
    (folder / "README.md").write_text("# records\n")
    (folder / "old.jsonl").write_text("{}\n")
    (folder / f"{TEMP_PREFIX}half").write_text('{"kind": "tr')
    (folder / "quarantine").mkdir()
    (folder / "quarantine" / "bad.json").write_text("garbage")
    result = ledger.read()
    assert len(result.records) == 1
    assert result.problems == []


def test_reading_reports_but_never_touches_damaged_files(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    good = [ledger.append(_trace(n, minute=n)) for n in range(3)]
    folder = workspace.ledger_dir
    torn_id = _trace(7, minute=7)
    torn = folder / f"{torn_id.id}.json"
    torn.write_bytes(dump_record(torn_id)[:40])
    garbage = folder / "01ZZZZZZZZZZZZZZZZZZZZZZZZ.json"
    garbage.write_text("this is not json\n")
    before = _snapshot(folder)

    result = ledger.read()
    assert [r.id for r in result.records] == sorted(p.stem for p in good)
    reasons = {p.path: p.reason for p in result.problems}
    assert reasons == {
        f".handrail/ledger/{torn.name}": "torn",
        f".handrail/ledger/{garbage.name}": "invalid_json",
    }
    assert {f.code for f in result.findings} == {"HR309"}
    assert all(f.severity is Severity.ERROR for f in result.findings)
    assert {f.path for f in result.findings} == set(reasons)
    finding = next(f for f in result.findings if f.path.endswith(garbage.name))
    assert (finding.line, finding.column) == (1, 1)
    assert finding.data == {"file": finding.path, "reason": "invalid_json"}
    assert _snapshot(folder) == before

    # Damage elsewhere never stops new evidence from being written.
    ledger.append(_trace(9, minute=9))
    assert len(ledger.read().records) == 4
    assert torn.exists() and garbage.exists()


def test_hr309_follows_the_workflow_severity(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    workspace.ledger_dir.mkdir()
    (workspace.ledger_dir / "01ZZZZZZZZZZZZZZZZZZZZZZZZ.json").write_text("{")
    warn = default_workflow(severity={"HR309": "warning"})
    assert [f.severity for f in ledger.read(warn).findings] == [Severity.WARNING]
    off = default_workflow(severity={"HR309": "off"})
    result = ledger.read(off)
    assert result.findings == [] and len(result.problems) == 1


def test_symlink_and_folder_named_like_a_record_are_not_followed(
    workspace: Workspace, tmp_path: Path
) -> None:
    ledger = Ledger(workspace)
    ledger.append(_trace())
    secret = tmp_path / "outside.json"
    secret.write_bytes(dump_record(_trace(5)))
    (workspace.ledger_dir / "01AAAAAAAAAAAAAAAAAAAAAAAA.json").symlink_to(secret)
    (workspace.ledger_dir / "01BBBBBBBBBBBBBBBBBBBBBBBB.json").mkdir()
    result = ledger.read()
    assert len(result.records) == 1
    assert sorted(p.reason for p in result.problems) == ["not_regular", "not_regular"]


def test_ledger_folder_leading_outside_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.json").write_bytes(dump_record(_trace()))
    workspace.ledger_dir.symlink_to(elsewhere, target_is_directory=True)
    ledger = Ledger(workspace)
    result = ledger.read()
    assert result.records == []
    assert [p.reason for p in result.problems] == ["folder"]
    assert "outside the workspace" in result.findings[0].message
    with pytest.raises(LedgerWriteError, match="outside the workspace"):
        ledger.append(_trace(1))
    assert sorted(p.name for p in elsewhere.iterdir()) == ["x.json"]


def test_ledger_path_that_is_a_file_is_reported(workspace: Workspace) -> None:
    workspace.ledger_dir.write_text("oops")
    result = Ledger(workspace).read()
    assert [p.reason for p in result.problems] == ["folder"]


def test_cache_rereads_only_what_changed(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    paths = [ledger.append(_trace(n, minute=n)) for n in range(3)]
    first = ledger.read()
    assert len(first.records) == 3
    # A file replaced behind our back (a checkout) is parsed again.
    paths[0].write_text("{ broken")
    second = ledger.read()
    assert len(second.records) == 2
    assert [p.reason for p in second.problems] == ["torn"]
    # A removed file disappears; a file added by another process appears.
    paths[1].unlink()
    Ledger(workspace).append(_trace(8, minute=8))
    third = ledger.read()
    assert sorted(r.block_id for r in third.records) == ["k3f9qa.2", "k3f9qa.8"]  # type: ignore[union-attr]


def test_newer_schema_makes_the_ledger_read_only(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    ledger.append(_trace())
    future = json.loads(dump_record(_trace(1, minute=1)))
    future["schema"] = 3
    future["hologram"] = "yes"
    newer = workspace.ledger_dir / f"{future['id']}.json"
    newer.write_text(json.dumps(future, indent=2, sort_keys=True) + "\n")
    before = _snapshot(workspace.ledger_dir)

    result = ledger.read()
    assert len(result.records) == 1
    assert result.read_only is not None and "newer Handrail" in result.read_only
    assert ledger.read_only == result.read_only
    assert [p.reason for p in result.problems] == ["newer_schema"]
    with pytest.raises(LedgerReadOnly, match="upgrade Handrail"):
        ledger.append(_trace(2, minute=2))
    # A fresh Ledger that never read first refuses too: no downgrade of a newer ledger.
    with pytest.raises(LedgerReadOnly):
        Ledger(workspace).append(_trace(3, minute=3))
    assert _snapshot(workspace.ledger_dir) == before
    assert _temps(ledger) == []

    newer.unlink()
    ledger.append(_trace(4, minute=4))
    assert ledger.read().read_only is None


# ---------------------------------------------------------------------- faults (D2, D7)


def test_replace_permission_error_is_retried_then_succeeds(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(workspace, replace_retry_delays=(0.01, 0.01, 0.01, 0.01))
    real_replace = os.replace
    failures = {"left": 3}

    def flaky(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise PermissionError(errno.EACCES, "The process cannot access the file")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    record = _trace()
    path = ledger.append(record)
    assert failures["left"] == 0
    assert parse_record_json(path.read_bytes()) == record
    assert _temps(ledger) == []


def test_replace_permission_error_gives_up_cleanly(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(workspace, replace_retry_delays=(0.01, 0.01, 0.01))
    kept = ledger.append(_trace())
    calls = []

    def always(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(dst)
        raise PermissionError(errno.EACCES, "Access is denied")

    monkeypatch.setattr(os, "replace", always)
    with pytest.raises(LedgerWriteError, match="kept the file busy") as info:
        ledger.append(_trace(1, minute=1))
    assert len(calls) == 4  # the first try plus one per delay: bounded
    assert info.value.path.startswith(".handrail/ledger/")
    monkeypatch.undo()
    assert _temps(ledger) == []
    assert [p.name for p in workspace.ledger_dir.glob("*.json")] == [kept.name]
    assert len(ledger.read().records) == 1


@pytest.mark.parametrize(
    ("where", "code", "words"),
    [
        ("write", errno.ENOSPC, "disk is full"),
        ("write", errno.EDQUOT, "quota"),
        ("fsync", errno.EIO, "input/output"),
        ("replace", errno.EROFS, "read-only"),
        ("open", errno.EROFS, "read-only"),
    ],
)
def test_disk_errors_leave_no_torn_record(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, where: str, code: int, words: str
) -> None:
    ledger = Ledger(workspace)
    kept = ledger.append(_trace())
    before = _snapshot(workspace.ledger_dir)
    real = {"write": os.write, "fsync": os.fsync, "replace": os.replace, "open": os.open}
    folder = str(workspace.ledger_dir)

    def failing(*args: object, **kwargs: object) -> object:
        target = args[0]
        if where == "open" and not str(target).startswith(f"{folder}/{TEMP_PREFIX}"):
            return real["open"](*args, **kwargs)  # type: ignore[arg-type]
        if where == "write":
            # Half the bytes land before the disk fills up: the worst case for a torn file.
            fd, data = args[0], args[1]
            if len(data) > 8:  # type: ignore[arg-type]
                real["write"](fd, bytes(data[:8]))  # type: ignore[arg-type, index]
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, where, failing)
    with pytest.raises(LedgerWriteError, match=words) as info:
        ledger.append(_trace(1, minute=1))
    monkeypatch.undo()
    assert "Nothing was written" in str(info.value)
    assert info.value.reason == errno.errorcode[code]
    assert _snapshot(workspace.ledger_dir) == before
    assert [p.name for p in workspace.ledger_dir.iterdir() if p.is_file()] == [kept.name]
    assert len(Ledger(workspace).read().records) == 1


def test_stale_temps_are_swept_and_fresh_ones_kept(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    ledger.append(_trace())
    old = workspace.ledger_dir / f"{TEMP_PREFIX}old-1"
    fresh = workspace.ledger_dir / f"{TEMP_PREFIX}fresh-1"
    old.write_text('{"half')
    fresh.write_text('{"half')
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    assert len(ledger.read().records) == 1  # reading never sweeps
    assert old.exists()
    ledger.append(_trace(1, minute=1))
    assert not old.exists()
    assert fresh.exists()


def test_quarantine_moves_a_bad_file_aside(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    ledger.append(_trace())
    bad = workspace.ledger_dir / "01ZZZZZZZZZZZZZZZZZZZZZZZZ.json"
    bad.write_text("<<<<<<< HEAD\n")
    assert len(ledger.read().problems) == 1
    moved = ledger.quarantine(bad.name)
    assert moved == workspace.ledger_dir / "quarantine" / bad.name
    assert moved.read_text() == "<<<<<<< HEAD\n"
    assert ledger.read().problems == []
    bad.write_text("again")
    assert ledger.quarantine(bad.name).name == "01ZZZZZZZZZZZZZZZZZZZZZZZZ.1.json"
    with pytest.raises(LedgerError):
        ledger.quarantine("../workflow.toml")
    with pytest.raises(LedgerError, match="no ledger file"):
        ledger.quarantine("01YYYYYYYYYYYYYYYYYYYYYYYY.json")


def test_lock_is_reentrant_within_a_thread(workspace: Workspace) -> None:
    ledger = Ledger(workspace, lock_timeout=2)
    with ledger.lock():
        ledger.append(_trace())
        ledger.append(_trace(1, minute=1))
    assert len(ledger.read().records) == 2


def test_threads_appending_through_one_ledger_lose_nothing(workspace: Workspace) -> None:
    import threading

    ledger = Ledger(workspace, lock_timeout=60)

    def worker(k: int) -> None:
        for n in range(15):
            ledger.append(Trace(block_id=f"t{k}.{n}", content_hash="h"))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.read().records) == 45


# ---------------------------------------------------------------------- processes (D1, D2, D6)


def test_two_processes_appending_lose_nothing(workspace: Workspace) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=ledger_workers.append_many, args=(str(workspace.root), name, 200))
        for name in ("server", "hook")
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=110)
        assert proc.exitcode == 0
    result = Ledger(workspace).read()
    assert result.problems == []
    got = sorted(r.block_id for r in result.records)  # type: ignore[union-attr]
    want = sorted(f"{name}.{n}" for name in ("server", "hook") for n in range(200))
    assert got == want
    assert _temps(Ledger(workspace)) == []


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKERS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _answer(launcher: subprocess.Popen[str], word: str, stderr: Path) -> list[str]:
    """The launcher's next line, which must start with `word`; else a failure that says why."""
    assert launcher.stdout is not None
    line = launcher.stdout.readline()
    fields = line.split()
    if not fields or fields[0] != word:
        launcher.kill()
        launcher.wait()
        said = line.strip() or "nothing: it ended"
        raise AssertionError(
            f"expected {word!r} from the writers, got {said!r}; stderr:\n{stderr.read_text()}"
        )
    return fields


def test_sigkill_mid_write_never_leaves_a_torn_record(workspace: Workspace, tmp_path: Path) -> None:
    stderr = tmp_path / "launcher.err"
    with stderr.open("w") as err:
        launcher = subprocess.Popen(
            [sys.executable, str(WORKERS), "fork", str(workspace.root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,
        )
    assert launcher.stdin is not None
    killed: list[int] = []
    try:
        for round_ in range(10):
            # Two writers at once, both killed at a different moment each round: 20 kills.
            # Each is killed only once it has said it wrote its first record (never before
            # it exists); the short pause only spreads where in a later write the kill lands,
            # the outcome must be the same wherever that is.
            launcher.stdin.write(f"w{round_}a\nw{round_}b\n")
            launcher.stdin.flush()
            for _ in range(2):
                pid = int(_answer(launcher, "wrote", stderr)[1])
                time.sleep(0.004 * (round_ % 5))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        # Every writer is gone (reaped: its pid was never free for reuse while we killed).
        launcher.stdin.write("".join(f"reap {pid}\n" for pid in killed))
        launcher.stdin.flush()
        for pid in killed:
            assert _answer(launcher, "reaped", stderr)[1:] == [str(pid), "signal", "9"]
        launcher.stdin.close()
        assert launcher.wait() == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    assert len(killed) == 20

    ledger = Ledger(workspace)
    result = ledger.read()
    assert result.problems == []
    files = sorted(workspace.ledger_dir.glob("*.json"))
    assert len(files) == len(result.records) >= 20
    for path in files:
        assert parse_record_json(path.read_bytes()).id == path.stem

    # Whatever temps the kills orphaned go once they are old enough.
    print(f"\n20 kills: {len(files)} complete records, {len(_temps(ledger))} orphaned temps")
    hour_ago = time.time() - 3600
    for temp in _temps(ledger):
        os.utime(temp, (hour_ago, hour_ago))
    ledger.append(_trace(1))
    assert _temps(ledger) == []


def test_lock_timeout_names_the_lock_and_its_holder(workspace: Workspace) -> None:
    holder = _start("hold", str(workspace.root))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        ledger = Ledger(workspace, lock_timeout=0.3)
        with pytest.raises(LedgerLockTimeout) as info:
            ledger.append(_trace())
        message = str(info.value)
        assert ".handrail/.lock" in message
        assert f"process {holder.pid}" in message
        # How long it waited depends on the machine's load; that it says so does not.
        assert re.search(r"Waited \d+\.\d s", message)
        assert info.value.reason == "lock_timeout"
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert not workspace.ledger_dir.exists() or not list(workspace.ledger_dir.glob("*.json"))


def test_a_killed_lock_holder_frees_the_lock(workspace: Workspace) -> None:
    holder = _start("hold", str(workspace.root))
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    # The lock went with its holder: a writer that cannot wait at all gets it.
    ledger = Ledger(workspace, lock_timeout=0)
    ledger.append(_trace())
    assert len(ledger.read().records) == 1


# ---------------------------------------------------------------------- reading cost


@pytest.fixture
def fast_workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace in memory when the machine has one: creating 5,000 files on this disk
    alone takes seconds, and the test measures parsing, not the disk."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield Workspace.at(tmp_path)
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="handrail-ledger-") as folder:
        yield Workspace.at(folder)


def test_five_thousand_records_read_quickly(fast_workspace: Workspace) -> None:
    workspace = fast_workspace
    folder = workspace.ledger_dir
    folder.mkdir(parents=True)
    for n in range(5000):
        if n % 2:
            record = run(n / 100, {f"k3f9qa.{n % 40}": f"sha256:{n:064x}"}, first=[])
        else:
            record = _trace(n % 40, minute=n / 100)
        # Written directly: 5,000 fsynced appends would only measure the disk.
        (folder / f"{record.id}.json").write_bytes(dump_record(record))
    ledger = Ledger(workspace)
    cold = ledger.read()
    warm = ledger.read()  # timings of both live in bench/ledger_bench.py
    assert len(cold.records) == len(warm.records) == 5000
    assert warm.records == cold.records
