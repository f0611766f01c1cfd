"""End to end: `workspace/diagnostic` shows what the gate sees in files that are not open
(issue 19.3)."""

from __future__ import annotations

import pytest
from features_harness import make_task, running
from lsprotocol import types

from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

BLOCK = "import os\n# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"


async def test_closed_files_get_the_gates_findings_with_result_ids(workspace: Workspace) -> None:
    make_task(workspace)
    (workspace.root / "src").mkdir()
    closed = workspace.root / "src" / "closed.py"
    closed.write_text(BLOCK)
    opened = workspace.root / "src" / "opened.py"
    opened.write_text(BLOCK.replace("k3f7qa.1", "k3f7qa.2"))
    async with running([workspace.root]) as client:
        assert client.initialized.capabilities.diagnostic_provider is not None
        provider = client.initialized.capabilities.diagnostic_provider
        assert getattr(provider, "workspace_diagnostics", False) is True
        open_uri = client.open(opened, opened.read_text())
        await client.diagnostics_of(open_uri, 1)

        first = await client.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(previous_result_ids=[])
        )
        by_uri = {r.uri: r for r in first.items}
        assert open_uri not in by_uri  # the document pull answers for open documents
        report = by_uri[closed.as_uri()]
        assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport)
        assert report.result_id
        (hr300,) = [d for d in report.items if d.code == "HR300"]
        # On the begin marker, like the open document's (issue 19.2).
        assert (hr300.range.start.line, hr300.range.end.line) == (1, 1)

        again = await client.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(
                previous_result_ids=[
                    types.PreviousResultId(uri=closed.as_uri(), value=report.result_id)
                ]
            )
        )
        unchanged = {r.uri: r for r in again.items}[closed.as_uri()]
        assert isinstance(unchanged, types.WorkspaceUnchangedDocumentDiagnosticReport)
        assert unchanged.result_id == report.result_id
