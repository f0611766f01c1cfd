"""End to end over stdio: `python -m handrail lsp` driven by a pytest-lsp client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lsp_core_harness import Client, running
from lsprotocol import types

from handrail.codes import doc_url
from handrail.workspace import Workspace

BLOCK = "# handrail:begin abcdef.1\nx = 1\n# handrail:end abcdef.1\n"
TASK = 'id = "abcdef"\nspec = "Parse a header line. Keep it fast."\ncontext = []\n'


def codes(params: types.PublishDiagnosticsParams | None) -> list[str]:
    assert params is not None
    return sorted(str(d.code) for d in params.diagnostics)


@pytest.fixture
async def opened(
    workspace: Workspace,
) -> AsyncIterator[tuple[Client, str, types.PublishDiagnosticsParams]]:
    """The server (150 ms debounce, a docs base URL) with a.py open, an unverified block of a
    task that does not exist: the client, the URI and the first publication."""
    path = workspace.root / "a.py"
    path.write_text(BLOCK)
    options = {"debounce_ms": 150, "docs_base_url": "https://docs.example/codes"}
    async with running([workspace.root], init_options=options) as (client, _):
        uri = client.open(path, BLOCK)
        first = await client.diagnostics_for(uri, 1)
        assert codes(first) == ["HR300", "HR306"]
        yield client, uri, first


async def test_open_pushes_findings_with_source_docs_link_and_data(
    opened: tuple[Client, str, types.PublishDiagnosticsParams],
) -> None:
    _, _, first = opened
    hr300 = next(d for d in first.diagnostics if d.code == "HR300")
    assert hr300.source == "handrail"
    assert hr300.code_description is not None
    assert hr300.code_description.href == "https://docs.example/codes/HR300.md"
    assert hr300.data["code"] == "HR300" and hr300.data["path"] == "a.py"
    assert hr300.data["block_id"] == "abcdef.1"


async def test_a_blocks_finding_sits_on_its_begin_marker_with_the_span_in_its_data(
    opened: tuple[Client, str, types.PublishDiagnosticsParams],
) -> None:
    # Issue 19.2: on the begin marker only, the block's span in its data.
    _, _, first = opened
    hr300 = next(d for d in first.diagnostics if d.code == "HR300")
    marker = BLOCK.split("\n")[0]
    assert hr300.range == types.Range(
        start=types.Position(line=0, character=0),
        end=types.Position(line=0, character=len(marker)),
    )
    assert hr300.data["block_range"]["start"] == {"line": 0, "character": 0}
    assert hr300.data["block_range"]["end"]["line"] == 2


async def test_a_pull_answers_what_was_pushed(
    opened: tuple[Client, str, types.PublishDiagnosticsParams],
) -> None:
    client, uri, first = opened
    pulled = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert isinstance(pulled, types.RelatedFullDocumentDiagnosticReport)
    assert list(pulled.items) == list(first.diagnostics)


async def test_a_change_is_debounced_then_published_with_the_block_grown(
    opened: tuple[Client, str, types.PublishDiagnosticsParams],
) -> None:
    client, uri, _ = opened
    count = len(client.published)
    loop = asyncio.get_running_loop()
    started = loop.time()
    version = client.edit(uri, (1, 0), (1, 0), "y = 2\n")
    second = await client.diagnostics_for(uri, version, after=count)
    assert loop.time() - started >= 0.14  # the debounce held it back
    hr300 = next(d for d in second.diagnostics if d.code == "HR300")
    assert hr300.range.end.line == 0  # on the begin marker
    assert hr300.data["block_range"]["end"]["line"] == 3


async def test_closing_a_document_clears_its_findings(
    opened: tuple[Client, str, types.PublishDiagnosticsParams],
) -> None:
    client, uri, _ = opened
    count = len(client.published)
    client.close(uri)
    cleared = await client.diagnostics_for(uri, after=count)
    assert list(cleared.diagnostics) == []


async def test_a_flood_of_edits_publishes_only_the_latest_version(workspace: Workspace) -> None:
    path = workspace.root / "a.py"
    path.write_text(BLOCK)
    # The debounce is longer than any test: nothing is analysed until the save, which
    # analyses at once. A short debounce would let a loaded machine decide how many of the
    # edits arrive within it.
    async with running([workspace.root], init_options={"debounceMs": 60_000}) as (client, _):
        uri = client.open(path, BLOCK)
        await client.diagnostics_for(uri, 1)
        count = len(client.published)
        versions = [client.edit(uri, (1, 0), (1, 0), f"v{i} = {i}\n") for i in range(300)]
        client.save(uri)
        last = await client.diagnostics_for(uri, versions[-1], after=count)
        # Publications arrive in order: one for an older version would have come first.
        later = [p.version for p in client.published[count:] if p.uri == uri]
        assert later == [versions[-1]]
        hr300 = next(d for d in last.diagnostics if d.code == "HR300")
        assert hr300.data["block_range"]["end"]["line"] == 302  # every edit was applied


@pytest.mark.parametrize(
    ("offered", "encoding", "end"),
    [(None, "utf-16", 25), (["utf-8", "utf-16"], "utf-8", 31), (["utf-32"], "utf-32", 24)],
)
async def test_negotiated_encoding_gives_exact_ranges_with_emoji_cjk_and_crlf(
    workspace: Workspace, offered: list[str] | None, encoding: str, end: int
) -> None:
    text = "s = '😀'\r\n    # handrail:begin 中文😀\r\n"
    path = workspace.root / "a.py"
    path.write_bytes(text.encode())
    async with running([workspace.root], encodings=offered) as (client, result):
        caps = result.capabilities
        assert caps.position_encoding == encoding
        sync = caps.text_document_sync
        assert isinstance(sync, types.TextDocumentSyncOptions)
        assert sync.change == types.TextDocumentSyncKind.Incremental
        assert sync.open_close is True
        assert isinstance(sync.save, types.SaveOptions) and sync.save.include_text is True
        assert isinstance(caps.diagnostic_provider, types.DiagnosticOptions)
        uri = client.open(path, text)
        published = await client.diagnostics_for(uri, 1)
        (malformed,) = [d for d in published.diagnostics if d.code == "HR305"]
        assert malformed.range == types.Range(
            start=types.Position(line=1, character=4), end=types.Position(line=1, character=end)
        )
        # An edit addressed in the same encoding lands where the client meant it.
        units = {"utf-16": 2, "utf-8": 4, "utf-32": 1}[encoding]
        version = client.edit(uri, (0, 5), (0, 5 + units), "x")
        after = await client.diagnostics_for(uri, version)
        (moved,) = [d for d in after.diagnostics if d.code == "HR305"]
        assert moved.range == malformed.range


async def test_a_refused_edit_stops_findings_until_save_resyncs(workspace: Workspace) -> None:
    path = workspace.root / "a.py"
    path.write_text(BLOCK)
    async with running([workspace.root], init_options={"debounce_ms": 0}) as (client, _):
        uri = client.open(path, BLOCK)
        await client.diagnostics_for(uri, 1)
        version = client.edit(uri, (2, 5), (1, 0), "oops")  # reversed range
        lost = await client.diagnostics_for(uri, version)
        assert [d.severity for d in lost.diagnostics] == [types.DiagnosticSeverity.Information]
        assert "lost track" in lost.diagnostics[0].message
        await client.wait_for(
            lambda: any("refused an edit" in m.message for m in client.log_messages),
            what="the refusal in the log",
        )
        count = len(client.published)
        client.save(uri, BLOCK.replace("x = 1", "x = 2"))
        back = await client.diagnostics_for(uri, after=count)
        assert codes(back) == ["HR300", "HR306"]
        pulled = await client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        assert isinstance(pulled, types.RelatedFullDocumentDiagnosticReport)
        assert sorted(str(d.code) for d in pulled.items) == ["HR300", "HR306"]
        # Saved text that differs from an in-sync copy is taken, and said so in the log.
        count = len(client.published)
        client.save(uri, "x = 0\n")
        assert codes(await client.diagnostics_for(uri, after=count)) == []
        assert any("did not match the saved text" in m.message for m in client.log_messages)


async def test_large_insertion_hint_until_marked_and_never_on_open(workspace: Workspace) -> None:
    (workspace.tasks_dir / "abcdef.toml").write_text(TASK)
    body = "".join(f"line_{i} = {i}\n" for i in range(20))
    path = workspace.root / "a.py"
    path.write_text(body)
    async with running([workspace.root], init_options={"debounce_ms": 0}) as (client, _):
        uri = client.open(path, body)
        assert codes(await client.diagnostics_for(uri, 1)) == []
        version = client.edit(uri, (20, 0), (20, 0), body.replace("line_", "more_"))
        hinted = await client.diagnostics_for(uri, version)
        (hint,) = hinted.diagnostics
        assert hint.code == "HR308" and hint.severity == types.DiagnosticSeverity.Hint
        assert hint.range.start.line == 20 and hint.range.end.line == 39
        assert hint.data["fix"] == "mark" and hint.data["start_line"] == 21
        # An edit above moves the hint along.
        version = client.edit(uri, (0, 0), (0, 0), "top = 0\n")
        moved = await client.diagnostics_for(uri, version)
        (hint,) = [d for d in moved.diagnostics if d.code == "HR308"]
        assert hint.range.start.line == 21
        # Marking the lines ends it.
        client.edit(uri, (41, 0), (41, 0), "# handrail:end abcdef.1\n")
        version = client.edit(uri, (21, 0), (21, 0), "# handrail:begin abcdef.1\n")
        marked = await client.diagnostics_for(uri, version)
        assert "HR308" not in codes(marked)
        assert "HR300" in codes(marked)
        # A new large insertion, dismissed through the command the quick fix runs.
        version = client.edit(uri, (0, 0), (0, 0), body.replace("line_", "again_"))
        hinted = await client.diagnostics_for(uri, version)
        assert "HR308" in codes(hinted)
        count = len(client.published)
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="handrail.dismissInsertion", arguments=[{"uri": uri, "line": 5}]
            )
        )
        assert result == {"dismissed": True}
        dismissed = await client.diagnostics_for(uri, after=count)
        assert "HR308" not in codes(dismissed)


async def test_watched_files_reload_the_folder(workspace: Workspace) -> None:
    path = workspace.root / "a.py"
    path.write_text(BLOCK)
    async with running([workspace.root]) as (client, _):
        await client.wait_for(lambda: client.registrations, what="the watcher registration")
        (registration,) = client.registrations
        assert registration.method == "workspace/didChangeWatchedFiles"
        globs = [w["globPattern"] for w in registration.register_options["watchers"]]
        assert globs == ["**/*"]
        uri = client.open(path, BLOCK)
        assert "HR306" in codes(await client.diagnostics_for(uri, 1))
        task = workspace.tasks_dir / "abcdef.toml"
        task.write_text(TASK)
        count = len(client.published)
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=task.as_uri(), type=types.FileChangeType.Created)]
            )
        )
        again = await client.diagnostics_for(uri, after=count)
        assert codes(again) == ["HR300"]
        # Pulling clients are told to pull again.
        await client.wait_for(lambda: client.diagnostic_refresh_count >= 1, what="a refresh")


async def test_multi_root_folders_each_use_their_own_workflow(tmp_path: Path) -> None:
    roots = []
    for name, extra in (("one", ""), ("two", '[severity]\nHR306 = "off"\n')):
        root = tmp_path / name
        (root / ".handrail" / "tasks").mkdir(parents=True)
        (root / ".handrail" / "workflow.toml").write_text(f'extends = "default"\n{extra}')
        (root / "a.py").write_text(BLOCK)
        roots.append(root)
    three = tmp_path / "three"
    (three / ".handrail" / "tasks").mkdir(parents=True)
    (three / ".handrail" / "workflow.toml").write_text('[severity]\nHR300 = "off"\n')
    (three / "a.py").write_text(BLOCK)
    async with running(roots) as (client, _):
        one = client.open(roots[0] / "a.py", BLOCK)
        two = client.open(roots[1] / "a.py", BLOCK)
        assert codes(await client.diagnostics_for(one, 1)) == ["HR300", "HR306"]
        assert codes(await client.diagnostics_for(two, 1)) == ["HR300"]
        client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(
                event=types.WorkspaceFoldersChangeEvent(
                    added=[types.WorkspaceFolder(uri=three.as_uri(), name="three")], removed=[]
                )
            )
        )
        uri = client.open(three / "a.py", BLOCK)
        assert codes(await client.diagnostics_for(uri, 1)) == ["HR306"]


async def test_bad_settings_are_shown_once_and_defaults_used(workspace: Workspace) -> None:
    path = workspace.root / "a.py"
    path.write_text(BLOCK)
    async with running(
        [workspace.root],
        init_options={"debounceMs": -5},
        configuration={"max_document_bytes": "lots", "trusted": True},
    ) as (client, _):
        await client.wait_for(lambda: len(client.messages) >= 2, what="two setting messages")
        text = " | ".join(m.message for m in client.messages)
        assert "debounce_ms" in text and "max_document_bytes" in text
        for _ in range(2):
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=None)
            )
        uri = client.open(path, BLOCK)
        assert codes(await client.diagnostics_for(uri, 1)) == ["HR300", "HR306"]
        assert len(client.messages) == 2


async def test_a_document_over_the_size_limit_gets_one_info_diagnostic(
    workspace: Workspace,
) -> None:
    text = BLOCK * 20
    path = workspace.root / "big.py"
    path.write_text(text)
    async with running([workspace.root], init_options={"max_document_bytes": 100}) as (
        client,
        _,
    ):
        uri = client.open(path, text)
        (note,) = (await client.diagnostics_for(uri, 1)).diagnostics
        assert note.severity == types.DiagnosticSeverity.Information
        assert "did not analyse" in note.message and "max_document_bytes" in note.message
        assert f"it is {len(text)} bytes" in note.message
        # Its edits are kept (on its text alone): edited under the limit, it is analysed.
        version = client.edit(uri, (3, 0), (text.count("\n"), 0), "")
        assert codes(await client.diagnostics_for(uri, version)) == ["HR300", "HR306"]


async def test_task_and_workflow_files_get_their_diagnostics(workspace: Workspace) -> None:
    task = workspace.tasks_dir / "abcdef.toml"
    text = 'id = "abcdef"\nspec = ""\ncontext = ["missing.py"]\n'
    task.write_text(text)
    workflow = workspace.workflow_path
    bad = 'extends = "default"\n[spec]\nmax_sentences = "two"\n'
    workflow.write_text(bad)
    async with running([workspace.root]) as (client, _):
        task_uri = client.open(task, text, "toml")
        found = codes(await client.diagnostics_for(task_uri, 1))
        assert "HR100" in found and "HR205" in found
        wf_uri = client.open(workflow, bad, "toml")
        published = await client.diagnostics_for(wf_uri, 1)
        (invalid,) = [d for d in published.diagnostics if d.code == "HR400"]
        assert invalid.range.start.line == 2
        assert invalid.code_description is not None
        assert invalid.code_description.href == doc_url("HR400")


async def test_a_client_that_pulls_is_never_pushed_open_documents(workspace: Workspace) -> None:
    """VS Code and Neovim keep pushed and pulled diagnostics apart: both would show every
    finding twice (and count it twice in the Problems badge)."""
    path = workspace.root / "a.py"
    path.write_text(BLOCK)
    other = workspace.root / "b.py"
    other_block = BLOCK.replace("abcdef.1", "abcdef.2")  # one id in two files would be HR305
    other.write_text(other_block)

    async def pull(uri: str) -> list[str]:
        report = await client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
        return sorted(str(d.code) for d in report.items)

    options = {"debounce_ms": 0}
    async with running([workspace.root], init_options=options, pull=True) as (client, _):
        uri = client.open(path, BLOCK)
        assert await pull(uri) == ["HR300", "HR306"]
        client.edit(uri, (0, 0), (3, 0), "x = 1\n")
        assert await pull(uri) == []
        # A large paste: the HR308 hint comes with the next pull; dismissing it asks the
        # client to pull again.
        pasted = "".join(f"y{n} = {n}\n" for n in range(16))
        client.edit(uri, (1, 0), (1, 0), pasted)
        assert await pull(uri) == ["HR308"]
        refreshes = client.diagnostic_refresh_count
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="handrail.dismissInsertion", arguments=[{"uri": uri, "line": 2}]
            )
        )
        assert result == {"dismissed": True}
        await client.wait_for(lambda: client.diagnostic_refresh_count > refreshes, what="a refresh")
        assert await pull(uri) == []
        # A barrier: everything the server did so far has been sent before this answer.
        second = client.open(other, other_block)
        assert await pull(second) == ["HR300", "HR306"]
        assert [p for p in client.published if p.uri in (uri, second) and p.diagnostics] == []
