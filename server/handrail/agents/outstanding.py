"""What still stands between an agent and "done": generated code that is not yet proven.

The stop hook asks this before it lets an agent finish. Blocking, per block of the scope
(the session's task, or the whole workspace when no task is active):

- HR300 unverified, HR301 changed since verified, HR302 failed: the agent can fix these
  itself (`handrail verify`, then fix the code or the tests);
- HR310 (no test executed the block, once per-block coverage exists): blocking by code, so
  the hook holds as soon as that check reports it.

And, over the whole workspace, every hunk changed since HEAD that `handrail mark --diff`
would mark but that lies in no block: generated code nobody marked.

Not blocking: HR303 (manual trace) and HR304 (the author's acknowledgement) are human acts
an agent must not fake, so holding the agent for them would only loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from handrail.analysis import Snapshot
from handrail.workspace import Workspace

BLOCKING_CODES = frozenset({"HR300", "HR301", "HR302", "HR310"})
"""Finding codes on a block that keep an agent from stopping."""

Kind = Literal["unmarked", "block"]


@dataclass(frozen=True, slots=True)
class Outstanding:
    kind: Kind
    path: str
    line: int
    end_line: int
    code: str | None
    """The finding's code for a block; None for an unmarked hunk."""
    message: str
    block_id: str | None = None
    task_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "code": self.code,
            "block": self.block_id,
            "task": self.task_id,
            "message": self.message,
        }

    def describe(self) -> str:
        where = f"{self.path}:{self.line}-{self.end_line}"
        if self.kind == "unmarked":
            return f"{where} changed but not marked as generated"
        return f"{self.block_id} ({where}) {self.code}: {self.message}"


@dataclass(slots=True)
class OutstandingReport:
    task_id: str | None
    """The scope: one task, or None for the whole workspace."""
    items: list[Outstanding] = field(default_factory=list)
    agent: str | None = None
    """The agent being held: the marking command it is told to run records it."""
    notes: list[str] = field(default_factory=list)
    """What could not be checked (no git repository: unmarked edits are not seen)."""

    @property
    def clear(self) -> bool:
        return not self.items

    def next_command(self) -> str:
        """The one command that moves the agent forward."""
        unmarked = [i for i in self.items if i.kind == "unmarked"]
        if unmarked:
            if self.task_id is None:
                return (
                    'handrail task new "<two-sentence spec>" (or the MCP tool check_spec), '
                    f"then handrail mark --diff{' --agent ' + self.agent if self.agent else ''} "
                    "--task <task>"
                )
            who = f" --agent {self.agent}" if self.agent else ""
            return f"handrail mark --diff{who} --task {self.task_id}"
        tasks = sorted({i.task_id for i in self.items if i.task_id})
        target = self.task_id or (tasks[0] if len(tasks) == 1 else None)
        return f"handrail verify {target}" if target else "handrail verify --all"

    def reason(self, *, limit: int = 5) -> str:
        """A short reason for the agent: what is outstanding and the next command."""
        scope = f"task {self.task_id}" if self.task_id else "this workspace"
        lines = [f"Handrail: the generated code of {scope} is not proven yet:"]
        lines += [f"- {item.describe()}" for item in self.items[:limit]]
        if len(self.items) > limit:
            lines.append(f"- … and {len(self.items) - limit} more (handrail check lists them)")
        lines.append(f"Next: {self.next_command()}")
        if any(i.code == "HR302" for i in self.items):
            lines.append("A failed verification means the code or its tests need fixing first.")
        lines.append(
            "If verify says the commands are not trusted (HR403), ask the user to review them "
            "and run handrail trust; do not claim the work is done."
        )
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "task": self.task_id,
            "clear": self.clear,
            "outstanding": [i.as_json() for i in self.items],
            "next": None if self.clear else self.next_command(),
            "notes": list(self.notes),
        }


def outstanding(
    ws: Workspace, *, task_id: str | None, snapshot: Snapshot | None = None
) -> OutstandingReport:
    """The unproven generated code of task `task_id` (every task when None)."""
    from handrail.review._tree import files_with_blocks

    snap = snapshot or Snapshot.load(ws)
    report = OutstandingReport(task_id)
    for source in files_with_blocks(snap):
        blocks = source.analysis.parsed.blocks
        for block in blocks:
            if task_id is not None and block.task_id != task_id:
                continue
            for finding in source.analysis.findings:
                if finding.code not in BLOCKING_CODES:
                    continue
                if not block.begin_line <= finding.line <= block.end_line:
                    continue
                report.items.append(
                    Outstanding(
                        "block",
                        source.rel,
                        block.begin_line,
                        block.end_line,
                        finding.code,
                        finding.message,
                        block.id,
                        block.task_id,
                    )
                )
    report.items += _unmarked(ws, report.notes)
    return report


def _unmarked(ws: Workspace, notes: list[str]) -> list[Outstanding]:
    """Hunks since HEAD that `mark --diff` would mark and that no block covers."""
    from handrail.blocks.markers import decode_source
    from handrail.marking.diff import DiffMarkError, changed_hunks, markable_hunks
    from handrail.workspace import PathEscapesWorkspace, is_regular_file

    if not (ws.root / ".git").exists():
        notes.append("not a git repository: edits that were never marked cannot be seen")
        return []
    try:
        hunks_by_path = changed_hunks(ws, "HEAD")
    except DiffMarkError as exc:
        notes.append(f"unmarked edits not checked: {exc}")
        return []
    found: list[Outstanding] = []
    for rel, hunks in sorted(hunks_by_path.items()):
        try:
            real = ws.resolve_inside(rel)
            if not is_regular_file(real):
                continue
            text, _ = decode_source(real.read_bytes())
        except (OSError, PathEscapesWorkspace):
            continue
        for hunk in markable_hunks(text, rel, hunks):
            found.append(Outstanding("unmarked", rel, hunk.start, hunk.end, None, "not marked"))
    return found
