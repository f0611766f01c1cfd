"""End to end: ``handrail.editTaskContext``, the one editor of a task's context list.

The server answers with a WorkspaceEdit and writes nothing; the client applies it (here the
test client, as VS Code's extension does), so the edit lands in the buffer and its undo history.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from features_harness import make_task, running
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import default_converter

from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

COMMAND = "handrail.editTaskContext"


def _edit(answer: dict[str, Any]) -> types.WorkspaceEdit:
    edit: types.WorkspaceEdit = default_converter().structure(answer["edit"], types.WorkspaceEdit)
    return edit


async def test_the_edit_goes_to_the_open_buffer_at_its_version(workspace: Workspace) -> None:
    make_task(workspace, context=["src/a.py"])
    path = workspace.tasks_dir / "k3f7qa.toml"
    saved = path.read_text()
    async with running([workspace.root]) as client:
        uri = client.open(path, saved, "toml")
        client.insert(uri, 0, "# unsaved note\n")
        answer = await client.run(COMMAND, {"uri": uri, "add": ["src/b.py", "src/a.py"]})
        assert (answer["added"], answer["present"]) == (["src/b.py"], ["src/a.py"])
        edit = _edit(answer)
        (change,) = edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.version == client.versions[uri]
        client.apply_edit(edit)
        text = client.texts[uri]
        assert text.startswith("# unsaved note\n")
        assert tomllib.loads(text)["context"] == ["src/a.py", "src/b.py"]
        assert '    "src/a.py",\n    "src/b.py",\n]' in text  # one entry a line, as written
        assert path.read_text() == saved  # the server wrote nothing


async def test_a_closed_task_file_is_edited_as_it_is_on_disk(workspace: Workspace) -> None:
    make_task(workspace, context=["src/a.py", ".env"])
    path = workspace.tasks_dir / "k3f7qa.toml"
    saved = path.read_text()
    async with running([workspace.root]) as client:
        uri = path.as_uri()
        answer = await client.run(COMMAND, {"uri": uri, "remove": [".env"], "add": ["b.py"]})
        assert (answer["added"], answer["removed"]) == (["b.py"], [".env"])
        edit = _edit(answer)
        assert edit.document_changes is None and list(edit.changes or {}) == [uri]
        client.texts[uri], client.versions[uri] = saved, 0
        client.apply_edit(edit)
        assert tomllib.loads(client.texts[uri])["context"] == ["src/a.py", "b.py"]
        assert path.read_text() == saved


async def test_nothing_to_change_is_no_edit(workspace: Workspace) -> None:
    make_task(workspace, context=["src/a.py"])
    async with running([workspace.root]) as client:
        uri = (workspace.tasks_dir / "k3f7qa.toml").as_uri()
        answer = await client.run(COMMAND, {"uri": uri, "add": ["src/a.py"], "remove": ["x"]})
        assert answer == {"edit": None, "added": [], "removed": [], "present": ["src/a.py"]}


async def test_a_list_that_is_not_plain_is_refused_with_the_reason(workspace: Workspace) -> None:
    make_task(workspace)
    path = workspace.tasks_dir / "k3f7qa.toml"
    async with running([workspace.root]) as client:
        uri = client.open(path, 'id = "k3f7qa"\nspec = "x"\ncontext = [1, 2]\n', "toml")
        with pytest.raises(JsonRpcException, match="not a plain list of quoted paths"):
            await client.run(COMMAND, {"uri": uri, "add": ["a.py"]})
        client.replace_all(uri, 'id = "k3f7qa"\ncontext = ["a.py"\n')
        with pytest.raises(JsonRpcException, match=r"not valid TOML \(line 2"):
            await client.run(COMMAND, {"uri": uri, "add": ["b.py"]})


async def test_only_task_files_and_lists_of_entries_are_taken(workspace: Workspace) -> None:
    (workspace.root / "notes.toml").write_text("context = []\n")
    async with running([workspace.root]) as client:
        other = (workspace.root / "notes.toml").as_uri()
        with pytest.raises(JsonRpcException, match="is not a task file"):
            await client.run(COMMAND, {"uri": other, "add": ["a.py"]})
        task = (workspace.tasks_dir / "k3f7qa.toml").as_uri()
        with pytest.raises(JsonRpcException, match='"add" must be a list'):
            await client.run(COMMAND, {"uri": task, "add": "a.py"})
        # An entry is read as `handrail task new` reads it: a broken one is refused, not added.
        with pytest.raises(JsonRpcException, match="reversed line range"):
            await client.run(COMMAND, {"uri": task, "add": ["a.py#L5-L2"]})
