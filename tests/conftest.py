"""Fixtures every test area shares. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from handrail.workflow.load import load_pack
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

# Helpers shared by test folders (which are not packages) live in tests/support/.
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from user_dirs import isolated_user_dirs  # found through the line above
from workspaces import empty_workspace

settings.register_profile(
    "handrail",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # In CI the same examples every run: a gate must not fail on the luck of the draw. Bugs
    # are hunted on developer machines (random examples) and with HYPOTHESIS_MAX_EXAMPLES.
    derandomize=bool(os.environ.get("CI")),
    database=None if os.environ.get("CI") else settings.default.database,
)
settings.load_profile("handrail")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep caches, trust records and git identity out of the real home folder."""
    with isolated_user_dirs(tmp_path_factory.mktemp("home")):
        yield


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace with `.handrail/tasks/` and no workflow file (default pack)."""
    return empty_workspace(tmp_path / "ws")


@pytest.fixture(scope="session")
def default_workflow() -> Workflow:
    """The shipped default pack, as a workspace with no workflow file gets it."""
    return load_pack("default")


@pytest.fixture(scope="session")
def make_workflow() -> Callable[..., Workflow]:
    """The default pack with `[spec]` fields and `[severity]` entries replaced (validated)."""

    def build(severity: dict[str, str] | None = None, **spec: Any) -> Workflow:
        data = load_pack("default").model_dump()
        data["spec"].update(spec)
        data["severity"] = severity or {}
        return Workflow.model_validate(data)

    return build
