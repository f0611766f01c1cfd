"""End to end: inlay hints, path completion and document links in task files."""

from __future__ import annotations

import pytest
from features_harness import Client, make_task, running
from lsprotocol import types

from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio


def _tree(ws: Workspace) -> None:
    (ws.root / "src" / "pkg").mkdir(parents=True)
    (ws.root / "src" / "csv_utils.py").write_text(
        "def parse_row(line):\n    return line.split(',')\n"
    )
    (ws.root / "src" / "cli.py").write_text("print('hi')\n")
    (ws.root / "src" / "pkg" / "mod.py").write_text("X = 1\n")
    (ws.root / "src" / "notes.log").write_text("ignored\n")
    (ws.root / "build").mkdir()
    (ws.root / ".gitignore").write_text("*.log\n")


async def test_task_file_features(workspace: Workspace) -> None:
    _tree(workspace)
    make_task(workspace, context=["src/csv_utils.py", "src/cli.py#L1-L1"])
    make_task(workspace, task_id="m4gq2a")
    async with running([workspace.root]) as client:
        await _inlay_hints_and_links(client, workspace)
        await _path_completion_while_an_entry_is_typed(client, workspace)
        await _hints_of_an_inline_array(client, workspace)


async def _inlay_hints_and_links(client: Client, workspace: Workspace) -> None:
    path = workspace.tasks_dir / "k3f7qa.toml"
    text = path.read_text()
    lines = text.split("\n")
    uri = client.open(path, text, "toml")
    await client.diagnostics_of(uri, 1)
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=0, character=0),
                end=types.Position(line=len(lines), character=0),
            ),
        )
    )
    shown = {(h.position.line, h.position.character): h.label for h in hints or []}
    first = lines.index('    "src/csv_utils.py",')
    close = lines.index("]")
    assert shown[(first, len(lines[first]))].endswith(" tokens")
    assert shown[(first + 1, len(lines[first + 1]))].endswith(" tokens")
    total = shown[(close, 1)]
    assert total.startswith("total ") and total.endswith(" of 24,000 tokens (cl100k_base)")

    links = await client.text_document_document_link_async(
        types.DocumentLinkParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    targets = {(link.range.start.line, link.target) for link in links or []}
    assert targets == {
        (first, (workspace.root / "src" / "csv_utils.py").as_uri()),
        (first + 1, (workspace.root / "src" / "cli.py").as_uri() + "#L1"),
    }


async def _complete(client: Client, uri: str, line: int, character: int) -> list[str]:
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )
    assert isinstance(result, types.CompletionList)
    return [item.text_edit.new_text for item in result.items]


async def _path_completion_while_an_entry_is_typed(client: Client, workspace: Workspace) -> None:
    path = workspace.tasks_dir / "m4gq2a.toml"
    saved = path.read_text()
    uri = client.open(path, saved, "toml")
    typing = saved.replace("context = []", 'context = [\n    "sr\n]')
    client.replace_all(uri, typing)
    line = typing.split("\n").index('    "sr')
    assert await _complete(client, uri, line, 7) == ["src/"]

    typing = typing.replace('    "sr\n', '    "src/\n')
    client.replace_all(uri, typing)
    # Folders first, ignored files (*.log) left out.
    assert await _complete(client, uri, line, 9) == ["pkg/", "cli.py", "csv_utils.py"]

    typing = typing.replace('    "src/\n', '    "src/cs\n')
    client.replace_all(uri, typing)
    assert await _complete(client, uri, line, 11) == ["csv_utils.py"]

    typing = typing.replace('    "src/cs\n', '    "src/cli.py\n')
    client.replace_all(uri, typing)
    assert await _complete(client, uri, line, 15) == ["cli.py#L", "cli.py"]

    # Outside an entry string there is nothing to complete; the build/ folder is ignored.
    assert await _complete(client, uri, line, 2) == []
    typing = typing.replace('    "src/cli.py\n', '    "\n')
    client.replace_all(uri, typing)
    names = await _complete(client, uri, line, 5)
    assert "src/" in names and "build/" not in names and ".git/" not in names


async def _hints_of_an_inline_array(client: Client, workspace: Workspace) -> None:
    path = workspace.tasks_dir / "m4gq2a.toml"
    text = path.read_text().replace(
        "context = []", 'context = ["src/cli.py", "src/pkg/mod.py"] # 😀'
    )
    uri = path.as_uri()  # still open from the completion test
    client.replace_all(uri, text)
    line = text.split("\n").index('context = ["src/cli.py", "src/pkg/mod.py"] # 😀')
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=line, character=0),
                end=types.Position(line=line + 1, character=0),
            ),
        )
    )
    shown = [(h.position.character, h.label) for h in hints or []]
    # After each entry's closing quote, then the total after the closing bracket.
    assert [at for at, _ in shown] == [23, 41, 42]
    assert shown[0][1].endswith(" tokens") and shown[2][1].startswith("total ")
