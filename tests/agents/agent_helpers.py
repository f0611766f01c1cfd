"""What the agent tests share: a small git repository with Handrail, a task and a check."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from handrail.cli.main import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PY = sys.executable
GOOD_SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)
BASE = "def words(text):\n    return text.split()\n"
ADDED = BASE + "\n\ndef top_words(text, n):\n    return sorted(words(text))[:n]\n"
# The verification: a real script that passes while src/words.py defines top_words.
CHECK = (
    "import sys\nsys.path.insert(0, 'src')\nimport words\n"
    "sys.exit(0 if words.top_words('b a', 1) == ['a'] else 1)\n"
)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def handrail(root: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), *args], input=stdin)


def make_repo(tmp_path: Path) -> tuple[Path, str]:
    """A committed repository: src/words.py, check_words.py as the verification, one task."""
    root = tmp_path / "words"
    (root / "src").mkdir(parents=True)
    (root / "src" / "words.py").write_text(BASE)
    (root / "check_words.py").write_text(CHECK)
    git(root, "init", "-q")
    assert handrail(root, "init").exit_code == 0
    workflow = root / ".handrail" / "workflow.toml"
    workflow.write_text(
        workflow.read_text()
        + f'\n[verification]\ncommand = "{PY} check_words.py"\ntimeout_s = 60\n'
    )
    made = handrail(root, "task", "new", GOOD_SPEC, "--context", "src/words.py", "--json")
    assert made.exit_code == 0, made.output
    task_id = json.loads(made.output)["task"]
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root, task_id


def forget_active_task() -> None:
    """As on a machine where nobody chose a task yet (the task came with a pull, say)."""
    from handrail.verify.trust import state_dir

    shutil.rmtree(state_dir() / "agents", ignore_errors=True)


def payload(name: str, root: Path, **changes: Any) -> str:
    """A recorded hook input with its folder pointed at `root`."""
    data = json.loads((FIXTURES / name).read_text())
    if "cwd" in data:
        data["cwd"] = str(root)
    if "workspace_roots" in data:
        data["workspace_roots"] = [str(root)]
    data.update(changes)
    return json.dumps(data)


def hook_mark(root: Path, *args: str) -> Result:
    """`handrail mark --diff` as Claude Code's post-edit hook runs it (`args`: say `--task T`)."""
    return handrail(
        root,
        "mark",
        "--diff",
        "--agent",
        "claude-code",
        "--hook-input",
        *args,
        stdin=payload("claude_code_post_tool_use.json", root),
    )


def stop_check(root: Path, name: str, *args: str, **changes: Any) -> Result:
    """`handrail agent stop-check` as the agent runs it: from the hook's folder, no --root."""
    return CliRunner().invoke(
        cli, ["agent", "stop-check", *args], input=payload(name, root, **changes)
    )
