"""Evidence that the block works, through the real verify path on a real pytest project."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from shop_project import PRICING, PY, PYTEST, TESTS, write_shop

from handrail.cli.verify_cmd import LiveProgress
from handrail.findings import Finding
from handrail.gate.run import run_check
from handrail.ledger.records import BlockMarked, VerificationRun
from handrail.ledger.store import Ledger
from handrail.review.stats import block_stats
from handrail.verify import trust as trust_mod
from handrail.verify.run import Target, VerifyReport, find_blocks, rerun_all, verify
from handrail.workspace import Workspace


def _verify(ws: Workspace, target: str = "all") -> VerifyReport:
    trust_mod.trust(ws)
    chosen = Target.everything() if target == "all" else Target.parse(target)
    return verify(ws, chosen)


def _status(report: VerifyReport) -> dict[str, str]:
    return {r.block.block_id: r.status for r in report.block_results()}


def _findings(ws: Workspace, code: str) -> list[Finding]:
    return [f for f in run_check(ws).findings if f.code == code]


def _runs(ws: Workspace) -> list[VerificationRun]:
    return [r for r in Ledger(ws).read().records if isinstance(r, VerificationRun)]


def test_an_untested_block_stays_unverified_while_the_suite_passes(shop: Workspace) -> None:
    report = _verify(shop)
    assert all(o.result.passed for o in report.runs)
    status = _status(report)
    assert status[f"{PRICING}.1"] == "verified"
    assert status[f"{PRICING}.2"] == "not_executed"
    (hr310,) = _findings(shop, "HR310")
    assert hr310.data is not None and hr310.data["block_id"] == f"{PRICING}.2"
    assert "shop/pricing.py" in hr310.message and "-m pytest" in hr310.message
    assert "0 of its 3 executable lines ran" in hr310.message
    # The record keeps, per block, the lines and the tests that ran them.
    (record,) = [r for r in _runs(shop) if r.task_id == PRICING]
    assert record.coverage is not None
    tested = record.coverage[f"{PRICING}.1"]
    assert tested.executable_lines == {2, 3, 4, 5}  # the `def` line is not evidence
    assert tested.executed_lines == {2, 3, 4, 5}
    assert set(tested.tests) == {
        "tests/test_pricing.py::test_total_adds_prices",
        "tests/test_pricing.py::test_discount",
    }
    assert record.coverage[f"{PRICING}.2"].executed == ""
    # The untested block is not a first attempt: it was never put to the test.
    assert record.first_attempt == [f"{PRICING}.1"]


def test_a_failure_lands_on_the_function_that_was_wrong_not_the_test_block(
    workspace: Workspace,
) -> None:
    write_shop(workspace, buggy=True)
    report = _verify(workspace)
    status = _status(report)
    assert status[f"{PRICING}.1"] == "failed"
    # The generated test that caught the bug is not blamed, nor is its first attempt spent.
    assert status[f"{TESTS}.1"] == "failed_elsewhere"
    by_task = {r.task_id: r for r in _runs(workspace)}
    assert by_task[PRICING].first_attempt == [f"{PRICING}.1"]
    assert by_task[TESTS].first_attempt == []
    assert by_task[PRICING].coverage is not None
    failed = by_task[PRICING].coverage[f"{PRICING}.1"]
    assert "tests/test_pricing.py::test_total_adds_prices" in failed.failed_tests
    (hr302,) = _findings(workspace, "HR302")
    assert hr302.data is not None and hr302.data["block_id"] == f"{PRICING}.1"
    assert hr302.data["first_attempt"] is True
    assert "test_total_adds_prices" in hr302.message
    # The test block says its test caught a failure in the code under test.
    assert by_task[TESTS].coverage is not None
    assert by_task[TESTS].coverage[f"{TESTS}.1"].failed_tests == [
        "tests/test_pricing.py::test_total_adds_prices"
    ]
    (hr300,) = [f for f in _findings(workspace, "HR300") if f.path == "tests/test_pricing.py"]
    assert "caught a failure in other generated code" in hr300.message


def test_stats_count_the_first_attempt_against_the_function_that_was_wrong(
    workspace: Workspace,
) -> None:
    write_shop(workspace, buggy=True)
    ledger = Ledger(workspace)
    for found in find_blocks(workspace):
        ledger.append(
            BlockMarked.create(
                block_id=found.block_id,
                task_id=found.task_id,
                path=found.path,
                content_hash=found.content_hash,
                begin_line=found.begin_line,
                end_line=found.end_line,
            )
        )
    _verify(workspace)
    stats = {b.block_id: b for b in block_stats(ledger.read().records)}
    assert stats[f"{PRICING}.1"].first_attempt_passed is False
    assert stats[f"{PRICING}.1"].failed_runs == 1
    # The test block that caught the bug has had no attempt of its own yet.
    assert stats[f"{TESTS}.1"].first_attempt_passed is None
    assert stats[f"{TESTS}.1"].failed_runs == 0


def test_a_command_whose_interpreter_lacks_pytest_could_not_run(
    workspace: Workspace, tmp_path: Path
) -> None:
    bare = tmp_path / "bare-venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120
    )
    python = bare / "bin" / "python"
    write_shop(workspace, command=f"{shlex.quote(str(python))} -m pytest -q")
    report = _verify(workspace)
    assert set(_status(report).values()) == {"could_not_run"}
    for record in _runs(workspace):
        assert record.could_not_run is not None and record.first_attempt == []
    codes = {f.code for f in run_check(workspace).findings}
    assert "HR311" in codes and "HR302" not in codes
    (hr311, *_) = _findings(workspace, "HR311")
    assert "could not run" in hr311.message and hr311.severity.value == "warning"
    # The gate still fails: nothing verified the blocks (HR300 is an error), in check...
    assert any(
        f.code == "HR300" and f.severity.value == "error" for f in run_check(workspace).findings
    )
    # ...and in the CI rerun, which says why as well.
    rerun = {f.code for f in rerun_all(workspace, trust_commands=True)}
    assert rerun == {"HR300", "HR311"}


def test_pytest_collecting_no_tests_could_not_run(workspace: Workspace) -> None:
    write_shop(workspace, command=f"{PYTEST} -k no_test_has_this_name")
    report = _verify(workspace)
    assert set(_status(report).values()) == {"could_not_run"}
    (record, *_) = _runs(workspace)
    assert record.could_not_run is not None and "no tests" in record.could_not_run


def test_a_syntax_error_in_a_block_is_a_failure_not_could_not_run(workspace: Workspace) -> None:
    write_shop(workspace)
    pricing = workspace.root / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text().replace("return paid - returned", "return paid -"))
    report = _verify(workspace)
    assert _status(report)[f"{PRICING}.1"] == "failed"
    assert all(r.could_not_run is None for r in _runs(workspace))


def test_two_tasks_with_one_command_run_it_once(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    script = (
        "import sys, pytest; open('RUNS', 'a').write('x'); "
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider']))"
    )
    write_shop(workspace, command=f"{shlex.quote(PY)} -c {shlex.quote(script)}")
    trust_mod.trust(workspace)
    progress = LiveProgress(stream_output=False)
    report = verify(workspace, Target.everything(), progress=progress)
    assert (workspace.root / "RUNS").read_text() == "x"
    assert len(report.runs) == 2 and all(o.shared for o in report.runs)
    # What the user reads says so: one "running", then "shares the run", not two "running".
    printed = capsys.readouterr().err
    assert printed.count(": running ") == 1
    assert "share the run of [1/2] (the same command" in printed
    assert {r.task_id for r in _runs(workspace)} == {PRICING, TESTS}
    assert _status(report)[f"{PRICING}.1"] == "verified"


def test_tests_placeholder_reruns_only_the_covering_tests(workspace: Workspace) -> None:
    write_shop(workspace, command=f"{PYTEST} {{tests}}")
    full = _verify(workspace)
    # The first (and any --all) run has nothing to narrow by: the whole suite.
    assert full.runs[0].result.argv[-1] == "no:cacheprovider"
    assert "3 passed" in full.runs[0].result.tail_text()
    again = _verify(workspace, f"{PRICING}.1")
    argv = again.runs[0].result.argv
    assert sorted(argv[argv.index("no:cacheprovider") + 1 :]) == [
        "tests/test_pricing.py::test_discount",
        "tests/test_pricing.py::test_total_adds_prices",
    ]
    assert "2 passed" in again.runs[0].result.tail_text()
    assert _status(again)[f"{PRICING}.1"] == "verified"


def test_the_json_report_carries_the_line_figures(shop: Workspace) -> None:
    data = _verify(shop).as_json()
    (block,) = [b for b in data["blocks"] if b["block"] == f"{PRICING}.1"]
    assert block["lines"] == {
        "measured": True,
        "executable": 4,
        "executed": 4,
        "tests": 2,
        "failed_tests": [],
        "note": "",
    }
    assert data["runs"][0]["coverage"]
