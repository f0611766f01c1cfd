"""End to end: files changed on disk while a task is active get HR308 with "Mark as generated".

An agent writes files without the editor; the client reports them through
`workspace/didChangeWatchedFiles`, and the server compares them with HEAD.
"""

from __future__ import annotations

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


async def test_agent_edits_get_hints_naming_the_active_task_and_can_be_marked(
    repo: Workspace,
) -> None:
    a, b = repo.root / "src" / "a.py", repo.root / "src" / "b.py"
    async with running([repo.root]) as client:
        # m2x7zt is the older task: the hint must still offer it first.
        assert await client.run("handrail.setActiveTask", {"task": "m2x7zt"}) == {
            "task": "m2x7zt",
            "folder": repo.root.as_uri(),
        }
        a.write_text(AGENT)
        b.write_text(NEW_FILE)
        count = len(client.published)
        changed(client, a)
        changed(client, b, kind=types.FileChangeType.Created)
        (hint,) = await published(client, a, count)
        assert hint.code == "HR308" and hint.severity == types.DiagnosticSeverity.Hint
        assert (hint.range.start.line, hint.range.end.line) == (7, 9)
        assert "3 lines changed on disk" in hint.message and "task m2x7zt" in hint.message
        assert hint.data["task"] == "m2x7zt" and hint.data["fix"] == "mark"
        (new_hint,) = await published(client, b, count)
        assert (new_hint.range.start.line, new_hint.range.end.line) == (0, 1)

        # Opening the file keeps the hint; marking goes to the active task first.
        uri = client.open(a, AGENT)
        (kept,) = [d for d in await client.diagnostics_of(uri, 1) if d.code == "HR308"]
        actions = await client.code_actions(uri, (7, 0), (7, 0), [kept])
        assert actions[0].title.startswith("Mark changed lines as generated for task m2x7zt")
        result = await client.run(actions[0].command)
        assert result["applied"] is True and (result["begin_line"], result["end_line"]) == (8, 12)
        after = await client.diagnostics_of(uri, client.versions[uri])
        assert [d.code for d in after] == ["HR300"]


async def test_no_active_task_no_hint_and_reverting_clears_it(repo: Workspace) -> None:
    a, b = repo.root / "src" / "a.py", repo.root / "src" / "b.py"
    async with running([repo.root]) as client:
        a.write_text(AGENT)
        changed(client, a)  # no task is active: nothing is said about it
        await client.run("handrail.setActiveTask", {"task": "k3f7qa"})
        b.write_text(NEW_FILE)
        count = len(client.published)
        changed(client, b, kind=types.FileChangeType.Created)
        assert len(await published(client, b, count)) == 1
        assert not [p for p in client.published if p.uri == a.as_uri()]

        # Back to HEAD's content: the hint goes. Deleted: it goes too.
        changed(client, a)
        assert len(await published(client, a, count)) == 1
        a.write_text(BASE)
        count = len(client.published)
        changed(client, a)
        assert await published(client, a, count) == []
        b.unlink()
        count = len(client.published)
        changed(client, b, kind=types.FileChangeType.Deleted)
        assert await published(client, b, count) == []


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
