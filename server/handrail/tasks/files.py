"""Task files (``.handrail/tasks/<id>.toml``): loading, creating, editing and writing them.

A task file is TOML that people read and edit::

    # Handrail task: edit the spec and the context freely; `handrail check` reads this file.
    id = "k3f9qa"
    spec = '''
    Given a CSV header line, return the column names. It must keep quoted commas and
    follow parse_row in src/csv_utils.py.'''
    context = [
        "src/csv_utils.py",
        "tests/test_csv_utils.py#L1-L40",
    ]
    verify = "python -m pytest -q tests/test_csv_utils.py"
    author = "Ada Tester"
    created = 2026-11-25T16:22:00Z

Loading never lets bad input escape as a traceback: a file that cannot be used (bad TOML, not
UTF-8, wrong types, unknown keys, an id that does not match the file name) becomes a
`TaskFileError` with the line to fix, and `load_all_tasks` turns it into an HR100 finding.
Writing is atomic (a temp file in the same folder, fsync, `os.replace`), so a killed writer
leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
import tomlkit.items
from pydantic import ValidationError
from tomlkit.items import StringType, Trivia

from handrail import atomic
from handrail.findings import Finding, has_errors
from handrail.tasks.findings import check_task, problem_findings, spec_findings
from handrail.tasks.model import (
    CLOSE_REASONS,
    TASK_ID_LENGTH,
    CreatedTask,
    LoadedTask,
    SpecRevision,
    Task,
    TaskFileError,
    TaskNotFound,
    TaskSet,
    as_aware,
    clean_spec,
    is_task_id,
    new_task_id,
    spec_hash,
    task_rel,
)
from handrail.toml.index import TomlIndex
from handrail.toml.index import index as toml_index
from handrail.toml.problems import Invalid, TomlSyntaxError, sentence
from handrail.toml.problems import parse as parse_toml
from handrail.workflow.model import Workflow
from handrail.workspace import (
    FileTooLarge,
    NotARegularFile,
    PathEscapesWorkspace,
    Workspace,
    read_regular_file,
)

__all__ = [
    "MAX_TASK_FILE_BYTES",
    "Decomposed",
    "EditedTask",
    "check_task_source",
    "create_task",
    "create_template_task",
    "current_spec_hash",
    "decompose_drafts",
    "decompose_task",
    "edit_task",
    "finish_parent",
    "load_all_tasks",
    "load_task",
    "parse_task",
    "read_task_text",
    "rename_pin",
    "render_task",
    "save_task",
    "set_task_status",
]

MAX_TASK_FILE_BYTES = 1_000_000
"""A task file is a few hundred bytes; anything this large is not one, and is never read whole."""

_SPEC_INLINE_MAX = 72
_STALE_TEMP_SECONDS = 3600
_HEADER = "Handrail task: edit the spec and the context freely; `handrail check` reads this file."

# --- loading -----------------------------------------------------------------------------


def load_task(ws: Workspace, task_id: str) -> LoadedTask:
    """The task `task_id` of `ws`; raises `TaskNotFound` or `TaskFileError`."""
    if not is_task_id(task_id):
        raise TaskNotFound(
            task_id,
            1,
            f"{task_id!r} is not a task id ({TASK_ID_LENGTH} characters from a-z and 2-7)",
            kind="bad_id",
        )
    rel = task_rel(task_id)
    path = ws.tasks_dir / f"{task_id}.toml"
    if not os.path.lexists(path):
        raise TaskNotFound(rel, 1, f"there is no task {task_id} (no file {rel})", kind="not_found")
    return parse_task(_read_task_file(ws, path, rel), path=path, rel=rel)


def current_spec_hash(ws: Workspace, task_id: str) -> str | None:
    """The hash of the task's spec now; None when its file cannot be read."""
    try:
        return load_task(ws, task_id).task.spec_hash
    except TaskFileError:
        return None


def load_all_tasks(ws: Workspace, workflow: Workflow | None = None) -> TaskSet:
    """Every task file in ``.handrail/tasks/``; broken ones become HR100 findings.

    With `workflow`, HR100 takes the team's severity (and is dropped when turned off);
    without it, the default severity applies.
    """
    result = TaskSet()
    folder = ws.tasks_dir
    if not folder.is_dir():
        return result
    try:
        ws.resolve_inside(ws.relative(folder))
    except PathEscapesWorkspace:
        problem = TaskFileError(
            ws.relative(folder),
            1,
            "the tasks folder links outside the workspace: nothing in it was read; make "
            ".handrail/tasks a real folder",
            kind="unreadable",
        )
        _add_problem(result, workflow, problem)
        return result
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except OSError as exc:
        _add_problem(
            result,
            workflow,
            TaskFileError(ws.relative(folder), 1, f"the tasks folder cannot be listed ({exc})"),
        )
        return result
    for name in names:
        if not name.endswith(".toml") or name.startswith("."):
            continue
        path = folder / name
        rel = ws.relative(path)
        stem = name[: -len(".toml")]
        try:
            if not is_task_id(stem):
                raise TaskFileError(
                    rel,
                    1,
                    f'the file name "{stem}" is not a task id ({TASK_ID_LENGTH} characters '
                    "from a-z and 2-7): rename it, or move it out of .handrail/tasks/",
                    kind="bad_id",
                )
            loaded = parse_task(_read_task_file(ws, path, rel), path=path, rel=rel)
        except TaskFileError as problem:
            if is_task_id(stem):
                result.broken.add(stem)
            _add_problem(result, workflow, problem)
            continue
        result.tasks[loaded.task.id] = loaded
    return result


def parse_task(source: str | bytes, *, path: Path, rel: str) -> LoadedTask:
    """A task from the text of its file (as saved, or an editor's unsaved buffer).

    The file name gives the expected id; a file without an ``id`` key takes it from there.
    Raises `TaskFileError` at the line of the first problem.
    """
    expected_id = path.stem
    text = _decode(source, rel)
    try:
        data = parse_toml(text)
    except TomlSyntaxError as exc:
        span = exc.problem.span
        raise TaskFileError(
            rel,
            span.line,
            f"this is not valid TOML: {exc.problem.message}",
            column=span.column,
            kind="toml",
        ) from None
    # On text that parses the two modes index alike (a property test holds them to it); the
    # tolerant one is what the editor's context features ask for, so they share its cache.
    found = toml_index(text, tolerant=True)
    key_lines = {
        loc[0]: span.line
        for loc, span in found.keys.items()
        if len(loc) == 1 and isinstance(loc[0], str)
    }
    data.setdefault("id", expected_id)
    try:
        task = Task.model_validate(data)
    except ValidationError as exc:
        problems = sorted(_schema_problem(error, data, found) for error in exc.errors())
        (line, message), *more = problems
        raise TaskFileError(rel, line, message, kind="schema", more=more) from None
    if task.id != expected_id:
        raise TaskFileError(
            rel,
            key_lines.get("id", 1),
            f'the id "{task.id}" does not match the file name "{expected_id}.toml": set '
            f'id = "{expected_id}", or rename the file to {task.id}.toml',
            kind="id_mismatch",
        )
    spec_token = found.offsets.get(("spec",))
    spec_start = None if spec_token is None else _verbatim_start(text, spec_token, task.spec)
    items = found.items(("context",))
    context_lines = [found.values[item].line for item in items]
    if len(context_lines) != len(task.context):
        # Only when the index and tomllib disagree (they should not): fall back to the key.
        context_lines = [key_lines.get("context", 1)] * len(task.context)
    return LoadedTask(
        task=task,
        path=path,
        rel=rel,
        spec_line=key_lines.get("spec", 1),
        context_lines=context_lines,
        verify_line=key_lines.get("verify"),
        spec_start=spec_start,
        key_lines=key_lines,
    )


def check_task_source(
    source: str | bytes, workflow: Workflow, *, path: Path, rel: str
) -> tuple[LoadedTask | None, list[Finding]]:
    """Parse and check a task file's text in one go (for an editor's buffer)."""
    try:
        loaded = parse_task(source, path=path, rel=rel)
    except TaskFileError as problem:
        return None, problem_findings(problem, workflow)
    return loaded, check_task(loaded, workflow)


# --- writing ------------------------------------------------------------------------------


def create_task(
    ws: Workspace,
    workflow: Workflow,
    spec: str,
    context: list[str],
    *,
    verify: str | None = None,
    author: str | None = None,
    now: dt.datetime | None = None,
) -> CreatedTask:
    """Write a new task, unless its spec has an error-severity finding (then nothing is written).

    The findings point into the file as it is (or would have been) written.
    """
    task_id = new_task_id(_existing_ids(ws))
    rel = task_rel(task_id)
    try:
        task = Task(
            id=task_id,
            spec=clean_spec(spec),
            context=list(context),
            verify=verify,
            author=author,
            created=_timestamp(now),
            context_hashes=_pins(ws, workflow, context),
        )
    except ValidationError as exc:
        line, message = min(_schema_problem(error, {}, None) for error in exc.errors())
        problem = TaskFileError(rel, line, message, kind="schema")
        return CreatedTask(None, problem_findings(problem, workflow))
    path = ws.tasks_dir / f"{task.id}.toml"
    text = render_task(task)
    loaded = parse_task(text, path=path, rel=rel)
    findings = check_task(loaded, workflow)
    if has_errors(findings):
        return CreatedTask(None, findings)
    _write_in_tasks_dir(ws, path, text)
    return CreatedTask(loaded, findings)


def create_template_task(
    ws: Workspace,
    workflow: Workflow,
    *,
    context: list[str] | None = None,
    verify: str | None = None,
    author: str | None = None,
    now: dt.datetime | None = None,
) -> LoadedTask:
    """Write a task whose spec is the workflow's template, for the user to fill in.

    It is not checked: its placeholders are meant to show up as HR103 until replaced.
    """
    task = Task(
        id=new_task_id(_existing_ids(ws)),
        spec=workflow.spec.template,
        context=list(context or []),
        verify=verify,
        author=author,
        created=_timestamp(now),
    )
    return save_task(ws, task)


def save_task(ws: Workspace, task: Task) -> LoadedTask:
    """Write `task` to its file (atomically, replacing any earlier version) and return it loaded."""
    path = ws.tasks_dir / f"{task.id}.toml"
    text = render_task(task)
    loaded = parse_task(text, path=path, rel=task_rel(task.id))
    _write_in_tasks_dir(ws, path, text)
    return loaded


def render_task(task: Task) -> str:
    """The text of `task`'s file: a header comment, then one key per field that is set."""
    document = tomlkit.document()
    document.add(tomlkit.comment(_HEADER))
    document.add("id", task.id)
    document.add("spec", _spec_item(task.spec))
    entries = tomlkit.array()
    entries.extend(task.context)
    if task.context:
        entries.multiline(True)
    document.add("context", entries)
    for key in ("verify", "risk", "author"):
        value = getattr(task, key)
        if value is not None:
            document.add(key, _string_item(value))
    if task.created is not None:
        document.add("created", task.created)
    if task.parent is not None:
        document.add("parent", task.parent)
    if task.decomposed:
        document.add("decomposed", True)
    if task.is_closed:
        document.add("status", task.status)
        if task.closed_at is not None:
            document.add("closed_at", task.closed_at)
        if task.note is not None:
            document.add("note", _string_item(task.note))
    if task.context_hashes:
        document.add("context_hashes", _hashes_table(task.context_hashes))
    if task.spec_history:
        document.add("spec_history", _history_tables(task.spec_history))
    return document.as_string()


def _hashes_table(hashes: dict[str, str]) -> tomlkit.items.Table:
    table = tomlkit.table()
    table.add(tomlkit.comment("the lines each line-range entry took (HR207); written by handrail"))
    for entry, digest in hashes.items():
        table.add(entry, digest)
    return table


def _history_tables(history: Iterable[SpecRevision]) -> tomlkit.items.AoT:
    tables = tomlkit.aot()
    for revision in history:
        tables.append(_history_table(revision))
    return tables


def _history_table(revision: SpecRevision) -> tomlkit.items.Table:
    table = tomlkit.table()
    table.add("spec", _spec_item(revision.spec))
    table.add("replaced", revision.replaced)
    return table


@dataclass(frozen=True, slots=True)
class EditedTask:
    """The result of `edit_task` / `set_task_status`: the task as written (None when refused)
    and the new spec's findings."""

    task: LoadedTask | None
    findings: list[Finding]
    spec_changed: bool = False


def edit_task(
    ws: Workspace,
    workflow: Workflow,
    task_id: str,
    *,
    spec: str | None = None,
    context: list[str] | None = None,
    verify: str | None = None,
    now: dt.datetime | None = None,
) -> EditedTask:
    """Change a task's spec, context or verification command in its file, keeping the rest.

    The file is edited in place (comments and key order survive, so hand edits round-trip).
    A new spec gets the same check as at creation: with an error-severity finding nothing is
    written. The spec it replaces goes to ``[[spec_history]]`` with the time it was replaced,
    so blocks generated under it can be told apart (HR314). `verify=""` removes the task's
    own command. Raises `TaskNotFound` / `TaskFileError`.
    """
    loaded = load_task(ws, task_id)
    text = _read_task_file(ws, loaded.path, loaded.rel).decode("utf-8-sig")
    document = tomlkit.parse(text)
    spec_changed = False
    if spec is not None:
        clean = clean_spec(spec)
        if spec_hash(clean) != loaded.task.spec_hash:
            spec_changed = True
            # To the microsecond: a run or an explanation in the same second as the edit
            # must still be told apart as before or after it (HR314).
            moment = now or dt.datetime.now(dt.UTC)
            revision = SpecRevision(spec=loaded.task.spec, replaced=as_aware(moment))
            _set_key(document, "spec", _spec_item(clean))
            history = document.get("spec_history")
            if isinstance(history, tomlkit.items.AoT):
                history.append(_history_table(revision))
            else:
                document.add("spec_history", _history_tables([revision]))
    if context is not None:
        entries = tomlkit.array()
        entries.extend(context)
        if context:
            entries.multiline(True)
        _set_key(document, "context", entries)
        # Setting the context pins the lines each range takes now.
        pins = _pins(ws, workflow, context)
        if "context_hashes" in document:
            del document["context_hashes"]
        if pins:
            document.add("context_hashes", _hashes_table(pins))
    if verify is not None:
        if verify.strip():
            _set_key(document, "verify", _string_item(verify))
        elif "verify" in document:
            del document["verify"]
    return _write_edited(ws, workflow, loaded, document.as_string(), spec_changed=spec_changed)


@dataclass(frozen=True, slots=True)
class Decomposed:
    """The result of `decompose_task`: the parent and its sub-tasks when written (None when
    a sub-task's spec was refused: then nothing was written), and each sub-spec's findings."""

    parent: LoadedTask | None
    children: list[LoadedTask]
    findings: list[list[Finding]]


def decompose_drafts(spec: str) -> list[str]:
    """One draft sub-task spec per sentence of `spec` (the user edits them before creating)."""
    from handrail.spec.sentences import split_sentences

    return [s.text.strip() for s in split_sentences(spec) if s.text.strip()]


def decompose_task(
    ws: Workspace,
    workflow: Workflow,
    spec: str,
    subtasks: list[str],
    context: list[str],
    *,
    verify: str | None = None,
    author: str | None = None,
    now: dt.datetime | None = None,
) -> Decomposed:
    """Write a parent task holding the too-long `spec` and one sub-task per entry of
    `subtasks`, each checked as `create_task` checks a spec (sharing `context`).

    All or nothing: when any sub-spec has an error-severity finding, nothing is written.
    """
    taken = _existing_ids(ws)
    parent_id = new_task_id(taken)
    taken.add(parent_id)
    children: list[Task] = []
    findings: list[list[Finding]] = []
    # The parent and every child share one context: its line ranges are read and pinned once.
    pins = _pins(ws, workflow, context)
    for sub in subtasks:
        child_id = new_task_id(taken)
        taken.add(child_id)
        child = Task(
            id=child_id,
            spec=clean_spec(sub),
            context=list(context),
            verify=verify,
            author=author,
            created=_timestamp(now),
            parent=parent_id,
            context_hashes=dict(pins),
        )
        loaded = parse_task(
            render_task(child), path=ws.tasks_dir / f"{child_id}.toml", rel=task_rel(child_id)
        )
        findings.append(check_task(loaded, workflow))
        children.append(child)
    if not children or any(has_errors(f) for f in findings):
        return Decomposed(None, [], findings)
    parent = Task(
        id=parent_id,
        spec=clean_spec(spec),
        context=list(context),
        verify=verify,
        author=author,
        created=_timestamp(now),
        decomposed=True,
        context_hashes=dict(pins),
    )
    written = [save_task(ws, parent)]
    written += [save_task(ws, child) for child in children]
    return Decomposed(written[0], written[1:], findings)


def finish_parent(ws: Workspace, child: Task, *, now: dt.datetime | None = None) -> str | None:
    """Close `child`'s parent as done when every sub-task of it is closed done; its id, or
    None when nothing changed."""
    if child.parent is None:
        return None
    found = load_all_tasks(ws)
    parent = found.tasks.get(child.parent)
    if parent is None or parent.task.is_closed:
        return None
    siblings = [t.task for t in found.tasks.values() if t.task.parent == child.parent]
    if not siblings or any(t.status != "done" for t in siblings):
        return None
    set_task_status(ws, child.parent, "done", note="all its sub-tasks are done", now=now)
    return child.parent


def set_task_status(
    ws: Workspace,
    task_id: str,
    status: str,
    *,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> LoadedTask:
    """Close a task (`status` "done" or "abandoned", with an optional note) or reopen it
    ("open"), editing its file in place. Raises `TaskNotFound` / `TaskFileError`."""
    if status not in ("open", *CLOSE_REASONS):
        raise ValueError(f"{status!r} is not a task status: use open, done or abandoned")
    loaded = load_task(ws, task_id)
    text = _read_task_file(ws, loaded.path, loaded.rel).decode("utf-8-sig")
    document = tomlkit.parse(text)
    for key in ("status", "closed_at", "note"):
        if key in document:
            del document[key]
    if status != "open":
        document.add("status", status)
        document.add("closed_at", _timestamp(now))
        if note is not None and note.strip():
            document.add("note", _string_item(note.strip()))
    new_text = document.as_string()
    result = parse_task(new_text, path=loaded.path, rel=loaded.rel)
    _write_in_tasks_dir(ws, loaded.path, new_text)
    return result


def rename_pin(text: str, old: str, new: str) -> str:
    """A task file's text with the kept hash of entry `old` moved to entry `new` (the lines
    moved, not changed: HR207's fix). Text that is not valid TOML is returned as it is."""
    try:
        document = tomlkit.parse(text)
    except Exception:
        return text
    table = document.get("context_hashes")
    if not isinstance(table, tomlkit.items.Table) or old not in table:
        return text
    digest = str(table[old])
    del table[old]
    table[new] = digest
    return document.as_string()


def _pins(ws: Workspace, workflow: Workflow, context: Iterable[str]) -> dict[str, str]:
    from handrail.context.pins import pin_entries

    return pin_entries(ws, list(context), max_file_bytes=workflow.context.max_file_bytes)


def _set_key(document: tomlkit.TOMLDocument, key: str, value: Any) -> None:
    if key in document:
        document[key] = value  # replaced where it stands
    else:
        document.add(key, value)


def _write_edited(
    ws: Workspace, workflow: Workflow, before: LoadedTask, text: str, *, spec_changed: bool
) -> EditedTask:
    try:
        loaded = parse_task(text, path=before.path, rel=before.rel)
    except TaskFileError as problem:
        return EditedTask(None, problem_findings(problem, workflow))
    findings = spec_findings(loaded, workflow) if spec_changed else check_task(loaded, workflow)
    if spec_changed and has_errors(findings):
        return EditedTask(None, findings)
    _write_in_tasks_dir(ws, before.path, text)
    return EditedTask(loaded, findings, spec_changed)


def _spec_item(spec: str) -> tomlkit.items.String:
    if "\r" in spec:
        # Only a hand-built Task gets here (create_task normalises line breaks): escaping
        # keeps the file LF-only, as raw CRs in a multi-line string read differently per parser.
        return tomlkit.string(spec)
    if "\n" not in spec and len(spec) <= _SPEC_INLINE_MAX:
        return _string_item(spec)
    # A multi-line string that starts on the line after the key: TOML drops that first line
    # break, and the spec reads as a paragraph people can rewrap by hand.
    try:
        base = tomlkit.string(spec, literal=True, multiline=True)
    except tomlkit.exceptions.InvalidStringError:
        base = tomlkit.string(spec, multiline=True)
    raw = base.as_string()
    kind = StringType.MLL if raw.startswith("'") else StringType.MLB
    body = raw[3:-3]
    if not body.startswith("\n"):  # tomlkit adds it itself when the spec starts with one
        body = "\n" + body
    return tomlkit.items.String(kind, spec, body, Trivia())


def _string_item(value: str) -> tomlkit.items.String:
    # A literal string keeps quotes and backslashes as they are, so the file shows the text
    # verbatim (and findings can point inside it); a basic string escapes what literal cannot.
    if ('"' in value or "\\" in value) and "'" not in value:
        try:
            return tomlkit.string(value, literal=True)
        except tomlkit.exceptions.InvalidStringError:
            pass
    return tomlkit.string(value)


def _timestamp(now: dt.datetime | None) -> dt.datetime:
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.replace(microsecond=0)


def _existing_ids(ws: Workspace) -> set[str]:
    try:
        return {
            entry.name[: -len(".toml")]
            for entry in os.scandir(ws.tasks_dir)
            if entry.name.endswith(".toml")
        }
    except OSError:
        return set()


def _write_in_tasks_dir(ws: Workspace, path: Path, text: str) -> None:
    """Write a task file; a failure is a `TaskFileError` naming the file, never a traceback."""
    rel = ws.relative(path)
    try:
        # Refuse to write through a .handrail or tasks folder that links out of the workspace.
        ws.resolve_inside(ws.relative(ws.tasks_dir))
        ws.tasks_dir.mkdir(parents=True, exist_ok=True)
        ws.resolve_inside(ws.relative(ws.tasks_dir))
        _sweep_stale_temps(ws.tasks_dir)
        atomic.replace(path, text.encode("utf-8"))
    except PathEscapesWorkspace:
        raise TaskFileError(
            rel,
            1,
            "the tasks folder links outside the workspace: nothing was written",
            kind="unwritable",
        ) from None
    except OSError as exc:
        raise TaskFileError(
            rel, 1, f"the task file could not be written ({exc.strerror or exc})", kind="unwritable"
        ) from None


def _sweep_stale_temps(folder: Path) -> None:
    """Remove temp files that a killed writer left behind (an hour old or more)."""
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for temp in folder.glob(".*.toml.*.tmp"):
        try:
            if temp.is_file() and temp.stat().st_mtime < cutoff:
                temp.unlink()
        except OSError:
            continue


# --- reading helpers ----------------------------------------------------------------------


def read_task_text(ws: Workspace, rel: str) -> str:
    """The text of the task file at workspace-relative `rel`, read as `load_task` reads it.

    Raises `TaskFileError` (outside the workspace, not a regular file, too large, not UTF-8).
    """
    return _decode(_read_task_file(ws, ws.root / rel, rel), rel)


def _read_task_file(ws: Workspace, path: Path, rel: str) -> bytes:
    try:
        ws.resolve_inside(rel)
    except PathEscapesWorkspace:
        raise TaskFileError(
            rel, 1, "the task file links outside the workspace: it was not read", kind="unreadable"
        ) from None
    try:
        # Never blocks: a FIFO (even one swapped in after a check) would hang the editor.
        return read_regular_file(path, MAX_TASK_FILE_BYTES)
    except NotARegularFile:
        raise TaskFileError(rel, 1, "this is not a regular file", kind="unreadable") from None
    except FileTooLarge:
        raise TaskFileError(
            rel,
            1,
            f"the file is over {MAX_TASK_FILE_BYTES:,} bytes, far more than a task holds",
            kind="too_large",
        ) from None
    except OSError as exc:
        raise TaskFileError(
            rel, 1, f"the file cannot be read ({exc.strerror or exc})", kind="unreadable"
        ) from None


def _decode(source: str | bytes, rel: str) -> str:
    if isinstance(source, str):
        return source.removeprefix("\ufeff")
    try:
        # utf-8-sig: a byte-order mark that some Windows editors add is not an error.
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        raise TaskFileError(
            rel,
            line,
            f"the file is not UTF-8 text (byte {exc.start + 1} is invalid): save it as UTF-8",
            kind="encoding",
        ) from None


def _schema_problem(raw: Any, tree: dict[str, Any], found: TomlIndex | None) -> tuple[int, str]:
    """A validation error as (line, words) in the shared vocabulary of TOML problems."""
    error = Invalid.of(raw)
    key_error = error.kind in ("extra_forbidden", "missing")
    line = 1 if found is None else found.locate(error.loc, value=not key_error).line
    words = sentence(error, tree, Task, {})
    return line, words[:1].lower() + words[1:].removesuffix(".")


def _add_problem(result: TaskSet, workflow: Workflow | None, problem: TaskFileError) -> None:
    result.findings.extend(problem_findings(problem, workflow))


def _verbatim_start(text: str, token: tuple[int, int], value: str) -> tuple[int, int] | None:
    """(line, column) where the spec's value starts when the token holds it unescaped."""
    start, end = token
    raw = text[start:end]
    width = 3 if raw[:3] in ("'''", '"""') else 1
    content_start = start + width
    content = text[content_start : end - width]
    if width == 3:
        for newline in ("\r\n", "\n"):
            if content.startswith(newline):
                content = content[len(newline) :]
                content_start += len(newline)
                break
    if content != value or (raw[0] == '"' and "\\" in content):
        return None
    line = text.count("\n", 0, content_start) + 1
    column = content_start - (text.rfind("\n", 0, content_start) + 1) + 1
    return line, column
