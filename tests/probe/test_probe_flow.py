"""The probe on real pytest projects: caught K of N, survivors where the user looks, safety."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from click.testing import CliRunner, Result
from probe_helpers import (
    CLAMP,
    NO_ASSERT_TESTS,
    PY,
    STRONG_TESTS,
    TASK,
    WEAK_TESTS,
    WINDOWS,
    snapshot,
    write_project,
)

from handrail.cli.main import cli
from handrail.evidence.probe import (
    ProbeResult,
    covering_tests,
    fail_fast,
    narrowed_argv,
    probe_block,
)
from handrail.findings import Finding, Severity
from handrail.gate.run import run_check
from handrail.ledger.records import MutantDismissed, ProbeRun
from handrail.ledger.store import Ledger
from handrail.verify.probe_run import probe
from handrail.verify.run import Target
from handrail.workspace import Workspace

BLOCK = f"{TASK}.1"


def probe_calc(
    ws: Workspace,
    *,
    argv: tuple[str, ...] = (PY, "-m", "pytest", "-q"),
    tests: list[str] | None = None,
    **options: Any,
) -> ProbeResult:
    """The probe of block BLOCK in calc.py, 60 s a run; `options` go to `probe_block`."""
    return probe_block(
        ws, block_id=BLOCK, path="calc.py", argv=argv, tests=tests, timeout_s=60, **options
    )


def handrail(ws: Workspace, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args], catch_exceptions=False)


def probe_findings(ws: Workspace) -> list[Finding]:
    return [f for f in run_check(ws).findings if f.code == "HR313"]


def probe_runs(ws: Workspace) -> list[ProbeRun]:
    return [r for r in Ledger(ws).read().records if isinstance(r, ProbeRun)]


def test_well_tested_block_catches_its_off_by_one(
    project: Callable[..., Workspace],
) -> None:
    ws = project(WINDOWS, STRONG_TESTS)
    before = snapshot(ws.root)

    out = handrail(ws, "verify", BLOCK, "--probe")

    assert out.exit_code == 0, out.output
    runs = probe_runs(ws)
    assert len(runs) == 1
    run = runs[0]
    assert run.tried == len(run.mutants) >= 8
    assert run.caught == run.tried  # every mutant, the off-by-one constant included
    off_by_one = next(m for m in run.mutants if m.operator == "constant" and m.original == "1")
    assert off_by_one.replacement == "2" and off_by_one.outcome == "caught"
    assert off_by_one.line == 7  # `count = len(items) - size + 1`, file line 7
    assert f"caught {run.tried} of {run.tried} mutants" in out.stdout
    assert "[1/" in out.stderr and "line 7: changing `1` to `2`: caught" in out.stderr
    assert probe_findings(ws) == []
    # The probe worked in copies: every user file is byte for byte what it was.
    assert snapshot(ws.root) == before


def test_weakly_tested_block_shows_each_surviving_change(
    project: Callable[..., Workspace],
) -> None:
    ws = project(CLAMP, WEAK_TESTS)
    before = snapshot(ws.root)

    out = handrail(ws, "verify", BLOCK, "--probe", "--json")

    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)["probe"][0]
    assert data["status"] == "probed"
    assert 0 < data["caught"] < data["tried"]
    survived = {
        (m["line"], m["original"], m["replacement"])
        for m in data["mutants"]
        if m["outcome"] == "survived"
    }
    # Nothing tests a value at or above `hi`: that guard and its return can be broken freely.
    assert (7, ">", ">=") in survived
    assert (8, "hi", "None") in survived

    hints = [f for f in probe_findings(ws) if f.data["kind"] == "survivor"]
    assert {f.severity for f in hints} == {Severity.HINT}
    flip = next(f for f in hints if f.data["original"] == ">")
    assert flip.line == 7 and flip.column == 10 and flip.end_column == 11
    assert "changing `>` to `>=` on line 7 still passes every test" in flip.message
    assert snapshot(ws.root) == before

    # Lines added above the block move the hint with it (same content, same evidence).
    calc = ws.root / "calc.py"
    calc.write_text("# a new first line\n" + calc.read_text())
    moved = next(f for f in probe_findings(ws) if f.data.get("original") == ">")
    assert moved.line == 8 and "on line 8 still passes" in moved.message

    # A reviewer dismisses the boundary flip with a reason: one record, the hint goes.
    refused = handrail(ws, "verify", BLOCK, "--dismiss", flip.data["mutant_id"])
    assert refused.exit_code == 2 and "--reason" in refused.output
    done = handrail(
        ws, "verify", BLOCK, "--dismiss", flip.data["mutant_id"], "--reason", "x == hi gives hi"
    )
    assert done.exit_code == 0, done.output
    dismissals = [r for r in Ledger(ws).read().records if isinstance(r, MutantDismissed)]
    assert [d.reason for d in dismissals] == ["x == hi gives hi"]
    assert all(f.data.get("original") != ">" for f in probe_findings(ws))
    unknown = handrail(ws, "verify", BLOCK, "--dismiss", "ffffffff", "--reason", "because")
    assert unknown.exit_code == 2 and "not a surviving mutant" in unknown.output


def test_tests_that_check_nothing_catch_no_mutant(project: Callable[..., Workspace]) -> None:
    ws = project(CLAMP, NO_ASSERT_TESTS)

    out = handrail(ws, "verify", BLOCK, "--probe")

    assert out.exit_code == 0, out.output  # no risk tier asked: a warning, not a failure
    run = probe_runs(ws)[0]
    assert run.caught == 0 and run.tried > 0
    main = [f for f in probe_findings(ws) if f.data["kind"] == "none_caught"]
    assert len(main) == 1 and main[0].severity is Severity.WARNING
    assert f"catch none of its {run.tried} mutants" in main[0].message
    assert main[0].line == 3  # the begin marker

    # The block changes: the probe of the old content no longer counts.
    calc = ws.root / "calc.py"
    calc.write_text(calc.read_text().replace("return x\n", "return x  # unchanged value\n"))
    assert probe_findings(ws) == []


def test_a_risk_tier_that_asks_for_the_probe_runs_it_and_fails_on_nothing_caught(
    workspace: Workspace,
) -> None:
    from handrail.verify import trust as trust_mod

    ws = workspace
    write_project(
        ws,
        CLAMP.replace("clamp", "refund_amount"),
        NO_ASSERT_TESTS.replace("clamp", "refund_amount"),
        extends="strict",
    )
    trust_mod.trust(ws)

    out = handrail(ws, "verify", BLOCK)  # no --probe: the money tier asks for it

    assert out.exit_code == 1, out.output
    assert "probe: caught 0 of" in out.stdout
    main = next(f for f in probe_findings(ws) if f.data["kind"] == "none_caught")
    assert main.severity is Severity.ERROR and "'money' risk tier" in main.message
    survivors = [f for f in probe_findings(ws) if f.data["kind"] == "survivor"]
    assert survivors and {f.severity for f in survivors} == {Severity.INFO}


def test_nothing_runs_untrusted(workspace: Workspace) -> None:
    ws = workspace
    marker = ws.root / "ran.txt"
    command = f"{shlex.quote(PY)} -c " + shlex.quote(f"open({str(marker)!r}, 'w').write('x')")
    write_project(ws, CLAMP, WEAK_TESTS, command=command)

    report = probe(ws, Target("block", BLOCK), force=True)

    assert report.untrusted and [f.code for f in report.findings] == ["HR403"]
    assert not marker.exists() and report.blocks == []
    assert probe_runs(ws) == []
    refused = handrail(ws, "verify", BLOCK, "--probe")
    assert refused.exit_code == 1 and "HR403" in refused.stderr
    assert not marker.exists()


def test_only_the_given_tests_run_against_each_mutant(project: Callable[..., Workspace]) -> None:
    ws = project(CLAMP, WEAK_TESTS)
    argv = (PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_calc.py")

    only_inside = probe_calc(ws, argv=argv, tests=["test_calc.py::test_inside"])
    both = probe_calc(ws, argv=argv)

    assert only_inside.argv[-1] == "test_calc.py::test_inside"
    assert "test_calc.py" not in only_inside.argv[:-1]  # the command's own path is replaced
    assert only_inside.status == both.status == "probed"
    assert only_inside.caught < both.caught  # test_below catches what test_inside cannot


def test_a_test_that_imports_the_real_files_is_not_judged(
    project: Callable[..., Workspace],
) -> None:
    # The tests put the workspace itself first on sys.path: mutants in the copy never run.
    ws = project(CLAMP, WEAK_TESTS)
    (ws.root / "test_calc.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ws.root)!r})\n" + WEAK_TESTS
    )

    result = probe_calc(ws)

    assert result.status == "not_loaded"
    assert "do not load it from there" in result.message


def test_other_languages_say_the_probe_is_not_available(workspace: Workspace) -> None:
    ws = workspace
    write_project(ws, CLAMP, WEAK_TESTS)
    (ws.root / "calc.js").write_text(
        "// handrail:begin abcdef.2\nfunction f(a) { return a < 1; }\n// handrail:end abcdef.2\n"
    )
    result = probe_block(
        ws,
        block_id=f"{TASK}.2",
        path="calc.js",
        argv=("node", "--test"),
        tests=None,
        timeout_s=60,
    )
    assert result.status == "not_available"
    assert result.message.startswith("probe not available for JavaScript")


def test_pytest_arguments_are_narrowed_to_the_node_ids(workspace: Workspace) -> None:
    (workspace.root / "tests").mkdir()
    argv = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "tests", "tests"]
    assert narrowed_argv(argv, ["tests/test_a.py::test_x"], workspace.root) == (
        PY,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "tests",
        "tests/test_a.py::test_x",
    )
    assert narrowed_argv(["make", "test"], ["t.py::x"], workspace.root) is None
    # Against a mutant one failure is enough: pytest stops at the first (-x).
    assert fail_fast([PY, "-m", "pytest", "-q", "t.py"]) == (PY, "-m", "pytest", "-x", "-q", "t.py")
    assert fail_fast(["make", "test"]) == ("make", "test")


def test_covering_tests_are_read_from_whatever_the_run_records() -> None:
    assert covering_tests(SimpleNamespace(), "a.1") is None
    by_block = SimpleNamespace(tests={"a.1": ["t.py::x|run", "t.py::y", "t.py::x|setup"]})
    assert covering_tests(by_block, "a.1") == ["t.py::x", "t.py::y"]
    assert covering_tests(by_block, "b.1") is None

    # The verification run's per-block line evidence: node id -> the block's lines it ran.
    def coverage(**fields: object) -> SimpleNamespace:
        entry = {"outcome": "passed", "executed": "1-3", "tests": {}, "more_tests": 0} | fields
        return SimpleNamespace(coverage={"a.1": SimpleNamespace(**entry)})

    assert covering_tests(coverage(tests={"t.py::z": "1-3", "t.py::w": "2"}), "a.1") == [
        "t.py::w",
        "t.py::z",
    ]
    # Not every test named, not measured, or lines without per-test data: the whole command.
    assert covering_tests(coverage(tests={"t.py::z": "1"}, more_tests=3), "a.1") is None
    assert covering_tests(coverage(outcome="not_measured"), "a.1") is None
    assert covering_tests(coverage(), "a.1") is None
    # Measured, and no test ran a line of it: nothing to run.
    assert covering_tests(coverage(executed=""), "a.1") == []
    assert covering_tests(SimpleNamespace(coverage=None), "a.1") is None


def test_a_command_that_is_not_plain_pytest_runs_each_mutant_in_a_new_process(
    project: Callable[..., Workspace],
) -> None:
    # `python -m pytest` goes through the fork server; any other command runs as it is.
    # Both must judge every mutant alike.
    ws = project(CLAMP, WEAK_TESTS)
    (ws.root / "run_tests.py").write_text(
        "import sys\n\nimport pytest\n\nsys.exit(pytest.main(['-q', '-p', 'no:cacheprovider']))\n"
    )
    forked = probe_calc(ws)
    # Node ids cannot be handed to a command that is not pytest: it runs whole, and says so.
    fresh = probe_calc(ws, argv=(PY, "run_tests.py"), tests=["test_calc.py::test_inside"])

    assert fresh.tests is None and fresh.argv == (PY, "run_tests.py")
    assert forked.status == fresh.status == "probed"
    assert [(r.mutant.id, r.outcome) for r in forked.results] == [
        (r.mutant.id, r.outcome) for r in fresh.results
    ]


def test_a_mutant_that_never_finishes_counts_as_caught(project: Callable[..., Workspace]) -> None:
    body = (
        "def countdown(n):\n    steps = 0\n    while n > 0:\n        n -= 1\n"
        "        steps += 1\n    return steps\n"
    )
    tests = "from calc import countdown\n\n\ndef test_three():\n    assert countdown(3) == 3\n"
    ws = project(body, tests)

    result = probe_calc(ws)

    endless = next(r for r in result.results if r.mutant.original == "-=")
    assert endless.outcome == "timed_out"
    assert result.caught == result.tried  # the timeout is counted as caught


def test_mutants_past_the_time_budget_are_not_run_and_not_counted(
    project: Callable[..., Workspace],
) -> None:
    ws = project(CLAMP, WEAK_TESTS)

    # The budget is used up by the clean run already, whatever the machine's speed.
    result = probe_calc(ws, budget_s=0.001)

    assert result.status == "probed" and not result.complete
    assert result.tried == 0 and {r.outcome for r in result.results} == {"not_run"}
    assert "not run: the time budget ran out" in result.summary()


def test_a_cancelled_probe_records_nothing(project: Callable[..., Workspace]) -> None:
    import threading

    from handrail.evidence.probe import ProbeEvent

    ws = project(CLAMP, WEAK_TESTS)
    assert handrail(ws, "verify", BLOCK).exit_code == 0
    cancel = threading.Event()

    def stop_after_first(event: ProbeEvent) -> None:
        if event.kind == "mutant":
            cancel.set()

    report = probe(ws, Target("block", BLOCK), force=True, progress=stop_after_first, cancel=cancel)

    assert report.cancelled
    assert [b.result.status for b in report.blocks if b.result] == ["cancelled"]
    assert probe_runs(ws) == []


def test_tests_that_need_an_ignored_file_cannot_be_judged(
    project: Callable[..., Workspace],
) -> None:
    # The copy holds tracked and untracked files, not ignored ones: a test that reads an
    # ignored file fails there even on unchanged code, and no mutant is judged.
    ws = project(CLAMP, WEAK_TESTS + "\n\ndef test_data():\n    assert open('local.cfg').read()\n")
    (ws.root / ".gitignore").write_text("local.cfg\n")
    (ws.root / "local.cfg").write_text("secret\n")

    result = probe_calc(ws)

    assert result.status == "clean_failed"
    assert "do not pass on an unchanged copy" in result.message
    assert "exited with code 1" in result.message
