"""An empty Handrail workspace: conftest's `workspace` fixture, and module-scoped fixtures that
need one before any function-scoped fixture runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from user_dirs import isolated_user_dirs

from handrail.workspace import Workspace


def empty_workspace(root: Path) -> Workspace:
    """A workspace at `root` with `.handrail/tasks/` and no workflow file (default pack)."""
    (root / ".handrail" / "tasks").mkdir(parents=True)
    return Workspace.at(root)


@contextmanager
def shared_workspace(factory: pytest.TempPathFactory, name: str) -> Iterator[Workspace]:
    """An empty workspace for a module-scoped fixture (a server or editor several tests
    share), with this process's user folders isolated until the block ends: module fixtures
    start before conftest's autouse isolation, which applies per test."""
    with isolated_user_dirs(factory.mktemp("home")):
        yield empty_workspace(factory.mktemp(name) / "ws")
