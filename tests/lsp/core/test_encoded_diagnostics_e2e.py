"""End to end: what the server pushes after an edit, a workflow change or a settings change,
with most findings unchanged and their diagnostics taken from the previous push (issue 17),
is what a pull converts afresh, with the new message, severity and help link."""

from __future__ import annotations

from lsp_core_harness import Client, running
from lsprotocol import types

from handrail.workspace import Workspace

# Three blocks of tasks without task files: each gets HR306 (its message names the task)
# and HR300.
TEXT = (
    "# handrail:begin aaaaaa.1\nx = 1\n# handrail:end aaaaaa.1\n"
    "# handrail:begin bbbbbb.1\ny = 2\n# handrail:end bbbbbb.1\n"
    "if True:\n    # handrail:begin cccccc.1\n    z = 3\n    # handrail:end cccccc.1\n"
)


async def _pushed_is_pulled(client: Client, uri: str, version: int) -> list[types.Diagnostic]:
    """The push for `version` (waited for), checked against a pull of the same version."""
    count = len([p for p in client.published if p.uri == uri and p.version == version])
    pushed = await client.diagnostics_for(uri, version)
    assert count <= 1
    pulled = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert isinstance(pulled, types.RelatedFullDocumentDiagnosticReport)
    assert list(pulled.items) == list(pushed.diagnostics)
    return list(pushed.diagnostics)


def _hr306(diagnostics: list[types.Diagnostic], task: str) -> types.Diagnostic:
    (found,) = [d for d in diagnostics if d.code == "HR306" and f"task {task}," in d.message]
    return found


async def test_edits_workflow_and_settings_changes_push_the_new_diagnostics(
    workspace: Workspace,
) -> None:
    path = workspace.root / "a.py"
    path.write_text(TEXT)
    async with running([workspace.root], init_options={"debounce_ms": 0}, configuration={}) as (
        client,
        _,
    ):
        uri = client.open(path, TEXT)
        first = await _pushed_is_pulled(client, uri, 1)
        assert _hr306(first, "bbbbbb").severity == types.DiagnosticSeverity.Error

        # One block's task renamed: its message changes, the other findings do not.
        client.edit(uri, (3, 17), (3, 23), "dddddd")
        version = client.edit(uri, (5, 15), (5, 21), "dddddd")
        second = await _pushed_is_pulled(client, uri, version)
        assert _hr306(second, "dddddd").range.start.line == 3
        assert not [d for d in second if "bbbbbb" in d.message]
        assert _hr306(second, "aaaaaa") == _hr306(first, "aaaaaa")

        # A workflow that makes HR306 a warning: pushed again with the new severity.
        count = len(client.published)
        workspace.workflow_path.write_text('extends = "default"\n[severity]\nHR306 = "warning"\n')
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(
                        uri=workspace.workflow_path.as_uri(), type=types.FileChangeType.Created
                    )
                ]
            )
        )
        again = await client.diagnostics_for(uri, version, after=count)
        warned = _hr306(list(again.diagnostics), "aaaaaa")
        assert warned.severity == types.DiagnosticSeverity.Warning

        # New help links (docsBaseUrl): the next push links there.
        client.set_configuration({"docsBaseUrl": "https://docs.example/hr"}, section="handrail")
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        # (The server reads the settings back from the client: edit until a push has them.
        # Each edit is inside a block's line, so that no finding moves.)
        for _ in range(200):
            version = client.edit(uri, (1, 0), (1, 0), "x")
            pushed = await client.diagnostics_for(uri, version)
            link = _hr306(list(pushed.diagnostics), "aaaaaa").code_description
            if link is not None and link.href.startswith("https://docs.example/"):
                break
        version = client.edit(uri, (1, 0), (1, 0), "x")
        hr306 = _hr306(await _pushed_is_pulled(client, uri, version), "aaaaaa")
        assert hr306.code_description is not None
        assert hr306.code_description.href == "https://docs.example/hr/codes/HR306.md"


async def test_two_documents_with_the_same_findings_each_push_their_own(
    workspace: Workspace,
) -> None:
    text = "# handrail:begin aaaaaa.1\nx = 1\n# handrail:end aaaaaa.1\n"
    a, b = workspace.root / "a.py", workspace.root / "b.py"
    a.write_text("")
    b.write_text("")
    async with running([workspace.root], init_options={"debounce_ms": 0}) as (client, _):
        a_uri, b_uri = client.open(a, text), client.open(b, text)
        for uri, name in ((a_uri, "a.py"), (b_uri, "b.py")):
            diagnostics = await _pushed_is_pulled(client, uri, 1)
            assert {d.data["path"] for d in diagnostics} == {name}
        client.close(a_uri)
        version = client.edit(b_uri, (1, 0), (1, 0), "w = 0\n")
        diagnostics = await _pushed_is_pulled(client, b_uri, version)
        assert {d.data["path"] for d in diagnostics} == {"b.py"}
