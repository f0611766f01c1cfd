"""The machine's trust gate from the editor, in one step (issue 19.4).

Before, after Workspace Trust, verification answered with two near-identical messages and no
button, and `handrail trust` in a terminal then approved every command the rules could run
(npm, go, cargo, …) although the editor had shown none. ``handrail.trustStatus`` lists exactly
the commands that verifying this workspace's generated blocks would run; ``handrail.approveTrust``
records the approval of exactly the commands the user was shown, through the same `trust()` as
`handrail trust`, and only when the editor trusts the folder.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from handrail.lsp.features.common import CommandFailed, bad_params, one_mapping
from handrail.lsp.server import HandrailServer

if TYPE_CHECKING:
    from handrail.lsp.features.command_results import (
        ApproveTrustResult,
        TrustCommandJson,
        TrustStatusResult,
    )
    from handrail.lsp.state import FolderState
    from handrail.verify.trust import TrustRequest

TRUST_STATUS = "handrail.trustStatus"
APPROVE_TRUST = "handrail.approveTrust"


def _request(folder: FolderState) -> tuple[TrustRequest, list[TrustCommandJson]]:
    """What the machine would approve for the workspace's blocks, and each command's state."""
    from handrail.tasks.files import load_all_tasks
    from handrail.verify.run import find_blocks, plan
    from handrail.verify.trust import is_trusted, pending

    ws = folder.ws
    request = pending(ws)
    tasks = load_all_tasks(ws, folder.snapshot.workflow.workflow)
    invocations, _ = plan(folder.snapshot.workflow.workflow, tasks, find_blocks(ws))
    used: dict[str, list[str]] = {}
    for invocation in invocations:
        used.setdefault(invocation.source.text, []).extend(invocation.block_ids)
    sources = [c for c in request.commands if c.text in used]
    commands: list[TrustCommandJson] = [
        {
            "command": text,
            "where": next(c.where for c in sources if c.text == text),
            "blocks": sorted(set(used[text])),
            "approved": is_trusted(ws, text).trusted,
        }
        for text in dict.fromkeys(c.text for c in sources)
    ]
    return replace(request, commands=sources), commands


async def trust_status(server: HandrailServer, *args: Any) -> TrustStatusResult:
    """The commands verifying this workspace's blocks would run, and whether each is approved."""
    from handrail.lsp.features.commands import folder_from

    values = one_mapping(args, TRUST_STATUS)
    folder = folder_from(server, values, TRUST_STATUS)
    _, commands = await asyncio.to_thread(_request, folder)
    return {
        "editor_trusted": server.is_trusted(folder),
        "commands": commands,
        "pending": [c["command"] for c in commands if not c["approved"]],
    }


async def approve_trust(server: HandrailServer, *args: Any) -> ApproveTrustResult:
    """Approve exactly ``commands`` (the texts the user was shown), as `handrail trust` does."""
    from handrail.lsp.features.commands import folder_from
    from handrail.verify.trust import TrustError, trust

    values = one_mapping(args, APPROVE_TRUST)
    shown = values.get("commands")
    if not isinstance(shown, list) or not all(isinstance(c, str) for c in shown):
        raise bad_params(f"{APPROVE_TRUST} needs 'commands': the command texts the user saw.")
    folder = folder_from(server, values, APPROVE_TRUST)
    if not server.is_trusted(folder):
        raise CommandFailed(
            "Handrail approves commands only in a trusted workspace: trust the folder in the "
            "editor first (VS Code: Manage Workspace Trust)."
        )
    request, commands = await asyncio.to_thread(_request, folder)
    now = sorted(c["command"] for c in commands)
    if sorted(set(shown)) != now:
        raise CommandFailed(
            "The commands changed since they were shown (the workflow or a task was edited); "
            "verify again to see the new list. Nothing was approved."
        )
    try:
        await asyncio.to_thread(trust, folder.ws, request)
    except TrustError as exc:
        raise CommandFailed(f"Handrail could not record the approval: {exc}") from None
    return {"approved": now}


def register(server: HandrailServer) -> None:
    @server.command(TRUST_STATUS)
    async def on_trust_status(ls: HandrailServer, *args: Any) -> Any:
        return await trust_status(ls, *args)

    @server.command(APPROVE_TRUST)
    async def on_approve_trust(ls: HandrailServer, *args: Any) -> Any:
        return await approve_trust(ls, *args)
