"""`handrail workflow reviewed`: record that the team reviewed its workflow, who took part.

The date goes into `[workflow] reviewed` of `.handrail/workflow.toml` (which moves the next
review, `reviewed + review_every_days`, and clears HR401); who reviewed it goes into a comment
on that line, since the rules have no field for it and a comment survives every later edit.
The file is edited with tomlkit, so every other comment and the layout stay as the team wrote
them. Who attended and what changed go into a `ReviewMeeting` ledger record, which is where
the next `handrail workflow review` starts its period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from handrail import atomic
from handrail.ledger.records import ReviewMeeting
from handrail.toml.problems import TomlSyntaxError
from handrail.toml.problems import parse as parse_toml
from handrail.workflow.load import load_workflow
from handrail.workspace import PathEscapesWorkspace, Workspace


class ReviewedError(ValueError):
    """The review cannot be recorded; the message says why and what to do."""

    def __init__(self, message: str, *, path: str, line: int = 1) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


@dataclass(frozen=True, slots=True)
class ReviewedResult:
    path: str
    reviewed: dt.date
    by: str
    previous: dt.date | None
    next_review: dt.date


def mark_reviewed(ws: Workspace, *, today: dt.date, by: str) -> ReviewedResult:
    """Set `[workflow] reviewed = today  # reviewed by <by>` in the workspace's workflow file."""
    rel = ws.relative(ws.workflow_path)
    # A TOML comment is one line without control characters: keep the name readable text.
    by = " ".join("".join(c if c.isprintable() else " " for c in by).split())
    if not by:
        raise ReviewedError(
            "say who reviewed the workflow (--by), or set git's user.name", path=rel
        )
    try:
        path = ws.resolve_inside(rel)
    except PathEscapesWorkspace as exc:
        raise ReviewedError(f"{rel} leads outside the workspace", path=rel) from exc
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReviewedError(f"{rel} does not exist: run `handrail init` first", path=rel) from None
    except OSError as exc:
        raise ReviewedError(f"cannot read {rel}: {exc.strerror or exc}", path=rel) from exc
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ReviewedError(f"{rel} is not UTF-8 text", path=rel) from exc
    before = load_workflow(ws, text=text)
    try:
        parse_toml(text)  # tomlkit below edits it; the one vocabulary says what is wrong
        document = tomlkit.parse(text)
    except TomlSyntaxError as exc:
        line = exc.problem.span.line
        raise ReviewedError(
            f"{rel} is not valid TOML (line {line}: {exc.problem.message}): fix it first",
            path=rel,
            line=line,
        ) from exc
    except TOMLKitError as exc:  # text tomllib reads but tomlkit does not: still refused
        line = getattr(exc, "line", 1) or 1
        raise ReviewedError(
            f"{rel} is not valid TOML (line {line}): fix it first (`handrail check` says how)",
            path=rel,
            line=line,
        ) from exc

    stamp = tomlkit.item(today)
    stamp.comment(f"reviewed by {by}")
    table = document.get("workflow")
    if table is None:
        table = tomlkit.table()
        document.add("workflow", table)
    if not isinstance(table, Table | dict):
        raise ReviewedError(f"`workflow` in {rel} is not a table", path=rel)
    table["reviewed"] = stamp
    new_text = tomlkit.dumps(document)

    after = load_workflow(ws, text=new_text)
    if after.workflow.workflow.reviewed != today:
        problems = "; ".join(f.message for f in after.findings) or "the date did not take"
        raise ReviewedError(f"{rel} cannot record the review: {problems}", path=rel)
    try:
        atomic.replace(path, new_text.encode("utf-8"))
    except OSError as exc:
        raise ReviewedError(f"cannot write {rel}: {exc.strerror or exc}", path=rel) from exc
    meta = after.workflow.workflow
    due = today + dt.timedelta(days=meta.review_every_days)
    return ReviewedResult(rel, today, by, before.workflow.workflow.reviewed, due)


def record_meeting(
    ws: Workspace, *, today: dt.date, by: str, attendees: list[str], changes: list[str]
) -> ReviewMeeting:
    """Append the meeting to the ledger: the next `handrail workflow review` starts from it.

    The one who led it is an attendee too. Each name and change is kept on one line.
    """
    from handrail.ledger.store import Ledger

    def line(text: str) -> str:
        return " ".join("".join(c if c.isprintable() else " " for c in text).split())

    people = [p for p in dict.fromkeys(line(a) for a in [by, *attendees]) if p]
    done = [c for c in (line(c) for c in changes) if c]
    meeting = ReviewMeeting.create(reviewed=today, attendees=people, changes=done, author=by)
    Ledger(ws).append(meeting)
    return meeting
