"""The measuring layer on its own terms: the team's set-up is respected, a missing coverage
is "could not run", and the could-not-run rules tell the environment from the code."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from shop_project import PRICING, PYTEST, write_shop

from handrail.evidence.could_not_run import could_not_run
from handrail.evidence.python_layer import PythonEvidence
from handrail.ledger.records import VerificationRun
from handrail.ledger.store import Ledger
from handrail.verify import trust as trust_mod
from handrail.verify.run import Target, verify
from handrail.workspace import Workspace


def _runs(ws: Workspace) -> list[VerificationRun]:
    return [r for r in Ledger(ws).read().records if isinstance(r, VerificationRun)]


def test_the_teams_coverage_config_and_sitecustomize_are_left_alone(workspace: Workspace) -> None:
    root = workspace.root
    own = root / "own_site"
    own.mkdir()
    (own / "sitecustomize.py").write_text("open('TEAM-SITE-RAN', 'a').write('x')\n")
    # The team's command starts pytest in a grandchild, adding its own folder to PYTHONPATH.
    script = (
        "import os, sys, subprocess; "
        f"path = os.environ.get('PYTHONPATH', '') + os.pathsep + {str(own)!r}; "
        f"sys.exit(subprocess.call({shlex.split(PYTEST)!r}, env=dict(os.environ, PYTHONPATH=path)))"
    )
    write_shop(workspace, command=f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}")
    (root / ".coveragerc").write_text("[run]\ndata_file = TEAM-DATA\nbranch = true\n")
    trust_mod.trust(workspace)
    report = verify(workspace, Target.everything())
    statuses = {r.block.block_id: r.status for r in report.block_results()}
    # Measured through the grandchild, as the team's command started it.
    assert statuses[f"{PRICING}.1"] == "verified"
    # Nothing of the team's coverage set-up was written to.
    assert not (root / "TEAM-DATA").exists()
    assert sorted(p.name for p in root.glob(".coverage*")) == [".coveragerc"]
    # The team's own sitecustomize still ran (in the process that had it on its path).
    assert (root / "TEAM-SITE-RAN").exists()


def test_lines_the_teams_coverage_config_excludes_are_not_executable(
    workspace: Workspace,
) -> None:
    write_shop(workspace)
    (workspace.root / "pyproject.toml").write_text(
        '[tool.coverage.report]\nexclude_also = ["if discount:"]\n'
    )
    trust_mod.trust(workspace)
    verify(workspace, Target.everything())
    (record,) = [r for r in _runs(workspace) if r.task_id == PRICING]
    assert record.coverage is not None
    # `if discount:` and its body are excluded by the team: only lines 2 and 5 count.
    assert record.coverage[f"{PRICING}.1"].executable_lines == {2, 5}


# Only "spawn", closed and joined: a worker forked from the test process shares its coverage
# data file, and one ended by SIGTERM races its own save (docs/verification.md says so).
@pytest.mark.parametrize("start", ["spawn"])
def test_lines_run_in_a_worker_process_count(workspace: Workspace, start: str) -> None:
    write_shop(workspace)
    (workspace.root / "tests" / "test_pricing.py").write_text(
        "import multiprocessing\n\nfrom shop.pricing import total\n\n\n"
        "def test_total_in_a_pool_worker():\n"
        f"    pool = multiprocessing.get_context({start!r}).Pool(1)\n"
        "    assert pool.apply(total, ([1, 2],)) == 3\n"
        "    pool.close()\n"
        "    pool.join()\n"
    )
    trust_mod.trust(workspace)
    report = verify(workspace, Target.everything())
    statuses = {r.block.block_id: r.status for r in report.block_results()}
    # The worker is another interpreter: its lines are measured by the layer's sitecustomize.
    assert statuses[f"{PRICING}.1"] == "verified"


def test_an_interpreter_without_coverage_could_not_run(
    workspace: Workspace, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    code = "import shop.pricing as p; assert p.total([1, 2]) == 3"
    write_shop(
        workspace, command=f"{shlex.quote(str(bare / 'bin' / 'python'))} -c {shlex.quote(code)}"
    )
    trust_mod.trust(workspace)
    report = verify(workspace, Target.everything())
    assert report.runs[0].result.passed  # the command itself was fine
    assert {r.status for r in report.block_results()} == {"could_not_run"}
    (record, *_) = _runs(workspace)
    assert record.could_not_run is not None
    assert "coverage is not installed in" in record.could_not_run
    assert str(bare / "bin" / "python") in record.could_not_run
    assert record.first_attempt == []


def _evidence(**fields: object) -> PythonEvidence:
    return PythonEvidence(coverage={}, tests={}, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "exit_code", "output", "python", "expected"),
    [
        (["pytest"], 5, "", None, "collected no tests"),
        (["python", "-m", "pytest"], 4, "", None, "usage error"),
        (["python", "-m", "pytest"], 3, "", None, "internal error"),
        (["python", "-m", "pytest"], 2, "Interrupted: 1 error during collection", None, None),
        (["python", "-m", "pytest"], 2, "", _evidence(collect_errors=("t.py",)), None),
        (["python", "-m", "pytest"], 2, "", _evidence(pytest_exit=2), "interrupted"),
        (["python", "-m", "pytest"], 1, "", None, None),
        (["make", "test"], 5, "", None, None),
        (["make", "test"], 1, "", _evidence(pytest_exit=5), "collected no tests"),
        (
            ["python3", "-m", "pytest"],
            1,
            "/usr/bin/python3: No module named pytest\n",
            None,
            "no module pytest",
        ),
        (["python3", "t.py"], 1, "E   ModuleNotFoundError: No module named 'calc'\n", None, None),
        (["./run.sh"], 127, "run.sh: line 2: pytest: command not found", None, "not found"),
        (
            ["x"],
            0,
            "",
            _evidence(problem="coverage is not installed in /p"),
            "coverage is not installed",
        ),
    ],
)
def test_could_not_run_tells_the_environment_from_the_code(
    argv: list[str],
    exit_code: int,
    output: str,
    python: PythonEvidence | None,
    expected: str | None,
) -> None:
    why = could_not_run(argv, exit_code=exit_code, start_error=None, output=output, python=python)
    if expected is None:
        assert why is None
    else:
        assert why is not None and expected in why


def test_every_test_that_ran_a_line_is_named_for_it(shop: Workspace) -> None:
    # Every test but `test_b` runs lines 2, 3 and 5 of `total`; only `test_c` runs line 4. On
    # Python 3.12+ the layer measures with coverage's sys.monitoring core, which reports a
    # line only the first time it runs unless it is re-armed as each test starts: without
    # that, `test_c` would be credited with line 4 alone and `test_d` with nothing. (The C
    # tracer of 3.11 sees every line anyway: run this file under 3.12+ to exercise it.)
    from handrail.ledger.records import decode_ranges

    (shop.root / "tests" / "test_pricing.py").write_text(
        "import pytest\n\nfrom shop.pricing import total\n\n\n"
        "def test_a():\n    assert total([1.5, 2.5]) == 4.0\n\n\n"
        "def test_b():\n    assert True\n\n\n"
        "def test_c():\n    assert total([10], discount=50) == 5\n\n\n"
        "def test_d():\n    assert total([1]) == 1\n\n\n"
        "@pytest.mark.parametrize('discount', [0, 50])\n"
        "def test_p(discount):\n    assert total([10], discount=discount) <= 10\n",
        encoding="utf-8",
    )
    trust_mod.trust(shop)
    verify(shop, Target.everything())
    (record,) = [r for r in _runs(shop) if r.task_id == PRICING]
    assert record.coverage is not None
    tests = {
        name: decode_ranges(lines) for name, lines in record.coverage[f"{PRICING}.1"].tests.items()
    }
    assert tests == {
        "tests/test_pricing.py::test_a": {2, 3, 5},
        "tests/test_pricing.py::test_c": {2, 3, 4, 5},
        "tests/test_pricing.py::test_d": {2, 3, 5},
        # The second case starts no new function: its lines must still be its own.
        "tests/test_pricing.py::test_p[0]": {2, 3, 5},
        "tests/test_pricing.py::test_p[50]": {2, 3, 4, 5},
    }


@pytest.mark.parametrize(
    ("team", "core"),
    [
        (None, "sysmon"),  # ours: sys.monitoring on 3.12+, coverage falls back to its C tracer
        ('[tool.coverage.run]\ncore = "ctrace"\n', "ctrace"),  # the team's choice stands
    ],
)
def test_the_core_is_sys_monitoring_unless_the_team_chose_one(
    tmp_path: Path, team: str | None, core: str
) -> None:
    from handrail.evidence.python_layer import PythonLayer

    root = tmp_path / "project"
    root.mkdir()
    if team is not None:
        (root / "pyproject.toml").write_text(team, encoding="utf-8")
    layer = PythonLayer.prepare(tmp_path / "layer", root, ["calc.py"])
    rc = (layer.folder / "coveragerc").read_text(encoding="utf-8").splitlines()
    assert f"core = {core}" in rc
