"""Whether processes a test started are still running, and a command that resists stopping.

A zombie counts as gone: it runs nothing, and in a container whose first process does not
reap orphans it may never disappear from /proc.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
import time
from pathlib import Path


def _state_and_group(stat: str) -> tuple[str, int]:
    # /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def group_members(pgid: int) -> list[int]:
    """The pids of the running (not zombie) processes of process group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return []
    except PermissionError:
        pass
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, group = _state_and_group((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue  # it exited while we looked
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def kill_group(pgid: int) -> None:
    """SIGKILL to group `pgid` if any of it is left: the clean-up of a test that failed."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def wait_until_group_gone(pgid: int, timeout_s: float = 60.0) -> None:
    """Poll until no process of group `pgid` runs; AssertionError naming them otherwise (the
    group is then killed: a failed test must not leave processes behind)."""
    deadline = time.monotonic() + timeout_s
    while members := group_members(pgid):
        if time.monotonic() > deadline:
            kill_group(pgid)
            raise AssertionError(f"process group {pgid} still runs: pids {members}")
        time.sleep(0.05)


def wait_for_file(path: Path, timeout_s: float = 60.0, *, unless_exited: object = None) -> str:
    """The text of `path` once it exists and is non-empty (written by a command under test).

    `unless_exited` is a `subprocess.Popen` whose early exit fails the wait at once.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if path.exists() and (text := path.read_text()):
            return text
        poll = getattr(unless_exited, "poll", None)
        if poll is not None and poll() is not None:
            raise AssertionError(f"the process exited before {path.name} was written")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {path}")
        time.sleep(0.02)


STUBBORN_CODE = (
    "import os, signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "child = subprocess.Popen([sys.executable, '-c', "
    "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    'open("grandchild.started", "w").write("1"); time.sleep(600)\'])\n'
    "while not os.path.exists('grandchild.started'):\n"
    "    time.sleep(0.01)\n"
    "open('command.pgid', 'w').write(str(os.getpgid(0)))\n"
    "time.sleep(600)\n"
)
"""A verification command that ignores SIGTERM and starts a grandchild that ignores it too.
Once both run it writes its process group id to ``command.pgid`` (in its working folder)."""


def stubborn_command() -> str:
    """`STUBBORN_CODE` as a command text that runs it with this Python (no shell)."""
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(STUBBORN_CODE)}"
