"""The gate and the session as server commands: ``handrail.check``, ``renumber``,
``setActiveTask`` and ``dismissInsertion``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from handrail.findings import Severity, findings_json
from handrail.lsp.features.command_names import (
    CHECK,
    DISMISS_INSERTION,
    RENUMBER,
    SET_ACTIVE_TASK,
)
from handrail.lsp.features.command_support import (
    author_of,
    folder_from,
)
from handrail.lsp.features.common import (
    CommandFailed,
    bad_params,
    int_arg,
    one_mapping,
    path_of,
    text_arg,
)
from handrail.lsp.features.progress import work_done
from handrail.lsp.server import HandrailServer

if TYPE_CHECKING:
    from handrail.lsp.features.command_results import (
        CheckResult,
        DismissInsertionResult,
        SetActiveTaskResult,
    )
    from handrail.marking.renumber import RenumberJson


# --- the gate -------------------------------------------------------------------------------


async def check(server: HandrailServer, *args: Any) -> CheckResult:
    """``handrail check`` over the folder (or one path in it): findings as JSON."""
    from handrail.gate.run import run_check
    from handrail.ledger.states import block_states
    from handrail.workspace import PathEscapesWorkspace

    values = one_mapping(args, CHECK)
    folder = folder_from(server, values, CHECK)
    path = text_arg(values, "path", CHECK, required=False)
    paths: list[str] = []
    if path:
        target = path_of(path) if path.startswith("file:") else folder.root / path
        try:
            rel = folder.ws.relative(target) if target is not None else ""
            folder.ws.resolve_inside(rel)
        except PathEscapesWorkspace:
            raise bad_params(f"{CHECK}: {path} is outside the workspace {folder.root}.") from None
        if target is None or not target.exists():
            raise bad_params(f"{CHECK}: {path}: no such file or folder.")
        paths = [rel] if rel not in ("", ".") else []
    async with work_done(server, "Handrail: checking the workspace") as report:
        report(f"checking {paths[0] if paths else folder.root.name}")
        result = await asyncio.to_thread(run_check, folder.ws, paths=paths)
    return {
        "findings": findings_json(result.findings),
        # Each block's state from the gate's own findings: what the status bar counts.
        "blocks": block_states(result.findings).as_json(),
        "files_checked": result.files_checked,
        "workflow_invalid": result.workflow_invalid,
        "errors": sum(1 for f in result.findings if f.severity is Severity.ERROR),
    }


def dismiss_insertion(server: HandrailServer, *args: Any) -> DismissInsertionResult:
    """Drop the large-insertion hint (HR308) that covers a line of an open document."""
    values = one_mapping(args, DISMISS_INSERTION)
    uri = text_arg(values, "uri", DISMISS_INSERTION, required=True) or ""
    line = int_arg(values, "line", DISMISS_INSERTION, required=True) or 0
    if uri not in server.documents:
        raise CommandFailed(f"{DISMISS_INSERTION}: {uri} is not open in the editor.")
    return {"dismissed": server.dismiss_insertion(uri, line)}


def set_active_task(server: HandrailServer, *args: Any) -> SetActiveTaskResult:
    """Name the task the developer works on (``null`` for none): files that change on disk
    meanwhile, outside the editor, get the HR308 hint (docs/codes/HR308.md)."""
    values = one_mapping(args, SET_ACTIVE_TASK)
    folder = folder_from(server, values, SET_ACTIVE_TASK)
    task_id = text_arg(values, "task", SET_ACTIVE_TASK, required=False)
    if task_id is not None and task_id not in folder.snapshot.tasks.known_ids:
        raise CommandFailed(
            f"{SET_ACTIVE_TASK}: there is no task {task_id!r} in {folder.root.name}."
        )
    folder.active_task = task_id
    return {"task": task_id, "folder": folder.root.as_uri()}


async def renumber(server: HandrailServer, *args: Any) -> RenumberJson:
    """``handrail renumber``: new numbers for blocks whose id another block also uses."""
    from handrail.blocks.mark import MarkError
    from handrail.ledger.store import LedgerWriteError
    from handrail.marking.renumber import renumber as run_renumber

    values = one_mapping(args, RENUMBER)
    folder = folder_from(server, values, RENUMBER)
    dry_run = values.get("dryRun", False)
    if not isinstance(dry_run, bool):
        raise bad_params(f'{RENUMBER}: "dryRun" must be true or false.')
    author = await asyncio.to_thread(author_of, folder)
    try:
        result = await asyncio.to_thread(run_renumber, folder.ws, author=author, dry_run=dry_run)
    except MarkError as exc:
        where = f"{exc.path}: " if exc.path else ""
        raise CommandFailed(f"{RENUMBER}: {where}{exc.message}") from None
    except LedgerWriteError as exc:
        raise CommandFailed(f"{RENUMBER}: nothing was renumbered: {exc}") from None
    if result.records:
        await server.reanalyze_open_documents()
    return result.as_json(dry_run=dry_run)
