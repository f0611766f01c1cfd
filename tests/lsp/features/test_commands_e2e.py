"""End to end: every handrail.* command, its result, its progress and its errors."""

from __future__ import annotations

import datetime as dt

import pytest
from features_harness import SPEC, Client, make_task, running
from lsprotocol import types
from pygls.exceptions import JsonRpcException

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


def _progress_titles(client: Client) -> list[str]:
    titles = []
    for reports in client.progress_reports.values():
        kinds = [type(r) for r in reports]
        assert kinds[0] is types.WorkDoneProgressBegin
        assert kinds[-1] is types.WorkDoneProgressEnd
        titles.append(reports[0].title)
    return titles


async def test_spec_commands(workspace: Workspace) -> None:
    async with running([workspace.root]) as client:
        provider = client.initialized.capabilities.execute_command_provider
        assert provider is not None
        advertised = provider.commands
        assert set(advertised) >= SERVER_COMMANDS

        draft = await client.run("handrail.validateSpec", {"spec": "Parse it."})
        assert draft["ok"] is True and draft["sentences"] == ["Parse it."]
        assert {f["code"] for f in draft["findings"]} == {"HR102"}
        assert draft["missing"]
        assert list(workspace.tasks_dir.iterdir()) == []  # validating writes nothing

        refused = await client.run("handrail.newTask", {"spec": "TODO: describe the change."})
        assert refused["task"] is None
        assert "HR103" in {f["code"] for f in refused["findings"]}
        assert list(workspace.tasks_dir.iterdir()) == []

        created = await client.run("handrail.newTask", {"spec": SPEC})
        assert (workspace.root / created["path"]).is_file()
        assert created["findings"] == [] and created["template"] is False

        template = await client.run("handrail.newTask")
        assert template["template"] is True and template["shown"] is True
        (shown,) = client.shown_documents
        assert shown.uri == template["uri"]
        assert (workspace.tasks_dir / f"{template['task']}.toml").is_file()


async def test_context_prompt_and_check_commands(workspace: Workspace) -> None:
    (workspace.root / "src").mkdir()
    (workspace.root / "src" / "csv_utils.py").write_text("def parse_row(line):\n    return 1\n")
    (workspace.root / "src" / "a.py").write_text(
        "# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"
    )
    make_task(workspace, context=["src/csv_utils.py"])
    async with running([workspace.root]) as client:
        report = await client.run("handrail.checkContext", {"task": "k3f7qa"})
        (entry,) = report["entries"]
        assert entry["entry"] == "src/csv_utils.py" and entry["status"] == "ok"
        assert report["total_tokens"] == entry["tokens"] > 0
        assert report["encoding"] == "cl100k_base"

        pack = await client.run("handrail.prompt", {"task": "k3f7qa"})
        assert pack["refused"] is False
        assert SPEC in pack["prompt"] and "def parse_row" in pack["prompt"]

        gate = await client.run("handrail.check", {})
        assert [(f["code"], f["path"]) for f in gate["findings"]] == [("HR300", "src/a.py")]
        assert gate["errors"] == 1
        one = await client.run("handrail.check", {"path": "src/csv_utils.py"})
        assert one["findings"] == []

        titles = _progress_titles(client)
        assert titles == [
            "Handrail: checking the context of k3f7qa",
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


async def test_bad_arguments_get_a_plain_error_and_the_server_goes_on(
    workspace: Workspace,
) -> None:
    async with running([workspace.root]) as client:
        for command, arguments, message in BAD_CALLS:
            with pytest.raises(JsonRpcException) as caught:
                await client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command=command, arguments=arguments)
                )
            assert caught.value.code in (-32602, -32803), command
            assert message in caught.value.message, (command, caught.value.message)
            assert "Traceback" not in caught.value.message
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
