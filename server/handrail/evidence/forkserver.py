"""Import pytest once, fork once per mutant: the probe's fast path for `PY -m pytest ...`.

Starting Python and importing pytest costs most of a small test run (about 0.4 s of 0.5 s
here), and the probe pays it once per mutant. When the block's command is plainly
`<python> -m pytest <args>`, a small server started with that same interpreter in the
worker's copy imports pytest (and nothing of the project), then for each request forks a
child that runs `pytest.main(args)` and exits. The child starts from a process that has
never imported the project, its conftest files or its plugins, so it loads the current
mutant from disk exactly as a fresh `python -m pytest` would; `-c` and `-m` both put the
working folder first on `sys.path`. The server is single-threaded, so forking it is safe.

Each child gets its own process group, so a timeout kills the tests and whatever they
started. Anything unexpected (no `fork`, pytest not importable, a server that stops
answering) makes the caller fall back to a fresh process per mutant.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SERVER = r"""
import gc, importlib, json, os, signal, sys, time
import pytest, _pytest.config
for name in _pytest.config.default_plugins:
    try:
        importlib.import_module("_pytest." + name)
    except ImportError:
        pass
# Everything imported so far is permanent for the children: pytest's own collections
# (gc.collect several times at the end of each run) no longer walk it. A fifth of a child's
# time on a small test run.
gc.freeze()
out = sys.stdout
print(json.dumps({"ready": True}), file=out, flush=True)
for line in sys.stdin:
    request = json.loads(line)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.setpgid(0, 0)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            code = int(pytest.main(request["args"]))
        finally:
            os._exit(code)
    try:
        os.setpgid(pid, pid)  # also here, so a kill can never miss the child's group
    except OSError:
        pass
    print(json.dumps({"pid": pid}), file=out, flush=True)
    deadline = start + request["timeout"]
    timed_out = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() >= deadline:
            timed_out = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    code = os.waitstatus_to_exitcode(status)
    reply = {"exit": code, "timed_out": timed_out, "duration": time.monotonic() - start}
    print(json.dumps(reply), file=out, flush=True)
"""
_START_TIMEOUT_S = 30.0
_GUARD_S = 10.0
"""How much longer than its own timeout a request may take before the server is given up."""


class ForkServerError(Exception):
    """The server could not start or stopped answering: use fresh processes instead."""


@dataclass(frozen=True, slots=True)
class ForkResult:
    exit_code: int | None
    timed_out: bool
    cancelled: bool
    duration_s: float

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.cancelled


def pytest_args(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """(python, pytest arguments) when `argv` is plainly `<python> -m pytest ...`."""
    if len(argv) >= 3 and argv[1] == "-m" and argv[2] == "pytest":
        return argv[0], list(argv[3:])
    return None


class ForkServer:
    """One server in one worker's copy of the tree."""

    def __init__(self, python: str, cwd: Path, env: Mapping[str, str]) -> None:
        if not hasattr(os, "fork"):
            raise ForkServerError("this platform cannot fork")
        try:
            self.proc = subprocess.Popen(
                [python, "-c", SERVER],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise ForkServerError(str(exc)) from exc
        assert self.proc.stdout is not None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        self._buffer = b""
        self._child: int | None = None
        self._ready = False

    def wait_ready(self) -> None:
        """Wait until the server has imported pytest (it starts while other work runs)."""
        if self._ready:
            return
        try:
            self._read(time.monotonic() + _START_TIMEOUT_S, None)
        except ForkServerError:
            self.close()
            raise
        self._ready = True

    def _read(self, deadline: float, cancel: object | None) -> dict[str, object]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            if cancel is not None and getattr(cancel, "is_set")():  # noqa: B009
                raise _Cancelled
            if time.monotonic() >= deadline:
                raise ForkServerError("the pytest server stopped answering")
            if not self._selector.select(timeout=0.05):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ForkServerError("the pytest server exited")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise ForkServerError(f"the pytest server said {line[:200]!r}") from exc
        if not isinstance(data, dict):
            raise ForkServerError("the pytest server answered nonsense")
        return data

    def run(self, args: Sequence[str], timeout_s: float, cancel: object | None) -> ForkResult:
        self.wait_ready()
        assert self.proc.stdin is not None
        request = json.dumps({"args": list(args), "timeout": timeout_s}) + "\n"
        start = time.monotonic()
        try:
            self.proc.stdin.write(request.encode())
            self.proc.stdin.flush()
        except OSError as exc:
            raise ForkServerError(f"the pytest server is gone ({exc})") from exc
        deadline = start + timeout_s + _GUARD_S
        try:
            started = self._read(deadline, cancel)
            pid = started.get("pid")
            self._child = pid if isinstance(pid, int) else None
            reply = self._read(deadline, cancel)
        except _Cancelled:
            self.close()
            return ForkResult(None, False, True, time.monotonic() - start)
        self._child = None
        code = reply.get("exit")
        timed_out = bool(reply.get("timed_out"))
        duration = reply.get("duration")
        return ForkResult(
            None if timed_out or not isinstance(code, int) else code,
            timed_out,
            False,
            float(duration) if isinstance(duration, int | float) else time.monotonic() - start,
        )

    def close(self) -> None:
        """Stop the server and any test run it started."""
        if self._child is not None:
            with contextlib.suppress(OSError):
                os.killpg(self._child, signal.SIGKILL)
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._selector.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class _Cancelled(Exception):
    pass
