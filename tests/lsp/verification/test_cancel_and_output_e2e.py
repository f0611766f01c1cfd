"""End to end: cancelling a run from the editor, and output that never disturbs the protocol."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from lsp_client import HANG_GUARD_S
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from verification_harness import (
    TASK,
    Client,
    block_file,
    python_command,
    running,
    write_task,
    write_workflow,
)

from handrail.ledger.records import VerificationRun
from handrail.ledger.store import Ledger
from handrail.verify import trust as trust_mod
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

# The command starts a grandchild that records its pid, then both sleep: cancelling must
# take the whole process group down.
SLEEPER = python_command(
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', "
    '\'import os, time; open("grandchild.pid", "w").write(str(os.getpid())); time.sleep(3600)\'])\n'
    "time.sleep(3600)"
)
CHATTY = python_command(
    "import sys\nfor i in range(80000):\n    sys.stdout.write('line %06d of chatter\\n' % i)\n"
)


def sleeping_project(ws: Workspace) -> None:
    write_workflow(ws, SLEEPER)
    write_task(ws)
    (ws.root / "calc.py").write_text(block_file(f"{TASK}.1", "x = 1\n"))
    trust_mod.trust(ws)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0; it is gone as far as running goes.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


async def grandchild(client: Client, root: Path) -> int:
    """The pid the grandchild wrote (once it is running)."""
    pid_file = root / "grandchild.pid"
    text = await client.wait_for(
        lambda: pid_file.exists() and pid_file.read_text(), what="the grandchild"
    )
    return int(text)


async def gone(client: Client, pid: int) -> None:
    await client.wait_for(lambda: not alive(pid), what=f"process {pid} gone")


def runs(ws: Workspace) -> list[VerificationRun]:
    return [r for r in Ledger(ws).read().records if isinstance(r, VerificationRun)]


async def test_cancel_request_and_progress_cancel_kill_the_process_group(
    workspace: Workspace,
) -> None:
    sleeping_project(workspace)
    pid_file = workspace.root / "grandchild.pid"
    async with running(workspace.root, trusted=True) as client:
        # 1. $/cancelRequest for the executeCommand request.
        request = asyncio.ensure_future(
            client.run("handrail.verify", {"task": TASK}, msg_id="verify-1")
        )
        pid = await grandchild(client, workspace.root)
        assert any("running `" in m for m in client.progress_messages())
        # One verification at a time per folder.
        with pytest.raises(JsonRpcException, match="already verifying task abcdef"):
            await client.run("handrail.verifyAll")
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="verify-1"))
        with pytest.raises(JsonRpcException) as refused:
            await asyncio.wait_for(request, HANG_GUARD_S)
        assert refused.value.code == types.LSPErrorCodes.RequestCancelled
        # The grandchild sleeps an hour: gone at all, it was killed.
        await gone(client, pid)
        await client.wait_for(
            lambda: any(m.startswith("end: ") for m in client.progress_messages()),
            what="the progress to end",
        )
        assert client.progress_messages()[-1].startswith("end: Verified 0 of 1 block ")

        # 2. window/workDoneProgress/cancel for the progress of the next run.
        pid_file.unlink()
        first_token = next(iter(client.progress_reports))
        request = asyncio.ensure_future(client.run("handrail.verify", {"block": f"{TASK}.1"}))
        pid = await grandchild(client, workspace.root)
        (token,) = [t for t in client.progress_reports if t != first_token]
        begin = client.progress_reports[token][0]
        assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable
        client.protocol.notify(
            types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token=token)
        )
        answer = await asyncio.wait_for(request, HANG_GUARD_S)
        assert answer["cancelled"] is True and answer["ok"] is False
        assert answer["blocks"][0]["status"] == "cancelled"
        await gone(client, pid)
    assert runs(workspace) == []  # a cancelled run is not recorded


async def test_megabytes_of_output_do_not_disturb_the_protocol(workspace: Workspace) -> None:
    write_workflow(workspace, CHATTY)
    write_task(workspace)
    path = workspace.root / "calc.py"
    path.write_text(block_file(f"{TASK}.1", "x = 1\n"))
    trust_mod.trust(workspace)
    async with running(workspace.root, trusted=True) as client:
        uri = client.open(path)
        await client.codes_become(uri, ["HR300"])
        request = asyncio.ensure_future(client.run("handrail.verify", {"task": TASK}))
        while True:  # requests during the run, and the next one after it, are answered
            finished = request.done()
            lens = await asyncio.wait_for(
                client.text_document_code_lens_async(
                    types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
                ),
                HANG_GUARD_S,
            )
            assert lens and lens[0].command is not None
            if finished:
                break
            await asyncio.sleep(0.02)
        answer = request.result()
        assert answer["runs"][0]["passed"] is True  # the command imports no block: HR310
        (run,) = answer["runs"]
        assert run["output_bytes"] == 80000 * len("line 000000 of chatter\n")  # ~1.8 MB
        assert run["output_tail"][-1] == "line 079999 of chatter"
        assert len(run["output_tail"]) == 30
        await client.codes_become(uri, ["HR310"])
        reports = [m for m in client.progress_messages() if m.startswith("report: ")]
        # Output is reported four times a second at most, never line by line.
        assert len(reports) <= 4 * run["duration_s"] + 4
