"""Fixtures for the evidence tests: the shop project in a temporary workspace."""

from __future__ import annotations

import pytest
from shop_project import write_shop

from handrail.workspace import Workspace


@pytest.fixture(autouse=True)
def _fast_child_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    # The child pytest needs none of the plugins installed for this test run.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


@pytest.fixture
def shop(workspace: Workspace) -> Workspace:
    write_shop(workspace)
    return workspace
