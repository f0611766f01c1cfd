"""Stage 2 and 3 as server commands: a task's context (``handrail.checkContext``,
``contextCandidates``, ``editTaskContext``) and its prompt pack (``handrail.prompt``)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from handrail.findings import findings_json
from handrail.lsp.features.command_names import (
    CHECK_CONTEXT,
    CONTEXT_CANDIDATES,
    EDIT_TASK_CONTEXT,
    PROMPT,
)
from handrail.lsp.features.command_support import (
    context_entries,
    folder_from,
    load_task_or_fail,
    task_id_arg,
    workflow_usable,
)
from handrail.lsp.features.common import (
    CommandFailed,
    bad_params,
    int_arg,
    one_mapping,
    text_arg,
    text_edit,
    workspace_edit,
)
from handrail.lsp.features.progress import work_done
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import FolderState
from handrail.wording import plural

if TYPE_CHECKING:
    from handrail.context.candidates import CandidatesJson
    from handrail.context.check import ContextReportJson
    from handrail.lsp.features.command_results import EditTaskContextResult, PromptResult
    from handrail.prompt import InsertionPoint


# --- stage 2 and 3: context and prompt ------------------------------------------------------


async def check_context(server: HandrailServer, *args: Any) -> ContextReportJson:
    """The context report of one task: tokens per entry, the total, what to drop."""
    from handrail.analysis import context_report

    values = one_mapping(args, CHECK_CONTEXT)
    task_id = task_id_arg(values, CHECK_CONTEXT)
    folder = folder_from(server, values, CHECK_CONTEXT)
    async with work_done(server, f"Handrail: checking the context of {task_id}") as report:
        loaded = await asyncio.to_thread(load_task_or_fail, folder, task_id, CHECK_CONTEXT)
        report(plural(len(loaded.task.context), "entry", "entries"))
        result = await asyncio.to_thread(context_report, folder.snapshot, loaded)
    return result.as_json(task_id)


def _candidate_paths(values: Mapping[str, Any], command: str) -> list[str] | None:
    paths = values.get("paths")
    if paths is None:
        return None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise bad_params(f'{command}: "paths" must be a list of paths such as "src/a.py".')
    return paths


async def context_candidates(server: HandrailServer, *args: Any) -> CandidatesJson:
    """The files a task may attach as context: not ignored, with their token counts
    (`handrail.context.candidates`)."""
    from handrail.context.candidates import context_candidates as list_candidates

    values = one_mapping(args, CONTEXT_CANDIDATES)
    folder = folder_from(server, values, CONTEXT_CANDIDATES)
    paths = _candidate_paths(values, CONTEXT_CANDIDATES)
    workflow_usable(folder, CONTEXT_CANDIDATES)
    async with work_done(server, "Handrail: counting the tokens of the workspace files"):
        found = await asyncio.to_thread(list_candidates, folder.snapshot, paths)
    return found.to_json()


async def prompt(server: HandrailServer, *args: Any) -> PromptResult:
    """The prompt pack of a task, or its refusal with the findings that block it.

    With ``uri`` (an open source document) and ``line`` (1-based, the editor's cursor), the
    pack names the file and shows where the code goes, as ``handrail prompt --into`` does;
    with ``replace`` (a block of the task in that document), the block being replaced.
    """
    from handrail.analysis import context_report
    from handrail.prompt import build_prompt_pack

    values = one_mapping(args, PROMPT)
    task_id = task_id_arg(values, PROMPT)
    folder = folder_from(server, values, PROMPT)
    workflow_usable(folder, PROMPT)
    workflow = folder.snapshot.workflow.workflow
    insertion = _insertion_point(server, values, folder, task_id)
    loaded = await asyncio.to_thread(load_task_or_fail, folder, task_id, PROMPT)
    report = await asyncio.to_thread(context_report, folder.snapshot, loaded)
    pack = build_prompt_pack(loaded, workflow, report, insertion=insertion, ws=folder.ws)
    folder.active_task = task_id
    return {
        "task": task_id,
        "refused": pack.refused,
        "prompt": pack.text or None,
        "temperature": workflow.generation.temperature,
        "findings": findings_json(pack.findings),
    }


def _insertion_point(
    server: HandrailServer, values: Mapping[str, Any], folder: FolderState, task_id: str
) -> InsertionPoint | None:
    """Where the answer will go, from ``uri``, ``line`` and ``replace``; None without ``uri``
    or when it is not an open source document of `folder` (the pack then does without)."""
    from handrail.prompt import InsertionPoint

    uri = text_arg(values, "uri", PROMPT, required=False)
    line = int_arg(values, "line", PROMPT, required=False)
    replace = text_arg(values, "replace", PROMPT, required=False)
    if line is not None and line < 1:
        raise bad_params(f"{PROMPT}: line {line} is not a line number (they start at 1).")
    if uri is None:
        return None
    analysis = server.analysis_for(uri)
    if (
        analysis is None
        or analysis.folder is None
        or analysis.folder.root != folder.root
        or analysis.rel is None
        or analysis.kind != "source"
    ):
        return None
    replaces = None
    if replace is not None:
        if replace.rpartition(".")[0] != task_id:
            raise bad_params(f"{PROMPT}: {replace!r} is not a block of task {task_id}.")
        source = analysis.source
        found = [b for b in (source.parsed.blocks if source else []) if b.id == replace]
        if len(found) != 1:
            raise CommandFailed(f"{PROMPT}: {analysis.rel} holds no block {replace} to replace.")
        replaces = (found[0].begin_line, found[0].end_line)
        line = found[0].begin_line
    return InsertionPoint(analysis.rel, line, analysis.text, replaces)


def edit_task_context(server: HandrailServer, *args: Any) -> EditTaskContextResult:
    """The edit that adds entries to (``add``) or removes them from (``remove``) the context
    list of the task file ``uri``, as a WorkspaceEdit the client applies (nothing is written
    here): against the open buffer and its version, else against the file on disk.

    Every editor gets the same edit, made by the engine that reads the file
    (`handrail.tasks.context_array`), in the array's own layout. The answer says which entries were
    ``added``, ``removed`` and already ``present``; ``edit`` is null when nothing changes.
    """
    from handrail.lsp.convert import split_lines
    from handrail.lsp.state import classify
    from handrail.tasks.context_array import (
        ContextEditError,
        add_context_entries,
        remove_context_entries,
    )
    from handrail.tasks.files import read_task_text
    from handrail.tasks.model import TaskFileError
    from handrail.text_changes import changed_region

    command = EDIT_TASK_CONTEXT
    values = one_mapping(args, command)
    uri = text_arg(values, "uri", command, required=True) or ""
    add = context_entries(values, "add", command) or []
    remove = context_entries(values, "remove", command, parse=False) or []
    folder, rel = server.locate(uri)
    if folder is None or rel is None or classify(rel) != "task":
        raise CommandFailed(f"{command}: {uri} is not a task file (.handrail/tasks/*.toml).")
    document = server.documents.get(uri)
    if document is not None and document.out_of_sync is not None:
        raise CommandFailed(f"{command}: {rel} is out of step with the editor; reopen it.")
    try:
        text = document.text if document is not None else read_task_text(folder.ws, rel)
        new = remove_context_entries(text, remove) if remove else text
        before = [e for e in remove if e in _context_of(text)]
        result = add_context_entries(new, add)
    except TaskFileError as exc:
        raise CommandFailed(f"{command}: {exc}") from None
    except ContextEditError as exc:
        raise CommandFailed(f"{command}: {rel}: {exc}.") from None
    change = changed_region(text, result.text)
    edit = None
    if change is not None:
        version = document.version if document is not None else None
        edits = [text_edit(server, split_lines(text), change)]
        edit = workspace_edit(server, uri, version, edits)
    return {
        "edit": edit,
        "added": result.added,
        "removed": before,
        "present": result.present,
    }


def _context_of(text: str) -> list[str]:
    from handrail.tasks.context_array import scan_context_array

    array = scan_context_array(text)
    return [] if array is None else [entry.value for entry in array.entries]
