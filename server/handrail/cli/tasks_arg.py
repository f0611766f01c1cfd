"""Turning task ids named on the command line into loaded tasks, with clear refusals."""

from __future__ import annotations

from collections.abc import Sequence

from handrail.cli.common import EXIT_USAGE, Context, echo_findings, fail
from handrail.tasks.files import load_all_tasks
from handrail.tasks.model import LoadedTask
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace


def tasks_named(
    ctx: Context, task_ids: Sequence[str]
) -> tuple[Workspace, Workflow, list[LoadedTask]]:
    """The workspace, its workflow and the named tasks (every task when none is named).

    An invalid workflow or an unknown task id is a usage error (exit 2).
    """
    from handrail.workflow.load import load_workflow

    ws = ctx.ws
    loaded = load_workflow(ws)
    if loaded.findings:
        echo_findings(loaded.findings, err=True)
        fail("the workflow file is invalid: fix it first", EXIT_USAGE)
    task_set = load_all_tasks(ws)
    if not task_ids:
        return ws, loaded.workflow, sorted(task_set.tasks.values(), key=lambda t: t.task.id)
    chosen: list[LoadedTask] = []
    for task_id in task_ids:
        found = task_set.tasks.get(task_id)
        if found is None:
            broken = [f for f in task_set.findings if f.path.endswith(f"/{task_id}.toml")]
            if broken:
                echo_findings(broken, err=True)
                fail(f"task {task_id} cannot be read: fix its file first")
            known = ", ".join(sorted(task_set.tasks)) or "none yet"
            fail(f"no task {task_id!r} in {ws.relative(ws.tasks_dir)}/ (tasks: {known})")
        chosen.append(found)
    return ws, loaded.workflow, chosen
