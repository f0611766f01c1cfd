"""``handrail.generate`` in the language server: the answer arrives as a marked block edit."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from chat_server import Script, answer_events, serving, write_settings
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

# The language-server test client lives with the feature tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lsp" / "features"))
from features_harness import Client, make_task, running

pytestmark = pytest.mark.asyncio

SOURCE = "import os\n\n\ndef f(x):\n    return x + 1\n"
CODE = "def g(y):\n    return y * 2\n"
ANSWER = f"Sure.\n\n```python\n{CODE}```\n"


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with serving() as running_server:
        yield running_server


@asynccontextmanager
async def editing(ws: Workspace, path: Path) -> AsyncIterator[tuple[Client, str]]:
    """The server on `ws`, with `path` open at SOURCE and its first diagnostics in."""
    async with running([ws.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        yield client, uri


def _source(ws: Workspace) -> Path:
    path = ws.root / "src" / "a.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SOURCE)
    return path


async def test_generate_inserts_a_marked_block_and_records_it(
    workspace: Workspace, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    script.events = answer_events(ANSWER)
    make_task(workspace, context=["src/a.py"])
    path = _source(workspace)
    async with editing(workspace, path) as (client, uri):
        result = await client.run("handrail.generate", {"uri": uri, "task": "k3f7qa", "line": 3})
        assert result["applied"] is True and result["block"] == "k3f7qa.1"
        assert client.texts[uri] == (
            "import os\n\n# handrail:begin k3f7qa.1\n" + CODE + "# handrail:end k3f7qa.1\n"
            "\ndef f(x):\n    return x + 1\n"
        )
        (edit,) = client.applied
        (document_edit,) = edit.document_changes
        assert document_edit.text_document.version == 1
        (record,) = Ledger(workspace).read().records
        assert isinstance(record, BlockMarked)
        assert (record.block_id, record.path, record.begin_line) == ("k3f7qa.1", "src/a.py", 3)
        diagnostics = await client.diagnostics_of(uri, client.versions[uri])
        assert "HR300" in [d.code for d in diagnostics]
        assert path.read_text() == SOURCE  # the editor's buffer changed, not the file


async def test_a_failed_answer_changes_nothing(
    workspace: Workspace, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    script.status, script.body = 429, b'{"error": {"message": "slow down"}}'
    make_task(workspace, context=["src/a.py"])
    path = _source(workspace)
    async with editing(workspace, path) as (client, uri):
        with pytest.raises(JsonRpcException) as caught:
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="handrail.generate", arguments=[{"uri": uri, "task": "k3f7qa"}]
                )
            )
        assert "HTTP 429" in caught.value.message and "Nothing was changed" in caught.value.message
        assert client.applied == [] and client.texts[uri] == SOURCE
        assert Ledger(workspace).read().records == []


async def test_a_refused_gate_sends_nothing(
    workspace: Workspace, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    make_task(workspace, context=["src/missing.py"])
    path = _source(workspace)
    async with editing(workspace, path) as (client, uri):
        result = await client.run("handrail.generate", {"uri": uri, "task": "k3f7qa"})
        assert result["refused"] is True and result["applied"] is False
        assert any(f["code"].startswith("HR2") for f in result["findings"])
        assert script.requests == [] and client.applied == []


async def test_insert_generated_marks_code_written_elsewhere(workspace: Workspace) -> None:
    make_task(workspace, context=["src/a.py"])
    path = _source(workspace)
    async with editing(workspace, path) as (client, uri):
        result = await client.run(
            "handrail.insertGenerated", {"uri": uri, "task": "k3f7qa", "code": CODE}
        )
        assert result["applied"] is True and result["block"] == "k3f7qa.1"
        assert (result["begin_line"], result["end_line"]) == (6, 9)
        assert client.texts[uri] == SOURCE + (
            "# handrail:begin k3f7qa.1\n" + CODE + "# handrail:end k3f7qa.1\n"
        )
        (record,) = Ledger(workspace).read().records
        assert isinstance(record, BlockMarked) and record.begin_line == 6
        diagnostics = await client.diagnostics_of(uri, client.versions[uri])
        assert "HR300" in [d.code for d in diagnostics]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"task": "k3f7qa", "code": "   \n"}, '"code" must be'),
        ({"task": "nosuch", "code": CODE}, "there is no task 'nosuch'"),
        ({"task": "k3f7qa", "code": CODE, "line": 99}, "past the end of the file"),
        ({"task": "k3f7qa", "code": CODE, "line": 0}, "is not a line number"),
    ],
)
async def test_insert_generated_refuses_bad_arguments_and_changes_nothing(
    workspace: Workspace, arguments: dict[str, object], expected: str
) -> None:
    make_task(workspace, context=["src/a.py"])
    path = _source(workspace)
    async with editing(workspace, path) as (client, uri):
        with pytest.raises(JsonRpcException) as caught:
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="handrail.insertGenerated", arguments=[{"uri": uri, **arguments}]
                )
            )
        assert expected in caught.value.message
        assert client.applied == [] and client.texts[uri] == SOURCE
        assert Ledger(workspace).read().records == []


async def test_generate_here_is_offered_at_a_cursor_outside_blocks_and_inserts_there(
    workspace: Workspace, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    script.events = answer_events(ANSWER)
    make_task(workspace, context=["src/a.py"])
    make_task(workspace, task_id="m2x7zt", context=["src/a.py"])
    path = _source(workspace)
    async with editing(workspace, path) as (client, uri):
        actions = [
            a for a in await client.code_actions(uri, (2, 0), (2, 0)) if a.title.startswith("Gen")
        ]
        assert sorted(a.title.split(":")[0] for a in actions) == [
            "Generate here for task k3f7qa",
            "Generate here for task m2x7zt",
        ]
        assert {a.kind for a in actions} == {"refactor.handrail.generate"}
        # A selection is for marking, not generating.
        selected = await client.code_actions(uri, (2, 0), (3, 2))
        assert not [a for a in selected if a.title.startswith("Generate")]
        (action,) = [a for a in actions if "k3f7qa" in a.title]
        assert action.command is not None
        assert list(action.command.arguments or []) == [{"uri": uri, "task": "k3f7qa", "line": 3}]
        result = await client.run(action.command)
        assert result["applied"] is True and (result["begin_line"], result["end_line"]) == (3, 6)
        # Inside the new block nothing is offered.
        inside = await client.code_actions(uri, (3, 0), (3, 0))
        assert not [a for a in inside if a.title.startswith("Generate")]


async def test_generate_here_with_a_failing_gate_says_why_in_a_message(
    workspace: Workspace, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    make_task(workspace, context=["src/missing.py"])
    path = _source(workspace)
    async with editing(workspace, path) as (client, uri):
        (action,) = [
            a for a in await client.code_actions(uri, (0, 0), (0, 0)) if a.title.startswith("Gen")
        ]
        result = await client.run(action.command)
        assert result["refused"] is True and script.requests == []
        message = await client.wait_for(lambda: client.messages, what="a message")
        assert "sent nothing for task k3f7qa" in message[-1].message
        assert "HR205" in message[-1].message


CODE_2 = "def g(y):\n    return y + y\n"


async def test_regenerate_replaces_the_block_from_its_code_action(
    workspace: Workspace, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    script.events = answer_events(ANSWER)
    make_task(workspace, context=["src/a.py"])
    path = _source(workspace)
    async with editing(workspace, path) as (client, uri):
        first = await client.run("handrail.generate", {"uri": uri, "task": "k3f7qa", "line": 3})
        assert first["applied"] is True
        await client.diagnostics_of(uri, client.versions[uri])

        actions = await client.code_actions(uri, (3, 0), (3, 0))
        (regenerate,) = [a for a in actions if a.title.startswith("Regenerate block k3f7qa.1")]
        script.events = answer_events(f"```python\n{CODE_2}```\n")
        assert regenerate.command is not None
        result = await client.run(regenerate.command)
        assert result["applied"] is True and result["replaced"] == "k3f7qa.1"
        first_pack, second_pack = (r["messages"][-1]["content"] for r in script.requests)
        assert "The code goes into `src/a.py`, before line 3." in first_pack
        assert "import os\n\n<<< the code goes here >>>\n\ndef f(x):" in first_pack
        assert "replacing an earlier attempt that failed" in second_pack
        assert CODE not in second_pack  # the failed attempt is not shown
        assert result["block"] == "k3f7qa.2"
        assert client.texts[uri] == (
            "import os\n\n# handrail:begin k3f7qa.2\n" + CODE_2 + "# handrail:end k3f7qa.2\n"
            "\ndef f(x):\n    return x + 1\n"
        )
        marks = [r for r in Ledger(workspace).read().records if isinstance(r, BlockMarked)]
        (record,) = [r for r in marks if r.block_id == "k3f7qa.2"]
        assert record.replaces == "k3f7qa.1" and record.temperature == 0.2
        assert record.endpoint is not None and record.pack_hash is not None

        # A closed task's blocks are not offered for regeneration.
        await client.run("handrail.closeTask", {"task": "k3f7qa", "reason": "abandoned"})
        actions = await client.code_actions(uri, (3, 0), (3, 0))
        assert not [a for a in actions if a.title.startswith("Regenerate")]
