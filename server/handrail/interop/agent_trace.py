"""Agent Trace records (agent-trace.dev, spec 0.1) for the generated blocks of commits.

One record per commit that added or changed a block: for each file, one conversation per
task, its ranges the blocks' content lines as committed with their content hashes. Blocks
whose markers `handrail accept` removed are found again from their `accepted` records (as
`handrail blame` finds them), so a commit that touches accepted code still reports it. The
schema has no field for a conversation's summary, so each conversation points at its task
(``related``: ``urn:handrail:task:<id>``) and the record's ``metadata.handrail.tasks`` holds
each task's spec as that summary.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from handrail import __version__
from handrail.blocks.markers import Block, decode_source, normalise_newlines, parse_blocks
from handrail.interop._git import InteropError, commit_of, git_bytes, git_text, repo_prefix
from handrail.ledger.records import Accepted, line_hash
from handrail.ledger.store import Ledger
from handrail.marking.diff import Hunk, parse_unified_diff
from handrail.review.blame import locate
from handrail.tasks.files import load_all_tasks
from handrail.workspace import Workspace

__all__ = ["SPEC_VERSION", "InteropError", "commits_in", "trace_records"]

SPEC_VERSION = "0.1"
# Fixed namespace: the same commit always exports the same record id, so re-exporting
# does not create duplicates in a store that keys by id.
_NAMESPACE = uuid.UUID("1f0d6f4e-2b7a-5c39-9a51-68616e647261")


def commits_in(ws: Workspace, revisions: str) -> list[str]:
    """The commits of `revisions`, oldest first: ``A..B`` as git reads it, else one commit."""
    if ".." not in revisions:
        return [commit_of(ws, revisions)]
    if revisions.startswith("-"):
        raise InteropError(f"{revisions!r} is not a revision range")
    out = git_bytes(ws, ["rev-list", "--reverse", revisions, "--"], missing_ok=True)
    if out is None:
        raise InteropError(f"{revisions!r} is not a revision range of this repository")
    return out.decode().split()


def trace_records(ws: Workspace, revisions: str = "HEAD") -> list[dict[str, Any]]:
    """The Agent Trace records of the blocks each commit of `revisions` added or changed."""
    specs = {task_id: t.task.spec for task_id, t in load_all_tasks(ws).tasks.items()}
    # Agent Trace paths are relative to the repository root, not the workspace.
    prefix = repo_prefix(ws)
    accepted = _acceptances(ws)
    records = []
    for sha in commits_in(ws, revisions):
        record = _record(ws, sha, specs, prefix, accepted)
        if record is not None:
            records.append(record)
    return records


def _acceptances(ws: Workspace) -> dict[str, list[Accepted]]:
    """The newest `accepted` record of each block, by the path it was accepted in."""
    newest: dict[str, Accepted] = {}
    for record in Ledger(ws).read().records:
        if isinstance(record, Accepted) and record.path and record.line_hashes:
            newest[record.block_id] = record
    by_path: dict[str, list[Accepted]] = {}
    for record in newest.values():
        by_path.setdefault(record.path or "", []).append(record)
    return by_path


def _accepted_ranges(
    text: str, records: list[Accepted], hunks: list[Hunk], marked: set[str]
) -> dict[str, list[dict[str, Any]]]:
    """Ranges of accepted blocks (markers removed) found again in `text`, where the commit
    touched them, by task; an edited block gives its unchanged runs, without a content hash."""
    if not records:
        return {}
    hashes = [line_hash(line) for line in normalise_newlines(text).split("\n")]
    by_task: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record.block_id in marked:
            continue
        state, lines, _detail = locate(record, hashes)
        runs: list[list[int]] = []
        for n in lines:
            if runs and runs[-1][1] == n - 1:
                runs[-1][1] = n
            else:
                runs.append([n, n])
        for first, last in runs:
            if not any(h.start <= last and first <= h.end for h in hunks):
                continue
            entry: dict[str, Any] = {"start_line": first, "end_line": last}
            if state in ("accepted", "moved"):
                entry["content_hash"] = record.content_hash
            by_task.setdefault(record.block_id.split(".")[0], []).append(entry)
    return by_task


def _record(
    ws: Workspace,
    sha: str,
    specs: dict[str, str],
    prefix: str,
    accepted: dict[str, list[Accepted]] | None = None,
) -> dict[str, Any] | None:
    diff = git_text(
        ws,
        ["show", "--format=", "-U0", "--no-color", "--no-ext-diff", "--relative",
         "--src-prefix=a/", "--dst-prefix=b/", sha, "--", ".", ":(exclude,top).handrail"],
    )  # fmt: skip
    files: list[dict[str, Any]] = []
    tasks: set[str] = set()
    for rel, hunks in sorted(parse_unified_diff(diff).items()):
        data = git_bytes(ws, ["show", f"{sha}:./{rel}"], missing_ok=True)
        if data is None:
            continue
        text, _ = decode_source(data)
        parsed = parse_blocks(text, rel).blocks
        touched = [b for b in parsed if _touched(b, hunks)]
        by_task = _accepted_ranges(
            text, (accepted or {}).get(rel, []), hunks, {b.id for b in parsed}
        )
        for block in touched:
            if block.content_line_count == 0:
                continue
            by_task.setdefault(block.task_id, []).append(
                {
                    "start_line": block.first_content_line,
                    "end_line": block.last_content_line,
                    "content_hash": block.content_hash,
                }
            )
        if by_task:
            tasks |= set(by_task)
            files.append(
                {
                    "path": prefix + rel,
                    "conversations": [
                        {
                            "contributor": {"type": "ai"},
                            "ranges": ranges,
                            "related": [{"type": "handrail-task", "url": _task_urn(task_id)}],
                        }
                        for task_id, ranges in sorted(by_task.items())
                    ],
                }
            )
    if not files:
        return None
    when = int(git_text(ws, ["show", "-s", "--format=%ct", sha]).strip())
    stamp = dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": SPEC_VERSION,
        "id": str(uuid.uuid5(_NAMESPACE, sha)),
        "timestamp": stamp,
        "vcs": {"type": "git", "revision": sha},
        "tool": {"name": "handrail", "version": __version__},
        "files": files,
        "metadata": {
            "handrail": {
                "tasks": {
                    task_id: {"summary": specs.get(task_id), "url": _task_urn(task_id)}
                    for task_id in sorted(tasks)
                }
            }
        },
    }


def _touched(block: Block, hunks: list[Hunk]) -> bool:
    return any(h.start <= block.end_line and block.begin_line <= h.end for h in hunks)


def _task_urn(task_id: str) -> str:
    return f"urn:handrail:task:{task_id}"
