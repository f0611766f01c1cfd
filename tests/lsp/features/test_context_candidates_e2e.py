"""End to end: ``handrail.contextCandidates``, the files a task may attach with their tokens."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner
from features_harness import make_task, running
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from handrail.cli.main import cli
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

SOURCE = "def parse_row(line):\n    return line.split(',')\n"


def _cli_tokens(workspace: Workspace, task_id: str) -> int:
    result = CliRunner().invoke(
        cli, ["--root", str(workspace.root), "context", "check", task_id, "--json"]
    )
    (report,) = json.loads(result.output)["tasks"]
    (entry,) = report["entries"]
    assert entry["status"] == "ok"
    return int(entry["tokens"])


async def test_candidates_leave_out_ignored_files_and_count_tokens(workspace: Workspace) -> None:
    root = workspace.root
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "src").mkdir()
    (root / "src" / "csv_utils.py").write_text(SOURCE)
    (root / ".env").write_text("API_KEY=abc\n")
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text("x = 1\n")
    (root / "logo.bin").write_bytes(b"\x89PNG\x00\x01")
    make_task(workspace, context=["src/csv_utils.py"])
    expected = _cli_tokens(workspace, "k3f7qa")

    async with running([root]) as client:
        provider = client.initialized.capabilities.execute_command_provider
        assert provider is not None and "handrail.contextCandidates" in provider.commands

        result = await client.run("handrail.contextCandidates", {})
        by_path = {f["path"]: f for f in result["files"]}
        assert ".env" not in by_path
        assert "build/out.py" not in by_path
        assert not any(p.startswith(".handrail/") for p in by_path)
        assert by_path["src/csv_utils.py"] == {
            "path": "src/csv_utils.py",
            "tokens": expected,
            "status": "ok",
        }
        assert by_path["logo.bin"]["tokens"] is None
        assert by_path["logo.bin"]["status"] == "binary"
        assert result["encoding"] == "cl100k_base"
        assert result["max_tokens"] > 0 and result["max_files"] > 0
        assert "truncated" not in result

        some = await client.run(
            "handrail.contextCandidates", {"paths": ["src/csv_utils.py", ".env"]}
        )
        assert [f["path"] for f in some["files"]] == ["src/csv_utils.py"]
        assert some["files"][0]["tokens"] == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([{"paths": "src/a.py"}], '"paths" must be a list'),
        ([{"paths": [3]}], '"paths" must be a list'),
        ([{"folder": 5}], "'folder' must be text"),
        (["a", "b"], "takes one argument"),
    ],
)
async def test_candidates_bad_arguments(
    workspace: Workspace, arguments: list[object], message: str
) -> None:
    async with running([workspace.root]) as client:
        with pytest.raises(JsonRpcException) as caught:
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="handrail.contextCandidates", arguments=arguments
                )
            )
        assert caught.value.code == -32602
        assert message in caught.value.message
