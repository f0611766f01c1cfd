"""Stage 1 and a task's life as server commands: ``handrail.newTask``, ``validateSpec``,
``listTasks``, ``editTask``, ``closeTask``, ``reopenTask`` and ``decompose`` (docs/commands.md)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from handrail.findings import Severity, findings_json
from handrail.lsp.features.command_names import (
    CLOSE_TASK,
    DECOMPOSE,
    EDIT_TASK,
    LIST_TASKS,
    NEW_TASK,
    REOPEN_TASK,
    VALIDATE_SPEC,
)
from handrail.lsp.features.command_support import (
    author_of,
    context_entries,
    folder_from,
    load_task_or_fail,
    refresh,
    show_document,
    task_id_arg,
    workflow_usable,
)
from handrail.lsp.features.common import (
    CommandFailed,
    bad_params,
    one_mapping,
    text_arg,
    uri_of,
)
from handrail.lsp.server import HandrailServer

if TYPE_CHECKING:
    from handrail.lsp.features.command_results import (
        ListedTaskJson,
        ListTasksResult,
        NewTaskResult,
        ValidateSpecResult,
    )
    from handrail.tasks.results import DecomposeJson, EditTaskJson, TaskStatusJson


# --- stage 1: the spec ----------------------------------------------------------------------


async def new_task(server: HandrailServer, *args: Any) -> NewTaskResult:
    """Validate a spec and create the task, or create the template task and show it."""
    from handrail.gate.run import task_context_findings
    from handrail.tasks.files import create_task, create_template_task
    from handrail.tasks.model import CreatedTask, TaskFileError
    from handrail.tasks.results import new_task_json

    values = one_mapping(args, NEW_TASK)
    folder = folder_from(server, values, NEW_TASK)
    spec = text_arg(values, "spec", NEW_TASK, required=False)
    verify = text_arg(values, "verify", NEW_TASK, required=False)
    context = context_entries(values, "context", NEW_TASK) or []
    workflow_usable(folder, NEW_TASK)
    workflow = folder.snapshot.workflow.workflow
    author = await asyncio.to_thread(author_of, folder)
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
            context_findings = await asyncio.to_thread(
                task_context_findings, folder.ws, workflow, loaded
            )
            await refresh(server, folder)
            folder.active_task = loaded.task.id
            shown = await show_document(server, loaded.path)
            return {
                **new_task_json(CreatedTask(loaded, []), context_findings, template=True),
                "uri": uri_of(loaded.path),
                "shown": shown,
            }
        created = await asyncio.to_thread(
            create_task, folder.ws, workflow, spec, list(context), verify=verify, author=author
        )
    except TaskFileError as exc:
        raise CommandFailed(f"{NEW_TASK}: {exc}") from None
    context_findings = []
    if created.task is not None:
        context_findings = await asyncio.to_thread(
            task_context_findings, folder.ws, workflow, created.task
        )
        await refresh(server, folder)
        folder.active_task = created.task.task.id
    # mypy (2.4) reads the optional ``shown`` as required in a ``{**shared, ...}`` display.
    return {
        **new_task_json(created, context_findings),  # type: ignore[typeddict-item]
        "uri": uri_of(created.task.path) if created.task else None,
    }


def validate_spec(server: HandrailServer, *args: Any) -> ValidateSpecResult:
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


def list_tasks(server: HandrailServer, *args: Any) -> ListTasksResult:
    """The folder's tasks, newest first: open ones, or every one with ``"all": true``; with
    ``"task"``, that task alone (with its blocks). Pickers list what this returns."""
    from handrail.tasks.blocks import first_seen_by_hand
    from handrail.tasks.model import task_json
    from handrail.tasks.results import task_list_json

    values = one_mapping(args, LIST_TASKS)
    folder = folder_from(server, values, LIST_TASKS)
    show_all = values.get("all", False)
    if not isinstance(show_all, bool):
        raise bad_params(f'{LIST_TASKS}: "all" must be true or false.')
    snapshot = folder.snapshot
    if values.get("task") is not None:
        task_id = task_id_arg(values, LIST_TASKS)
        loaded = snapshot.tasks.tasks.get(task_id) or load_task_or_fail(folder, task_id, LIST_TASKS)
        one: ListedTaskJson = {
            **task_json(
                loaded,
                by_hand=first_seen_by_hand(loaded, snapshot.index),
                blocks=snapshot.index.blocks_of_task(task_id),
            ),
            "uri": uri_of(loaded.path),
        }
        return {"tasks": [one], "closed_hidden": 0, "findings": []}
    listed = task_list_json(snapshot.tasks, show_all=show_all)
    paths = {loaded.task.id: loaded.path for loaded in snapshot.tasks.tasks.values()}
    return {
        **listed,
        "tasks": [{**t, "uri": uri_of(paths[t["task"]])} for t in listed["tasks"]],
    }


async def edit_task_command(server: HandrailServer, *args: Any) -> EditTaskJson:
    """Change a task's ``spec``, ``context`` (a list) or ``verify`` ("" for the workflow's),
    checked as at creation; a refused spec writes nothing (``"written": false``)."""
    from handrail.gate.run import task_context_findings
    from handrail.tasks.files import edit_task
    from handrail.tasks.model import TaskFileError
    from handrail.tasks.results import edit_task_json

    values = one_mapping(args, EDIT_TASK)
    folder = folder_from(server, values, EDIT_TASK)
    task_id = task_id_arg(values, EDIT_TASK)
    spec = text_arg(values, "spec", EDIT_TASK, required=False)
    verify = text_arg(values, "verify", EDIT_TASK, required=False)
    context = context_entries(values, "context", EDIT_TASK)
    if spec is None and context is None and verify is None:
        raise bad_params(f'{EDIT_TASK}: give "spec", "context" or "verify" to change.')
    workflow_usable(folder, EDIT_TASK)
    workflow = folder.snapshot.workflow.workflow
    try:
        edited = await asyncio.to_thread(
            edit_task, folder.ws, workflow, task_id, spec=spec, context=context, verify=verify
        )
    except TaskFileError as exc:
        raise CommandFailed(f"{EDIT_TASK}: {exc}") from None
    context_findings = []
    if edited.task is not None:
        context_findings = await asyncio.to_thread(
            task_context_findings, folder.ws, workflow, edited.task
        )
        await refresh(server, folder)
    reopened = folder.snapshot.index.blocks_of_task(task_id) if edited.spec_changed else []
    return edit_task_json(task_id, edited, reopened, context_findings)


async def _set_status(
    server: HandrailServer, args: tuple[Any, ...], command: str, status: str | None
) -> TaskStatusJson:
    from handrail.gate.run import findings_with_code
    from handrail.tasks.files import set_task_status
    from handrail.tasks.model import CLOSE_REASONS, TaskFileError
    from handrail.tasks.results import task_status_json

    values = one_mapping(args, command)
    folder = folder_from(server, values, command)
    task_id = task_id_arg(values, command)
    note = text_arg(values, "note", command, required=False)
    if status is None:
        status = text_arg(values, "reason", command, required=True) or ""
        if status not in CLOSE_REASONS:
            raise bad_params(f'{command}: "reason" must be "done" or "abandoned".')
    load_task_or_fail(folder, task_id, command)
    try:
        loaded = await asyncio.to_thread(set_task_status, folder.ws, task_id, status, note=note)
    except TaskFileError as exc:
        raise CommandFailed(f"{command}: {exc}") from None
    finished = None
    if status == "done":
        from handrail.tasks.files import finish_parent

        finished = await asyncio.to_thread(finish_parent, folder.ws, loaded.task)
    loose = []
    if status != "open":
        loose = await asyncio.to_thread(findings_with_code, folder.ws, "HR315")
    await refresh(server, folder)
    if folder.active_task == task_id and loaded.task.is_closed:
        folder.active_task = None
    return task_status_json(loaded, finished, loose)


async def decompose(server: HandrailServer, *args: Any) -> DecomposeJson:
    """``handrail task decompose``: ``spec`` (too long for one task) and, optionally, the
    edited ``subtasks``; without them (or with ``"dryRun": true``) the drafts, one per
    sentence. Creates the parent and its sub-tasks, all or nothing."""
    from handrail.tasks.files import decompose_drafts, decompose_task
    from handrail.tasks.model import TaskFileError
    from handrail.tasks.results import decompose_json

    values = one_mapping(args, DECOMPOSE)
    folder = folder_from(server, values, DECOMPOSE)
    spec = text_arg(values, "spec", DECOMPOSE, required=True) or ""
    subtasks = values.get("subtasks")
    context = context_entries(values, "context", DECOMPOSE) or []
    verify = text_arg(values, "verify", DECOMPOSE, required=False)
    if not isinstance(subtasks or [], list) or not all(isinstance(v, str) for v in subtasks or []):
        raise bad_params(f'{DECOMPOSE}: "subtasks" must be a list of text.')
    drafts = list(subtasks) if subtasks else decompose_drafts(spec)
    if not subtasks or values.get("dryRun") is True:
        return decompose_json(drafts)
    if len(drafts) < 2:
        raise bad_params(f"{DECOMPOSE}: decomposing needs at least two sub-tasks.")
    workflow_usable(folder, DECOMPOSE)
    author = await asyncio.to_thread(author_of, folder)
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
        await refresh(server, folder)
        folder.active_task = made.children[0].task.id
    return decompose_json(drafts, made)


async def close_task(server: HandrailServer, *args: Any) -> TaskStatusJson:
    """Close a task: ``reason`` "done" or "abandoned", an optional ``note``."""
    return await _set_status(server, args, CLOSE_TASK, None)


async def reopen_task(server: HandrailServer, *args: Any) -> TaskStatusJson:
    """Reopen a closed task: back in the menus and pickers, its spec checked again."""
    return await _set_status(server, args, REOPEN_TASK, "open")
