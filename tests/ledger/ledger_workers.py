"""Code that runs in child processes for the ledger's concurrency and crash tests.

Kept out of the test modules so a spawned child imports only this and the ledger.
"""

from __future__ import annotations

import datetime
import os
import sys
import time

from handrail.ledger.records import Trace, VerificationRun
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace


def append_many(root: str, writer: str, count: int) -> None:
    """Append `count` trace records tagged with `writer` (the D1 concurrency test)."""
    ledger = Ledger(Workspace.at(root), lock_timeout=120)
    for n in range(count):
        ledger.append(Trace(block_id=f"{writer}.{n}", content_hash=f"sha256:{writer}{n}"))


def append_forever(root: str, writer: str) -> None:
    """Append until killed, announcing "wrote <pid>" on stdout once the first record is in."""
    ledger = Ledger(Workspace.at(root), lock_timeout=120)
    n = 0
    tail = "x" * 64_000  # a large record widens the window for a kill mid-write
    while True:
        now = datetime.datetime.now(datetime.UTC)
        ledger.append(
            VerificationRun(
                task_id=writer,
                command=["pytest"],
                exit_code=0,
                passed=True,
                started_at=now,
                finished_at=now,
                blocks={f"{writer}.{n}": "sha256:0"},
                output_tail=tail,
            )
        )
        if n == 0:
            print("wrote", os.getpid(), flush=True)
        n += 1


def fork_writers(root: str) -> None:
    """For each name read on stdin, fork a writer that appends until killed; for each
    "reap <pid>", wait for that writer to end and say how ("reaped <pid> signal 9").

    Forking from a process that already imported everything makes each writer start in
    milliseconds, so the crash test can kill many of them quickly. Writers are reaped only
    when asked: until then a killed writer stays a zombie, so its pid cannot be reused by
    another process (the machine's pid space may be small and busy) before the test has
    killed it and been told it is gone. Every line on stdout answers one line of stdin; a
    writer that cannot start says "failed <pid> <why>" instead of "wrote <pid>".
    """
    for line in sys.stdin:
        command = line.split()
        if not command:
            continue
        if command[0] == "reap":
            pid, status = os.waitpid(int(command[1]), 0)
            how = (
                f"signal {os.WTERMSIG(status)}"
                if os.WIFSIGNALED(status)
                else f"exit {os.waitstatus_to_exitcode(status)}"
            )
            print("reaped", pid, how, flush=True)
            continue
        if _fork() == 0:
            try:
                append_forever(root, command[0])
            except BaseException as exc:
                print("failed", os.getpid(), f"{type(exc).__name__}: {exc}", flush=True)
            finally:
                os._exit(1)


def _fork() -> int:
    """os.fork, retried while the system is out of processes for a moment (a busy machine)."""
    for _ in range(600):
        try:
            return os.fork()
        except BlockingIOError:
            time.sleep(0.1)
    return os.fork()


def hold_lock(root: str) -> None:
    """Take the ledger lock, say so, and keep it until killed."""
    ledger = Ledger(Workspace.at(root))
    with ledger.lock():
        print("locked", flush=True)
        time.sleep(300)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "forever":
        append_forever(args[0], args[1])
    elif command == "fork":
        fork_writers(args[0])
    elif command == "hold":
        hold_lock(args[0])
    else:
        raise SystemExit(f"unknown command {command!r}")
