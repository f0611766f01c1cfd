"""What the command modules share: the folder, the task and the author a command acts on,
and making what it wrote visible to the open documents."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lsprotocol import types

from handrail.findings import Severity
from handrail.lsp.features.common import (
    CommandFailed,
    bad_params,
    text_arg,
    uri_of,
)
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import FolderState

log = logging.getLogger(__name__)

# --- finding the folder, the task, the block --------------------------------------------


def folder_from(server: HandrailServer, values: Mapping[str, Any], command: str) -> FolderState:
    """The workspace folder named by ``folder`` (or a document's ``uri``), else the first."""
    named = text_arg(values, "folder", command, required=False) or text_arg(
        values, "uri", command, required=False
    )
    candidates = [named] if named else [f.uri for f in server.workspace.folders.values()]
    if not candidates and server.workspace.root_uri:
        candidates = [server.workspace.root_uri]
    for uri in candidates:
        folder = server.folder_for(uri)
        if folder is not None:
            return folder
    if named:
        raise bad_params(f"{command}: {named} is not inside any workspace folder.")
    raise CommandFailed(f"{command}: the editor opened no workspace folder.")


def workflow_usable(folder: FolderState, command: str) -> None:
    loaded = folder.snapshot.workflow
    if any(f.code == "HR400" and f.severity is Severity.ERROR for f in loaded.findings):
        raise CommandFailed(
            f"{command}: the workflow file {folder.ws.relative(folder.ws.workflow_path)} is "
            "invalid; fix it first (its diagnostics say how)."
        )


def task_id_arg(values: Mapping[str, Any], command: str) -> str:
    from handrail.tasks.model import is_task_id

    task_id = text_arg(values, "task", command, required=True) or ""
    if not is_task_id(task_id):
        raise bad_params(
            f"{command}: {task_id!r} is not a task id (6 characters from a-z and 2-7)."
        )
    return task_id


def load_task_or_fail(folder: FolderState, task_id: str, command: str) -> Any:
    from handrail.tasks.files import load_task
    from handrail.tasks.model import TaskFileError

    try:
        return load_task(folder.ws, task_id)
    except TaskFileError as exc:
        raise CommandFailed(f"{command}: {exc}") from None


async def refresh(server: HandrailServer, folder: FolderState) -> None:
    """Make what a command just wrote visible in every open document and later commands."""
    open_in = {server.folder_for(uri) for uri in server.documents.uris()}
    if folder not in open_in:  # reanalyze_open_documents reloads only folders with documents
        await asyncio.to_thread(folder.reload)
    await server.reanalyze_open_documents()


async def show_document(server: HandrailServer, path: Path) -> bool:
    """Ask the client to open `path`; False when it cannot (the command result names it)."""
    window = server.client_capabilities.window
    if window is None or window.show_document is None or not window.show_document.support:
        return False
    try:
        result = await server.window_show_document_async(
            types.ShowDocumentParams(uri=uri_of(path), take_focus=True)
        )
    except Exception as exc:  # the client refused: the caller still returns the path
        log.info("showDocument failed: %s", exc)
        return False
    return bool(result.success)


def author_of(folder: FolderState) -> str | None:
    from handrail.git import git_owner

    return git_owner(folder.root)


def context_entries(
    values: Mapping[str, Any], key: str, command: str, *, parse: bool = True
) -> list[str] | None:
    """The context entries under `key` (None when absent), each read as `handrail task new`
    reads them unless `parse` is off (entries to remove may be broken ones)."""
    from handrail.context.entries import EntryError, parse_entry

    entries = values.get(key)
    if entries is None:
        return None
    if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
        raise bad_params(
            f'{command}: "{key}" must be a list of context entries such as "src/a.py".'
        )
    for raw in entries if parse else ():
        try:
            parse_entry(raw)
        except EntryError as exc:
            raise bad_params(f"{command}: context entry {raw!r}: {exc}") from None
    return entries
