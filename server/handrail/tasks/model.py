"""The task model: ids, the `Task` a task file holds, and what loading and creating return.

A task file (``.handrail/tasks/<id>.toml``, read and written by `handrail.tasks.files`) is
validated into a `Task`; a `LoadedTask` adds where each part sits in the file, for findings.
A file that cannot be used is a `TaskFileError` with the line to fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, field_validator

from handrail.findings import Finding
from handrail.workspace import HANDRAIL_DIR, TASKS_DIR

__all__ = [
    "CLOSE_REASONS",
    "TASK_ID_ALPHABET",
    "TASK_ID_LENGTH",
    "TASK_ID_PATTERN",
    "TASK_ID_RE",
    "CreatedTask",
    "EditedSpecJson",
    "HandEditedSpecJson",
    "LoadedTask",
    "SpecRevision",
    "Task",
    "TaskFileError",
    "TaskJson",
    "TaskNotFound",
    "TaskSet",
    "TaskStatus",
    "as_aware",
    "clean_spec",
    "is_task_id",
    "new_task_id",
    "spec_hash",
    "task_json",
    "task_rel",
    "task_title",
]

TASK_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
TASK_ID_LENGTH = 6
TASK_ID_PATTERN = f"[a-z2-7]{{{TASK_ID_LENGTH}}}"
"""Unanchored, for building larger patterns (a block id is ``<task-id>.<n>``)."""
TASK_ID_RE = re.compile(rf"\A{TASK_ID_PATTERN}\Z")
"""A whole task id: 6 lowercase base32 characters (30 bits: ids from different branches
collide with odds of about one in a billion per pair, so no coordination is needed)."""

CLOSE_REASONS = ("done", "abandoned")
"""Why a task was closed: its work is finished, or it was given up."""


def as_aware(moment: dt.datetime) -> dt.datetime:
    # A hand-written local date-time (no offset) reads as UTC, so comparisons never fail.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def is_task_id(value: str) -> bool:
    return TASK_ID_RE.match(value) is not None


def new_task_id(existing: Iterable[str]) -> str:
    """A fresh random task id that is not in `existing`."""
    taken = set(existing)
    while True:
        candidate = "".join(secrets.choice(TASK_ID_ALPHABET) for _ in range(TASK_ID_LENGTH))
        if candidate not in taken:
            return candidate


def task_title(spec: str, width: int = 60) -> str:
    """The spec's opening words on one line, for lists and pickers."""
    text = " ".join(spec.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


TaskStatus = Literal["open", "done", "abandoned"]


class EditedSpecJson(TypedDict):
    """An earlier spec replaced through Edit Task (or `handrail task edit`)."""

    spec: str
    replaced: str
    by_hand: Literal[False]


class HandEditedSpecJson(TypedDict):
    """A spec changed in the TOML by hand: no earlier text, the ledger dates it (HR314)."""

    spec: None
    replaced: None
    by_hand: Literal[True]
    first_seen: str


class TaskJson(TypedDict):
    """A task as `handrail task list/show --json` and ``handrail.listTasks`` report it."""

    task: str
    path: str
    status: TaskStatus
    title: str
    spec: str
    spec_hash: str
    context: list[str]
    verify: str | None
    risk: str | None
    author: str | None
    created: str | None
    closed_at: str | None
    note: str | None
    parent: str | None
    decomposed: bool
    spec_history: list[EditedSpecJson | HandEditedSpecJson]
    blocks: NotRequired[list[str]]
    """Only when one task was asked for (`task show`, ``listTasks`` with ``task``): the blocks
    the ledger knows for it."""


def task_json(
    loaded: LoadedTask, *, by_hand: dt.datetime | None = None, blocks: list[str] | None = None
) -> TaskJson:
    """A task as `task list/show --json` and the server's task commands report it.

    `by_hand`: when the spec was first seen changed by hand (`tasks.blocks.hand_edit`), which
    the history lists last, without the earlier spec (nothing recorded it). `blocks`: the
    task's blocks, reported when one task was asked for.
    """
    task = loaded.task
    history: list[EditedSpecJson | HandEditedSpecJson] = [
        {"spec": rev.spec, "replaced": rev.replaced.isoformat(), "by_hand": False}
        for rev in task.spec_history
    ]
    if by_hand is not None:
        history.append(
            {"spec": None, "replaced": None, "by_hand": True, "first_seen": by_hand.isoformat()}
        )
    found: TaskJson = {
        "task": task.id,
        "path": loaded.rel,
        "status": task.status,
        "title": task_title(task.spec),
        "spec": task.spec,
        "spec_hash": task.spec_hash,
        "context": list(task.context),
        "verify": task.verify,
        "risk": task.risk,
        "author": task.author,
        "created": task.created.isoformat() if task.created else None,
        "closed_at": task.closed_at.isoformat() if task.closed_at else None,
        "note": task.note,
        "parent": task.parent,
        "decomposed": task.decomposed,
        "spec_history": history,
    }
    if blocks is not None:
        found["blocks"] = blocks
    return found


def task_rel(task_id: str) -> str:
    """The workspace-relative path of a task's file."""
    return f"{HANDRAIL_DIR}/{TASKS_DIR}/{task_id}.toml"


def clean_spec(spec: str) -> str:
    """A spec as a task file stores it: LF line endings, no surrounding blank space."""
    return spec.replace("\r\n", "\n").replace("\r", "\n").strip()


def spec_hash(spec: str) -> str:
    """The hash a block records of the spec it was generated under (``sha256:<hex>``).

    Line endings and surrounding blank space do not count: rewrapping the file's string by
    hand is not a new spec, a changed word is.
    """
    text = clean_spec(spec)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class SpecRevision(BaseModel):
    """An earlier spec of a task, kept when the spec was edited (``[[spec_history]]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    spec: str
    replaced: dt.datetime
    """When this spec stopped being the task's spec."""


class Task(BaseModel):
    """One task as its file holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    spec: str
    context: list[str] = []
    verify: str | None = None
    """The task's own verification command; None uses the workflow's."""
    risk: str | None = None
    """A risk tier name that overrides the tiers matched by path and keyword."""
    created: dt.datetime | None = None
    author: str | None = None
    status: TaskStatus = "open"
    """A closed task (done or abandoned) leaves menus and pickers; absent means open."""
    closed_at: dt.datetime | None = None
    note: str | None = None
    """Why the task was closed, in the closer's words."""
    spec_history: list[SpecRevision] = []
    """Earlier specs, oldest first: blocks generated under one of them are HR314."""
    context_hashes: dict[str, str] = {}
    """Line-range entry -> the hash of the lines it took when attached (HR207)."""
    parent: str | None = None
    """The task this one was decomposed from (`task decompose`)."""
    decomposed: bool = False
    """A parent whose spec was too long: its sub-tasks carry the checked specs, so its own
    spec is not checked and it is offered for no generation; done when they all are."""

    @property
    def is_closed(self) -> bool:
        return self.status != "open"

    @property
    def spec_hash(self) -> str:
        return spec_hash(self.spec)

    @property
    def spec_since(self) -> dt.datetime | None:
        """When the current spec replaced an earlier one; None when it never changed."""
        if not self.spec_history:
            return None
        return max(as_aware(rev.replaced) for rev in self.spec_history)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not is_task_id(value):
            raise ValueError(
                f"{value!r} is not a task id: use {TASK_ID_LENGTH} characters from a-z and 2-7"
            )
        return value

    @field_validator("spec", "context", "verify", "risk", "author", "note")
    @classmethod
    def _real_text(cls, value: str | list[str] | None) -> str | list[str] | None:
        # Text from a command line can carry lone surrogates (undecodable bytes); they cannot
        # be written as UTF-8, so they are refused here rather than half-way through a write.
        for item in [value] if isinstance(value, str) else value or []:
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("holds characters that are not valid Unicode text") from None
        return value

    @field_validator("parent")
    @classmethod
    def _parent_shape(cls, value: str | None) -> str | None:
        if value is not None and not is_task_id(value):
            raise ValueError(f"{value!r} is not a task id")
        return value

    @field_validator("verify")
    @classmethod
    def _blank_verify_is_none(cls, value: str | None) -> str | None:
        # `verify = ""` reads as "no command of its own": the workflow's command applies.
        return value if value is None or value.strip() else None


@dataclass(frozen=True, slots=True)
class LoadedTask:
    """A task with where its parts sit in its file (1-based lines), for diagnostics."""

    task: Task
    path: Path
    rel: str
    spec_line: int
    """The line of the ``spec`` key."""
    context_lines: list[int]
    """The line of each context entry, in the order of ``task.context``."""
    verify_line: int | None
    spec_start: tuple[int, int] | None = None
    """(line, column) of the spec's first character when the file holds it verbatim (no
    escapes), so findings can point inside the spec; None anchors them on `spec_line`."""
    key_lines: dict[str, int] = field(default_factory=dict)
    """The line of every top-level key of the file."""


class TaskFileError(Exception):
    """A task file that cannot be used, with the line to fix (1-based)."""

    def __init__(
        self,
        rel: str,
        line: int,
        message: str,
        *,
        column: int = 1,
        kind: str = "invalid",
        more: list[tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(f"{rel}:{line}: {message}")
        self.rel = rel
        self.line = line
        self.column = column
        self.message = message
        self.kind = kind
        """One of: not_found, bad_id, unreadable, too_large, encoding, toml, schema,
        id_mismatch, unwritable."""
        self.more = more or []
        """Further problems in the same file as (line, message), for editors that show all."""


class TaskNotFound(TaskFileError):
    """No task file for the id asked for."""


@dataclass(slots=True)
class TaskSet:
    """Every task of a workspace that loaded, and a finding for every file that did not."""

    tasks: dict[str, LoadedTask] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)
    """Ids whose file exists but failed to load: a block naming one is not an unknown task."""

    @property
    def known_ids(self) -> set[str]:
        return set(self.tasks) | self.broken


@dataclass(frozen=True, slots=True)
class CreatedTask:
    """The result of `create_task`: the task when written, and the spec's findings either way."""

    task: LoadedTask | None
    findings: list[Finding]
