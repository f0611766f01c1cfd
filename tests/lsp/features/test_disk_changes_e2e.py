"""End to end: files changed on disk while a task is active get HR308 with "Mark as generated".

An agent writes files without the editor; the client reports them through
`workspace/didChangeWatchedFiles`, and the server compares them with HEAD.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from features_harness import Client, make_task, running
from lsprotocol import types
from repo_helpers import git

from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

BASE = "import os\n\n\ndef f(x):\n    return x + 1\n"
AGENT = BASE + "\n\ndef g(y):\n    total = y * 2\n    return total\n"
NEW_FILE = "def h():\n    return 3\n"


@pytest.fixture
def repo(workspace: Workspace) -> Workspace:
    (workspace.root / "src").mkdir()
    (workspace.root / "src" / "a.py").write_text(BASE)
    make_task(workspace, "k3f7qa")
    make_task(workspace, "m2x7zt")
    git(workspace.root, "init", "-q")
    git(workspace.root, "add", "-A")
    git(workspace.root, "commit", "-q", "-m", "base")
    return workspace


def changed(client: Client, *paths: Path, kind: types.FileChangeType | None = None) -> None:
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=p.as_uri(), type=kind or types.FileChangeType.Changed)
                for p in paths
            ]
        )
    )


async def published(client: Client, path: Path, after: int) -> list[types.Diagnostic]:
    """The first diagnostics published for `path` after the `after`-th publication."""

    def found() -> types.PublishDiagnosticsParams | None:
        for params in client.published[after:]:
            if params.uri == path.as_uri():
                return params
        return None

    params = await client.wait_for(found, what=f"diagnostics of {path.name}")
    return list(params.diagnostics)


@pytest.fixture
async def active(repo: Workspace) -> AsyncIterator[Client]:
    """The server on the repository with task m2x7zt made the active task."""
    async with running([repo.root]) as client:
        # m2x7zt is the older task: the hint must still offer it first.
        assert await client.run("handrail.setActiveTask", {"task": "m2x7zt"}) == {
            "task": "m2x7zt",
            "folder": repo.root.as_uri(),
        }
        yield client


async def _agent_changes_a(client: Client, repo: Workspace) -> types.Diagnostic:
    """The agent adds g() to src/a.py on disk: the one hint published for it."""
    a = repo.root / "src" / "a.py"
    a.write_text(AGENT)
    count = len(client.published)
    changed(client, a)
    (hint,) = await published(client, a, count)
    return hint


async def test_lines_an_agent_changed_get_a_hint_naming_the_active_task(
    active: Client, repo: Workspace
) -> None:
    hint = await _agent_changes_a(active, repo)
    assert hint.code == "HR308" and hint.severity == types.DiagnosticSeverity.Hint
    assert (hint.range.start.line, hint.range.end.line) == (7, 9)
    assert "3 lines changed on disk" in hint.message and "task m2x7zt" in hint.message
    assert hint.data["task"] == "m2x7zt" and hint.data["fix"] == "mark"


async def test_a_file_an_agent_created_gets_a_hint_over_its_lines(
    active: Client, repo: Workspace
) -> None:
    b = repo.root / "src" / "b.py"
    b.write_text(NEW_FILE)
    count = len(active.published)
    changed(active, b, kind=types.FileChangeType.Created)
    (new_hint,) = await published(active, b, count)
    assert (new_hint.range.start.line, new_hint.range.end.line) == (0, 1)


async def test_an_opened_file_keeps_the_hint_and_marks_for_the_active_task(
    active: Client, repo: Workspace
) -> None:
    await _agent_changes_a(active, repo)
    # Opening the file keeps the hint; marking goes to the active task first.
    uri = active.open(repo.root / "src" / "a.py", AGENT)
    (kept,) = [d for d in await active.diagnostics_of(uri, 1) if d.code == "HR308"]
    actions = await active.code_actions(uri, (7, 0), (7, 0), [kept])
    assert actions[0].title.startswith("Mark changed lines as generated for task m2x7zt")
    result = await active.run(actions[0].command)
    assert result["applied"] is True and (result["begin_line"], result["end_line"]) == (8, 12)
    after = await active.diagnostics_of(uri, active.versions[uri])
    assert [d.code for d in after] == ["HR300"]


async def test_no_active_task_no_hint(repo: Workspace) -> None:
    a, b = repo.root / "src" / "a.py", repo.root / "src" / "b.py"
    async with running([repo.root]) as client:
        a.write_text(AGENT)
        changed(client, a)  # no task is active: nothing is said about it
        # A change reported after it, once a task is active, is answered: the first was
        # handled by then, and published nothing.
        await client.run("handrail.setActiveTask", {"task": "k3f7qa"})
        b.write_text(NEW_FILE)
        count = len(client.published)
        changed(client, b, kind=types.FileChangeType.Created)
        assert len(await published(client, b, count)) == 1
        assert not [p for p in client.published if p.uri == a.as_uri()]


async def test_reverting_a_changed_file_to_head_clears_its_hint(
    active: Client, repo: Workspace
) -> None:
    a = repo.root / "src" / "a.py"
    await _agent_changes_a(active, repo)
    a.write_text(BASE)  # back to HEAD's content: the hint goes
    count = len(active.published)
    changed(active, a)
    assert await published(active, a, count) == []


async def test_deleting_a_created_file_clears_its_hint(active: Client, repo: Workspace) -> None:
    b = repo.root / "src" / "b.py"
    b.write_text(NEW_FILE)
    count = len(active.published)
    changed(active, b, kind=types.FileChangeType.Created)
    assert len(await published(active, b, count)) == 1
    b.unlink()
    count = len(active.published)
    changed(active, b, kind=types.FileChangeType.Deleted)
    assert await published(active, b, count) == []


async def test_a_task_created_on_disk_becomes_the_active_task(repo: Workspace) -> None:
    a = repo.root / "src" / "a.py"
    async with running([repo.root]) as client:
        task = make_task(repo, "p4q5rs")  # as `handrail task new` in a terminal would
        changed(client, repo.tasks_dir / f"{task.id}.toml", kind=types.FileChangeType.Created)
        a.write_text(AGENT)
        count = len(client.published)
        changed(client, a)
        (hint,) = await published(client, a, count)
        assert "task p4q5rs" in hint.message


async def test_unknown_active_task_is_refused(repo: Workspace) -> None:
    from pygls.exceptions import JsonRpcException

    async with running([repo.root]) as client:
        with pytest.raises(JsonRpcException, match="no task 'zzzzzz'"):
            await client.run("handrail.setActiveTask", {"task": "zzzzzz"})
        assert await client.run("handrail.setActiveTask", {"task": None}) == {
            "task": None,
            "folder": repo.root.as_uri(),
        }
