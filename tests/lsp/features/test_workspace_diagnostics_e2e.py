"""End to end: `workspace/diagnostic` shows what the gate sees in files that are not open
(issue 19.3)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from features_harness import Client, capabilities, make_task, running
from lsp_client import HANG_GUARD_S
from lsprotocol import types
from workspaces import shared_workspace

from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

BLOCK = "import os\n# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"


@dataclass(frozen=True)
class Pulled:
    """The module's one session: src/opened.py open, src/closed.py not, one workspace pull."""

    client: Client
    open_uri: str
    closed_uri: str
    first: types.WorkspaceDiagnosticReport


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pulled(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pulled]:
    """One server for the module's pull tests (pulling changes nothing)."""
    with shared_workspace(tmp_path_factory, "pulled") as ws:
        make_task(ws)
        (ws.root / "src").mkdir()
        closed = ws.root / "src" / "closed.py"
        closed.write_text(BLOCK)
        opened = ws.root / "src" / "opened.py"
        opened.write_text(BLOCK.replace("k3f7qa.1", "k3f7qa.2"))
        async with running([ws.root]) as client:
            open_uri = client.open(opened, opened.read_text())
            await client.diagnostics_of(open_uri, 1)
            first = await client.workspace_diagnostic_async(
                types.WorkspaceDiagnosticParams(previous_result_ids=[])
            )
            yield Pulled(client, open_uri, closed.as_uri(), first)


def _closed_report(pulled: Pulled) -> types.WorkspaceFullDocumentDiagnosticReport:
    report = {r.uri: r for r in pulled.first.items}[pulled.closed_uri]
    assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport)
    return report


@pytest.mark.asyncio(loop_scope="module")
async def test_the_server_offers_workspace_diagnostics(pulled: Pulled) -> None:
    provider = pulled.client.initialized.capabilities.diagnostic_provider
    assert provider is not None
    assert getattr(provider, "workspace_diagnostics", False) is True


@pytest.mark.asyncio(loop_scope="module")
async def test_a_workspace_pull_reports_closed_files_with_a_result_id_not_open_ones(
    pulled: Pulled,
) -> None:
    by_uri = {r.uri: r for r in pulled.first.items}
    assert pulled.open_uri not in by_uri  # the document pull answers for open documents
    assert _closed_report(pulled).result_id


@pytest.mark.asyncio(loop_scope="module")
async def test_a_closed_files_block_finding_sits_on_its_begin_marker(pulled: Pulled) -> None:
    (hr300,) = [d for d in _closed_report(pulled).items if d.code == "HR300"]
    # On the begin marker, like the open document's (issue 19.2).
    assert (hr300.range.start.line, hr300.range.end.line) == (1, 1)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_pull_with_the_previous_result_id_is_unchanged(pulled: Pulled) -> None:
    report = _closed_report(pulled)
    again = await pulled.client.workspace_diagnostic_async(
        types.WorkspaceDiagnosticParams(
            previous_result_ids=[
                types.PreviousResultId(uri=pulled.closed_uri, value=report.result_id)
            ]
        )
    )
    unchanged = {r.uri: r for r in again.items}[pulled.closed_uri]
    assert isinstance(unchanged, types.WorkspaceUnchangedDocumentDiagnosticReport)
    assert unchanged.result_id == report.result_id


def _closed_files(workspace: Workspace, count: int) -> list[Path]:
    (workspace.root / "src").mkdir()
    paths = []
    for n in range(1, count + 1):
        path = workspace.root / "src" / f"closed{n}.py"
        path.write_text(BLOCK.replace("k3f7qa.1", f"k3f7qa.{n}"))
        paths.append(path)
    return paths


def _pushed(client: Client, uri: str) -> list[types.Diagnostic] | None:
    """The newest diagnostics pushed for `uri`, None when none were."""
    for params in reversed(client.published):
        if params.uri == uri:
            return list(params.diagnostics)
    return None


async def test_a_client_without_workspace_diagnostics_gets_closed_files_pushed(
    workspace: Workspace,
) -> None:
    """The bounded fallback (issue 19.3): a client that never pulls workspace diagnostics
    (no `workspace.diagnostics` capability) is sent the gate's findings of files that are
    not open, and they are cleared when the findings go."""
    make_task(workspace)
    first, second = _closed_files(workspace, 2)
    async with running([workspace.root]) as client:
        for path in (first, second):
            diagnostics = await client.wait_for(
                lambda p=path: _pushed(client, p.as_uri()), what=f"findings of {path.name}"
            )
            (hr300,) = [d for d in diagnostics if d.code == "HR300"]
            assert (hr300.range.start.line, hr300.range.end.line) == (1, 1)

        # Opened, the document's own (versioned) diagnostics replace the pushed ones.
        uri = client.open(first, first.read_text())
        own = await client.diagnostics_of(uri, 1)
        assert [d.code for d in own].count("HR300") == 1

        # The markers go on disk: the file's findings go, and what was shown is cleared.
        second.write_text("x = 1\n")
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=second.as_uri(), type=types.FileChangeType.Changed)]
            )
        )
        await client.wait_for(
            lambda: _pushed(client, second.as_uri()) == [], what="the cleared findings"
        )


async def test_closed_file_findings_are_bounded_by_the_setting(workspace: Workspace) -> None:
    make_task(workspace)
    paths = _closed_files(workspace, 3)
    async with running([workspace.root], settings={"maxClosedFiles": 1}) as client:
        note = await client.wait_for(
            lambda: [m for m in client.log_messages if "that are not open" in m.message],
            what="the note on the files left out",
        )
        assert "findings of 1 of 3 files that are not open" in note[0].message
        pushed = {p.uri for p in client.published if p.diagnostics}
        assert pushed == {paths[0].as_uri()}  # errors first, then by path


async def test_a_pulling_client_has_the_pushed_findings_cleared_when_it_opens_the_file(
    workspace: Workspace,
) -> None:
    """A client that pulls document diagnostics (Neovim 0.11) keeps pushed and pulled ones
    apart: opening the file must clear the pushed ones, or every finding shows twice."""
    make_task(workspace)
    (closed,) = _closed_files(workspace, 1)
    pulling = capabilities()
    assert pulling.text_document is not None
    pulling.text_document.diagnostic = types.DiagnosticClientCapabilities()
    async with running([workspace.root], client_capabilities=pulling) as client:
        await client.wait_for(lambda: _pushed(client, closed.as_uri()), what="pushed findings")
        uri = client.open(closed, closed.read_text())
        await client.wait_for(lambda: _pushed(client, uri) == [], what="the cleared findings")
        pulled = await client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        assert [d.code for d in pulled.items].count("HR300") == 1


async def test_a_new_docs_url_is_a_new_result_for_a_closed_file(workspace: Workspace) -> None:
    """The result id covers what decides the diagnostics, the help links' base included: a
    changed `docsBaseUrl` must not leave a closed file's old links "unchanged"."""
    make_task(workspace)
    (workspace.root / "src").mkdir()
    closed = workspace.root / "src" / "closed.py"
    closed.write_text(BLOCK)
    async with running([workspace.root]) as client:
        opened = workspace.root / "src" / "opened.py"
        opened.write_text("x = 1\n")
        await client.diagnostics_of(client.open(opened, "x = 1\n"), 1)  # the folder is read
        first = await client.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(previous_result_ids=[])
        )
        (report,) = [r for r in first.items if r.uri == closed.as_uri()]
        assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport)
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"handrail": {"docsBaseUrl": "https://docs.example/handrail"}}
            )
        )

        async def pulled_again() -> types.WorkspaceDocumentDiagnosticReport:
            again = await client.workspace_diagnostic_async(
                types.WorkspaceDiagnosticParams(
                    previous_result_ids=[
                        types.PreviousResultId(uri=closed.as_uri(), value=report.result_id or "")
                    ]
                )
            )
            (found,) = [r for r in again.items if r.uri == closed.as_uri()]
            return found

        pulls_left = 200
        fresh = await pulled_again()
        while isinstance(fresh, types.WorkspaceUnchangedDocumentDiagnosticReport):
            pulls_left -= 1
            assert pulls_left > 0, "the new docs URL never gave a new result"
            await asyncio.sleep(0.05)
            fresh = await pulled_again()
        assert isinstance(fresh, types.WorkspaceFullDocumentDiagnosticReport)
        (hr300,) = [d for d in fresh.items if d.code == "HR300"]
        assert hr300.code_description is not None
        assert hr300.code_description.href.startswith("https://docs.example/handrail/")


async def test_a_fifo_in_the_repository_never_blocks_the_pull(workspace: Workspace) -> None:
    """A repository decides what its paths are: with `.handrail/workflow.toml` a FIFO, the gate
    reports it (HR400) and the pull that places that finding must still answer."""
    workflow = workspace.root / ".handrail" / "workflow.toml"
    workflow.unlink(missing_ok=True)
    workflow.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(workflow)
    async with running([workspace.root]) as client:
        opened = workspace.root / "opened.py"
        opened.write_text("x = 1\n")
        await client.diagnostics_of(client.open(opened, "x = 1\n"), 1)
        pulled = await asyncio.wait_for(
            client.workspace_diagnostic_async(
                types.WorkspaceDiagnosticParams(previous_result_ids=[])
            ),
            HANG_GUARD_S,
        )
        (report,) = [r for r in pulled.items if r.uri == workflow.as_uri()]
        assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport)
        assert [d.code for d in report.items] == ["HR400"]
