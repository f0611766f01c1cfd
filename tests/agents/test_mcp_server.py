"""`handrail mcp` driven over stdio by the MCP SDK's own client, as an agent drives it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from agent_helpers import ADDED, GOOD_SPEC, handrail, make_repo, stop_check

from handrail.ledger.records import BlockMarked, VerificationRun
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

pytest.importorskip("mcp")

from mcp import Client
from mcp.client.stdio import StdioServerParameters

TIMEOUT = 60.0


@asynccontextmanager
async def connect(root: Path, *args: str) -> AsyncIterator[Client]:
    """A client session with `handrail mcp` started in `root`, this test's environment."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "handrail", "mcp", "--agent", "claude-code", *args],
        cwd=str(root),
        env=dict(os.environ),
    )
    async with Client(params, read_timeout_seconds=TIMEOUT) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert isinstance(text, str)
    return text


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    return make_repo(tmp_path)


async def test_tools_resources_spec_and_context(repo: tuple[Path, str]) -> None:
    root, _ = repo
    async with connect(root) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert tools == {
            "check_spec",
            "check_context",
            "get_prompt",
            "mark_generated",
            "verify",
            "block_states",
        }
        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        assert uris == {"handrail://workflow", "handrail://task/active"}

        too_long = await call(client, "check_spec", spec="One. Two. Three. Four. Five.")
        assert too_long["ok"] is False and too_long["task"] is None
        assert "HR101" in {f["code"] for f in too_long["findings"]}
        assert "Decompose" in too_long["summary"]
        assert len(list((root / ".handrail" / "tasks").glob("*.toml"))) == 1  # none written

        made = await call(client, "check_spec", spec=GOOD_SPEC, context=["src/words.py"])
        assert made["ok"] is True
        task = made["task"]
        assert (root / ".handrail" / "tasks" / f"{task}.toml").is_file()

        context = await call(client, "check_context", task=task)
        assert context["passed"] is True
        (entry,) = context["entries"]
        assert entry["entry"] == "src/words.py" and entry["tokens"] > 0
        assert context["total_tokens"] == entry["tokens"]
        assert context["encoding"]
        assert f"{entry['tokens']} of {context['max_tokens']} tokens" in context["summary"]

        active = await client.read_resource("handrail://task/active")
        data = json.loads(active.contents[0].text)  # type: ignore[union-attr]
        assert (data["task"], data["source"]) == (task, "chosen")
        workflow = await client.read_resource("handrail://workflow")
        assert "Specification" in workflow.contents[0].text  # type: ignore[union-attr]

        pack = await call(client, "get_prompt", task=task)
        assert pack["refused"] is False and "def words(text):" in pack["prompt"]


async def test_marked_block_is_seen_by_check_and_verify_waits_for_trust(
    repo: tuple[Path, str],
) -> None:
    root, task = repo
    (root / "src" / "words.py").write_text(ADDED)
    async with connect(root, "--model", "claude-sonnet-4-5") as client:
        marked = await call(
            client, "mark_generated", path="src/words.py", start_line=5, end_line=6, task=task
        )
        block = marked["block"]
        assert block == f"{task}.1" and (marked["begin_line"], marked["end_line"]) == (5, 8)

        gate = handrail(root, "check", "--format", "json")
        codes = {(f["code"], f["path"]) for f in json.loads(gate.output)["findings"]}
        assert ("HR300", "src/words.py") in codes

        states = await call(client, "block_states", path="src/words.py")
        (state,) = states["blocks"]
        assert (state["block"], state["status"], state["verified"]) == (block, "unverified", False)

        # The stop hook sees the block the agent marked through the server (the chosen task).
        held = stop_check(root, "claude_code_stop.json")
        assert held.exit_code == 2 and f"{block} (src/words.py:5-8) HR300" in held.stderr

        before = await call(client, "verify", target=task)
        assert before["ran"] is False and before["trusted"] is False
        assert "HR403" in {f["code"] for f in before["findings"]}
        assert "handrail trust" in before["summary"]
        records = Ledger(Workspace.at(root)).read().records
        assert not [r for r in records if isinstance(r, VerificationRun)]  # nothing ran

        assert handrail(root, "trust").exit_code == 0
        after = await call(client, "verify", target=task)
        assert after["ok"] is True and after["ran"] is True
        states = await call(client, "block_states", task=task)
        assert states["blocks"][0]["verified"] is True
        assert stop_check(root, "claude_code_stop_active.json").exit_code == 0

    (mark,) = [r for r in Ledger(Workspace.at(root)).read().records if isinstance(r, BlockMarked)]
    assert (mark.agent, mark.model) == ("claude-code", "claude-sonnet-4-5")


async def test_paths_outside_the_workspace_are_refused(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    root, task = repo
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\ny = 2\n")
    (root / "src" / "link.py").symlink_to(outside)
    async with connect(root) as client:
        for path in ("../outside.py", str(outside), "src/link.py"):
            message = await refused(
                client, "mark_generated", path=path, start_line=1, end_line=1, task=task
            )
            assert "outside the workspace" in message
        assert "outside the workspace" in await refused(client, "block_states", path="/etc/passwd")
        assert "outside the workspace" in await refused(
            client, "check_spec", spec=GOOD_SPEC, context=["../outside.py"]
        )
        assert "git's own folder" in await refused(
            client, "mark_generated", path=".git/config", start_line=1, end_line=1, task=task
        )
        assert "Handrail's own record" in await refused(
            client,
            "mark_generated",
            path=f".handrail/tasks/{task}.toml",
            start_line=1,
            end_line=1,
            task=task,
        )
    assert outside.read_text() == "x = 1\ny = 2\n"


async def test_a_secret_in_the_context_is_never_returned(repo: tuple[Path, str]) -> None:
    root, _ = repo
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    (root / "src" / "settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{key}"\n')
    async with connect(root) as client:
        made = await call(client, "check_spec", spec=GOOD_SPEC, context=["src/settings.py"])
        task = made["task"]
        context = await call(client, "check_context", task=task)
        assert context["passed"] is False
        assert "HR204" in {f["code"] for f in context["findings"]}
        pack = await call(client, "get_prompt", task=task)
        assert pack["refused"] is True and pack["prompt"] is None
        for answer in (context, pack):
            assert key not in json.dumps(answer)
