"""What the command-line tests share: running git and `handrail` in a temporary repository
(git identity and config come from conftest's isolated HOME)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from handrail.cli.main import cli


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
