"""Fixtures for the verification tests: a small real pytest project in a temporary workspace."""

from __future__ import annotations

import pytest
from verify_helpers import PYTEST_COMMAND, TASK, block_file, write_task, write_workflow

from handrail.workspace import Workspace


@pytest.fixture(autouse=True)
def _fast_child_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    # The child pytest needs none of the plugins installed for this test run: 0.4 s, not 3 s.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


@pytest.fixture
def project(workspace: Workspace) -> Workspace:
    """A pytest project: calc.py holds block abcdef.1 (`add`), test_calc.py tests it."""
    write_workflow(workspace, PYTEST_COMMAND)
    write_task(workspace, TASK)
    (workspace.root / "calc.py").write_text(
        block_file(f"{TASK}.1", "def add(a, b):\n    return a + b\n"), encoding="utf-8"
    )
    (workspace.root / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        encoding="utf-8",
    )
    return workspace
