"""The set-up snippets of docs/editors.md, read the way the editor tests use them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "editors.md"


def snippet(name: str) -> str:
    """The code block right after ``<!-- test: name -->`` in docs/editors.md."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(rf"<!-- test: {re.escape(name)} -->\n```\w*\n(.*?)\n```", text, re.S)
    assert found is not None, f"no snippet {name!r} in {DOCS}"
    return found.group(1) + "\n"


def search_path() -> str:
    """PATH with this interpreter's bin folder first, where `handrail` and nvim are installed."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def editor(name: str) -> str:
    """The editor's executable; skipped when missing, except in CI where that is a failure."""
    found = shutil.which(name, path=search_path())
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed, and CI must run the editor tests")
        pytest.skip(f"{name} is not installed (CI installs it; see docs/editors.md)")
    return found


def run_editor(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a headless editor session in `cwd` with `env` added (PATH finds `handrail`);
    the caller asserts on its exit code and output."""
    full = dict(os.environ)
    full.update(PATH=search_path(), **env)
    return subprocess.run(
        argv, cwd=cwd, env=full, capture_output=True, text=True, timeout=240, check=False
    )
