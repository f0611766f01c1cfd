"""Ctrl-C and SIGTERM on `handrail verify` and `handrail check --rerun`: the command's whole
process group stops (SIGKILL after the grace period for one that ignores SIGTERM), nothing
false is recorded, and handrail exits 128+N with one line and no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from processes import kill_group, stubborn_command, wait_for_file, wait_until_group_gone
from verify_helpers import TASK, block_file, write_task, write_workflow

from handrail.ledger.records import VerificationRun
from handrail.ledger.store import Ledger
from handrail.verify import trust as trust_mod
from handrail.workspace import Workspace


def stubborn_project(ws: Workspace) -> None:
    write_workflow(ws, stubborn_command())
    write_task(ws, TASK)
    (ws.root / "calc.py").write_text(block_file(f"{TASK}.1", "x = 1\n"), encoding="utf-8")
    trust_mod.trust(ws)


def interrupt(ws: Workspace, sig: signal.Signals, *args: str) -> tuple[int, str, str, int]:
    """Run `handrail ARGS` in `ws`, send `sig` once its command runs; exit code, stdout,
    stderr, and the process group of the command."""
    handrail = subprocess.Popen(
        [sys.executable, "-m", "handrail", "--root", str(ws.root), *args],
        cwd=ws.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    pgid = None
    try:
        pgid = int(wait_for_file(ws.root / "command.pgid", unless_exited=handrail))
        handrail.send_signal(sig)
        out, err = handrail.communicate(timeout=120)
        return handrail.returncode, out.decode(), err.decode(), pgid
    except BaseException:
        if handrail.poll() is None:
            handrail.kill()
            handrail.communicate()
        if pgid is not None:
            kill_group(pgid)
        raise


def runs(ws: Workspace) -> list[VerificationRun]:
    return [r for r in Ledger(ws).read().records if isinstance(r, VerificationRun)]


def after_progress(stderr: str) -> list[str]:
    """The stderr lines after the progress line of the run that started."""
    lines = stderr.splitlines()
    started = [i for i, line in enumerate(lines) if line.startswith("[1/1] ")]
    assert len(started) == 1, stderr
    return lines[started[0] + 1 :]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_whole_group_and_records_nothing(
    workspace: Workspace, sig: signal.Signals, code: int
) -> None:
    stubborn_project(workspace)
    returncode, out, err, pgid = interrupt(workspace, sig, "verify", TASK)
    wait_until_group_gone(pgid)
    assert "Traceback" not in err
    assert returncode == code, err
    assert after_progress(err) == [
        f"handrail: interrupted by {sig.name}: the running verification command was stopped "
        "and its run was not recorded"
    ]
    assert out == ""
    # The interrupted run tested nothing: no record, so it cannot count as a failed (or
    # passed) first attempt either.
    assert runs(workspace) == []


def test_json_output_still_says_what_was_cancelled(workspace: Workspace) -> None:
    import json

    stubborn_project(workspace)
    returncode, out, err, pgid = interrupt(workspace, signal.SIGINT, "verify", TASK, "--json")
    wait_until_group_gone(pgid)
    assert returncode == 130, err
    report = json.loads(out)
    assert report["cancelled"] is True and report["ok"] is False
    assert [b["status"] for b in report["blocks"]] == ["cancelled"]
    assert report["runs"][0]["record"] is None


def test_check_rerun_stops_the_group_and_gives_no_verdict(workspace: Workspace) -> None:
    stubborn_project(workspace)
    returncode, out, err, pgid = interrupt(workspace, signal.SIGTERM, "check", "--rerun")
    wait_until_group_gone(pgid)
    assert "Traceback" not in err
    assert returncode == 143, err
    assert after_progress(err) == [
        "handrail: interrupted by SIGTERM: the running verification command was stopped; the "
        "gate did not finish and nothing was recorded"
    ]
    assert out == ""  # no gate report: it would judge blocks the run never finished
    assert runs(workspace) == []


def test_a_signal_ignored_at_start_stays_ignored(workspace: Workspace) -> None:
    """`nohup handrail verify …` keeps running through a hang-up, as nohup promises."""
    from handrail.cli.interrupts import run_interruptibly

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        result, interruption = run_interruptibly(
            lambda cancel: (os.kill(os.getpid(), signal.SIGHUP), cancel.is_set())[1]
        )
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert result is False and not interruption.interrupted


def test_handlers_are_restored_afterwards() -> None:
    from handrail.cli.interrupts import STOP_SIGNALS, run_interruptibly

    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    value, interruption = run_interruptibly(lambda cancel: 42)
    assert value == 42 and not interruption.interrupted
    assert {sig: signal.getsignal(sig) for sig in STOP_SIGNALS} == before
