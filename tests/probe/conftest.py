"""Fixtures for the probe: small real pytest projects in a temporary, trusted workspace."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from probe_helpers import write_project

from handrail.verify import trust as trust_mod
from handrail.workspace import Workspace


@pytest.fixture(autouse=True)
def _fast_child_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    # The child pytest needs none of the plugins installed for this test run.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


@pytest.fixture
def project(workspace: Workspace) -> Callable[..., Workspace]:
    """A trusted pytest project with block abcdef.1 in calc.py (line 3 onwards)."""

    def make(body: str, tests: str, **options: str) -> Workspace:
        write_project(workspace, body, tests, **options)
        trust_mod.trust(workspace)
        return workspace

    return make
