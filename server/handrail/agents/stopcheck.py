"""`handrail agent stop-check`: the stop hook that keeps an agent working until its code is proven.

The contract, per agent:

- **Claude Code** (``Stop``, ``SubagentStop``) and **Codex** (``Stop``): the hook input
  carries ``session_id``, ``cwd`` and ``stop_hook_active``. Exit 2 with the reason on stderr
  blocks the stop and hands the reason to the agent; exit 0 lets it stop.
- **Cursor** (``stop``): the input carries ``conversation_id``, ``workspace_roots`` and
  ``loop_count``. Cursor does not block on an exit code: a ``followup_message`` on stdout
  (exit 0) is sent to the agent as its next message; none lets it stop.

It never loops forever: a stop the agent makes on its own (``stop_hook_active`` false, or
Cursor's ``loop_count`` 0) starts a fresh count; after `max_attempts` refused stops in a row
the hook lets go and tells the user (Claude Code's ``systemMessage``) what is still open.
A workspace that has not adopted Handrail (no ``.handrail/``) is never held.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from handrail.agents.active import active_task
from handrail.agents.identity import HookInput
from handrail.agents.outstanding import OutstandingReport, outstanding
from handrail.agents.state import set_stop_attempts, stop_attempts
from handrail.workspace import Workspace

DEFAULT_MAX_ATTEMPTS = 3
"""Refused stops in a row before the hook gives up (Claude Code's own cap is 8)."""

EXIT_ALLOW, EXIT_BLOCK = 0, 2


@dataclass(frozen=True, slots=True)
class StopDecision:
    exit_code: int
    stderr: str = ""
    stdout: str = ""
    report: OutstandingReport | None = None
    gave_up: bool = False


def decide(
    ws: Workspace,
    hook: HookInput,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    agent: str | None = None,
) -> StopDecision:
    """Whether the agent may stop now, and what to tell it (or the user) either way."""
    if not ws.handrail_dir.is_dir():
        return StopDecision(EXIT_ALLOW)
    if hook.status in ("aborted", "error"):
        # The user stopped the agent (or it crashed): a follow-up would override the user.
        return StopDecision(EXIT_ALLOW)
    from handrail.analysis import Snapshot

    snapshot = Snapshot.load(ws)
    task = active_task(ws, snapshot.tasks, snapshot.ledger.records, session=hook.session)
    report = outstanding(ws, task_id=task.task_id if task else None, snapshot=snapshot)
    report.agent = agent
    key = hook.session or "-"
    if report.clear:
        set_stop_attempts(ws, key, 0)
        return StopDecision(EXIT_ALLOW, report=report)
    if hook.is_cursor and hook.loop_count is not None:
        attempts = hook.loop_count
    elif hook.stop_hook_active:
        attempts = stop_attempts(ws, key)
    else:
        attempts = 0
    if attempts >= max_attempts:
        set_stop_attempts(ws, key, 0)
        message = (
            f"Handrail let the agent stop after {attempts} refused stops, but its code is "
            f"not proven: {len(report.items)} item(s) open. Next: {report.next_command()}"
        )
        stdout = "" if hook.is_cursor else json.dumps({"systemMessage": message})
        return StopDecision(
            EXIT_ALLOW, stderr=message + "\n", stdout=stdout, report=report, gave_up=True
        )
    set_stop_attempts(ws, key, attempts + 1)
    reason = report.reason()
    if hook.is_cursor:
        return StopDecision(
            EXIT_ALLOW, stdout=json.dumps({"followup_message": reason}), report=report
        )
    return StopDecision(EXIT_BLOCK, stderr=reason + "\n", report=report)
