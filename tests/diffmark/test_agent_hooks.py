"""The shipped agent hook examples: the script marks an agent's edits; the configs parse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from handrail.cli.main import cli

HOOKS = Path(__file__).resolve().parents[2] / "examples" / "agent-hooks"
SCRIPT = HOOKS / "mark-agent-edits.sh"
GOOD_SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "words.py").write_text("def words(text):\n    return text.split()\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    runner = CliRunner()
    assert runner.invoke(cli, ["--root", str(root), "init"]).exit_code == 0
    made = runner.invoke(cli, ["--root", str(root), "task", "new", GOOD_SPEC, "--json"])
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "base"], cwd=root, check=True)
    return root, json.loads(made.output)["task"]


def run_script(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)
    full = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], **env}
    return subprocess.run(
        ["sh", str(SCRIPT)], cwd=root, env=full, capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_the_hook_script_marks_the_agents_edits(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    if shutil.which("handrail", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("the handrail entry point is not installed next to this Python")
    (root / "src" / "words.py").write_text(
        "def words(text):\n    return text.split()\n\n\ndef top(n):\n    return n\n"
    )
    done = run_script(root, HANDRAIL_TASK=task_id, CLAUDE_PROJECT_DIR=str(root))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # Cursor reads stdout as JSON: the report goes to stderr
    assert f"as block {task_id}.1" in done.stderr
    assert f"# handrail:begin {task_id}.1\ndef top(n):" in (root / "src" / "words.py").read_text()


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_without_a_task_the_script_changes_nothing(repo: tuple[Path, str]) -> None:
    root, _ = repo
    (root / "src" / "words.py").write_text("x = 1\n")
    env = {k: v for k, v in os.environ.items() if k != "HANDRAIL_TASK"}
    done = subprocess.run(
        ["sh", str(SCRIPT)], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "HANDRAIL_TASK is not set" in done.stderr
    assert (root / "src" / "words.py").read_text() == "x = 1\n"


def test_the_hook_configurations_parse_and_run_the_script() -> None:
    claude = json.loads((HOOKS / "claude-code" / ".claude" / "settings.json").read_text())
    (stop,) = claude["hooks"]["Stop"]
    assert "mark-agent-edits.sh" in stop["hooks"][0]["command"]
    cursor = json.loads((HOOKS / "cursor" / ".cursor" / "hooks.json").read_text())
    assert cursor["version"] == 1
    assert "mark-agent-edits.sh" in cursor["hooks"]["stop"][0]["command"]
    aider = (HOOKS / "aider" / ".aider.conf.yml").read_text()
    assert "auto-test: true" in aider and "mark-agent-edits.sh" in aider
