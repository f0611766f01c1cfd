"""Issue 12.7 in the editor: codeDescription.href is always a web page.

VS Code opens a diagnostic's code link in a browser; a file: path of the package copy would be
this machine's only. The href is under the editor's `docsBaseUrl`, else the workflow's
`[docs] url`, else the published documentation; a docsBaseUrl that is no web address is
refused in plain words.
"""

from __future__ import annotations

from lsp_core_harness import running
from lsprotocol import types

from handrail.codes import doc_url
from handrail.workspace import Workspace

BLOCK = "# handrail:begin abcdef.1\nx = 1\n# handrail:end abcdef.1\n"


def _hrefs(params: types.PublishDiagnosticsParams | None) -> dict[str, str]:
    assert params is not None
    found: dict[str, str] = {}
    for diagnostic in params.diagnostics:
        assert diagnostic.code_description is not None
        found[str(diagnostic.code)] = diagnostic.code_description.href
    return found


async def test_hrefs_are_the_published_pages_without_any_setting(workspace: Workspace) -> None:
    path = workspace.root / "a.py"
    path.write_text(BLOCK)
    async with running([workspace.root]) as (client, _):
        uri = client.open(path, BLOCK)
        hrefs = _hrefs(await client.diagnostics_for(uri, 1))
        assert set(hrefs) == {"HR300", "HR306"}
        for code, href in hrefs.items():
            assert href == doc_url(code)
            assert href.startswith("https://") and href.endswith(f"/codes/{code}.md")


async def test_the_workflow_docs_url_then_the_editor_setting(workspace: Workspace) -> None:
    workspace.workflow_path.write_text(
        'extends = "default"\n[docs]\nurl = "https://docs.example.org/handrail"\n'
    )
    path = workspace.root / "a.py"
    path.write_text(BLOCK)
    async with running([workspace.root]) as (client, _):
        uri = client.open(path, BLOCK)
        hrefs = _hrefs(await client.diagnostics_for(uri, 1))
        assert hrefs["HR300"] == "https://docs.example.org/handrail/codes/HR300.md"
    async with running(
        [workspace.root], init_options={"docsBaseUrl": "http://intra.example/hr/{code}.html"}
    ) as (client, _):
        uri = client.open(path, BLOCK)
        hrefs = _hrefs(await client.diagnostics_for(uri, 1))
        assert hrefs["HR300"] == "http://intra.example/hr/HR300.html"


async def test_a_file_docs_base_url_is_refused_in_plain_words(workspace: Workspace) -> None:
    path = workspace.root / "a.py"
    path.write_text(BLOCK)
    async with running(
        [workspace.root], init_options={"docsBaseUrl": "file:///opt/handrail/docs"}
    ) as (client, _):
        await client.wait_for(lambda: client.messages, what="the setting's message")
        (message,) = client.messages
        assert message.type == types.MessageType.Warning
        assert "docs_base_url = 'file:///opt/handrail/docs' is invalid" in message.message
        assert "must start with https:// or http:// (got file:)" in message.message
        uri = client.open(path, BLOCK)
        hrefs = _hrefs(await client.diagnostics_for(uri, 1))
        assert hrefs["HR300"] == doc_url("HR300") and hrefs["HR300"].startswith("https://")
