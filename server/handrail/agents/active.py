"""The task an agent works on, when it does not name one.

The language server keeps the active task in the editor (`handrail.setActiveTask`); an agent
running in a terminal has no editor, so the command line and the MCP server look, in order:

1. ``HANDRAIL_TASK`` in the environment (the agent was started for that task);
2. the session's task: the task of the newest block marked with this session id;
3. the task last created with `handrail task new` or through the MCP server in this
   workspace (kept in the user's state folder, see `agents.state`);
4. only where a guess is harmless (the MCP resource): the newest task by creation time.

A candidate that names no existing task is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from handrail.agents.state import chosen_task, env_task
from handrail.ledger.records import BlockMarked, Record
from handrail.tasks.model import TaskSet
from handrail.workspace import Workspace

Source = Literal["HANDRAIL_TASK", "session", "chosen", "newest"]

_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class ActiveTask:
    task_id: str
    source: Source

    def describe(self) -> str:
        return {
            "HANDRAIL_TASK": "from HANDRAIL_TASK",
            "session": "the task this session marked blocks for",
            "chosen": "the task last created or chosen (task new, the MCP server)",
            "newest": "the newest task",
        }[self.source]


def session_task(records: Iterable[Record], session: str) -> str | None:
    """The task of the newest block marked with `session`."""
    found: BlockMarked | None = None
    for record in records:
        if not isinstance(record, BlockMarked) or record.session != session:
            continue
        if found is None or record.id > found.id:
            found = record
    return found.task_id if found is not None else None


def active_task(
    ws: Workspace,
    tasks: TaskSet,
    records: Iterable[Record],
    *,
    session: str | None = None,
    allow_newest: bool = False,
) -> ActiveTask | None:
    known = tasks.tasks
    from_env = env_task()
    if from_env and from_env in known:
        return ActiveTask(from_env, "HANDRAIL_TASK")
    if session:
        found = session_task(records, session)
        if found and found in known:
            return ActiveTask(found, "session")
    chosen = chosen_task(ws)
    if chosen and chosen in known:
        return ActiveTask(chosen, "chosen")
    if allow_newest and known:
        newest = max(known.values(), key=lambda t: (t.task.created or _OLDEST, t.task.id))
        return ActiveTask(newest.task.id, "newest")
    return None
