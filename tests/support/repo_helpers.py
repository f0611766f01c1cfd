"""What the command-line tests share: running git and `handrail` in a temporary repository
(git identity and config come from conftest's isolated HOME)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from handrail.cli.main import cli

GOOD_SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)
"""A spec `handrail task new` takes without a finding, about src/words.py."""


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    """git's stdout for `args` run in `root`; CalledProcessError (with stderr) on failure."""
    done = subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, input=stdin
    )
    return done.stdout


def run(root: Path, *args: str) -> Result:
    """`handrail --root ROOT ARGS…` in-process; exceptions propagate to the test."""
    return CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)


def init_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository at `root` holding `files` (relative path -> text), `handrail init` run."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "init", "-q")
    result = run(root, "init")
    assert result.exit_code == 0, result.output
    return root


def new_task(root: Path, *context: str, spec: str = GOOD_SPEC) -> str:
    """`handrail task new SPEC --context …` in `root`, which must succeed; the task's id."""
    args = ["task", "new", spec, "--json"]
    for entry in context:
        args += ["--context", entry]
    result = run(root, *args)
    assert result.exit_code == 0, result.output
    task_id = json.loads(result.output)["task"]
    assert isinstance(task_id, str)
    return task_id


def record_passing_run(root: Path, rel: str, task: str, *, started: str | None = None) -> str:
    """Record in `root`'s ledger a passing `python -m pytest -q` run of task `task` that saw
    the first block of `rel` as it is now (no line evidence); the block's id."""
    import datetime as dt

    from handrail.blocks.markers import parse_blocks
    from handrail.ledger.records import VerificationRun
    from handrail.ledger.store import Ledger
    from handrail.workspace import Workspace

    block = parse_blocks((root / rel).read_text(), rel).blocks[0]
    at = started or dt.datetime.now(dt.UTC).isoformat()
    Ledger(Workspace.at(root)).append(
        VerificationRun.create(
            task_id=task,
            started_at=at,
            finished_at=at,
            command=["python", "-m", "pytest", "-q"],
            exit_code=0,
            passed=True,
            timed_out=False,
            blocks={block.id: block.content_hash},
            output_tail="1 passed",
            first_attempt=[block.id],
            author="Ada",
        )
    )
    return block.id
