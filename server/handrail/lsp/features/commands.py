"""``workspace/executeCommand``: every CLI action, named ``handrail.*`` (docs/commands.md).

Each command takes one JSON object. A missing or mistyped argument is a JSON-RPC "invalid
params" error with a plain sentence; a request that is well formed but cannot be carried
out (no such task, a file that cannot be written) is LSP's "request failed". No command
ever runs a user-defined command line: verification is not done here.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from handrail.findings import Severity, findings_json
from handrail.lsp.features.common import (
    CommandFailed,
    bad_params,
    int_arg,
    one_mapping,
    path_of,
    text_arg,
    text_edit,
    uri_of,
    workspace_edit,
)
from handrail.lsp.features.progress import work_done
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis, FolderState
from handrail.wording import plural

if TYPE_CHECKING:
    from handrail.block_ids import Allocation
    from handrail.marking import MarkPlan
    from handrail.prompt import InsertionPoint
    from handrail.text_changes import TextChange

log = logging.getLogger(__name__)

NEW_TASK = "handrail.newTask"
VALIDATE_SPEC = "handrail.validateSpec"
CHECK_CONTEXT = "handrail.checkContext"
PROMPT = "handrail.prompt"
MARK_SELECTION = "handrail.markSelection"
RECORD_TRACE = "handrail.recordTrace"
EXPLAIN = "handrail.explain"
REVIEW = "handrail.review"
CHECK = "handrail.check"
RENUMBER = "handrail.renumber"
DISMISS_INSERTION = "handrail.dismissInsertion"
SET_ACTIVE_TASK = "handrail.setActiveTask"
CONTEXT_CANDIDATES = "handrail.contextCandidates"
NOTE = "handrail.note"
LIST_TASKS = "handrail.listTasks"
EDIT_TASK = "handrail.editTask"
CLOSE_TASK = "handrail.closeTask"
REOPEN_TASK = "handrail.reopenTask"
DECOMPOSE = "handrail.decompose"
EDIT_TASK_CONTEXT = "handrail.editTaskContext"

CANDIDATES_CAP = 5000
"""At most this many files in a `handrail.contextCandidates` answer."""

_PROBE_TASK_ID = "zzzzzz"


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


def _workflow_usable(folder: FolderState, command: str) -> None:
    loaded = folder.snapshot.workflow
    if any(f.code == "HR400" and f.severity is Severity.ERROR for f in loaded.findings):
        raise CommandFailed(
            f"{command}: the workflow file {folder.ws.relative(folder.ws.workflow_path)} is "
            "invalid; fix it first (its diagnostics say how)."
        )


def _task_id(values: Mapping[str, Any], command: str) -> str:
    from handrail.tasks import is_task_id

    task_id = text_arg(values, "task", command, required=True) or ""
    if not is_task_id(task_id):
        raise bad_params(
            f"{command}: {task_id!r} is not a task id (6 characters from a-z and 2-7)."
        )
    return task_id


def _load_task(folder: FolderState, task_id: str, command: str) -> Any:
    from handrail.tasks import TaskFileError, load_task

    try:
        return load_task(folder.ws, task_id)
    except TaskFileError as exc:
        raise CommandFailed(f"{command}: {exc}") from None


async def _refresh(server: HandrailServer, folder: FolderState) -> None:
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


def _author(folder: FolderState) -> str | None:
    from handrail.workflow.init import git_owner

    return git_owner(folder.root)


# --- stage 1: the spec ----------------------------------------------------------------------


async def new_task(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """Validate a spec and create the task, or create the template task and show it."""
    from handrail.tasks import TaskFileError, create_task, create_template_task

    values = one_mapping(args, NEW_TASK)
    folder = folder_from(server, values, NEW_TASK)
    spec = text_arg(values, "spec", NEW_TASK, required=False)
    verify = text_arg(values, "verify", NEW_TASK, required=False)
    context = _context_entries(values, "context", NEW_TASK) or []
    _workflow_usable(folder, NEW_TASK)
    workflow = folder.snapshot.workflow.workflow
    author = await asyncio.to_thread(_author, folder)
    try:
        if spec is None or not spec.strip():
            loaded = await asyncio.to_thread(
                create_template_task,
                folder.ws,
                workflow,
                context=list(context),
                verify=verify,
                author=author,
            )
            await _refresh(server, folder)
            folder.active_task = loaded.task.id
            shown = await show_document(server, loaded.path)
            return {
                "task": loaded.task.id,
                "path": loaded.rel,
                "uri": uri_of(loaded.path),
                "template": True,
                "shown": shown,
                "findings": [],
            }
        created = await asyncio.to_thread(
            create_task, folder.ws, workflow, spec, list(context), verify=verify, author=author
        )
    except TaskFileError as exc:
        raise CommandFailed(f"{NEW_TASK}: {exc}") from None
    if created.task is not None:
        await _refresh(server, folder)
        folder.active_task = created.task.task.id
    return {
        "task": created.task.task.id if created.task else None,
        "path": created.task.rel if created.task else None,
        "uri": uri_of(created.task.path) if created.task else None,
        "template": False,
        "findings": findings_json(created.findings),
    }


def validate_spec(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """The findings and facts of a draft spec; nothing is written."""
    from handrail.spec.check import check_spec, describe_spec

    values = one_mapping(args, VALIDATE_SPEC)
    spec = text_arg(values, "spec", VALIDATE_SPEC, required=True) or ""
    folder = folder_from(server, values, VALIDATE_SPEC)
    workflow = folder.snapshot.workflow.workflow
    summary = describe_spec(spec, workflow)
    findings = check_spec(spec, workflow, path="<spec>")
    return {
        "findings": findings_json(findings),
        "ok": not any(f.severity is Severity.ERROR for f in findings),
        "sentences": [s.text for s in summary.sentences],
        "max_sentences": summary.max_sentences,
        "hard_max_sentences": summary.hard_max_sentences,
        "missing": list(summary.missing),
        "placeholders": [p.text for p in summary.placeholders],
        "is_template": summary.is_template,
        "empty": summary.empty,
    }


# --- a task's life: list, edit, close, reopen (issue 13) -------------------------------------


def list_tasks(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """The folder's tasks, newest first: open ones, or every one with ``"all": true``; with
    ``"task"``, that task alone (with its blocks). Pickers list what this returns."""
    from handrail.task_blocks import first_seen_by_hand
    from handrail.tasks import task_json

    values = one_mapping(args, LIST_TASKS)
    folder = folder_from(server, values, LIST_TASKS)
    show_all = values.get("all", False)
    if not isinstance(show_all, bool):
        raise bad_params(f'{LIST_TASKS}: "all" must be true or false.')
    snapshot = folder.snapshot
    if values.get("task") is not None:
        task_id = _task_id(values, LIST_TASKS)
        loaded = snapshot.tasks.tasks.get(task_id) or _load_task(folder, task_id, LIST_TASKS)
        return {
            "tasks": [
                {
                    **task_json(loaded, by_hand=first_seen_by_hand(loaded, snapshot.index)),
                    "uri": uri_of(loaded.path),
                    "blocks": snapshot.index.blocks_of_task(task_id),
                }
            ],
            "closed_hidden": 0,
        }
    every = sorted(
        snapshot.tasks.tasks.values(),
        key=lambda t: (t.task.created.isoformat() if t.task.created else "", t.task.id),
        reverse=True,
    )
    shown = [t for t in every if show_all or not t.task.is_closed]
    return {
        "tasks": [{**task_json(t), "uri": uri_of(t.path)} for t in shown],
        "closed_hidden": len(every) - len(shown),
    }


async def edit_task_command(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """Change a task's ``spec``, ``context`` (a list) or ``verify`` ("" for the workflow's),
    checked as at creation; a refused spec writes nothing (``"written": false``)."""
    from handrail.tasks import TaskFileError, edit_task

    values = one_mapping(args, EDIT_TASK)
    folder = folder_from(server, values, EDIT_TASK)
    task_id = _task_id(values, EDIT_TASK)
    spec = text_arg(values, "spec", EDIT_TASK, required=False)
    verify = text_arg(values, "verify", EDIT_TASK, required=False)
    context = _context_entries(values, "context", EDIT_TASK)
    if spec is None and context is None and verify is None:
        raise bad_params(f'{EDIT_TASK}: give "spec", "context" or "verify" to change.')
    _workflow_usable(folder, EDIT_TASK)
    workflow = folder.snapshot.workflow.workflow
    try:
        edited = await asyncio.to_thread(
            edit_task, folder.ws, workflow, task_id, spec=spec, context=context, verify=verify
        )
    except TaskFileError as exc:
        raise CommandFailed(f"{EDIT_TASK}: {exc}") from None
    if edited.task is not None:
        await _refresh(server, folder)
    reopened = folder.snapshot.index.blocks_of_task(task_id) if edited.spec_changed else []
    return {
        "task": task_id,
        "written": edited.task is not None,
        "spec_changed": edited.spec_changed,
        "reopened_blocks": reopened,
        "findings": findings_json(edited.findings),
    }


async def _set_status(
    server: HandrailServer, args: tuple[Any, ...], command: str, status: str | None
) -> dict[str, Any]:
    from handrail.tasks import CLOSE_REASONS, TaskFileError, set_task_status

    values = one_mapping(args, command)
    folder = folder_from(server, values, command)
    task_id = _task_id(values, command)
    note = text_arg(values, "note", command, required=False)
    if status is None:
        status = text_arg(values, "reason", command, required=True) or ""
        if status not in CLOSE_REASONS:
            raise bad_params(f'{command}: "reason" must be "done" or "abandoned".')
    _load_task(folder, task_id, command)
    try:
        loaded = await asyncio.to_thread(set_task_status, folder.ws, task_id, status, note=note)
    except TaskFileError as exc:
        raise CommandFailed(f"{command}: {exc}") from None
    finished = None
    if status == "done":
        from handrail.tasks import finish_parent

        finished = await asyncio.to_thread(finish_parent, folder.ws, loaded.task)
    await _refresh(server, folder)
    if folder.active_task == task_id and loaded.task.is_closed:
        folder.active_task = None
    return {
        "task": task_id,
        "status": loaded.task.status,
        "path": loaded.rel,
        "parent_done": finished,
    }


async def decompose(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """``handrail task decompose``: ``spec`` (too long for one task) and, optionally, the
    edited ``subtasks``; without them (or with ``"dryRun": true``) the drafts, one per
    sentence. Creates the parent and its sub-tasks, all or nothing."""
    from handrail.tasks import TaskFileError, decompose_drafts, decompose_task

    values = one_mapping(args, DECOMPOSE)
    folder = folder_from(server, values, DECOMPOSE)
    spec = text_arg(values, "spec", DECOMPOSE, required=True) or ""
    subtasks = values.get("subtasks")
    context = _context_entries(values, "context", DECOMPOSE) or []
    verify = text_arg(values, "verify", DECOMPOSE, required=False)
    if not isinstance(subtasks or [], list) or not all(isinstance(v, str) for v in subtasks or []):
        raise bad_params(f'{DECOMPOSE}: "subtasks" must be a list of text.')
    drafts = list(subtasks) if subtasks else decompose_drafts(spec)
    if not subtasks or values.get("dryRun") is True:
        return {"drafts": drafts, "parent": None, "children": [], "findings": []}
    if len(drafts) < 2:
        raise bad_params(f"{DECOMPOSE}: decomposing needs at least two sub-tasks.")
    _workflow_usable(folder, DECOMPOSE)
    author = await asyncio.to_thread(_author, folder)
    try:
        made = await asyncio.to_thread(
            decompose_task,
            folder.ws,
            folder.snapshot.workflow.workflow,
            spec,
            drafts,
            list(context),
            verify=verify,
            author=author,
        )
    except TaskFileError as exc:
        raise CommandFailed(f"{DECOMPOSE}: {exc}") from None
    if made.parent is not None:
        await _refresh(server, folder)
        folder.active_task = made.children[0].task.id
    return {
        "drafts": drafts,
        "parent": made.parent.task.id if made.parent else None,
        "children": [c.task.id for c in made.children],
        "findings": [findings_json(f) for f in made.findings],
    }


async def close_task(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """Close a task: ``reason`` "done" or "abandoned", an optional ``note``."""
    return await _set_status(server, args, CLOSE_TASK, None)


async def reopen_task(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """Reopen a closed task: back in the menus and pickers, its spec checked again."""
    return await _set_status(server, args, REOPEN_TASK, "open")


# --- stage 2 and 3: context and prompt ------------------------------------------------------


async def check_context(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """The context report of one task: tokens per entry, the total, what to drop."""
    from handrail.analysis import context_report

    values = one_mapping(args, CHECK_CONTEXT)
    task_id = _task_id(values, CHECK_CONTEXT)
    folder = folder_from(server, values, CHECK_CONTEXT)
    async with work_done(server, f"Handrail: checking the context of {task_id}") as report:
        loaded = await asyncio.to_thread(_load_task, folder, task_id, CHECK_CONTEXT)
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


def _candidates(folder: FolderState, paths: list[str] | None) -> dict[str, Any]:
    """The files a task may attach, each with its token count (runs off the event loop)."""
    from handrail.context.entries import EntryError, parse_entry
    from handrail.context.resolve import EntryProblem, EntryText, Locator, read_located
    from handrail.files import list_files
    from handrail.workspace import PathEscapesWorkspace

    snapshot = folder.snapshot
    rules = snapshot.workflow.workflow.context
    ignore = snapshot.ignore
    if paths is None:
        listed = list_files(folder.ws, ignore_patterns=rules.ignore)
    else:
        listed = sorted(set(paths))

    def wanted(rel: str) -> bool:
        if rel == ".handrail" or rel.startswith(".handrail/"):
            return False
        try:
            return ignore.match(rel) is None
        except PathEscapesWorkspace:
            return paths is not None  # reported as "outside" below
        except ValueError:
            return False

    kept = [rel for rel in listed if wanted(rel)]
    truncated = len(kept) > CANDIDATES_CAP
    kept = kept[:CANDIDATES_CAP]
    locator = Locator(folder.ws)
    files: list[dict[str, Any]] = []
    readable: list[tuple[dict[str, Any], EntryText]] = []
    for rel in kept:
        row: dict[str, Any] = {"path": rel, "tokens": None, "status": "ok"}
        files.append(row)
        try:
            entry = parse_entry(rel)
        except EntryError:
            row["status"] = "invalid"
            continue
        located = locator.locate(entry)
        result = (
            located
            if isinstance(located, EntryProblem)
            else read_located(located, max_file_bytes=rules.max_file_bytes)
        )
        if isinstance(result, EntryProblem):
            binary = result.data.get("reason") == "binary"
            row["status"] = "binary" if binary else result.status
            continue
        readable.append((row, result))
    counter = snapshot.counter()
    counts = counter.count_many(
        [text.text for _, text in readable], digests=[text.digest for _, text in readable]
    )
    for (row, _), tokens in zip(readable, counts, strict=True):
        row["tokens"] = tokens
    answer: dict[str, Any] = {
        "encoding": counter.encoding_used,
        "max_tokens": rules.max_tokens,
        "max_files": rules.max_files,
        "files": files,
    }
    if truncated:
        answer["truncated"] = True
    return answer


async def context_candidates(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """The files a task may attach as context: not ignored, with their token counts."""
    values = one_mapping(args, CONTEXT_CANDIDATES)
    folder = folder_from(server, values, CONTEXT_CANDIDATES)
    paths = _candidate_paths(values, CONTEXT_CANDIDATES)
    _workflow_usable(folder, CONTEXT_CANDIDATES)
    async with work_done(server, "Handrail: counting the tokens of the workspace files"):
        return await asyncio.to_thread(_candidates, folder, paths)


async def prompt(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """The prompt pack of a task, or its refusal with the findings that block it.

    With ``uri`` (an open source document) and ``line`` (1-based, the editor's cursor), the
    pack names the file and shows where the code goes, as ``handrail prompt --into`` does;
    with ``replace`` (a block of the task in that document), the block being replaced.
    """
    from handrail.analysis import context_report
    from handrail.prompt import build_prompt_pack

    values = one_mapping(args, PROMPT)
    task_id = _task_id(values, PROMPT)
    folder = folder_from(server, values, PROMPT)
    _workflow_usable(folder, PROMPT)
    workflow = folder.snapshot.workflow.workflow
    insertion = _insertion_point(server, values, folder, task_id)
    loaded = await asyncio.to_thread(_load_task, folder, task_id, PROMPT)
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


# --- stage 3: marking -----------------------------------------------------------------------


def _source_analysis(server: HandrailServer, uri: str, command: str) -> DocumentAnalysis:
    analysis = server.analysis_for(uri)
    if analysis is None:
        raise CommandFailed(f"{command}: {uri} is not open in the editor.")
    if analysis.folder is None or analysis.rel is None or analysis.kind != "source":
        raise CommandFailed(
            f"{command}: {uri} is not a source file inside a workspace folder, so it cannot "
            "hold generated blocks."
        )
    return analysis


async def mark_selection(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """Wrap lines in block markers through ``workspace/applyEdit``, recorded (see
    `apply_mark`)."""
    from handrail.marking import MarkError, next_id_for, plan_mark
    from handrail.tasks import TaskFileError, create_template_task

    values = one_mapping(args, MARK_SELECTION)
    uri = text_arg(values, "uri", MARK_SELECTION, required=True) or ""
    start = int_arg(values, "startLine", MARK_SELECTION, required=True) or 0
    end = int_arg(values, "endLine", MARK_SELECTION, required=True) or 0
    version = int_arg(values, "version", MARK_SELECTION, required=False)
    task_id = text_arg(values, "task", MARK_SELECTION, required=False)
    if start < 1 or end < start:
        raise bad_params(
            f"{MARK_SELECTION}: startLine {start} and endLine {end} are not a range of lines "
            "(1-based, startLine <= endLine)."
        )
    analysis = _source_analysis(server, uri, MARK_SELECTION)
    if version is not None and analysis.version is not None and version != analysis.version:
        raise CommandFailed(
            f"{MARK_SELECTION}: the document changed since the action was offered (version "
            f"{version}, now {analysis.version}); ask for the action again."
        )
    folder = analysis.folder
    rel = analysis.rel
    assert folder is not None and rel is not None  # _source_analysis checked both
    snapshot = folder.snapshot
    if task_id is not None and task_id not in snapshot.tasks.known_ids:
        raise CommandFailed(
            f"{MARK_SELECTION}: there is no task {task_id!r} in {folder.root.name}; create one "
            "first (handrail.newTask)."
        )
    closed = snapshot.tasks.tasks.get(task_id) if task_id is not None else None
    if closed is not None and closed.task.is_closed:
        raise CommandFailed(
            f"{MARK_SELECTION}: task {task_id} is closed ({closed.task.status}); reopen it "
            "first (handrail.reopenTask), or mark the lines for another task."
        )
    new_task_path: Path | None = None
    try:
        if task_id is None:
            _workflow_usable(folder, MARK_SELECTION)
            # The lines must be markable before a task is created for them; any free id does.
            plan_mark(analysis.text, rel, start, end, f"{_PROBE_TASK_ID}.1")
            author = await asyncio.to_thread(_author, folder)
            created = await asyncio.to_thread(
                create_template_task, folder.ws, snapshot.workflow.workflow, author=author
            )
            task_id, new_task_path = created.task.id, created.path
    except MarkError as exc:
        raise CommandFailed(f"{MARK_SELECTION}: {rel}: {exc}") from None
    except TaskFileError as exc:
        raise CommandFailed(f"{MARK_SELECTION}: {exc}") from None
    chosen_task = task_id

    def planner(allocation: Allocation) -> MarkPlan:
        block_id = next_id_for(allocation, chosen_task, analysis.text, rel)
        return plan_mark(analysis.text, rel, start, end, block_id)

    result = await apply_mark(
        server,
        analysis,
        planner,
        lambda plan: plan.changes,
        label="Mark as generated ({block})",
        command=MARK_SELECTION,
    )
    if not result["applied"]:
        return result
    await _refresh(server, folder)
    if new_task_path is not None:
        result["task_uri"] = uri_of(new_task_path)
        result["shown"] = await show_document(server, new_task_path)
    return result


def _open_buffer_ids(server: HandrailServer, folder: FolderState) -> set[str]:
    """Block ids in the open buffers of `folder`: unsaved markers the disk scan cannot see."""
    from handrail.block_ids import ids_in_parse

    taken: set[str] = set()
    for uri in server.documents.uris():
        if server.folder_for(uri) is not folder:
            continue
        analysis = server.analysis_for(uri)
        if analysis is not None and analysis.source is not None:
            taken |= ids_in_parse(analysis.source.parsed)
    return taken


def _holds_block(server: HandrailServer, uri: str, plan: MarkPlan) -> bool:
    """Whether the open document now holds the planned block, markers and content alike."""
    analysis = server.analysis_for(uri)
    if analysis is None or analysis.source is None:
        return False
    block = analysis.source.parsed.block(plan.block_id)
    return block is not None and block.content_hash == plan.block.content_hash


async def apply_mark(
    server: HandrailServer,
    analysis: DocumentAnalysis,
    planner: Callable[[Allocation], MarkPlan],
    changes_of: Callable[[MarkPlan], list[TextChange]],
    *,
    label: str,
    command: str,
    produced_by: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Mark a block in an editor's buffer: the record and the edit, both or neither.

    The block id is chosen and its `BlockMarked` record written under the ledger lock first
    (`reserve_mark`), so that no other writer (a `handrail mark` in a hook, another editor)
    takes the same id while the client applies the edit; nothing is sent when the record
    cannot be written. Then the edit goes through ``workspace/applyEdit`` at the analysed
    version. When the client does not apply it (refused, a newer version, no answer) and
    the buffer does not hold the block, the record is taken back (`Ledger.withdraw`).
    `label` may name the block as ``{block}``. Returns the block's place, and ``reason``
    when not applied.
    """
    from handrail.ledger.store import Ledger, LedgerWriteError
    from handrail.marking import MarkError, reserve_mark

    folder, rel = analysis.folder, analysis.rel
    assert folder is not None and rel is not None  # only source documents are marked
    author = await asyncio.to_thread(_author, folder)
    extra = _open_buffer_ids(server, folder)
    ledger = Ledger(folder.ws)
    try:
        plan, record = await asyncio.to_thread(
            reserve_mark,
            folder.ws,
            planner,
            author=author,
            extra=extra,
            ledger=ledger,
            produced_by=produced_by,
        )
    except MarkError as exc:
        raise CommandFailed(f"{command}: {rel}: {exc.message}") from None
    except LedgerWriteError as exc:
        raise CommandFailed(f"{command}: {rel} was not marked: {exc}") from None
    edits = [text_edit(server, analysis.lines, c) for c in changes_of(plan)]
    edit = workspace_edit(server, analysis.uri, analysis.version, edits)
    result: dict[str, Any] = {
        "applied": False,
        "block": plan.block_id,
        "task": plan.block.task_id,
        "path": rel,
        "begin_line": plan.block.begin_line,
        "end_line": plan.block.end_line,
    }
    try:
        answer = await server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label.format(block=plan.block_id))
        )
        result["applied"] = bool(answer.applied)
        if not answer.applied:
            result["reason"] = answer.failure_reason or "the editor did not apply the edit"
    finally:
        if not result["applied"] and not _holds_block(server, analysis.uri, plan):
            try:
                await asyncio.to_thread(ledger.withdraw, record)
            except LedgerWriteError as exc:
                server.log_error(f"{command}: {exc}")
                result["reason"] = f"{result.get('reason', 'the edit failed')}; {exc}"
    return result


# --- stage 5: evidence the author gives -----------------------------------------------------


def _current_hash(
    server: HandrailServer, block_id: str, uri: str | None, command: str
) -> tuple[FolderState, str, str]:
    """(folder, path, content hash) of the block as the editor (or the disk) holds it now."""
    from handrail.blocks.markers import block_content, parse_blocks_bytes
    from handrail.ledger.records import content_hash

    uris = [uri] if uri else []
    folders = [server.folder_for(f.uri) for f in server.workspace.folders.values()]
    for folder in folders:
        marked = folder.snapshot.index.marked(block_id) if folder is not None else None
        if folder is not None and marked is not None:
            uris.append(uri_of(folder.root / marked.path))
    for candidate in uris:
        analysis = server.analysis_for(candidate)
        if analysis is not None and analysis.source is not None and analysis.folder is not None:
            evidence = analysis.source.evidence.get(block_id)
            if evidence is not None and analysis.rel is not None:
                return analysis.folder, analysis.rel, evidence.content_hash
        path = path_of(candidate)
        folder = server.folder_for(candidate)
        if analysis is None and path is not None and folder is not None and path.is_file():
            rel = folder.ws.relative(path)
            try:
                data = path.read_bytes()
            except OSError:
                continue
            block = parse_blocks_bytes(data, rel).block(block_id)
            if block is not None:
                text = data.decode("utf-8", "replace")
                return folder, rel, content_hash(block_content(text, block))
    raise CommandFailed(
        f"{command}: block {block_id} was not found: open the file that holds it and try again."
    )


async def _record_evidence(server: HandrailServer, command: str, args: tuple[Any, ...]) -> Any:
    from handrail.blocks.markers import is_block_id
    from handrail.ledger.records import Explanation, Trace
    from handrail.ledger.store import Ledger, LedgerWriteError

    values = one_mapping(args, command)
    block_id = text_arg(values, "block", command, required=True) or ""
    if not is_block_id(block_id):
        raise bad_params(f"{command}: {block_id!r} is not a block id (like k3f7qa.1).")
    uri = text_arg(values, "uri", command, required=False)
    note = text_arg(values, "note", command, required=False) or ""
    folder, rel, digest = _current_hash(server, block_id, uri, command)
    author = await asyncio.to_thread(_author, folder)
    record: Trace | Explanation
    if command == RECORD_TRACE:
        record = Trace.create(block_id=block_id, content_hash=digest, note=note, author=author)
    else:
        from handrail.tasks import current_spec_hash

        spec = await asyncio.to_thread(current_spec_hash, folder.ws, block_id.rpartition(".")[0])
        record = Explanation.create(
            block_id=block_id, content_hash=digest, author=author, spec_hash=spec
        )
    try:
        await asyncio.to_thread(Ledger(folder.ws).append, record)
    except LedgerWriteError as exc:
        raise CommandFailed(f"{command}: the record was not written: {exc}") from None
    await _refresh(server, folder)
    return {"block": block_id, "path": rel, "content_hash": digest, "record": record.id}


async def record_trace(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """Record that the author traced the block's current content by hand."""
    result: dict[str, Any] = await _record_evidence(server, RECORD_TRACE, args)
    return result


async def explain(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """Record "I can explain every line" for the block's current content."""
    result: dict[str, Any] = await _record_evidence(server, EXPLAIN, args)
    return result


async def review(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """A teammate's verdict on a block (or every block of a task) as saved: ``handrail review``.

    Arguments: ``block`` (a block or task id), ``verdict`` ("approve", the default, or
    "request_changes"), ``note``, and ``uri``/``folder`` to pick the workspace folder.
    """
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.reviews import ReviewError, record_reviews

    values = one_mapping(args, REVIEW)
    target = text_arg(values, "block", REVIEW, required=True) or ""
    verdict = text_arg(values, "verdict", REVIEW, required=False) or "approve"
    if verdict not in ("approve", "request_changes"):
        raise bad_params(f"{REVIEW}: verdict must be approve or request_changes, not {verdict!r}.")
    note = text_arg(values, "note", REVIEW, required=False) or ""
    folder = folder_from(server, values, REVIEW)
    reviewer = await asyncio.to_thread(_author, folder)
    try:
        result = await asyncio.to_thread(
            record_reviews,
            folder.ws,
            target,
            reviewer=reviewer,
            verdict="approve" if verdict == "approve" else "request_changes",
            note=note,
        )
    except ReviewError as exc:
        raise CommandFailed(f"{REVIEW}: {exc}") from None
    except LedgerWriteError as exc:
        raise CommandFailed(f"{REVIEW}: the review was not recorded: {exc}") from None
    await _refresh(server, folder)
    return result.as_json()


async def note(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """A note for the workflow review (``handrail note``): where the workflow helped or got in
    the way.

    Arguments: ``verdict`` ("helped" or "in-the-way"), ``code``, ``uri`` (the document, which
    also picks the folder) and ``line``, ``text`` (one optional sentence), ``answeredBy``
    ("docs" or "colleague"), ``source`` ("editor", the default, or "chat").
    """
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.notes import NoteError, NoteRequest, describe, record_note
    from handrail.workspace import PathEscapesWorkspace

    values = dict(one_mapping(args, NOTE))
    folder = folder_from(server, values, NOTE)
    uri = text_arg(values, "uri", NOTE, required=False)
    values["path"] = None
    if uri:
        target = path_of(uri)
        try:
            values["path"] = folder.ws.relative(target) if target is not None else None
        except PathEscapesWorkspace:
            raise bad_params(f"{NOTE}: {uri} is outside the workspace {folder.root}.") from None
    try:
        request = NoteRequest.from_json(
            values, source="chat" if values.get("source") == "chat" else "editor"
        )
        author = await asyncio.to_thread(_author, folder)
        recorded = await asyncio.to_thread(record_note, folder.ws, request, author=author)
    except NoteError as exc:
        raise bad_params(f"{NOTE}: {exc}") from None
    except LedgerWriteError as exc:
        raise CommandFailed(f"{NOTE}: the note was not recorded: {exc}") from None
    message = describe(recorded)
    server.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Info, message=message)
    )
    return {"note": recorded.model_dump(mode="json", by_alias=True), "message": message}


# --- the gate -------------------------------------------------------------------------------


async def check(server: HandrailServer, *args: Any) -> dict[str, Any]:
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


def dismiss_insertion(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """Drop the large-insertion hint (HR308) that covers a line of an open document."""
    values = one_mapping(args, DISMISS_INSERTION)
    uri = text_arg(values, "uri", DISMISS_INSERTION, required=True) or ""
    line = int_arg(values, "line", DISMISS_INSERTION, required=True) or 0
    if uri not in server.documents:
        raise CommandFailed(f"{DISMISS_INSERTION}: {uri} is not open in the editor.")
    return {"dismissed": server.dismiss_insertion(uri, line)}


def set_active_task(server: HandrailServer, *args: Any) -> dict[str, Any]:
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


async def renumber(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """``handrail renumber``: new numbers for blocks whose id another block also uses."""
    from handrail.blocks.mark import MarkError
    from handrail.ledger.store import LedgerWriteError
    from handrail.renumber import renumber as run_renumber

    values = one_mapping(args, RENUMBER)
    folder = folder_from(server, values, RENUMBER)
    dry_run = values.get("dryRun", False)
    if not isinstance(dry_run, bool):
        raise bad_params(f'{RENUMBER}: "dryRun" must be true or false.')
    author = await asyncio.to_thread(_author, folder)
    try:
        result = await asyncio.to_thread(run_renumber, folder.ws, author=author, dry_run=dry_run)
    except MarkError as exc:
        where = f"{exc.path}: " if exc.path else ""
        raise CommandFailed(f"{RENUMBER}: {where}{exc.message}") from None
    except LedgerWriteError as exc:
        raise CommandFailed(f"{RENUMBER}: nothing was renumbered: {exc}") from None
    if result.records:
        await server.reanalyze_open_documents()
    return {
        "dryRun": dry_run,
        "renumbered": [r.as_json() for r in result.renumbered],
    }


def _context_entries(
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


def edit_task_context(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """The edit that adds entries to (``add``) or removes them from (``remove``) the context
    list of the task file ``uri``, as a WorkspaceEdit the client applies (nothing is written
    here): against the open buffer and its version, else against the file on disk.

    Every editor gets the same edit, made by the engine that reads the file
    (`handrail.context_array`), in the array's own layout. The answer says which entries were
    ``added``, ``removed`` and already ``present``; ``edit`` is null when nothing changes.
    """
    from handrail.context_array import (
        ContextEditError,
        add_context_entries,
        remove_context_entries,
    )
    from handrail.lsp.convert import split_lines
    from handrail.lsp.state import classify
    from handrail.tasks import TaskFileError, read_task_text
    from handrail.text_changes import changed_region

    command = EDIT_TASK_CONTEXT
    values = one_mapping(args, command)
    uri = text_arg(values, "uri", command, required=True) or ""
    add = _context_entries(values, "add", command) or []
    remove = _context_entries(values, "remove", command, parse=False) or []
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
    from handrail.context_array import scan_context_array

    array = scan_context_array(text)
    return [] if array is None else [entry.value for entry in array.entries]


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
