"""End to end: a task's life in the editor (issue 13): list, edit, close, reopen; closed
tasks leave the menus; an edited spec re-opens its blocks (HR314)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from features_harness import SPEC, Client, make_task, running, write_source
from pygls.exceptions import JsonRpcException

from handrail.tasks.files import create_template_task, load_task, save_task
from handrail.tasks.model import Task
from handrail.workflow.load import load_workflow
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

SOURCE = "import os\n\ndef f(x):\n    return x + 1\n"
NEW_SPEC = (
    "Given a CSV header line, return the column names, lower-cased. It must keep quoted "
    "commas and follow parse_row in src/csv_utils.py."
)


def _source(ws: Workspace) -> Path:
    return write_source(ws, SOURCE)


@pytest.fixture
async def two_tasks(workspace: Workspace) -> AsyncIterator[tuple[Client, str]]:
    """The server on two open tasks (k3f7qa, m2n4pq) with src/a.py open: the client and the
    file's URI."""
    make_task(workspace, "k3f7qa")
    save_task(workspace, Task(id="m2n4pq", spec=SPEC))
    path = _source(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        yield client, uri


async def _close_k3f7qa(client: Client) -> dict[str, Any]:
    closed: dict[str, Any] = await client.run(
        "handrail.closeTask", {"task": "k3f7qa", "reason": "done", "note": "merged"}
    )
    return closed


async def _mark_menu(client: Client, uri: str) -> list[str]:
    """The titles of the actions offered on the function's lines."""
    return [a.title for a in await client.code_actions(uri, (2, 0), (3, 0))]


async def test_list_tasks_names_every_open_task(two_tasks: tuple[Client, str]) -> None:
    client, _ = two_tasks
    listed = await client.run("handrail.listTasks")
    assert {t["task"] for t in listed["tasks"]} == {"k3f7qa", "m2n4pq"}


async def test_close_task_records_the_status_and_note(
    two_tasks: tuple[Client, str], workspace: Workspace
) -> None:
    client, _ = two_tasks
    closed = await _close_k3f7qa(client)
    assert closed["status"] == "done"
    assert load_task(workspace, "k3f7qa").task.note == "merged"


async def test_a_closed_task_leaves_the_list_but_not_the_full_list(
    two_tasks: tuple[Client, str],
) -> None:
    client, _ = two_tasks
    await _close_k3f7qa(client)
    listed = await client.run("handrail.listTasks")
    assert [t["task"] for t in listed["tasks"]] == ["m2n4pq"]
    assert listed["closed_hidden"] == 1
    every = await client.run("handrail.listTasks", {"all": True})
    assert {t["task"]: t["status"] for t in every["tasks"]} == {
        "k3f7qa": "done",
        "m2n4pq": "open",
    }


async def test_a_closed_task_leaves_the_mark_menu(two_tasks: tuple[Client, str]) -> None:
    client, uri = two_tasks
    await _close_k3f7qa(client)
    titles = await _mark_menu(client, uri)
    assert not [t for t in titles if "k3f7qa" in t], titles
    assert [t for t in titles if "m2n4pq" in t]


async def test_marking_for_a_closed_task_is_refused(two_tasks: tuple[Client, str]) -> None:
    client, uri = two_tasks
    await _close_k3f7qa(client)
    with pytest.raises(JsonRpcException, match="closed"):
        await client.run(
            "handrail.markSelection",
            {"uri": uri, "startLine": 3, "endLine": 4, "task": "k3f7qa"},
        )


async def test_closing_with_an_unknown_reason_is_refused_with_the_known_ones(
    two_tasks: tuple[Client, str], workspace: Workspace
) -> None:
    client, _ = two_tasks
    with pytest.raises(JsonRpcException, match=r"done.*abandoned"):
        await client.run("handrail.closeTask", {"task": "m2n4pq", "reason": "finished"})
    assert load_task(workspace, "m2n4pq").task.status == "open"


async def test_a_reopened_task_is_back_in_the_mark_menu(two_tasks: tuple[Client, str]) -> None:
    client, uri = two_tasks
    await _close_k3f7qa(client)
    await client.run("handrail.reopenTask", {"task": "k3f7qa"})
    titles = await _mark_menu(client, uri)
    assert [t for t in titles if "k3f7qa" in t]


async def test_abandoning_a_template_task_clears_its_diagnostics(workspace: Workspace) -> None:
    loaded = create_template_task(workspace, load_workflow(workspace).workflow)
    async with running([workspace.root]) as client:
        uri = client.open(loaded.path, loaded.path.read_text(), language_id="toml")
        assert "HR103" in {d.code for d in await client.diagnostics_of(uri, 1)}
        await client.run("handrail.closeTask", {"task": loaded.task.id, "reason": "abandoned"})
        version = client.replace_all(uri, loaded.path.read_text())
        assert await client.diagnostics_of(uri, version) == []


@pytest.fixture
async def marked(workspace: Workspace) -> AsyncIterator[tuple[Client, str]]:
    """The server with src/a.py open and its function marked for task k3f7qa (HR300)."""
    make_task(workspace)
    path = _source(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        marked = await client.run(
            "handrail.markSelection",
            {"uri": uri, "startLine": 3, "endLine": 4, "task": "k3f7qa"},
        )
        assert marked["block"] == "k3f7qa.1"
        codes = [d.code for d in await client.diagnostics_of(uri, client.versions[uri])]
        assert codes == ["HR300"]
        yield client, uri


async def test_an_edited_spec_task_new_would_refuse_is_not_written(
    marked: tuple[Client, str], workspace: Workspace
) -> None:
    client, _ = marked
    refused = await client.run(
        "handrail.editTask", {"task": "k3f7qa", "spec": "Parse it. Sort it. Print it. Save."}
    )
    assert refused["written"] is False
    assert "HR101" in {f["code"] for f in refused["findings"]}
    assert load_task(workspace, "k3f7qa").task.spec == SPEC


async def test_editing_the_spec_reopens_a_marked_block(marked: tuple[Client, str]) -> None:
    client, uri = marked
    edited = await client.run("handrail.editTask", {"task": "k3f7qa", "spec": NEW_SPEC})
    assert edited["written"] is True and edited["reopened_blocks"] == ["k3f7qa.1"]

    def reopened() -> bool:
        for params in reversed(client.published):
            if params.uri == uri:
                return "HR314" in {d.code for d in params.diagnostics}
        return False

    await client.wait_for(reopened, what="HR314 on the marked block")
    latest = next(p for p in reversed(client.published) if p.uri == uri)
    (hr314,) = [d for d in latest.diagnostics if d.code == "HR314"]
    assert "handrail generate --replace k3f7qa.1" in hr314.message
    fixes = await client.code_actions(uri, (2, 0), (2, 0), [hr314])
    assert "Regenerate block k3f7qa.1 (discard this attempt)" in [a.title for a in fixes]


async def test_an_edited_spec_is_listed_with_its_history_and_blocks(
    marked: tuple[Client, str],
) -> None:
    client, _ = marked
    await client.run("handrail.editTask", {"task": "k3f7qa", "spec": NEW_SPEC})
    shown = await client.run("handrail.listTasks", {"task": "k3f7qa"})
    (task,) = shown["tasks"]
    assert task["spec"] == NEW_SPEC and [h["spec"] for h in task["spec_history"]] == [SPEC]
    assert task["blocks"] == ["k3f7qa.1"]


async def test_a_moved_range_is_reported_and_the_new_range_offered(workspace: Workspace) -> None:
    from handrail.tasks.files import create_task

    source = workspace.root / "src" / "a.py"
    source.parent.mkdir(parents=True)
    source.write_text(SOURCE)
    created = create_task(workspace, load_workflow(workspace).workflow, SPEC, ["src/a.py#L3-L4"])
    assert created.task is not None
    loaded = created.task
    source.write_text("# a header comment\n" + SOURCE)  # the function moved down one line
    async with running([workspace.root]) as client:
        uri = client.open(loaded.path, loaded.path.read_text(), language_id="toml")
        diagnostics = await client.diagnostics_of(uri, 1)
        (moved,) = [d for d in diagnostics if d.code == "HR207"]
        assert "now src/a.py#L4-L5" in moved.message
        actions = await client.code_actions(uri, (0, 0), (0, 0), [moved])
        (fix,) = [a for a in actions if a.title == "Use src/a.py#L4-L5 (the lines moved)"]
        assert fix.edit is not None
        client.apply_edit(fix.edit)
        text = client.texts[uri]
        assert '"src/a.py#L4-L5"' in text and '"src/a.py#L3-L4"' not in text
        loaded.path.write_text(text)
        diagnostics = await client.diagnostics_of(uri, client.versions[uri])
        assert [d.code for d in diagnostics] == []


async def test_new_task_refuses_a_spec_with_nothing_checkable(workspace: Workspace) -> None:
    async with running([workspace.root]) as client:
        refused = await client.run("handrail.newTask", {"spec": "Make it faster."})
        assert refused["task"] is None
        assert [(f["code"], f["severity"]) for f in refused["findings"]] == [("HR102", "error")]
        created = await client.run("handrail.newTask", {"spec": SPEC})
        assert created["task"] is not None and created["findings"] == []


LONG = (
    "Given a CSV header line, return the column names. It must keep quoted commas. "
    "Given a CSV row, return its fields. It must follow parse_row in src/csv_utils.py."
)


async def test_decompose_drafts_then_creates_sub_tasks_under_a_parent(
    workspace: Workspace,
) -> None:
    async with running([workspace.root]) as client:
        refused = await client.run("handrail.newTask", {"spec": LONG})
        assert refused["task"] is None
        drafts = await client.run("handrail.decompose", {"spec": LONG})
        assert len(drafts["drafts"]) == 4 and drafts["parent"] is None
        assert list(workspace.tasks_dir.iterdir()) == []
        subs = [" ".join(drafts["drafts"][:2]), " ".join(drafts["drafts"][2:])]
        made = await client.run("handrail.decompose", {"spec": LONG, "subtasks": subs})
        parent, children = made["parent"], made["children"]
        assert parent is not None and len(children) == 2
        listed = await client.run("handrail.listTasks", {"all": True})
        by_id = {t["task"]: t for t in listed["tasks"]}
        assert by_id[parent]["decomposed"] is True
        assert {by_id[c]["parent"] for c in children} == {parent}
        for child in children:
            closed = await client.run("handrail.closeTask", {"task": child, "reason": "done"})
        assert closed["parent_done"] == parent
        assert load_task(workspace, parent).task.status == "done"


async def test_closing_a_task_with_an_unverified_block_is_hr315_until_reopened(
    workspace: Workspace,
) -> None:
    make_task(workspace)
    path = _source(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        await client.run(
            "handrail.markSelection", {"uri": uri, "startLine": 3, "endLine": 4, "task": "k3f7qa"}
        )

        def latest_codes() -> set[str]:
            latest = next(p for p in reversed(client.published) if p.uri == uri)
            return {str(d.code) for d in latest.diagnostics}

        await client.wait_for(lambda: latest_codes() == {"HR300"}, what="HR300 alone")
        await client.run("handrail.closeTask", {"task": "k3f7qa", "reason": "done"})
        await client.wait_for(lambda: "HR315" in latest_codes(), what="HR315 on the block")
        latest = next(p for p in reversed(client.published) if p.uri == uri)
        (hr315,) = [d for d in latest.diagnostics if d.code == "HR315"]
        assert "closed (done) but block k3f7qa.1 is not verified" in hr315.message
        await client.run("handrail.reopenTask", {"task": "k3f7qa"})
        await client.wait_for(lambda: "HR315" not in latest_codes(), what="HR315 gone")


async def test_editing_context_and_verify_pins_ranges_and_round_trips(
    workspace: Workspace,
) -> None:
    make_task(workspace)
    _source(workspace)
    async with running([workspace.root]) as client:
        edited = await client.run(
            "handrail.editTask",
            {"task": "k3f7qa", "context": ["src/a.py#L3-L4"], "verify": "make test"},
        )
        assert edited["written"] is True and edited["spec_changed"] is False
        assert edited["reopened_blocks"] == []
        loaded = load_task(workspace, "k3f7qa")
        assert loaded.task.context == ["src/a.py#L3-L4"] and loaded.task.verify == "make test"
        assert loaded.task.context_hashes["src/a.py#L3-L4"].startswith("sha256:")
        (shown,) = (await client.run("handrail.listTasks", {"task": "k3f7qa"}))["tasks"]
        assert shown["context"] == ["src/a.py#L3-L4"] and shown["verify"] == "make test"
        assert shown["spec_history"] == []

        with pytest.raises(JsonRpcException, match="context entry"):
            await client.run("handrail.editTask", {"task": "k3f7qa", "context": ["a.py#L9-L2"]})
        # An empty command goes back to the workflow's.
        await client.run("handrail.editTask", {"task": "k3f7qa", "verify": ""})
        assert load_task(workspace, "k3f7qa").task.verify is None


async def test_a_spec_edited_by_hand_reopens_a_block_checked_under_the_old_one(
    workspace: Workspace,
) -> None:
    import datetime as dt

    from handrail.ledger.records import BlockMarked, Explanation, VerificationRun
    from handrail.ledger.store import Ledger

    make_task(workspace)
    path = _source(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        await client.run(
            "handrail.markSelection", {"uri": uri, "startLine": 3, "endLine": 4, "task": "k3f7qa"}
        )
        path.write_text(client.texts[uri])
    ledger = Ledger(workspace)
    (marked,) = [r for r in ledger.read().records if isinstance(r, BlockMarked)]
    assert marked.spec_hash == load_task(workspace, "k3f7qa").task.spec_hash
    # Verified and explained under the spec as it was, after the marking.
    later = marked.at + dt.timedelta(seconds=5)
    ledger.append(
        VerificationRun.create(
            at=later, task_id="k3f7qa", command=["make", "test"], exit_code=0, passed=True,
            started_at=later, finished_at=later, blocks={"k3f7qa.1": marked.content_hash},
            spec_hash=marked.spec_hash,
        )
    )  # fmt: skip
    ledger.append(
        Explanation.create(
            at=later, block_id="k3f7qa.1", content_hash=marked.content_hash,
            spec_hash=marked.spec_hash,
        )
    )  # fmt: skip
    task_file = workspace.tasks_dir / "k3f7qa.toml"
    task_file.write_text(task_file.read_text().replace("column names", "column names, trimmed"))

    async with running([workspace.root]) as client:
        uri = client.open(path, path.read_text())
        diagnostics = await client.diagnostics_of(uri, 1)
        (hr314,) = [d for d in diagnostics if d.code == "HR314"]
        assert "the spec changed by hand after" in hr314.message
        (shown,) = (await client.run("handrail.listTasks", {"task": "k3f7qa"}))["tasks"]
        (by_hand,) = shown["spec_history"]
        assert by_hand["by_hand"] is True and by_hand["spec"] is None
        first_seen = dt.datetime.fromisoformat(by_hand["first_seen"])
        assert first_seen >= marked.at


async def test_the_pack_shows_where_the_code_goes_from_the_cursor(workspace: Workspace) -> None:
    # Issue 13.5 from the editor (VS Code chat's /generate): the cursor names the target file
    # and the insertion point; the block under it, the attempt being replaced.
    make_task(workspace, context=["src/a.py"])
    path = _source(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, SOURCE)
        await client.diagnostics_of(uri, 1)
        plain = await client.run("handrail.prompt", {"task": "k3f7qa"})
        assert "<<< the code goes here >>>" not in plain["prompt"]

        pack = await client.run("handrail.prompt", {"task": "k3f7qa", "uri": uri, "line": 3})
        assert "The code goes into `src/a.py`, before line 3." in pack["prompt"]
        assert "import os\n\n<<< the code goes here >>>\ndef f(x):" in pack["prompt"]

        await client.run(
            "handrail.markSelection", {"uri": uri, "startLine": 3, "endLine": 4, "task": "k3f7qa"}
        )
        replacing = await client.run(
            "handrail.prompt", {"task": "k3f7qa", "uri": uri, "line": 4, "replace": "k3f7qa.1"}
        )
        assert "replacing an earlier attempt that failed" in replacing["prompt"]
        where = replacing["prompt"].split("## Where the code goes")[1].split("## Context")[0]
        assert "at line 3, replacing an earlier attempt that failed (not shown)" in where
        assert "import os\n\n<<< the code goes here >>>\n```" in where
        with pytest.raises(JsonRpcException, match="not a block of task k3f7qa"):
            await client.run(
                "handrail.prompt", {"task": "k3f7qa", "uri": uri, "replace": "m2n4pq.1"}
            )


async def test_risk_tiers_follow_code_not_comments_and_say_why(workspace: Workspace) -> None:
    # Issue 13.7 in the editor: a word in a docstring or a comment puts no block in a tier; the
    # same word in code does, and the finding says which reason chose the tier.
    make_task(workspace)
    quiet = (
        "# handrail:begin k3f7qa.1\ndef f(x):\n"
        '    """Not about the password at all."""\n'
        "    # the password is elsewhere\n"
        "    return x + 1\n# handrail:end k3f7qa.1\n"
    )
    risky = (
        "# handrail:begin k3f7qa.2\ndef check(user, password):\n"
        "    return user.password == password\n# handrail:end k3f7qa.2\n"
    )
    src = workspace.root / "src"
    src.mkdir()
    (src / "quiet.py").write_text(quiet)
    (src / "risky.py").write_text(risky)
    async with running([workspace.root]) as client:
        quiet_uri = client.open(src / "quiet.py", quiet)
        assert "HR303" not in {d.code for d in await client.diagnostics_of(quiet_uri, 1)}
        risky_uri = client.open(src / "risky.py", risky)
        (hr303,) = [d for d in await client.diagnostics_of(risky_uri, 1) if d.code == "HR303"]
        assert "in the 'auth' risk tier" in hr303.message
        assert "It is in this tier because its code" in hr303.message
        assert "password" in hr303.message
