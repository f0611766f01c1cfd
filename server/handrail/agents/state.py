"""What an agent session leaves behind on this machine: the active task and stop attempts.

Kept in the user's state folder (beside the trust store), keyed by workspace, never in the
repository: it is one developer's session, not something a branch should carry or merge.
A state file that cannot be read counts as empty; one that cannot be written is skipped,
so a read-only home folder never blocks an agent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from handrail import atomic
from handrail.workspace import Workspace


def _file(ws: Workspace) -> Path:
    from handrail.verify.trust import state_dir, workspace_key

    digest = hashlib.sha256(workspace_key(ws).encode("utf-8", "surrogatepass")).hexdigest()
    return state_dir() / "agents" / f"{digest[:24]}.json"


def read_state(ws: Workspace) -> dict[str, Any]:
    try:
        data = json.loads(_file(ws).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_state(ws: Workspace, data: dict[str, Any]) -> None:
    path = _file(ws)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic.replace(path, json.dumps(data, sort_keys=True).encode("utf-8"), mode=0o600)


def set_active_task(ws: Workspace, task_id: str) -> None:
    """Remember `task_id` as the task agents in this workspace work on."""
    data = read_state(ws)
    data["active_task"] = task_id
    write_state(ws, data)


def chosen_task(ws: Workspace) -> str | None:
    value = read_state(ws).get("active_task")
    return value if isinstance(value, str) else None


def stop_attempts(ws: Workspace, session: str) -> int:
    value = read_state(ws).get("stops", {}).get(session)
    return value if isinstance(value, int) and value >= 0 else 0


def set_stop_attempts(ws: Workspace, session: str, count: int) -> None:
    """Record how many stops in a row were refused for `session` (0 forgets it)."""
    data = read_state(ws)
    stops = data.get("stops")
    if not isinstance(stops, dict):
        stops = {}
    if not count and session not in stops:
        return  # nothing to forget: the common "all clear" path writes nothing
    if count:
        stops[session] = count
    else:
        stops.pop(session, None)
    # A few hundred sessions at most: forget the oldest so the file stays small.
    while len(stops) > 200:
        stops.pop(next(iter(stops)))
    data["stops"] = stops
    write_state(ws, data)


def env_task() -> str | None:
    value = os.environ.get("HANDRAIL_TASK", "").strip()
    return value or None
