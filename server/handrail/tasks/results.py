"""What each task use case answers, as one JSON shape for every front end.

`handrail task new|list|show|edit|close|reopen|decompose --json` and the server's
``handrail.newTask``, ``listTasks``, ``editTask``, ``closeTask``, ``reopenTask`` and
``decompose`` print these very dicts, built by these functions: a field one front end reports,
the other reports too. The language server may add only what an editor alone needs (a ``uri``,
whether it ``shown`` a document), in types that extend these
(`handrail.lsp.features.command_results`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from handrail.findings import Finding, FindingJson, findings_json
from handrail.tasks.files import Decomposed, EditedTask
from handrail.tasks.model import (
    CreatedTask,
    LoadedTask,
    TaskJson,
    TaskSet,
    TaskStatus,
    task_json,
)


class NewTaskJson(TypedDict):
    task: str | None
    """None when the spec was refused (nothing was written)."""
    path: str | None
    template: bool
    """A template task, written for the user to fill in (the editor's New Task without a spec)."""
    findings: list[FindingJson]
    """The spec's findings."""
    context_findings: list[FindingJson]
    """The context check of the task written, when it has context: work before generation."""


class TaskListJson(TypedDict):
    tasks: list[TaskJson]
    """Newest first: open tasks only, unless closed ones were asked for."""
    closed_hidden: int
    findings: list[FindingJson]
    """Task files that could not be read (HR2xx)."""


class EditTaskJson(TypedDict):
    task: str
    written: bool
    """False when the new spec was refused: nothing was written."""
    spec_changed: bool
    reopened_blocks: list[str]
    """Blocks generated under the earlier spec, re-opened until verified again (HR314)."""
    findings: list[FindingJson]
    context_findings: list[FindingJson]


class TaskStatusJson(TypedDict):
    task: str
    status: TaskStatus
    path: str
    parent_done: str | None
    """The parent task closed as done with its last sub-task, if any."""
    findings: list[FindingJson]
    """After a close: blocks of closed tasks still unverified (HR315)."""


class DecomposeJson(TypedDict):
    drafts: list[str]
    parent: str | None
    """None for drafts only, or when a sub-task's spec was refused (nothing was written)."""
    children: list[str]
    findings: list[list[FindingJson]]
    """One list per sub-task spec checked, in the order of `drafts`."""


def new_task_json(
    created: CreatedTask, context_findings: Sequence[Finding] = (), *, template: bool = False
) -> NewTaskJson:
    task = created.task
    return {
        "task": task.task.id if task else None,
        "path": task.rel if task else None,
        "template": template,
        "findings": findings_json(created.findings),
        "context_findings": findings_json(context_findings),
    }


def newest_first(found: TaskSet, *, show_all: bool) -> tuple[list[LoadedTask], int]:
    """The tasks a list shows, newest first (open ones unless `show_all`), and how many closed
    ones it leaves out."""
    every = sorted(
        found.tasks.values(),
        key=lambda t: (t.task.created.isoformat() if t.task.created else "", t.task.id),
        reverse=True,
    )
    shown = [t for t in every if show_all or not t.task.is_closed]
    return shown, len(every) - len(shown)


def task_list_json(found: TaskSet, *, show_all: bool) -> TaskListJson:
    shown, hidden = newest_first(found, show_all=show_all)
    return {
        "tasks": [task_json(t) for t in shown],
        "closed_hidden": hidden,
        "findings": findings_json(found.findings),
    }


def edit_task_json(
    task_id: str,
    edited: EditedTask,
    reopened: list[str],
    context_findings: Sequence[Finding] = (),
) -> EditTaskJson:
    return {
        "task": task_id,
        "written": edited.task is not None,
        "spec_changed": edited.spec_changed,
        "reopened_blocks": reopened,
        "findings": findings_json(edited.findings),
        "context_findings": findings_json(context_findings),
    }


def task_status_json(
    loaded: LoadedTask, parent_done: str | None, findings: Sequence[Finding] = ()
) -> TaskStatusJson:
    return {
        "task": loaded.task.id,
        "status": loaded.task.status,
        "path": loaded.rel,
        "parent_done": parent_done,
        "findings": findings_json(findings),
    }


def decompose_json(drafts: list[str], made: Decomposed | None = None) -> DecomposeJson:
    """`made` None: the drafts only (``--dry-run``), nothing written."""
    if made is None:
        return {"drafts": drafts, "parent": None, "children": [], "findings": []}
    return {
        "drafts": drafts,
        "parent": made.parent.task.id if made.parent else None,
        "children": [c.task.id for c in made.children],
        "findings": [findings_json(f) for f in made.findings],
    }
