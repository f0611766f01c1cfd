"""Running git in a test's temporary repository (identity and config come from conftest's
isolated HOME)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    """git's stdout for `args` run in `root`; CalledProcessError (with stderr) on failure."""
    done = subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, input=stdin
    )
    return done.stdout
