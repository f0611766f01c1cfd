"""HR305 quick fixes built from finding data, on DocumentAnalysis input (no server)."""

from __future__ import annotations

import pytest

from handrail.blocks.markers import parse_blocks
from handrail.lsp.features.code_actions import marker_fix
from handrail.lsp.state import FolderState, analyze_text
from handrail.tasks.files import save_task
from handrail.tasks.model import Task
from handrail.text_changes import apply_changes
from handrail.workspace import Workspace

B, E = "# handrail:begin", "# handrail:end"


@pytest.mark.parametrize(
    ("text", "title", "fixed"),
    [
        (
            f"{B} k3f7qa.1\nx = 1\n",
            "Add the missing end marker after line 2",
            f"{B} k3f7qa.1\nx = 1\n{E} k3f7qa.1\n",
        ),
        (
            f"{B} k3f7qa.1\r\nx = 1",
            "Add the missing end marker after line 2",
            f"{B} k3f7qa.1\r\nx = 1\r\n{E} k3f7qa.1",
        ),
        (f"x = 1\n{E} k3f7qa.1\ny = 2\n", "Remove the marker on line 2", "x = 1\ny = 2\n"),
        (f"x = 1\n{E} k3f7qa.1", "Remove the marker on line 2", "x = 1"),
        (
            f"{B} k3f7qa.1\n{B} k3f7qa.2\nx = 1\n{E} k3f7qa.2\n{E} k3f7qa.1\n",
            "Remove the inner markers (lines 2 and 4)",
            f"{B} k3f7qa.1\nx = 1\n{E} k3f7qa.1\n",
        ),
        (
            f"{B} k3f7qa.1\nx = 1\n{E} k3f7qa.9\n",
            f"Change line 3 to `{E} k3f7qa.1`",
            f"{B} k3f7qa.1\nx = 1\n{E} k3f7qa.1\n",
        ),
    ],
)
def test_each_fix_leaves_well_formed_markers(
    workspace: Workspace, text: str, title: str, fixed: str
) -> None:
    save_task(workspace, Task(id="k3f7qa", spec="Return one. It must follow a.py."))
    folder = FolderState(workspace)
    analysis = analyze_text("file:///a.py", 1, text, folder=folder, rel="a.py")
    hr305 = [f for f in analysis.findings if f.code == "HR305"]
    # A mismatched end is also an unclosed begin: the fix under test is the one on its line.
    finding = next(
        f for f in hr305 if title.startswith("Change") == (f.data["fix"] == "replace-line")
    )
    got_title, changes = marker_fix(analysis, finding.data)
    assert got_title == title
    result = apply_changes(text, changes)
    assert result == fixed
    assert parse_blocks(result, "a.py").problems == []


def test_a_malformed_marker_has_no_automatic_fix(workspace: Workspace) -> None:
    text = f"{B} NOT-AN-ID\nx = 1\n"
    analysis = analyze_text("file:///a.py", 1, text, folder=FolderState(workspace), rel="a.py")
    (finding,) = [f for f in analysis.findings if f.code == "HR305"]
    assert marker_fix(analysis, finding.data) == ("", [])
