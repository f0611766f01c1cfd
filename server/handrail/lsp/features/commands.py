"""``workspace/executeCommand``: every CLI action, named ``handrail.*`` (docs/commands.md).

Each command takes one JSON object. A missing or mistyped argument is a JSON-RPC "invalid
params" error with a plain sentence; a request that is well formed but cannot be carried
out (no such task, a file that cannot be written) is LSP's "request failed". No command
ever runs a user-defined command line: verification is not done here.

The handlers live in one module per job (`task_commands`, `context_commands`,
`marking_commands`, `evidence_commands`, `gate_commands`); this module is their table and
registers them the one way pygls calls commands. Their result shapes are the engine's typed
results (`handrail.lsp.features.command_contract`), checked against tests/contract/commands/.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from handrail.lsp.features.command_names import (
    CHECK,
    CHECK_CONTEXT,
    CLOSE_TASK,
    CONTEXT_CANDIDATES,
    DECOMPOSE,
    DISMISS_INSERTION,
    EDIT_TASK,
    EDIT_TASK_CONTEXT,
    EXPLAIN,
    LIST_TASKS,
    MARK_SELECTION,
    NEW_TASK,
    NOTE,
    PROMPT,
    RECORD_TRACE,
    RENUMBER,
    REOPEN_TASK,
    REVIEW,
    SET_ACTIVE_TASK,
    VALIDATE_SPEC,
)
from handrail.lsp.features.command_support import folder_from, show_document
from handrail.lsp.features.context_commands import (
    check_context,
    context_candidates,
    edit_task_context,
    prompt,
)
from handrail.lsp.features.evidence_commands import explain, note, record_trace, review
from handrail.lsp.features.gate_commands import check, dismiss_insertion, renumber, set_active_task
from handrail.lsp.features.marking_commands import apply_mark, mark_selection
from handrail.lsp.features.task_commands import (
    close_task,
    decompose,
    edit_task_command,
    list_tasks,
    new_task,
    reopen_task,
    validate_spec,
)
from handrail.lsp.server import HandrailServer

__all__ = [
    "DISMISS_INSERTION",
    "EXPLAIN",
    "HANDLERS",
    "MARK_SELECTION",
    "NOTE",
    "RECORD_TRACE",
    "apply_mark",
    "folder_from",
    "register",
    "show_document",
]

Handler = Callable[..., Any]


def _adapt(handler: Handler) -> Handler:
    """The handler as pygls calls commands: the server as ``ls``, arguments unconverted."""

    async def run(ls: HandrailServer, *args: Any) -> Any:
        result = handler(ls, *args)
        return await result if inspect.isawaitable(result) else result

    return run


HANDLERS: dict[str, Handler] = {
    NEW_TASK: new_task,
    VALIDATE_SPEC: validate_spec,
    CHECK_CONTEXT: check_context,
    CONTEXT_CANDIDATES: context_candidates,
    PROMPT: prompt,
    MARK_SELECTION: mark_selection,
    RECORD_TRACE: record_trace,
    EXPLAIN: explain,
    REVIEW: review,
    NOTE: note,
    CHECK: check,
    DISMISS_INSERTION: dismiss_insertion,
    SET_ACTIVE_TASK: set_active_task,
    RENUMBER: renumber,
    LIST_TASKS: list_tasks,
    EDIT_TASK: edit_task_command,
    CLOSE_TASK: close_task,
    REOPEN_TASK: reopen_task,
    DECOMPOSE: decompose,
    EDIT_TASK_CONTEXT: edit_task_context,
}


def register(server: HandrailServer) -> None:
    for name, handler in HANDLERS.items():
        server.command(name)(_adapt(handler))
