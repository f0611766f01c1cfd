"""Running one command: no shell, captured output, a timeout, a killed group.

Verification (`handrail.verify.run`) and the evidence probe (`handrail.evidence.probe`) both
run their commands through it, so it sits below both packages.

The command runs in its own session (``start_new_session=True``), so it and everything it
starts form one process group that can be signalled as a whole: on timeout or cancel the
group gets SIGTERM, then SIGKILL after a grace period, grandchildren included. Output is
read in a thread (a command that prints megabytes can never fill the pipe and stall) and
only its tail is kept. Nothing the child prints reaches our own stdout, which a language
server uses for its protocol stream.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_GRACE_S = 2.0
"""How long a group has to exit after SIGTERM before it gets SIGKILL."""
_POLL_S = 0.05
_READ_CHUNK = 65536
# After the command exited, its output is drained for at most this long: a process that
# escaped the group (setsid) and kept the pipe open must not hang the run.
_DRAIN_S = 1.0

OutputCallback = Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run of a command did."""

    argv: tuple[str, ...]
    exit_code: int | None
    """The exit status; a negative number is the signal that ended it; None when it could
    not be started, timed out or was cancelled."""
    timed_out: bool
    cancelled: bool
    started_at: dt.datetime
    finished_at: dt.datetime
    output_tail: bytes
    """The last `max_output_bytes` of stdout and stderr, interleaved as printed."""
    output_bytes: int
    """How many bytes the command printed in all."""
    start_error: str | None = None
    """Why the command could not be started (a plain sentence), else None."""

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.cancelled

    @property
    def started(self) -> bool:
        return self.start_error is None

    @property
    def truncated(self) -> bool:
        return self.output_bytes > len(self.output_tail)

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def tail_text(self, limit: int | None = None) -> str:
        """The kept output as text (undecodable bytes replaced), at most `limit` bytes of it.

        A cut tail starts at the next line, so the first line shown is a whole one.
        """
        data = self.output_tail
        cut = self.truncated
        if limit is not None and len(data) > limit:
            data, cut = data[-limit:], True
        if cut:
            newline = data.find(b"\n")
            if 0 <= newline < len(data) - 1:
                data = data[newline + 1 :]
        return data.decode("utf-8", "replace")


class _Tail:
    """The last `cap` bytes of a stream, plus a count of everything seen."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buffer = bytearray()
        self.total = 0
        self.lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self.lock:
            self.total += len(chunk)
            self.buffer += chunk
            excess = len(self.buffer) - self.cap
            if excess > 0:
                del self.buffer[:excess]

    def snapshot(self) -> tuple[bytes, int]:
        with self.lock:
            return bytes(self.buffer), self.total


def _read_output(
    fd: int, tail: _Tail, stop: threading.Event, on_output: OutputCallback | None
) -> None:
    """Read `fd` until end of file, or until `stop` is set and nothing more is waiting."""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            ready = selector.select(timeout=_POLL_S)
            if not ready:
                if stop.is_set():
                    return
                continue
            try:
                chunk = os.read(fd, _READ_CHUNK)
            except OSError:
                return
            if not chunk:
                return
            tail.add(chunk)
            if on_output is not None:
                # A front end's display problem must never stop the output being drained.
                try:
                    on_output(chunk)
                except Exception:
                    on_output = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout_s: float,
    max_output_bytes: int,
    cancel: threading.Event | None = None,
    on_output: OutputCallback | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Run `argv` in `cwd` without a shell and wait for it, its timeout, or `cancel`.

    Never raises for a command that cannot run: a missing executable, a permission problem
    or a bad working folder come back as a result with `start_error` set. `env` replaces the
    environment (the evidence layer adds its variables to ours); None inherits ours.
    """
    args = tuple(argv)
    if not args:
        raise ValueError("an empty command cannot be run")
    started = _now()
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    except FileNotFoundError:
        return _not_started(args, started, f"the program {args[0]!r} was not found")
    except PermissionError:
        return _not_started(args, started, f"the program {args[0]!r} is not executable")
    except OSError as exc:
        return _not_started(args, started, f"it could not be started ({exc.strerror or exc})")

    assert proc.stdout is not None
    tail = _Tail(max_output_bytes)
    stop_reading = threading.Event()
    reader = threading.Thread(
        target=_read_output,
        args=(proc.stdout.fileno(), tail, stop_reading, on_output),
        name=f"handrail-output-{proc.pid}",
        daemon=True,
    )
    reader.start()

    timed_out = cancelled = False
    deadline = time.monotonic() + timeout_s
    try:
        while not _exited(proc):
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            if time.monotonic() >= deadline:
                timed_out = True
                break
            if cancel is not None:
                cancel.wait(_POLL_S)
            else:
                time.sleep(_POLL_S)
        if timed_out or cancelled:
            _terminate_group(proc, grace_s)
        else:
            # The command is done; whatever it left running in its group goes with it.
            _kill_group(proc, signal.SIGKILL)
        exit_code = proc.wait()
    finally:
        if proc.returncode is None:
            _kill_group(proc, signal.SIGKILL)
            proc.wait()
        reader.join(_DRAIN_S)
        stop_reading.set()
        reader.join(_DRAIN_S)
        proc.stdout.close()
    data, total = tail.snapshot()
    return RunResult(
        argv=args,
        exit_code=None if (timed_out or cancelled) else exit_code,
        timed_out=timed_out,
        cancelled=cancelled,
        started_at=started,
        finished_at=_now(),
        output_tail=data,
        output_bytes=total,
    )


def _not_started(args: tuple[str, ...], started: dt.datetime, why: str) -> RunResult:
    message = f"`{args[0]}` could not be run: {why}."
    return RunResult(
        argv=args,
        exit_code=None,
        timed_out=False,
        cancelled=False,
        started_at=started,
        finished_at=_now(),
        output_tail=message.encode(),
        output_bytes=len(message.encode()),
        start_error=message,
    )


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the command has exited, *without* reaping it.

    While the exited leader is not reaped its pid cannot be reused, so signalling its
    process group afterwards can never hit an unrelated process.
    """
    if proc.returncode is not None:
        return True
    if sys.platform == "win32":  # pragma: no cover - POSIX is what the tests run on
        return proc.poll() is not None
    try:
        found = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return found is not None


def _kill_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if sys.platform == "win32":  # pragma: no cover
        if sig == signal.SIGKILL:
            proc.kill()
        else:
            proc.terminate()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _terminate_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM to the whole group, SIGKILL after `grace_s` (or as soon as the leader exits)."""
    _kill_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and not _exited(proc):
        time.sleep(_POLL_S)
    _kill_group(proc, signal.SIGKILL)
