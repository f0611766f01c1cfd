"""End to end: inlay hints, path completion and document links in task files.

One scenario per test, all on one server started for the module (the `client` fixture): the
task file k3f7qa is only read, and each test that types into m4gq2a replaces its whole text
first, so no test's leftovers decide another's result.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from features_harness import Client, make_task, running
from lsprotocol import types
from workspaces import shared_workspace

from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio(loop_scope="module")


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


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Client, Workspace]]:
    """The server on a folder with a source tree, a task with two context entries (k3f7qa)
    and one with none (m4gq2a), both open."""
    with shared_workspace(tmp_path_factory, "task-files") as ws:
        _tree(ws)
        make_task(ws, context=["src/csv_utils.py", "src/cli.py#L1-L1"])
        make_task(ws, task_id="m4gq2a")
        async with running([ws.root]) as client:
            for task_id in ("k3f7qa", "m4gq2a"):
                uri = client.open(ws.tasks_dir / f"{task_id}.toml", language_id="toml")
                await client.diagnostics_of(uri, 1)
            yield client, ws


@pytest.fixture(scope="module")
def client(served: tuple[Client, Workspace]) -> Client:
    return served[0]


@pytest.fixture(scope="module")
def workspace(served: tuple[Client, Workspace]) -> Workspace:
    """The module's workspace, the one its server runs on (in place of conftest's)."""
    return served[1]


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


def _task_with_context(client: Client, workspace: Workspace) -> tuple[str, list[str]]:
    """Task k3f7qa, open as saved: its URI and lines."""
    uri = (workspace.tasks_dir / "k3f7qa.toml").as_uri()
    return uri, client.texts[uri].split("\n")


async def test_each_context_entry_and_the_total_get_a_token_hint(
    client: Client, workspace: Workspace
) -> None:
    uri, lines = _task_with_context(client, workspace)
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
    uri, lines = _task_with_context(client, workspace)
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


def _typed(client: Client, workspace: Workspace, context: str) -> tuple[str, list[str]]:
    """Task m4gq2a's whole text replaced by the saved one with `context` typed in place of
    its empty context list: its URI and new lines."""
    path = workspace.tasks_dir / "m4gq2a.toml"
    text = path.read_text().replace("context = []", context)
    uri = path.as_uri()
    client.replace_all(uri, text)
    return uri, text.split("\n")


def _typing(client: Client, workspace: Workspace, entry: str) -> tuple[str, int]:
    """Task m4gq2a with `entry` typed as an unfinished first context entry; its URI and the
    entry's line."""
    uri, lines = _typed(client, workspace, f'context = [\n    "{entry}\n]')
    return uri, lines.index(f'    "{entry}')


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
    uri, line = _typing(client, workspace, entry)
    assert await _complete(client, uri, line, character) == expected


async def test_nothing_to_complete_outside_an_entry_string(
    client: Client, workspace: Workspace
) -> None:
    uri, line = _typing(client, workspace, "src/cli.py")
    assert await _complete(client, uri, line, 2) == []


async def test_completion_of_an_empty_entry_leaves_ignored_folders_out(
    client: Client, workspace: Workspace
) -> None:
    uri, line = _typing(client, workspace, "")
    names = await _complete(client, uri, line, 5)
    assert "src/" in names and "build/" not in names and ".git/" not in names


async def test_an_inline_array_gets_a_hint_per_entry_then_the_total(
    client: Client, workspace: Workspace
) -> None:
    inline = 'context = ["src/cli.py", "src/pkg/mod.py"] # 😀'
    uri, lines = _typed(client, workspace, inline)
    line = lines.index(inline)
    shown = [(h.position.character, h.label) for h in await _hints(client, uri, line, line + 1)]
    # After each entry's closing quote, then the total after the closing bracket.
    assert [at for at, _ in shown] == [23, 41, 42]
    assert shown[0][1].endswith(" tokens") and shown[2][1].startswith("total ")
