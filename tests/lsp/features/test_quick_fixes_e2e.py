"""End to end: quick fixes built from diagnostic data, applied by the client.

One scenario per test, each on its own server (the `client` fixture).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from features_harness import Client, make_task, running
from lsprotocol import types

from handrail.tasks.files import parse_task
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(workspace: Workspace) -> AsyncIterator[Client]:
    """The server on a folder with task k3f7qa."""
    make_task(workspace)
    async with running([workspace.root]) as started:
        yield started


async def test_a_missing_end_marker_is_added_by_its_quick_fix(
    client: Client, workspace: Workspace
) -> None:
    path = workspace.root / "a.py"
    text = "# handrail:begin k3f7qa.1\nx = 1\ny = 2\n"
    path.write_text(text)
    uri = client.open(path, text)
    (hr305,) = [d for d in await client.diagnostics_of(uri, 1) if d.code == "HR305"]
    assert hr305.data["fix"] == "add-end"
    actions = await client.code_actions(uri, (0, 0), (0, 0), [hr305])
    fix = next(a for a in actions if a.title.startswith("Add the missing end marker"))
    client.apply_edit(fix.edit)
    assert client.texts[uri] == "# handrail:begin k3f7qa.1\nx = 1\ny = 2\n# handrail:end k3f7qa.1\n"
    after = await client.diagnostics_of(uri, client.versions[uri])
    assert "HR305" not in {d.code for d in after}


async def test_a_duplicate_block_id_is_renumbered_by_its_quick_fix(
    client: Client, workspace: Workspace
) -> None:
    path = workspace.root / "b.py"
    block = "# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"
    text = block + block
    path.write_text(text)
    uri = client.open(path, text)
    # Both uses are HR305; the quick fix is on the later one.
    first, dup = [d for d in await client.diagnostics_of(uri, 1) if d.code == "HR305"]
    assert (first.range.start.line, dup.range.start.line) == (0, 3)
    (fix,) = [
        a for a in await client.code_actions(uri, (3, 0), (3, 0), [dup]) if a.edit is not None
    ]
    assert fix.title == "Renumber this block to k3f7qa.2"
    client.apply_edit(fix.edit)
    assert client.texts[uri] == block + block.replace("k3f7qa.1", "k3f7qa.2")


def _context_project(workspace: Workspace, context: list[str]) -> Path:
    """A 40-token budget, a source file over it, a small one, an ignored `.env`; task
    k3f7qa with `context`. The task file's path."""
    (workspace.handrail_dir / "workflow.toml").write_text(
        'extends = "default"\n\n[context]\nmax_tokens = 40\n'
    )
    src = workspace.root / "src"
    src.mkdir()
    (src / "a.py").write_text("def a():\n    return 'alpha'\n" * 6)
    (src / "b.py").write_text("b = 1\n")
    (workspace.root / ".env").write_text("NAME=value\n")
    make_task(workspace, context=context)
    return workspace.tasks_dir / "k3f7qa.toml"


async def test_an_ignored_context_entry_is_removed_by_its_quick_fix(workspace: Workspace) -> None:
    task_path = _context_project(workspace, ["src/a.py", "src/b.py", ".env"])
    text = task_path.read_text()
    async with running([workspace.root]) as client:
        uri = client.open(task_path, text, "toml")
        by_code = {d.code: d for d in await client.diagnostics_of(uri, 1)}
        assert {"HR200", "HR203"} <= set(by_code)

        (remove,) = await client.code_actions(uri, (0, 0), (0, 0), [by_code["HR203"]])
        assert remove.title == "Remove context entry .env"
        client.apply_edit(remove.edit)
        loaded = parse_task(client.texts[uri], path=task_path, rel="x")
        assert loaded.task.context == ["src/a.py", "src/b.py"]
        after = await client.diagnostics_of(uri, client.versions[uri])
        assert "HR203" not in {d.code for d in after}
        assert client.texts[uri].startswith(text.split("context")[0])  # the rest kept as is


async def test_a_context_over_budget_drops_entries_to_fit_by_its_quick_fix(
    workspace: Workspace,
) -> None:
    task_path = _context_project(workspace, ["src/a.py", "src/b.py"])
    text = task_path.read_text()
    async with running([workspace.root]) as client:
        uri = client.open(task_path, text, "toml")
        (over,) = [d for d in await client.diagnostics_of(uri, 1) if d.code == "HR200"]
        (drop,) = await client.code_actions(uri, (0, 0), (0, 0), [over])
        assert drop.title == "Drop 1 context entry to fit the token budget: src/a.py"
        client.apply_edit(drop.edit)
        loaded = parse_task(client.texts[uri], path=task_path, rel="x")
        assert loaded.task.context == ["src/b.py"]
        diagnostics = await client.diagnostics_of(uri, client.versions[uri])
        assert "HR200" not in {d.code for d in diagnostics}
        assert client.texts[uri].startswith(text.split("context")[0])  # the rest kept as is


async def test_nonsense_diagnostic_data_gives_no_fix(client: Client, workspace: Workspace) -> None:
    path = workspace.root / "c.py"
    text = "x = 1\n"
    path.write_text(text)
    uri = client.open(path, text)
    where = types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=0, character=1)
    )
    nonsense = [
        {"fix": "add-end", "insert_after_line": "two", "new_text": 5},
        {"fix": "remove-lines", "lines": "1,2"},
        {"fix": "renumber", "block_id": None, "lines": [99]},
        {"fix": "replace-line", "line": 40, "new_text": "x"},
        {"drop": "src/a.py", "start_line": [], "end_line": {}},
        "not an object",
    ]
    diagnostics = [
        types.Diagnostic(range=where, message="m", code=code, source="handrail", data=data)
        for code in ("HR305", "HR200", "HR308")
        for data in nonsense
    ]
    actions = await client.code_actions(uri, (0, 0), (0, 0), diagnostics)
    assert [a for a in actions if a.kind != "refactor.handrail.generate"] == []
