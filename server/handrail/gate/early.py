"""What the gate starts before Python imports the engine: its git calls (issue 17).

`handrail check` spends most of its time importing; `git ls-files` and `git grep` for the
markers need none of it, so they start first and run meanwhile (`files.start_early`). This
module imports nothing of the engine for that reason.
"""

from __future__ import annotations

from handrail.workspace import Workspace

MARKER_TEXT = "handrail:"
"""`block_ids.MARKER_NEEDLE` as text, the needle of the gate's `git grep` (tests/gate checks
they agree: with another needle the early grep would only go unused, never change a result)."""


def start_gate_git(ws: Workspace) -> None:
    """Start the git calls `gate.run.run_check` will make on `ws`."""
    from handrail.files import start_early

    start_early(ws, MARKER_TEXT)
