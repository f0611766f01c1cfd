"""End to end: inlay hints, path completion and document links in task files.

One scenario per test, each on its own server and folder (the `client` fixture), so that one
scenario's failure or leftovers never decide another's result.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

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


@pytest.fixture
async def client(workspace: Workspace) -> AsyncIterator[Client]:
    """The server on a folder with a source tree, a task with two context entries
    (k3f7qa) and one with none (m4gq2a)."""
    _tree(workspace)
    make_task(workspace, context=["src/csv_utils.py", "src/cli.py#L1-L1"])
    make_task(workspace, task_id="m4gq2a")
    async with running([workspace.root]) as started:
        yield started


async def _hints(client: Client, uri: str, start: int, end: int) -> list[types.InlayHint]:
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=start, character=0),
                end=types.Position(line=end, character=0),
            ),
        )
    )
    return list(hints or [])


async def _open_task_with_context(client: Client, workspace: Workspace) -> tuple[str, list[str]]:
    path = workspace.tasks_dir / "k3f7qa.toml"
    text = path.read_text()
    uri = client.open(path, text, "toml")
    await client.diagnostics_of(uri, 1)
    return uri, text.split("\n")


async def test_each_context_entry_and_the_total_get_a_token_hint(
    client: Client, workspace: Workspace
) -> None:
    uri, lines = await _open_task_with_context(client, workspace)
    hints = await _hints(client, uri, 0, len(lines))
    shown = {(h.position.line, h.position.character): h.label for h in hints}
    first = lines.index('    "src/csv_utils.py",')
    close = lines.index("]")
    assert shown[(first, len(lines[first]))].endswith(" tokens")
    assert shown[(first + 1, len(lines[first + 1]))].endswith(" tokens")
    total = shown[(close, 1)]
    assert total.startswith("total ") and total.endswith(" of 24,000 tokens (cl100k_base)")


async def test_each_context_entry_links_to_its_file_and_line(
    client: Client, workspace: Workspace
) -> None:
    uri, lines = await _open_task_with_context(client, workspace)
    first = lines.index('    "src/csv_utils.py",')
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


async def _typing(client: Client, workspace: Workspace, entry: str) -> tuple[str, int]:
    """Task m4gq2a open with `entry` typed as an unfinished first context entry; its URI
    and the entry's line."""
    path = workspace.tasks_dir / "m4gq2a.toml"
    saved = path.read_text()
    uri = client.open(path, saved, "toml")
    typing = saved.replace("context = []", f'context = [\n    "{entry}\n]')
    client.replace_all(uri, typing)
    return uri, typing.split("\n").index(f'    "{entry}')


@pytest.mark.parametrize(
    ("entry", "character", "expected"),
    [
        ("sr", 7, ["src/"]),
        # Folders first, ignored files (*.log) left out.
        ("src/", 9, ["pkg/", "cli.py", "csv_utils.py"]),
        ("src/cs", 11, ["csv_utils.py"]),
        ("src/cli.py", 15, ["cli.py#L", "cli.py"]),
    ],
    ids=[
        "a-folder-name-being-typed",
        "in-a-folder-folders-first-ignored-files-left-out",
        "a-file-name-being-typed",
        "a-whole-file-name-offers-a-line-range",
    ],
)
async def test_completion_while_an_entry_is_typed(
    client: Client, workspace: Workspace, entry: str, character: int, expected: list[str]
) -> None:
    uri, line = await _typing(client, workspace, entry)
    assert await _complete(client, uri, line, character) == expected


async def test_nothing_to_complete_outside_an_entry_string(
    client: Client, workspace: Workspace
) -> None:
    uri, line = await _typing(client, workspace, "src/cli.py")
    assert await _complete(client, uri, line, 2) == []


async def test_completion_of_an_empty_entry_leaves_ignored_folders_out(
    client: Client, workspace: Workspace
) -> None:
    uri, line = await _typing(client, workspace, "")
    names = await _complete(client, uri, line, 5)
    assert "src/" in names and "build/" not in names and ".git/" not in names


async def test_an_inline_array_gets_a_hint_per_entry_then_the_total(
    client: Client, workspace: Workspace
) -> None:
    path = workspace.tasks_dir / "m4gq2a.toml"
    saved = path.read_text()
    uri = client.open(path, saved, "toml")
    text = saved.replace("context = []", 'context = ["src/cli.py", "src/pkg/mod.py"] # 😀')
    client.replace_all(uri, text)
    line = text.split("\n").index('context = ["src/cli.py", "src/pkg/mod.py"] # 😀')
    shown = [(h.position.character, h.label) for h in await _hints(client, uri, line, line + 1)]
    # After each entry's closing quote, then the total after the closing bracket.
    assert [at for at, _ in shown] == [23, 41, 42]
    assert shown[0][1].endswith(" tokens") and shown[2][1].startswith("total ")
