"""An empty Handrail workspace: conftest's `workspace` fixture, and module-scoped fixtures that
need one before any function-scoped fixture runs."""

from __future__ import annotations

from pathlib import Path

from handrail.workspace import Workspace


def empty_workspace(root: Path) -> Workspace:
    """A workspace at `root` with `.handrail/tasks/` and no workflow file (default pack)."""
    (root / ".handrail" / "tasks").mkdir(parents=True)
    return Workspace.at(root)
