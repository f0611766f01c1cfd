"""Which command verifies a block, and the argv it becomes.

A block's command is, in order: its task's own ``verify`` field; else the command of the first
``[[verification.by_path]]`` entry whose pattern (gitignore syntax) matches the block's file;
else ``[verification] command``. The text is split with `shlex` (POSIX rules) and never given
to a shell: ``;``, ``|``, ``&&``, ``>`` and ``$(...)`` are plain characters of an argument.

Placeholders, each replaced after splitting, so a value can never add or split arguments:

``{files}``
    The files holding the blocks the run covers, workspace-relative, each its own argument
    (a name starting with ``-`` is written ``./-name`` so it is never read as an option).
    It must be a whole argument.
``{task}``
    The task id, anywhere in an argument (``--junitxml=reports/{task}.xml``).
``{tests}``
    When one task or block is re-verified: the tests (runner node ids) that executed its
    blocks in their last measured run, each its own argument. Nothing (the whole suite) when
    any block has no such run, and always for `verify --all` and `check --rerun`, so the
    full run stays what CI judges. It must be a whole argument.

Any other ``{word}`` is refused, so a misspelt placeholder never runs as literal text.
Braces that do not hold a plain word (``{}``, ``{a,b}``) are left alone.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pathspec import GitIgnoreSpec

from handrail.ignore import byte_view
from handrail.tasks.model import LoadedTask
from handrail.workflow.model import Workflow

PLACEHOLDERS: dict[str, str] = {
    "{files}": "the files holding the blocks the run covers, each its own argument",
    "{task}": "the task id",
    "{tests}": "the tests that executed the blocks last time (nothing: the whole suite)",
}
_WORD = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")

Origin = Literal["task", "by_path", "default"]


class CommandError(ValueError):
    """A command text that cannot become an argv; the message says what to fix."""

    def __init__(self, message: str, *, source: CommandSource | None = None) -> None:
        super().__init__(message)
        self.source = source


@dataclass(frozen=True, slots=True)
class CommandSource:
    """One command text and where the rules or the task define it."""

    text: str
    origin: Origin
    where: str
    """Where it is written, for messages: "the `verify` field of .handrail/tasks/k3f9qa.toml"."""
    task_id: str | None = None
    """The task whose `verify` field it is (origin "task")."""
    pattern: str | None = None
    """The `by_path` pattern that chose it (origin "by_path")."""
    index: int | None = None
    """The position of its `[[verification.by_path]]` entry (origin "by_path")."""


def task_command(loaded: LoadedTask) -> CommandSource | None:
    verify = loaded.task.verify
    if verify is None:
        return None
    return CommandSource(
        verify, "task", f"the `verify` field of {loaded.rel}", task_id=loaded.task.id
    )


def workflow_commands(workflow: Workflow) -> list[CommandSource]:
    """Every command the workflow defines: each `by_path` command, then the default one."""
    rules = workflow.verification
    found = [
        CommandSource(
            entry.command,
            "by_path",
            f"[[verification.by_path]] pattern {entry.pattern!r}",
            pattern=entry.pattern,
            index=index,
        )
        for index, entry in enumerate(rules.by_path)
        if entry.command.strip()
    ]
    if rules.command.strip():
        found.append(CommandSource(rules.command, "default", "[verification] command"))
    return found


def all_commands(workflow: Workflow, tasks: Iterable[LoadedTask]) -> list[CommandSource]:
    """Every command text verification could run here: what `handrail trust` approves."""
    found = workflow_commands(workflow)
    for loaded in sorted(tasks, key=lambda t: t.task.id):
        own = task_command(loaded)
        if own is not None:
            found.append(own)
    return found


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> GitIgnoreSpec | None:
    try:
        # Byte by byte, as git matches names (and as `_pattern`'s callers pass paths).
        return GitIgnoreSpec.from_lines([byte_view(pattern)])
    except ValueError:
        # An invalid pattern is the workflow check's to report (HR400); it matches nothing.
        return None


def command_for(workflow: Workflow, rel_path: str, task: LoadedTask | None) -> CommandSource | None:
    """The command that verifies a block of `task` in workspace-relative `rel_path`.

    None when neither the task, a `by_path` pattern nor the default gives one.
    """
    if task is not None:
        own = task_command(task)
        if own is not None:
            return own
    rel = rel_path.replace("\\", "/").lstrip("/")
    for source in workflow_commands(workflow):
        if source.origin == "by_path" and source.pattern is not None:
            spec = _pattern(source.pattern)
            if spec is not None and spec.match_file(byte_view(rel)):
                return source
        elif source.origin == "default":
            return source
    return None


def applies_to_files(workflow: Workflow, source: CommandSource, files: Iterable[str]) -> bool:
    """Whether `source` would verify a block in any of `files` (workspace-relative).

    A task's own command applies (it is chosen by the task, not by a path). A `by_path`
    command applies when it is the first matching entry for some file (a file an earlier
    pattern takes never reaches it); the default command when some file matches no pattern.
    """
    if source.origin == "task":
        return True
    for rel in files:
        chosen = command_for(workflow, rel, None)
        if chosen is not None and chosen.origin == source.origin and chosen.index == source.index:
            return True
    return False


def split_command(source: CommandSource) -> list[str]:
    """The command text as argv items (before placeholders), or CommandError."""
    try:
        argv = shlex.split(source.text, comments=False, posix=True)
    except ValueError as exc:
        raise CommandError(
            f"The verification command {source.text!r} ({source.where}) cannot be split into "
            f"arguments: {exc}. Check its quotes.",
            source=source,
        ) from exc
    if not argv:
        raise CommandError(f"The verification command ({source.where}) is empty.", source=source)
    for item in argv:
        for match in _WORD.finditer(item):
            word = match.group(0)
            if word not in PLACEHOLDERS:
                known = ", ".join(PLACEHOLDERS)
                raise CommandError(
                    f"The verification command {source.text!r} ({source.where}) uses the "
                    f"unknown placeholder {word}; the placeholders are {known}.",
                    source=source,
                )
        for whole in ("{files}", "{tests}"):
            if whole in item and item != whole:
                raise CommandError(
                    f"In the verification command {source.text!r} ({source.where}), {whole} "
                    "must be an argument of its own (it becomes one argument per item).",
                    source=source,
                )
    if argv[0] in ("{files}", "{tests}") or argv[0].startswith("{task}"):
        raise CommandError(
            f"The verification command {source.text!r} ({source.where}) must start with a "
            "program, not a placeholder.",
            source=source,
        )
    return argv


def _safe_file(rel: str) -> str:
    return f"./{rel}" if rel.startswith("-") else rel


def expand(
    source: CommandSource, *, files: Sequence[str], task_id: str, tests: Sequence[str] = ()
) -> tuple[str, ...]:
    """The argv that runs `source` for blocks in `files` of task `task_id`; `tests` fills
    ``{tests}`` (node ids read from the ledger: one starting with ``-`` is dropped, never
    read as an option)."""
    argv: list[str] = []
    for item in split_command(source):
        if item == "{files}":
            argv.extend(_safe_file(f) for f in sorted(set(files)))
        elif item == "{tests}":
            argv.extend(t for t in sorted(set(tests)) if t and not t.startswith("-"))
        else:
            argv.append(item.replace("{task}", task_id))
    return tuple(argv)
