"""End to end: the editor shuts the server down (or just exits it) while a verification runs.

The command ignores SIGTERM and has a grandchild that does too: the whole group must still
go, the server must exit promptly with the code LSP prescribes, and nothing false is
recorded.
"""

from __future__ import annotations

import signal

import pytest
from processes import kill_group, stubborn_command, wait_for_file, wait_until_group_gone
from raw_lsp import RawServer
from verification_harness import TASK, block_file, write_task, write_workflow

from handrail.ledger.records import VerificationRun
from handrail.ledger.store import Ledger
from handrail.verify import trust as trust_mod
from handrail.workspace import Workspace

TRUSTED = {"handrail": {"trusted": True, "debounce_ms": 0}}


def stubborn_project(ws: Workspace) -> None:
    write_workflow(ws, stubborn_command())
    write_task(ws)
    (ws.root / "calc.py").write_text(block_file(f"{TASK}.1", "x = 1\n"), encoding="utf-8")
    trust_mod.trust(ws)


def runs(ws: Workspace) -> list[VerificationRun]:
    return [r for r in Ledger(ws).read().records if isinstance(r, VerificationRun)]


@pytest.mark.parametrize("shutdown_first", [True, False], ids=["shutdown+exit", "exit-only"])
def test_shutdown_and_exit_stop_a_running_verification(
    workspace: Workspace, shutdown_first: bool
) -> None:
    stubborn_project(workspace)
    with RawServer(workspace.root) as server:
        server.initialize(workspace.root, TRUSTED)
        verify_id = server.request(
            "workspace/executeCommand",
            {"command": "handrail.verify", "arguments": [{"task": TASK}]},
        )
        pgid = int(wait_for_file(workspace.root / "command.pgid", unless_exited=server.process))
        try:
            if shutdown_first:
                shutdown = server.reply(server.request("shutdown"))
                assert shutdown.get("error") is None and shutdown["result"] is None
                # `shutdown` is answered once the command is stopped, after the request
                # it stopped.
                answer = server.reply(verify_id, timeout_s=0)["result"]
                assert answer["cancelled"] is True and answer["ok"] is False
                assert answer["blocks"][0]["status"] == "cancelled"
            server.notify("exit")
            code = server.exit_code()
            wait_until_group_gone(pgid)
            assert "Traceback" not in server.stderr, server.stderr
            # LSP: 0 after `shutdown`, 1 for an `exit` without it.
            assert code == (0 if shutdown_first else 1), server.stderr
        except BaseException:
            kill_group(pgid)  # a failed test must not leave the command running
            raise
    assert runs(workspace) == []


@pytest.mark.parametrize("how", ["SIGTERM", "end-of-input"])
def test_a_killed_or_abandoned_server_stops_its_verification(
    workspace: Workspace, how: str
) -> None:
    """An editor that stops the server with SIGTERM, or crashes and closes its pipe."""
    stubborn_project(workspace)
    with RawServer(workspace.root) as server:
        server.initialize(workspace.root, TRUSTED)
        server.request(
            "workspace/executeCommand",
            {"command": "handrail.verify", "arguments": [{"task": TASK}]},
        )
        pgid = int(wait_for_file(workspace.root / "command.pgid", unless_exited=server.process))
        try:
            if how == "SIGTERM":
                server.process.send_signal(signal.SIGTERM)
            else:
                server.close_stdin()
            code = server.exit_code()
            wait_until_group_gone(pgid)
            assert "Traceback" not in server.stderr, server.stderr
            assert code == (143 if how == "SIGTERM" else 0), server.stderr
        except BaseException:
            kill_group(pgid)
            raise
    assert runs(workspace) == []
