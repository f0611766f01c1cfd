"""`handrail init`: adopt Handrail in a repository.

Writes a commented `.handrail/workflow.toml` that extends a shipped pack, the `tasks/` and
`ledger/` folders, and a `.handrail/.gitignore` for machine-local files. Running it again
changes nothing: an existing file is never overwritten, so the bytes are the same on any later
day.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from handrail import atomic
from handrail.git import git_owner
from handrail.workflow.load import PackError, load_pack, pack_names
from handrail.workflow.model import Workflow
from handrail.workspace import GITIGNORE_LINES, HANDRAIL_DIR, PathEscapesWorkspace, Workspace

_GITIGNORE_HEADER = (
    "# Handrail's machine-local files: the ledger lock, caches, unfinished writes.\n"
)

GITATTRIBUTES_LINES = ("ledger/** linguist-generated=true gitlab-generated=true",)
"""The ledger is machine-written evidence: GitHub and GitLab collapse it in pull request diffs
(one click shows it), so a branch's diff is about its code. Git itself still diffs it."""
_GITATTRIBUTES_HEADER = (
    "# Handrail's ledger is machine-written: collapsed in pull request diffs, still reviewable.\n"
)


class InitError(ValueError):
    """`handrail init` cannot do its work: an unknown pack, or a path it cannot write."""


@dataclass(frozen=True, slots=True)
class InitResult:
    """What `init_workspace` did, as workspace-relative paths."""

    created: list[str]
    unchanged: list[str]
    updated: list[str] = field(default_factory=list)
    """Existing files that init added lines to (`.handrail/.gitignore`, `.gitattributes`, a
    pull request template)."""


def init_workspace(
    ws: Workspace, *, today: dt.date, owner: str | None = None, pack: str = "default"
) -> InitResult:
    """Set up `.handrail/` in `ws`, keeping whatever is already there.

    `owner` defaults to git's "Name <email>"; when git does not know it the owner is left empty
    (HR402 says to fill it in). Raises InitError for an unknown pack, an owner that cannot be
    written as UTF-8 text, or a file or folder that cannot be created.
    """
    if pack not in pack_names():
        raise InitError(
            f"unknown pack {pack!r}: the shipped packs are {', '.join(pack_names()) or 'missing'}"
        )
    try:
        workflow = load_pack(pack)
    except PackError as exc:
        raise InitError(f"the shipped pack {pack!r} does not load: {exc}") from exc
    if owner is None:
        owner = git_owner(ws.root) or ""
    try:
        owner.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InitError(f"the owner {owner!r} is not valid text") from exc

    _inside(ws, HANDRAIL_DIR)
    created: list[str] = []
    unchanged: list[str] = []
    updated: list[str] = []
    text = workflow_template(pack, workflow, owner=owner, today=today)
    outcome = {True: created, False: unchanged}
    outcome[create_new_file(ws, ws.workflow_path, text)].append(ws.relative(ws.workflow_path))
    for folder in (ws.tasks_dir, ws.ledger_dir):
        keep = folder / ".gitkeep"
        outcome[create_new_file(ws, keep, "")].append(ws.relative(keep))
    for name, header, lines in (
        (".gitignore", _GITIGNORE_HEADER, GITIGNORE_LINES),
        (".gitattributes", _GITATTRIBUTES_HEADER, GITATTRIBUTES_LINES),
    ):
        path = ws.handrail_dir / name
        if create_new_file(ws, path, header + "".join(f"{line}\n" for line in lines)):
            created.append(ws.relative(path))
        elif _complete_lines(path, lines):
            updated.append(ws.relative(path))
        else:
            unchanged.append(ws.relative(path))
    return InitResult(created, unchanged, updated)


def _inside(ws: Workspace, rel: str) -> Path:
    try:
        return ws.resolve_inside(rel)
    except PathEscapesWorkspace as exc:
        raise InitError(
            f"{rel} leads outside the workspace {ws.root}; init writes only inside"
        ) from exc


def create_new_file(ws: Workspace, path: Path, text: str) -> bool:
    """Write `text` to `path` (inside the workspace, folders made) unless something is there
    already; True when it was created. Never replaces a file, even one that appears meanwhile."""
    rel = ws.relative(path)
    _inside(ws, rel)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InitError(f"{ws.relative(folder)} is a file; Handrail needs a folder there") from None
    except OSError as exc:
        raise InitError(f"cannot create {ws.relative(folder)}/: {exc.strerror or exc}") from exc
    try:
        # Refuses to replace a file, even one that appeared since the caller looked.
        atomic.create_new(path, text.encode("utf-8"))
    except FileExistsError:
        if not path.is_file():
            raise InitError(f"{rel} exists but is not a regular file") from None
        return False
    except OSError as exc:
        raise InitError(f"cannot create {rel}: {exc.strerror or exc}") from exc
    return True


def _complete_lines(path: Path, lines: tuple[str, ...]) -> bool:
    """Append the lines Handrail needs that an existing file lacks; True if any were."""
    try:
        current = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InitError(f"cannot read {path}: {exc.strerror or exc}") from exc
    present = {line.strip() for line in current.splitlines()}
    missing = [line for line in lines if line not in present]
    if not missing:
        return False
    prefix = "" if not current or current.endswith("\n") else "\n"
    try:
        with open(path, "a", encoding="utf-8", newline="\n") as handle:
            handle.write(prefix + "".join(f"{line}\n" for line in missing))
    except OSError as exc:
        raise InitError(f"cannot update {path}: {exc.strerror or exc}") from exc
    return True


def workflow_template(pack: str, workflow: Workflow, *, owner: str, today: dt.date) -> str:
    """The text `handrail init` writes: settings that matter on day one, then commented examples.

    The commented values are the pack's own, so uncommenting a line changes nothing until the
    team edits the value.
    """
    meta = workflow.workflow
    owner_comment = (
        "# Who keeps this workflow true (HR402 when empty)."
        if owner
        else "# Who keeps this workflow true: fill it in (HR402 while it is empty)."
    )
    examples: list[tuple[str | None, Sequence[tuple[str, object]]]] = [
        (
            "spec",
            [
                ("max_sentences", workflow.spec.max_sentences),
                ("hard_max_sentences", workflow.spec.hard_max_sentences),
            ],
        ),
        (
            "context",
            [
                ("max_tokens", workflow.context.max_tokens),
                ("max_files", workflow.context.max_files),
                ("max_file_tokens", workflow.context.max_file_tokens),
            ],
        ),
        (
            "generation",
            [
                ("temperature", workflow.generation.temperature),
                ("max_block_lines", workflow.generation.max_block_lines),
            ],
        ),
        (
            "verification",
            [
                ("command", workflow.verification.command),
                ("timeout_s", workflow.verification.timeout_s),
            ],
        ),
        ("detection", [("large_insertion_lines", workflow.detection.large_insertion_lines)]),
    ]
    lines = [
        "# The team's workflow for AI-assisted coding, checked by Handrail.",
        "#",
        f'# It extends the shipped "{pack}" pack: set here only what the team decides',
        "# differently. Tables merge key by key with the pack; any other value, lists included,",
        "# replaces the pack's value whole (to add one ignore pattern, copy the pack's list).",
        "# Every setting is described in Handrail's docs/workflow.md; `handrail check` reports",
        "# a mistake in this file as HR400, with its line.",
        "",
        f"extends = {toml_value(pack)}",
        "",
        "[workflow]",
        owner_comment,
        f"owner = {toml_value(owner)}",
        "# When the team last read it through, and how often it must (HR401 when overdue).",
        f"reviewed = {today.isoformat()}",
        f"review_every_days = {meta.review_every_days}",
        "",
        '# The overrides teams use most. To use one, remove the leading "# " from the line and',
        "# from its [table] header; the values shown are the pack's own.",
    ]
    for table, settings in examples:
        lines.append("#")
        lines.append(f"# [{table}]")
        lines.extend(f"# {key} = {toml_value(value)}" for key, value in settings)
    lines += [
        "#",
        "# Severity per diagnostic code: error, warning, info, hint or off.",
        "# [severity]",
        '# HR308 = "off"',
    ]
    return "\n".join(lines) + "\n"


def toml_value(value: object) -> str:
    """`value` written as TOML: text, whole numbers, finite floats, booleans, dates, lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # JSON's escapes are TOML's, except that TOML also forbids a raw DEL character.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value")
