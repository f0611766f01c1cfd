"""Helpers for the probe tests: small real pytest projects (blocks, tests, workflow)."""

from __future__ import annotations

import sys
from pathlib import Path

from toml_text import toml_string

from handrail.workspace import Workspace

PY = sys.executable
TASK = "abcdef"
PYTEST_COMMAND = f"{PY} -m pytest -q -p no:cacheprovider"
SPEC = "Given a list, return its windows. It must never raise and follow the style of calc.py."

WINDOWS = """\
def windows(items, size):
    if size <= 0:
        return []
    count = len(items) - size + 1
    return [items[i : i + size] for i in range(count)]
"""
"""A block with an off-by-one waiting to happen (`+ 1`), and a guard (`<= 0`)."""

STRONG_TESTS = """\
from calc import windows


def test_windows_of_three():
    assert windows([1, 2, 3, 4], 2) == [[1, 2], [2, 3], [3, 4]]


def test_window_as_long_as_the_list():
    assert windows([1, 2], 2) == [[1, 2]]


def test_size_one():
    assert windows([1, 2], 1) == [[1], [2]]


def test_no_window_of_size_zero():
    assert windows([1, 2], 0) == []
"""

CLAMP = """\
def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
"""

WEAK_TESTS = """\
from calc import clamp


def test_inside():
    assert clamp(5, 0, 10) == 5


def test_below():
    assert clamp(-3, 0, 10) == 0
"""

NO_ASSERT_TESTS = """\
from calc import clamp


def test_it_runs():
    clamp(5, 0, 10)
    clamp(-3, 0, 10)
    clamp(30, 0, 10)
"""


def block_file(block_id: str, body: str, before: str = "") -> str:
    return f"{before}# handrail:begin {block_id}\n{body}# handrail:end {block_id}\n"


def write_project(
    ws: Workspace, body: str, tests: str, *, command: str = PYTEST_COMMAND, extends: str = "default"
) -> None:
    ws.workflow_path.write_text(
        f'extends = "{extends}"\n\n[workflow]\nowner = "Ada Tester"\nreviewed = 2026-11-01\n\n'
        f"[verification]\ncommand = {toml_string(command)}\ntimeout_s = 60\n",
        encoding="utf-8",
    )
    (ws.tasks_dir / f"{TASK}.toml").write_text(
        f'id = "{TASK}"\nspec = "{SPEC}"\ncontext = []\n', encoding="utf-8"
    )
    (ws.root / "calc.py").write_text(
        block_file(f"{TASK}.1", body, before="import math\n\n"), encoding="utf-8"
    )
    (ws.root / "test_calc.py").write_text(tests, encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` and its bytes, except what Handrail itself writes to
    `.handrail/` (ledger records, lock files); the workflow and task files are included."""
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if parts[0] == ".handrail" and parts[1:2] not in [("tasks",), ("workflow.toml",)]:
            continue
        if path.is_file():
            found["/".join(parts)] = path.read_bytes()
    return found
