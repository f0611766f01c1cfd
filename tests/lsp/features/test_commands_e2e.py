"""End to end: every handrail.* command, its result, its progress and its errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from features_harness import SPEC, Client, make_task, running
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from workspaces import shared_workspace

from handrail.blocks.markers import block_content, parse_blocks
from handrail.ledger.records import VerificationRun, content_hash
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

SERVER_COMMANDS = {
    "handrail.newTask",
    "handrail.validateSpec",
    "handrail.checkContext",
    "handrail.prompt",
    "handrail.markSelection",
    "handrail.recordTrace",
    "handrail.explain",
    "handrail.review",
    "handrail.check",
    "handrail.trustStatus",
    "handrail.approveTrust",
    "handrail.dismissInsertion",
    "handrail.contextCandidates",
    "handrail.renumber",
}


async def _progress_titles(client: Client, since: int = 0) -> list[str]:
    """The titles of the progress reports the server began after the first `since`, once
    each has ended (an end may follow the command's answer)."""

    def reports() -> list[list[Any]]:
        return list(client.progress_reports.values())[since:]

    await client.wait_for(
        lambda: all(r and isinstance(r[-1], types.WorkDoneProgressEnd) for r in reports()),
        what="every progress ended",
    )
    titles = []
    for found in reports():
        kinds = [type(r) for r in found]
        assert kinds[0] is types.WorkDoneProgressBegin
        assert kinds[-1] is types.WorkDoneProgressEnd
        titles.append(found[0].title)
    return titles


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def looking(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Client, Workspace]]:
    """One server for the module's tests whose commands write nothing."""
    with shared_workspace(tmp_path_factory, "looking") as ws:
        async with running([ws.root]) as client:
            yield client, ws


@pytest.mark.asyncio(loop_scope="module")
async def test_the_server_advertises_every_command(looking: tuple[Client, Workspace]) -> None:
    client, _ = looking
    provider = client.initialized.capabilities.execute_command_provider
    assert provider is not None
    advertised = provider.commands
    assert set(advertised) >= SERVER_COMMANDS


@pytest.mark.asyncio(loop_scope="module")
async def test_validate_spec_reports_what_is_missing_and_writes_nothing(
    looking: tuple[Client, Workspace],
) -> None:
    client, workspace = looking
    draft = await client.run("handrail.validateSpec", {"spec": "Parse it."})
    assert draft["ok"] is True and draft["sentences"] == ["Parse it."]
    assert {f["code"] for f in draft["findings"]} == {"HR102"}
    assert draft["missing"]
    assert list(workspace.tasks_dir.iterdir()) == []  # validating writes nothing


@pytest.mark.asyncio(loop_scope="module")
async def test_new_task_refuses_a_placeholder_spec_and_writes_nothing(
    looking: tuple[Client, Workspace],
) -> None:
    client, workspace = looking
    refused = await client.run("handrail.newTask", {"spec": "TODO: describe the change."})
    assert refused["task"] is None
    assert "HR103" in {f["code"] for f in refused["findings"]}
    assert list(workspace.tasks_dir.iterdir()) == []


async def test_new_task_writes_the_task_file_of_a_good_spec(workspace: Workspace) -> None:
    async with running([workspace.root]) as client:
        created = await client.run("handrail.newTask", {"spec": SPEC})
        assert (workspace.root / created["path"]).is_file()
        assert created["findings"] == [] and created["template"] is False


async def test_new_task_without_a_spec_writes_a_template_and_shows_it(
    workspace: Workspace,
) -> None:
    async with running([workspace.root]) as client:
        template = await client.run("handrail.newTask")
        assert template["template"] is True and template["shown"] is True
        (shown,) = client.shown_documents
        assert shown.uri == template["uri"]
        assert (workspace.tasks_dir / f"{template['task']}.toml").is_file()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def project(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """One server for the module on a folder with task k3f7qa (context src/csv_utils.py) and
    an unverified block in src/a.py: its commands only read, and each test counts only the
    progress it began."""
    with shared_workspace(tmp_path_factory, "project") as ws:
        (ws.root / "src").mkdir()
        (ws.root / "src" / "csv_utils.py").write_text("def parse_row(line):\n    return 1\n")
        (ws.root / "src" / "a.py").write_text(
            "# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"
        )
        make_task(ws, context=["src/csv_utils.py"])
        async with running([ws.root]) as client:
            yield client


@pytest.mark.asyncio(loop_scope="module")
async def test_check_context_counts_each_entry_with_progress(project: Client) -> None:
    since = len(project.progress_reports)
    report = await project.run("handrail.checkContext", {"task": "k3f7qa"})
    (entry,) = report["entries"]
    assert entry["entry"] == "src/csv_utils.py" and entry["status"] == "ok"
    assert report["total_tokens"] == entry["tokens"] > 0
    assert report["encoding"] == "cl100k_base"
    assert await _progress_titles(project, since) == ["Handrail: checking the context of k3f7qa"]


@pytest.mark.asyncio(loop_scope="module")
async def test_prompt_holds_the_spec_and_the_context(project: Client) -> None:
    since = len(project.progress_reports)
    pack = await project.run("handrail.prompt", {"task": "k3f7qa"})
    assert pack["refused"] is False
    assert SPEC in pack["prompt"] and "def parse_row" in pack["prompt"]
    assert await _progress_titles(project, since) == []


@pytest.mark.asyncio(loop_scope="module")
async def test_check_reports_the_workspace_or_one_path_with_progress(project: Client) -> None:
    since = len(project.progress_reports)
    gate = await project.run("handrail.check", {})
    assert [(f["code"], f["path"]) for f in gate["findings"]] == [("HR300", "src/a.py")]
    assert gate["errors"] == 1
    one = await project.run("handrail.check", {"path": "src/csv_utils.py"})
    assert one["findings"] == []
    assert await _progress_titles(project, since) == [
        "Handrail: checking the workspace",
        "Handrail: checking the workspace",
    ]


BAD_CALLS = [
    ("handrail.checkContext", [{}], "needs the argument 'task'"),
    ("handrail.checkContext", [{"task": 5}], "'task' must be text"),
    ("handrail.prompt", [{"task": "NOPE"}], "is not a task id"),
    ("handrail.prompt", [{"task": "aaaaaa"}], "there is no task aaaaaa"),
    ("handrail.validateSpec", ["spec", "two"], "takes one argument"),
    ("handrail.validateSpec", [["spec"]], "takes one argument"),
    ("handrail.newTask", [{"context": ["a.py#L5-L2"]}], "reversed line range"),
    ("handrail.newTask", [{"context": "a.py"}], '"context" must be a list'),
    ("handrail.markSelection", [{"uri": "file:///x.py", "startLine": 3, "endLine": 1}], "range"),
    ("handrail.markSelection", [{"uri": "file:///x.py", "startLine": True, "endLine": 1}], ""),
    ("handrail.markSelection", [{"uri": "file:///x.py", "startLine": 1, "endLine": 1}], "not open"),
    ("handrail.recordTrace", [{"block": "k3f7qa.1"}], "block k3f7qa.1 was not found"),
    ("handrail.explain", [{"block": "nope"}], "is not a block id"),
    ("handrail.review", [{"block": "k3f7qa.1", "verdict": "maybe"}], "verdict must be"),
    ("handrail.review", [{"block": "nope"}], "neither a task id"),
    ("handrail.check", [{"path": "../.."}], "outside the workspace"),
    ("handrail.check", [{"path": "missing.py"}], "no such file or folder"),
    ("handrail.dismissInsertion", [{"uri": "file:///nowhere.py", "line": 1}], "not open"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Client, Workspace]]:
    """One server for the bad calls (each refused, none writes), started once for the
    module."""
    with shared_workspace(tmp_path_factory, "bad-calls") as ws:
        async with running([ws.root]) as client:
            yield client, ws


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("command", "arguments", "message"),
    BAD_CALLS,
    ids=[f"{c[0]}-{n}" for n, c in enumerate(BAD_CALLS)],
)
async def test_a_bad_argument_gets_a_plain_error(
    shared_server: tuple[Client, Workspace], command: str, arguments: list[Any], message: str
) -> None:
    client, ws = shared_server
    with pytest.raises(JsonRpcException) as caught:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=arguments)
        )
    assert caught.value.code in (-32602, -32803), command
    assert message in caught.value.message, (command, caught.value.message)
    assert "Traceback" not in caught.value.message
    assert list(ws.tasks_dir.iterdir()) == []


async def test_the_server_goes_on_after_a_bad_call(workspace: Workspace) -> None:
    async with running([workspace.root]) as client:
        command, arguments, _ = BAD_CALLS[0]
        with pytest.raises(JsonRpcException):
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command, arguments=arguments)
            )
        result = await client.run("handrail.validateSpec", {"spec": "Parse it."})
        assert result["ok"] is True
        assert list(workspace.tasks_dir.iterdir()) == []


async def test_review_records_a_teammates_verdict_and_refuses_the_author(
    workspace: Workspace,
) -> None:
    import subprocess

    from handrail.ledger.records import BlockMarked, Review
    from handrail.ledger.store import Ledger

    root = workspace.root
    (root / "src").mkdir()
    (root / "src" / "a.py").write_text(
        "# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"
    )
    make_task(workspace)
    Ledger(workspace).append(
        BlockMarked.create(
            block_id="k3f7qa.1",
            task_id="k3f7qa",
            path="src/a.py",
            content_hash="sha256:x",
            begin_line=1,
            end_line=3,
            author="Ada Tester <ada@example.com>",
        )
    )

    def as_user(name: str, email: str) -> None:
        for key, value in (("user.name", name), ("user.email", email)):
            subprocess.run(["git", "config", key, value], cwd=root, check=True)

    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    async with running([root]) as client:
        as_user("Ada Tester", "ada@example.com")
        own = await client.run("handrail.review", {"block": "k3f7qa.1"})
        assert own["recorded"] == []
        assert "you are its author" in own["refused"][0]["reason"]
        as_user("Bob Builder", "bob@example.com")
        done = await client.run(
            "handrail.review", {"block": "k3f7qa", "verdict": "request_changes", "note": "why"}
        )
        assert [r["block"] for r in done["recorded"]] == ["k3f7qa.1"]
    (record,) = [r for r in Ledger(workspace).read().records if isinstance(r, Review)]
    assert (record.author, record.verdict, record.note) == (
        "Bob Builder <bob@example.com>",
        "request_changes",
        "why",
    )


async def test_check_counts_each_block_by_its_real_state(workspace: Workspace) -> None:
    # Issue 19.1: with a failed block (HR302) on screen the status bar read "0 unverified",
    # because it counted HR300 only. The answer now groups the gate's own block findings.
    (workspace.root / "src").mkdir()
    failing = "# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"
    (workspace.root / "src" / "a.py").write_text(failing)
    (workspace.root / "src" / "b.py").write_text(
        "# handrail:begin k3f7qa.2\ny = 2\n# handrail:end k3f7qa.2\n"
    )
    make_task(workspace)
    parsed = parse_blocks(failing, "src/a.py").blocks[0]
    now = dt.datetime.now(dt.UTC)
    Ledger(workspace).append(
        VerificationRun.create(
            task_id="k3f7qa",
            command=["npm", "test"],
            exit_code=254,
            passed=False,
            started_at=now,
            finished_at=now,
            blocks={"k3f7qa.1": content_hash(block_content(failing, parsed))},
        )
    )
    async with running([workspace.root]) as client:
        gate = await client.run("handrail.check", {})
        codes = sorted(f["code"] for f in gate["findings"])
        assert codes == ["HR300", "HR302"]
        blocks = gate["blocks"]
        assert blocks["counts"] == {"failing": 1, "unverified": 1}
        assert blocks["blocking"] == 2
        assert [(b["block"], b["states"], b["blocking"]) for b in blocks["blocks"]] == [
            ("k3f7qa.1", ["failing"], True),
            ("k3f7qa.2", ["unverified"], True),
        ]
        assert blocks["blocks"][0]["path"] == "src/a.py"
        assert "exited with code 254" in blocks["blocks"][0]["messages"][0]
