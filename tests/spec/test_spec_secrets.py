"""A secret typed into a spec is HR204, like one in the context: the spec goes into the prompt.

Through the gate, `prompt` (refused), `task new` (nothing written) and the analysis the
language server runs. The value never appears in any output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from handrail.analysis import Snapshot, analyze_task
from handrail.cli.main import cli
from handrail.workspace import Workspace

# A made-up token in GitHub's format (tests/context/ctxdata.py has the same kind).
TOKEN = "ghp_" + "Zx9Qw3Er5Ty7Ui1Op3As5Df7Gh9Jk1Lz3Xc5"
GOOD = (
    "Given a repository name, return its open issues as a list. "
    "It must follow the style of fetch_repo in src/api.py."
)
TASK_REL = ".handrail/tasks/abcdef.toml"


def _run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)


def _task(ws: Workspace, spec_toml: str) -> None:
    ws.tasks_dir.mkdir(parents=True, exist_ok=True)
    text = f'# a task\nid = "abcdef"\n{spec_toml}\ncontext = []\n'
    (ws.tasks_dir / "abcdef.toml").write_text(text, encoding="utf-8")


def test_a_token_in_the_spec_fails_the_gate_on_its_line(workspace: Workspace) -> None:
    _task(workspace, f"spec = '{GOOD} Use the token {TOKEN} to call the API.'")
    result = _run(workspace.root, "check", "--format", "json")
    assert result.exit_code == 1, result.output
    assert TOKEN not in result.output
    (finding,) = [f for f in json.loads(result.output)["findings"] if f["code"] == "HR204"]
    assert (finding["path"], finding["line"], finding["severity"]) == (TASK_REL, 3, "error")
    assert "GitHub Token" in finding["message"] and "The spec" in finding["message"]


def test_a_token_on_a_later_line_of_a_multiline_spec_is_placed_there(
    workspace: Workspace,
) -> None:
    _task(workspace, f"spec = '''\n{GOOD}\n\nThe key is {TOKEN} for now.\n'''")
    result = _run(workspace.root, "check", "--format", "json")
    (finding,) = [f for f in json.loads(result.output)["findings"] if f["code"] == "HR204"]
    assert finding["line"] == 6  # the file's line 3 opens the string, the spec starts on 4
    assert TOKEN not in result.output


def test_an_escaped_spec_anchors_on_the_spec_line_and_counts_spec_lines(
    workspace: Workspace,
) -> None:
    _task(workspace, f'spec = "{GOOD}\\nToken: {TOKEN}."')
    result = _run(workspace.root, "check", "--format", "json")
    (finding,) = [f for f in json.loads(result.output)["findings"] if f["code"] == "HR204"]
    assert finding["line"] == 3
    assert "on line 2 of the spec" in finding["message"]
    assert TOKEN not in result.output


def test_prompt_is_refused_while_the_spec_holds_a_token(workspace: Workspace) -> None:
    _task(workspace, f"spec = '{GOOD} Token: {TOKEN}.'")
    result = _run(workspace.root, "prompt", "abcdef")
    assert result.exit_code == 1
    assert "HR204" in result.output and "Prompt refused" in result.output
    assert TOKEN not in result.output


def test_task_new_with_a_token_writes_nothing(workspace: Workspace) -> None:
    result = _run(workspace.root, "task", "new", f"{GOOD} Authenticate with {TOKEN}.")
    assert result.exit_code == 1, result.output
    assert "HR204" in result.output
    assert TOKEN not in result.output
    assert list(workspace.tasks_dir.glob("*.toml")) == []


def test_the_language_server_analysis_reports_it(workspace: Workspace) -> None:
    _task(workspace, f"spec = '{GOOD} Token: {TOKEN}.'")
    text = (workspace.tasks_dir / "abcdef.toml").read_text(encoding="utf-8")
    analysis = analyze_task(Snapshot.load(workspace), TASK_REL, text, with_context=False)
    (finding,) = [f for f in analysis.findings if f.code == "HR204"]
    assert finding.line == 3
    assert finding.data["spec"] is True and finding.data["blocking"] is True
    assert finding.data["secrets"] == [{"type": "GitHub Token", "line": 3}]
    assert TOKEN not in json.dumps(finding.data) + finding.message


@pytest.mark.parametrize(
    "workflow",
    ['[severity]\nHR204 = "off"\n', "[context]\nscan_secrets = false\n"],
    ids=["HR204-off", "scan_secrets-false"],
)
def test_the_team_can_turn_it_off_as_for_the_context(workspace: Workspace, workflow: str) -> None:
    workspace.workflow_path.write_text(workflow, encoding="utf-8")
    _task(workspace, f"spec = '{GOOD} Token: {TOKEN}.'")
    result = _run(workspace.root, "check", "--format", "json")
    assert [f for f in json.loads(result.output)["findings"] if f["code"] == "HR204"] == []


def test_a_clean_spec_has_no_hr204(workspace: Workspace) -> None:
    _task(workspace, f"spec = '{GOOD}'")
    result = _run(workspace.root, "check", "--format", "json")
    assert [f for f in json.loads(result.output)["findings"] if f["code"] == "HR204"] == []
