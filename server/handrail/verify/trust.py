"""Trust: which verification commands this machine's user has approved for a workspace.

A repository is attacker-controlled input: its workflow file and task files name programs,
and even ``python -m pytest`` runs the repository's own ``conftest.py``. So nothing a
repository defines runs until the user has read the commands and run ``handrail trust``,
which records, **outside the repository** (the user state folder), for the workspace's
real path:

- the SHA-256 of what the workflow makes verification run (`runs_digest`): the effective
  ``[verification] command`` and every ``[[verification.by_path]]`` entry, pattern and
  command, in order, and
- the SHA-256 of every command text verification could run there: the effective
  workflow's commands and every task's ``verify``.

A command is trusted only while the workflow still runs what was approved *and* its text is
one of the approved ones. The approval is bound to what executes, not to the file's bytes:
recording a review (``handrail workflow reviewed``), changing a cap, a timeout or a comment
leaves it standing, so upkeep of the rules does not make every developer approve again, while
any change to a command, a pattern or the order of the ``by_path`` entries voids it. A file
that does not validate is bound to its exact bytes instead (what runs from it is a guess), and
a new or changed task command is untrusted until approved. The same idea as direnv's
``allow`` and Neovim's ``vim.secure``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import filelock

from handrail import atomic
from handrail.verify.commands import CommandSource, all_commands
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

if TYPE_CHECKING:
    from handrail.workflow.load import LoadedWorkflow

STORE_NAME = "trust.json"
STORE_VERSION = 1
_LOCK_TIMEOUT_S = 10.0

DecisionKind = Literal[
    "approved",
    "explicit_flag",
    "no_record",
    "workflow_changed",
    "workflow_unreadable",
    "command_not_approved",
]


class TrustError(Exception):
    """Trust could not be recorded or read; the message is meant for the user as is."""


class WorkflowNotTrustable(TrustError):
    """The workflow file is one `check` refuses to read (HR400): nothing can approve it."""


@dataclass(frozen=True, slots=True)
class TrustDecision:
    """Whether one command may run here, and why (a phrase: "the workflow file changed ...")."""

    trusted: bool
    kind: DecisionKind
    reason: str


@dataclass(frozen=True, slots=True)
class TrustRequest:
    """What `handrail trust` would approve right now."""

    key: str
    """The workspace's real path: the record's key."""
    workflow_rel: str
    runs_sha256: str
    """`runs_digest` of the effective workflow (the default pack when there is no file)."""
    has_workflow_file: bool
    commands: list[CommandSource]
    unreadable_tasks: list[str] = field(default_factory=list)
    """Task files that could not be read: their `verify`, if any, is not approved."""
    workflow_problems: int = 0
    """How many HR400 findings the workflow file has."""
    workflow: Workflow | None = None
    """The effective workflow read from the digested bytes (which file selects which command)."""

    def texts(self) -> list[str]:
        """The distinct command texts, in the order first met."""
        return list(dict.fromkeys(c.text for c in self.commands))


@dataclass(frozen=True, slots=True)
class TrustEntry:
    """One workspace's approval, as stored."""

    runs_sha256: str | None
    """None for an approval recorded before trust was bound to what runs: it approves nothing."""
    commands: dict[str, str]
    """SHA-256 of each approved command text -> the text (shown by `handrail trust --show`)."""
    approved_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "runs_sha256": self.runs_sha256,
            "commands": dict(sorted(self.commands.items())),
            "approved_at": self.approved_at,
        }


def state_dir() -> Path:
    """The user's state folder for Handrail: ``$XDG_STATE_HOME/handrail`` when set."""
    xdg = os.environ.get("XDG_STATE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "handrail"
    import platformdirs

    return Path(platformdirs.user_state_dir("handrail", appauthor=False))


def store_path() -> Path:
    return state_dir() / STORE_NAME


def workspace_key(ws: Workspace) -> str:
    return os.path.realpath(ws.root)


def command_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _workflow_bytes(ws: Workspace) -> bytes | None:
    """The workflow file's bytes; None when there is none. Raises TrustError when unreadable.

    Read by the workflow loader's own reader, so trust refuses exactly what `check` refuses
    (a FIFO, a device, a file over the size limit), with the same sentence, and never blocks.
    """
    from handrail.workflow.load import WorkflowUnreadable, read_workflow_bytes

    try:
        return read_workflow_bytes(ws)
    except WorkflowUnreadable as exc:
        raise WorkflowNotTrustable(str(exc)) from exc


def runs_digest(workflow: Workflow, *, invalid_bytes: bytes | None = None) -> str:
    """SHA-256 of what the rules make verification execute, canonically encoded.

    Only the commands and the per-path rules that choose them: the default command, and each
    `by_path` entry's pattern and command in order (the first match wins, so order matters).
    Everything else (caps, tiers, the review date, the timeout and the output limit, comments,
    layout) changes how a run is judged or reported, never what runs, and is left out.
    `invalid_bytes`: the file's bytes when it does not validate, which are then bound as well.
    """
    rules = workflow.verification
    canonical = {
        "v": 1,
        "command": rules.command,
        "by_path": [[entry.pattern, entry.command] for entry in rules.by_path],
    }
    if invalid_bytes is not None:
        canonical["invalid_file_sha256"] = hashlib.sha256(invalid_bytes).hexdigest()
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8", "surrogatepass")).hexdigest()


def _load_from(ws: Workspace, data: bytes | None) -> tuple[LoadedWorkflow, str]:
    """The workflow read from exactly `data` (the file's bytes, None: no file) and its digest."""
    from handrail.workflow.load import load_workflow

    text: str | None = None
    if data is not None:
        with suppress(UnicodeDecodeError):
            text = data.decode("utf-8")
    loaded = load_workflow(ws, text=text) if text is not None else load_workflow(ws)
    valid = data is None or (text is not None and loaded.parsed and not loaded.findings)
    return loaded, runs_digest(loaded.workflow, invalid_bytes=None if valid else data)


def workflow_digest(ws: Workspace) -> str:
    """`runs_digest` of the workspace's rules as they are on disk now."""
    return _load_from(ws, _workflow_bytes(ws))[1]


def pending(ws: Workspace) -> TrustRequest:
    """The digest of what runs and every command text that `handrail trust` would approve now.

    The commands are read from the very bytes that are digested, so what is printed and what
    is approved cannot differ even if the file changes meanwhile.
    """
    from handrail.tasks.files import load_all_tasks

    data = _workflow_bytes(ws)
    loaded, digest = _load_from(ws, data)
    tasks = load_all_tasks(ws, loaded.workflow)
    return TrustRequest(
        key=workspace_key(ws),
        workflow_rel=ws.relative(ws.workflow_path),
        runs_sha256=digest,
        has_workflow_file=data is not None,
        commands=all_commands(loaded.workflow, tasks.tasks.values()),
        unreadable_tasks=sorted(tasks.broken),
        workflow_problems=len(loaded.findings),
        workflow=loaded.workflow,
    )


# -- the store ---------------------------------------------------------------------------------


def _read_store(path: Path) -> dict[str, Any]:
    """The store's workspaces table; an absent or unreadable store approves nothing."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise TrustError(f"the trust store {path} cannot be read ({exc.strerror or exc})") from exc
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict) or data.get("version") != STORE_VERSION:
        return {}
    workspaces = data.get("workspaces")
    return workspaces if isinstance(workspaces, dict) else {}


def _entry(raw: Any) -> TrustEntry | None:
    if not isinstance(raw, dict):
        return None
    # An approval from before trust was bound to what runs has only "workflow_sha256" (the
    # file's bytes): it is read, shown, and approves nothing until `handrail trust` again.
    digest = raw.get("runs_sha256")
    commands = raw.get("commands")
    approved_at = raw.get("approved_at", "")
    if digest is not None and not isinstance(digest, str):
        return None
    if not isinstance(commands, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in commands.items()
    ):
        return None
    return TrustEntry(digest, dict(commands), str(approved_at))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise TrustError(
            f"the trust store folder {path.parent} cannot be created ({exc.strerror or exc})"
        ) from exc
    lock = filelock.FileLock(str(path) + ".lock", timeout=_LOCK_TIMEOUT_S)
    try:
        with lock:
            yield
    except filelock.Timeout as exc:
        raise TrustError(
            f"another handrail process held the trust store lock {path}.lock for "
            f"{_LOCK_TIMEOUT_S:.0f} s"
        ) from exc


def _write_store(path: Path, workspaces: dict[str, Any]) -> None:
    """Replace the store atomically: a reader sees the old file or the new one, never half."""
    payload = {"version": STORE_VERSION, "workspaces": dict(sorted(workspaces.items()))}
    data = (json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    try:
        # 0o600: the store says which commands may run; nobody else needs to read it.
        atomic.replace(path, data, mode=0o600)
    except OSError as exc:
        raise TrustError(
            f"the trust store {path} cannot be written ({exc.strerror or exc})"
        ) from exc


def entry_for(ws: Workspace) -> TrustEntry | None:
    """The stored approval of `ws`, or None."""
    return _entry(_read_store(store_path()).get(workspace_key(ws)))


def trust(ws: Workspace, request: TrustRequest | None = None) -> TrustEntry:
    """Approve `request` (by default: what `pending(ws)` finds now) for this workspace.

    Replaces any earlier approval of the workspace, so commands that are gone from the
    rules stop being approved.
    """
    request = request if request is not None else pending(ws)
    entry = TrustEntry(
        runs_sha256=request.runs_sha256,
        commands={command_digest(text): text for text in request.texts()},
        approved_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    path = store_path()
    with _locked(path):
        workspaces = _read_store(path)
        workspaces[request.key] = entry.as_json()
        _write_store(path, workspaces)
    return entry


def revoke(ws: Workspace) -> bool:
    """Forget the approval of `ws`; False when there was none."""
    path = store_path()
    with _locked(path):
        workspaces = _read_store(path)
        if workspace_key(ws) not in workspaces:
            return False
        del workspaces[workspace_key(ws)]
        _write_store(path, workspaces)
    return True


def is_trusted(ws: Workspace, argv_text: str) -> TrustDecision:
    """Whether the command text `argv_text` may run in `ws` on this machine."""
    try:
        entry = entry_for(ws)
        current = workflow_digest(ws)
    except TrustError as exc:
        return TrustDecision(False, "workflow_unreadable", str(exc))
    if entry is None:
        return TrustDecision(
            False,
            "no_record",
            "this workspace's verification commands have not been trusted on this machine",
        )
    if entry.runs_sha256 is None:
        return TrustDecision(
            False,
            "workflow_changed",
            f"the approval ({entry.approved_at}) was recorded by an older Handrail, bound to the "
            f"bytes of {ws.relative(ws.workflow_path)}; run `handrail trust` again",
        )
    if entry.runs_sha256 != current:
        return TrustDecision(
            False,
            "workflow_changed",
            f"the verification commands or their per-path rules in "
            f"{ws.relative(ws.workflow_path)} changed since you trusted it "
            f"({entry.approved_at}), which voids that approval",
        )
    if command_digest(argv_text) not in entry.commands:
        return TrustDecision(
            False,
            "command_not_approved",
            f"this command text is not one you approved ({entry.approved_at})",
        )
    return TrustDecision(True, "approved", f"approved with `handrail trust` ({entry.approved_at})")


def explicit_trust() -> TrustDecision:
    """The decision when the caller passed an explicit trust flag (CI)."""
    return TrustDecision(True, "explicit_flag", "trusted by an explicit flag (--trust-commands)")
