"""End to end: "Mark selection as generated" from a code action to the ledger record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from features_harness import Client, make_task, running, write_source
from lsp_client import env_with_sitecustomize

from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

SOURCE = "import os\n\ndef f(x):\n    return x + 1  # 😀 日本\n"


def _source(ws: Workspace, text: str = SOURCE) -> Path:
    return write_source(ws, text)


@pytest.fixture
async def opened(workspace: Workspace) -> AsyncIterator[tuple[Client, str]]:
    """The server with task k3f7qa and src/a.py open (analysed): the client and the URI."""
    make_task(workspace)
    path = _source(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        yield client, uri


async def _mark_f(client: Client, uri: str) -> dict[str, Any]:
    """Run the first action offered on f(): marking it for task k3f7qa; its answer."""
    actions = await client.code_actions(uri, (2, 0), (4, 0))
    result: dict[str, Any] = await client.run(actions[0].command)
    return result


async def test_a_selection_offers_marking_for_each_task_then_a_new_one(
    opened: tuple[Client, str],
) -> None:
    client, uri = opened
    titles = [a.title for a in await client.code_actions(uri, (2, 0), (4, 0))]
    assert titles[0].startswith("Mark selection as generated for task k3f7qa: Given a CSV")
    assert titles[-1] == "Mark selection as generated for a new task"


async def test_marking_for_a_task_inserts_markers_tied_to_the_version(
    opened: tuple[Client, str],
) -> None:
    client, uri = opened
    result = await _mark_f(client, uri)
    assert result["applied"] is True
    assert result["block"] == "k3f7qa.1"
    assert client.texts[uri] == (
        "import os\n\n# handrail:begin k3f7qa.1\ndef f(x):\n    return x + 1  # 😀 日本\n"
        "# handrail:end k3f7qa.1\n"
    )
    (edit,) = client.applied
    (document_edit,) = edit.document_changes
    assert document_edit.text_document.version == 1  # tied to the version it was made for
    assert [e.range.start == e.range.end for e in document_edit.edits] == [True, True]


async def test_marking_for_a_task_records_the_block(
    opened: tuple[Client, str], workspace: Workspace
) -> None:
    client, uri = opened
    await _mark_f(client, uri)
    (record,) = Ledger(workspace).read().records
    assert isinstance(record, BlockMarked)
    assert (record.block_id, record.path, record.begin_line) == ("k3f7qa.1", "src/a.py", 3)


async def test_a_marked_block_is_unverified_and_can_only_be_regenerated(
    opened: tuple[Client, str],
) -> None:
    client, uri = opened
    await _mark_f(client, uri)
    diagnostics = await client.diagnostics_of(uri, client.versions[uri])
    assert [d.code for d in diagnostics] == ["HR300"]
    # Inside a block there is nothing more to mark; the block can be regenerated.
    inside = await client.code_actions(uri, (3, 0), (4, 4))
    assert [a.title for a in inside] == ["Regenerate block k3f7qa.1 (discard this attempt)"]


async def test_mark_selection_for_a_new_task_creates_and_shows_it(workspace: Workspace) -> None:
    path = _source(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        (action,) = await client.code_actions(uri, (0, 0), (0, 9))
        assert action.title == "Mark selection as generated for a new task"
        result = await client.run(action.command)
        task_id = result["task"]
        assert (workspace.tasks_dir / f"{task_id}.toml").is_file()
        assert client.texts[uri].startswith(f"# handrail:begin {task_id}.1\nimport os\n")
        (shown,) = client.shown_documents
        assert shown.uri == (workspace.tasks_dir / f"{task_id}.toml").as_uri()
        (record,) = Ledger(workspace).read().records
        assert isinstance(record, BlockMarked) and record.task_id == task_id


def _nothing_recorded(workspace: Workspace) -> None:
    assert [p.name for p in workspace.tasks_dir.iterdir()] == ["k3f7qa.toml"]
    assert Ledger(workspace).read().records == []


async def test_an_edit_the_editor_refuses_records_nothing(
    opened: tuple[Client, str], workspace: Workspace
) -> None:
    client, uri = opened
    actions = await client.code_actions(uri, (0, 0), (1, 0))
    client.apply_answer = False
    result = await client.run(actions[0].command)
    assert result["applied"] is False
    _nothing_recorded(workspace)


async def test_an_action_for_an_older_version_is_refused_in_plain_words(
    opened: tuple[Client, str], workspace: Workspace
) -> None:
    client, uri = opened
    actions = await client.code_actions(uri, (0, 0), (1, 0))
    client.replace_all(uri, "x = 1\n" + SOURCE)
    with pytest.raises(Exception, match="the document changed since the action was offered"):
        await client.run(actions[0].command)
    _nothing_recorded(workspace)


async def test_lines_that_overlap_a_block_are_refused_before_any_task_is_made(
    opened: tuple[Client, str], workspace: Workspace
) -> None:
    client, uri = opened
    blocked = "# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\ny = 2\n"
    client.replace_all(uri, blocked)
    arguments = {"uri": uri, "startLine": 2, "endLine": 4, "task": None}
    with pytest.raises(Exception, match="blocks cannot nest or overlap"):
        await client.run("handrail.markSelection", arguments)
    _nothing_recorded(workspace)


async def test_a_range_without_code_is_refused_and_not_offered(workspace: Workspace) -> None:
    # Issue 19.7: "Mark Selection" with nothing selected wrapped a blank line and recorded it.
    make_task(workspace)
    path = _source(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        # Line 2 is blank: selecting it whole offers no marking.
        assert await client.code_actions(uri, (1, 0), (2, 0)) == []
        arguments = {"uri": uri, "startLine": 2, "endLine": 2, "task": "k3f7qa"}
        with pytest.raises(Exception, match="hold no code"):
            await client.run("handrail.markSelection", arguments)
        arguments["task"] = None
        with pytest.raises(Exception, match="hold no code"):
            await client.run("handrail.markSelection", arguments)
        assert client.texts[uri] == SOURCE
        assert client.applied == []
        assert [p.name for p in workspace.tasks_dir.iterdir()] == ["k3f7qa.toml"]
        assert Ledger(workspace).read().records == []


# The server runs in its own process: this module, found first on its PYTHONPATH, makes its
# ledger writes fail with a full disk while the flag file named in the environment exists.
_FAILING_LEDGER = """
import errno, os
import os
from pathlib import Path
from handrail.ledger import store

_real = store.Ledger._write_new

def _write_new(self, folder, target, data, rel):
    if Path(os.environ["HANDRAIL_TEST_DISK_FULL"]).exists():
        raise store._write_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), rel)
    _real(self, folder, target, data, rel)

store.Ledger._write_new = _write_new
"""


async def test_a_record_that_cannot_be_written_sends_no_edit(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Both or neither: the record is written (reserving the id) before the edit is sent,
    so a full disk fails the command and leaves the buffer as it was."""
    make_task(workspace)
    path = _source(workspace)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    flag = tmp_path / "disk-full"
    flag.touch()
    env = {**env_with_sitecustomize(hooks, _FAILING_LEDGER), "HANDRAIL_TEST_DISK_FULL": str(flag)}
    arguments = {"startLine": 3, "endLine": 4, "task": "k3f7qa"}
    async with running([workspace.root], env=env) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        with pytest.raises(Exception, match=r"src/a.py was not marked: .*the disk is full"):
            await client.run("handrail.markSelection", {"uri": uri, **arguments})
        assert client.applied == []
        assert client.texts[uri] == SOURCE
        assert Ledger(workspace).read().records == []

        flag.unlink()  # space freed: the same command works
        result = await client.run("handrail.markSelection", {"uri": uri, **arguments})
        assert (result["applied"], result["block"]) == (True, "k3f7qa.1")
        (record,) = Ledger(workspace).read().records
        assert isinstance(record, BlockMarked) and record.block_id == "k3f7qa.1"

        # The editor refuses the next edit: its reserved record is taken back.
        client.apply_answer = False
        again = {"uri": uri, "startLine": 1, "endLine": 1, "task": "k3f7qa"}
        refused = await client.run("handrail.markSelection", again)
        assert (refused["applied"], refused["block"]) == (False, "k3f7qa.2")
        assert [r.id for r in Ledger(workspace).read().records] == [record.id]


async def test_at_most_five_actions_with_many_tasks(workspace: Workspace) -> None:
    # Issue 19.6: the quick-fix menu listed 11 entries; now at most five, the first preferred.
    for n in range(7):
        make_task(workspace, "k3f7q" + "abcdefg"[n])
    path = _source(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        selected = await client.code_actions(uri, (0, 0), (1, 0))
        assert 1 < len(selected) <= 5
        assert selected[0].is_preferred is True
        assert selected[-1].title == "Mark selection as generated for a new task"
        cursor = await client.code_actions(uri, (1, 0), (1, 0))
        assert 1 < len(cursor) <= 5
