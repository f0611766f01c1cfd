"""Reading git-ai's line attributions (``refs/notes/ai``) to offer marking them as blocks.

git-ai (the ``authorship/3.x`` log) attaches a note to each commit: an attestation section
listing, per file, the AI session hashes and the line ranges they wrote, a ``---`` divider,
and JSON metadata naming each session's tool and model. Line numbers refer to the file as
committed, so a range is only offered while the working-tree file is still that version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from handrail.interop._git import InteropError, commit_of, git_bytes, repo_prefix
from handrail.marking.diff import Hunk
from handrail.workspace import PathEscapesWorkspace, Workspace, is_regular_file

__all__ = [
    "AiRange",
    "AuthorshipLog",
    "GitAiOffer",
    "InteropError",
    "offers_as_hunks",
    "parse_authorship_log",
    "read_git_ai",
]

NOTES_REF = "refs/notes/ai"
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


@dataclass(frozen=True, slots=True)
class AiRange:
    path: str
    """As git-ai wrote it: relative to the repository top."""
    session: str
    start: int
    end: int


@dataclass(slots=True)
class AuthorshipLog:
    ranges: list[AiRange] = field(default_factory=list)
    sessions: dict[str, str] = field(default_factory=dict)
    """Session hash -> "tool (model)", for the messages."""


def parse_authorship_log(text: str) -> AuthorshipLog:
    """Parse a git-ai note; `InteropError` (with the line) when it is not one."""
    lines = text.replace("\r\n", "\n").split("\n")
    # The last divider: a file may be named "---" (git-ai does not quote it), while the JSON
    # metadata after the divider never has a line that is exactly "---".
    dividers = [number for number, line in enumerate(lines) if line == "---"]
    if not dividers:
        raise InteropError("the git-ai note has no '---' divider: not an authorship log")
    divider = dividers[-1]
    log = AuthorshipLog()
    path: str | None = None
    for number, line in enumerate(lines[:divider], 1):
        if not line:
            continue
        if not line.startswith((" ", "\t")):
            path = _unquote(line)
            continue
        if path is None:
            raise InteropError(f"line {number} of the git-ai note has ranges before a file name")
        parts = line.split()
        if len(parts) != 2:
            raise InteropError(f"line {number} of the git-ai note is not '<session> <ranges>'")
        session, ranges = parts
        for piece in ranges.split(","):
            match = _RANGE.match(piece)
            if match is None:
                raise InteropError(f"line {number} of the git-ai note has a bad range {piece!r}")
            start = int(match.group(1))
            end = int(match.group(2) or start)
            if not 1 <= start <= end:
                raise InteropError(f"line {number} of the git-ai note has a bad range {piece!r}")
            log.ranges.append(AiRange(path, session, start, end))
    log.sessions = _sessions("\n".join(lines[divider + 1 :]))
    return log


def _unquote(name: str) -> str:
    # git-ai quotes names holding whitespace, without escapes inside.
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1]
    return name


def _sessions(metadata: str) -> dict[str, str]:
    """Session hash -> "tool (model)"; metadata is optional for our purpose, so lenient."""
    try:
        data = json.loads(metadata) if metadata.strip() else {}
    except ValueError:
        return {}
    prompts = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(prompts, dict):
        return {}
    names: dict[str, str] = {}
    for session, record in prompts.items():
        agent = record.get("agent_id") if isinstance(record, dict) else None
        if isinstance(agent, dict):
            tool, model = agent.get("tool"), agent.get("model")
            if isinstance(tool, str):
                names[session] = f"{tool} ({model})" if isinstance(model, str) else tool
    return names


@dataclass(frozen=True, slots=True)
class GitAiOffer:
    """One attributed range and whether it can be marked in the working tree now."""

    path: str
    """Workspace-relative."""
    start: int
    end: int
    agent: str
    markable: bool
    reason: str = ""


def read_git_ai(ws: Workspace, rev: str = "HEAD") -> tuple[str, list[GitAiOffer]]:
    """The commit's sha and the ranges its git-ai note attributes to AI.

    An empty list when the commit has no note. A range is markable only while the file in the
    working tree still has the committed content (its line numbers would not match otherwise).
    """
    sha = commit_of(ws, rev)
    note = git_bytes(ws, ["notes", f"--ref={NOTES_REF}", "show", sha], missing_ok=True)
    if note is None:
        return sha, []
    log = parse_authorship_log(note.decode("utf-8", "replace"))
    prefix = repo_prefix(ws)
    same: dict[str, str] = {}
    offers: list[GitAiOffer] = []
    for item in log.ranges:
        if not item.path.startswith(prefix):
            continue
        rel = item.path[len(prefix) :]
        agent = log.sessions.get(item.session, item.session)
        if rel not in same:
            same[rel] = _unchanged(ws, sha, rel)
        reason = same[rel]
        offers.append(GitAiOffer(rel, item.start, item.end, agent, not reason, reason))
    return sha, offers


def _unchanged(ws: Workspace, sha: str, rel: str) -> str:
    """ "" when the working-tree file equals the committed one, else why it cannot be marked."""
    try:
        real = ws.resolve_inside(rel)
    except PathEscapesWorkspace:
        return "outside the workspace"
    if not is_regular_file(real):
        return "no longer in the working tree"
    committed = git_bytes(ws, ["show", f"{sha}:./{rel}"], missing_ok=True)
    if committed is None:
        return "not in the commit"
    if real.read_bytes() != committed:
        return "changed since the commit, so the line numbers no longer match"
    return ""


def offers_as_hunks(offers: list[GitAiOffer]) -> dict[str, list[Hunk]]:
    """The markable offers as line ranges per file, adjacent ranges joined into one block."""
    by_path: dict[str, list[Hunk]] = {}
    for offer in sorted(offers, key=lambda o: (o.path, o.start)):
        if not offer.markable:
            continue
        hunks = by_path.setdefault(offer.path, [])
        if hunks and offer.start <= hunks[-1].end + 1:
            last = hunks[-1]
            hunks[-1] = Hunk(last.start, max(last.end, offer.end) - last.start + 1)
        else:
            hunks.append(Hunk(offer.start, offer.end - offer.start + 1))
    return by_path
