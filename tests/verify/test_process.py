"""`handrail.process`, the runner of verification commands: no shell, capped output, and a
timeout or cancel kills the whole process group.

The children sleep for an hour: a run that returns at all was ended by the runner, so no test
needs to time how long that took (a loaded machine may take seconds); the waits below are
hang guards only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from verify_helpers import PY

from handrail.process import run_command

# A child that starts a grandchild (which writes its pid to a file and sleeps), then waits.
SPAWN = """
import subprocess, sys, time
code = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(3600)"
subprocess.Popen([sys.executable, "-c", code, sys.argv[1]])
time.sleep(float(sys.argv[2]))
"""

# A grandchild that ignores SIGTERM: only SIGKILL ends it.
STUBBORN = """
import subprocess, sys, time
code = (
    "import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(3600)"
)
subprocess.Popen([sys.executable, "-c", code, sys.argv[1]])
time.sleep(3600)
"""


def _alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie waiting for its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _wait_for_pid(path: Path, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.02)
    raise AssertionError(f"{path} never got a pid")


def _gone_soon(pid: int, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def reap() -> Iterator[list[int]]:
    """Pids a test started outside the runner's control; killed afterwards whatever happens."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_passing_command_is_captured(tmp_path: Path) -> None:
    result = run_command(
        [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr)"],
        cwd=tmp_path,
        timeout_s=30,
        max_output_bytes=4096,
    )
    assert result.passed and result.exit_code == 0
    assert b"out" in result.output_tail and b"err" in result.output_tail
    assert not result.truncated


def test_a_failing_command_keeps_its_exit_code(tmp_path: Path) -> None:
    result = run_command(
        [PY, "-c", "raise SystemExit(3)"], cwd=tmp_path, timeout_s=30, max_output_bytes=4096
    )
    assert not result.passed and result.exit_code == 3 and not result.timed_out


def test_a_missing_executable_is_a_failed_run_not_a_crash(tmp_path: Path) -> None:
    result = run_command(
        ["handrail-no-such-program-xyz", "--flag"],
        cwd=tmp_path,
        timeout_s=30,
        max_output_bytes=4096,
    )
    assert not result.passed and not result.started
    assert result.exit_code is None
    assert result.start_error is not None and "was not found" in result.start_error
    assert "handrail-no-such-program-xyz" in result.tail_text()


def test_timeout_kills_the_grandchildren(tmp_path: Path, reap: list[int]) -> None:
    pid_file = tmp_path / "grandchild.pid"
    # The timeout must not fire before the grandchild exists: two Python start-ups take
    # seconds on a loaded machine, so it is generous (the run ends at it, whatever the load).
    result = run_command(
        [PY, "-c", SPAWN, str(pid_file), "3600"],
        cwd=tmp_path,
        timeout_s=10,
        max_output_bytes=4096,
    )
    grandchild = _wait_for_pid(pid_file)
    reap.append(grandchild)
    assert result.timed_out and not result.passed and result.exit_code is None
    assert _gone_soon(grandchild), "the grandchild survived the timeout"


def test_a_grandchild_ignoring_sigterm_gets_sigkill(tmp_path: Path, reap: list[int]) -> None:
    pid_file = tmp_path / "stubborn.pid"
    result = run_command(
        [PY, "-c", STUBBORN, str(pid_file)],
        cwd=tmp_path,
        timeout_s=10,  # after the grandchild has started, as above
        max_output_bytes=4096,
        grace_s=0.5,
    )
    grandchild = _wait_for_pid(pid_file)
    reap.append(grandchild)
    assert result.timed_out
    assert _gone_soon(grandchild), "a SIGTERM-ignoring grandchild survived"


def test_leftovers_of_a_finished_command_are_killed(tmp_path: Path, reap: list[int]) -> None:
    pid_file = tmp_path / "left.pid"
    # The child waits until its grandchild is running, then exits 0 and leaves it behind.
    script = SPAWN.replace("time.sleep(float(sys.argv[2]))", "")
    script += "\nimport os\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
    result = run_command(
        [PY, "-c", script, str(pid_file), "0"], cwd=tmp_path, timeout_s=30, max_output_bytes=4096
    )
    grandchild = _wait_for_pid(pid_file)
    reap.append(grandchild)
    assert result.passed
    assert _gone_soon(grandchild)


def test_cancel_stops_a_run_and_its_group(tmp_path: Path, reap: list[int]) -> None:
    pid_file = tmp_path / "cancel.pid"
    cancel = threading.Event()

    def cancel_when_running() -> None:
        _wait_for_pid(pid_file)
        cancel.set()

    helper = threading.Thread(target=cancel_when_running)
    helper.start()
    result = run_command(
        [PY, "-c", SPAWN, str(pid_file), "3600"],
        cwd=tmp_path,
        timeout_s=60,
        max_output_bytes=4096,
        cancel=cancel,
    )
    helper.join()
    grandchild = _wait_for_pid(pid_file)
    reap.append(grandchild)
    assert result.cancelled and not result.passed and not result.timed_out
    assert _gone_soon(grandchild)


def test_megabytes_of_output_are_capped_and_do_not_hang(tmp_path: Path) -> None:
    total = 20 * 1024 * 1024
    script = (
        "import sys\nline = b'x' * 1023 + b'\\n'\n"
        f"for _ in range({total // 1024}): sys.stdout.buffer.write(line)\n"
        "sys.stdout.buffer.write(b'THE END\\n')\n"
    )
    seen: list[int] = []
    result = run_command(
        [PY, "-c", script],
        cwd=tmp_path,
        timeout_s=60,
        max_output_bytes=4096,
        on_output=lambda chunk: seen.append(len(chunk)),
    )
    assert result.passed
    assert result.output_bytes == total + len(b"THE END\n") == sum(seen)
    assert len(result.output_tail) == 4096 and result.truncated
    assert result.output_tail.endswith(b"THE END\n")
    # A cut tail starts at a whole line.
    assert result.tail_text().startswith("x" * 1023 + "\n")


def test_a_broken_output_callback_does_not_stop_the_draining(tmp_path: Path) -> None:
    def explode(_chunk: bytes) -> None:
        raise RuntimeError("display broke")

    result = run_command(
        [PY, "-c", "print('y' * 300000)"],
        cwd=tmp_path,
        timeout_s=30,
        max_output_bytes=2048,
        on_output=explode,
    )
    assert result.passed and result.output_bytes == 300001


def test_a_process_escaping_the_group_cannot_hang_the_run(tmp_path: Path, reap: list[int]) -> None:
    # The grandchild starts its own session (out of reach of the group kill) and keeps the
    # output pipe open: the run must still end once the command itself has exited.
    pid_file = tmp_path / "escaped.pid"
    script = (
        "import os, subprocess, sys\n"
        "code = \"import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); "
        'time.sleep(3600)"\n'
        "subprocess.Popen([sys.executable, '-c', code, sys.argv[1]], start_new_session=True)\n"
        "import time\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
    )
    result = run_command(
        [PY, "-c", script, str(pid_file)], cwd=tmp_path, timeout_s=30, max_output_bytes=4096
    )
    reap.append(_wait_for_pid(pid_file))
    assert result.passed


def test_an_empty_argv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        run_command([], cwd=tmp_path, timeout_s=1, max_output_bytes=1024)
