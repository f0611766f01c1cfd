"""`handrail trust` reads the workflow file exactly as `handrail check` does.

A FIFO must not hang it, and a file `check` refuses (too large, not a regular file) must not
be approved: the refusal is the same sentence and the same exit code, and nothing is recorded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from handrail.cli.main import cli
from handrail.verify import trust as trust_mod
from handrail.workflow.load import MAX_WORKFLOW_BYTES
from handrail.workspace import Workspace


def _run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)
    return result.exit_code, result.output


def _hr400_message(root: Path) -> str:
    code, output = _run(root, "check", "--format", "json")
    assert code == 2, output
    findings = json.loads(output[: output.rindex("}") + 1])["findings"]
    (message,) = [f["message"] for f in findings if f["code"] == "HR400"]
    assert isinstance(message, str)
    return message


def _oversized(ws: Workspace) -> None:
    padding = "# " + "x" * 98 + "\n"
    text = 'extends = "default"\n' + padding * (MAX_WORKFLOW_BYTES // len(padding) + 1)
    ws.workflow_path.write_text(text, encoding="utf-8")


def _fifo(ws: Workspace) -> None:
    os.mkfifo(ws.workflow_path)


@pytest.mark.timeout(60)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("make", [_oversized, _fifo], ids=["too-large", "fifo"])
def test_trust_refuses_what_check_refuses_with_the_same_message(
    workspace: Workspace, make: Callable[[Workspace], None]
) -> None:
    workspace.handrail_dir.mkdir(exist_ok=True)
    make(workspace)
    expected = _hr400_message(workspace.root)
    code, output = _run(workspace.root, "trust")
    assert code == 2, output
    assert output.strip() == f"handrail: {expected}"
    assert trust_mod.entry_for(workspace) is None
