"""The ledger on disk: `.handrail/ledger/<id>.json`, one immutable record per file.

Why one file per record: two branches that each add records merge in git without a
conflict (different file names), and a record is never rewritten, so a crash can only lose
the record being written, never an old one. Writers serialise on `.handrail/.lock` (flock,
freed by the kernel when a holder dies) and publish a record by temp file + fsync +
`os.replace` + folder fsync, so a reader sees a complete record or none.

Reading never changes anything on disk: an unreadable file is reported (HR309) and left out
of the evidence; it is never a reason to reset or rewrite the ledger.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import socket
import stat
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from handrail import atomic
from handrail.codes import CODES
from handrail.findings import Finding, Severity
from handrail.ledger.records import (
    CURRENT_SCHEMA,
    STORED_FIELDS,
    Record,
    dump_record,
    parse_record,
    parse_record_json,
)
from handrail.workflow.model import Workflow
from handrail.workspace import (
    HANDRAIL_DIR,
    LEDGER_DIR,
    LEDGER_GITIGNORE_LINES,
    PathEscapesWorkspace,
    Workspace,
)

LOCK_NAME = ".lock"
HOLDER_NAME = ".lock.holder"
TEMP_PREFIX = ".tmp-"
QUARANTINE_DIR = "quarantine"
MAX_RECORD_BYTES = 4 * 1024 * 1024
STALE_TEMP_SECONDS = 60.0
DEFAULT_LOCK_TIMEOUT = 10.0
LOCK_POLL_SECONDS = 0.005
# pip retries os.replace for about a second: long enough for an antivirus scanner or an
# editor's file watcher to let go of the file on Windows, short enough not to hang a hook.
REPLACE_RETRY_DELAYS: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.25, 0.25)

ProblemReason = Literal[
    "invalid_json",
    "torn",
    "conflict",
    "newer_schema",
    "invalid_record",
    "duplicate_key",
    "id_mismatch",
    "not_utf8",
    "not_regular",
    "too_large",
    "unreadable",
    "folder",
]

_CONFLICT_RE = re.compile(r"^(?:<{7}|={7}|>{7}|\|{7})(?: |$)", re.MULTILINE)
_RESTORE = (
    "It is left out of the evidence and nothing was deleted: restore it from git "
    "(`git checkout -- {path}`) or move it into .handrail/ledger/quarantine/."
)


class LedgerError(Exception):
    """Something went wrong with the ledger; the message is meant for the user as is."""


class LedgerWriteError(LedgerError):
    """A record could not be written. Nothing was written: the ledger holds no torn file."""

    def __init__(self, message: str, *, path: str, reason: str) -> None:
        super().__init__(message)
        self.path = path
        """The workspace-relative file the write was for."""
        self.reason = reason
        """A short machine-readable cause: an errno name, "read_only", "lock_timeout", ..."""


class LedgerReadOnly(LedgerWriteError):
    """The ledger holds records of a newer schema: this version must not add to it."""


class LedgerLockTimeout(LedgerWriteError):
    """Another writer held `.handrail/.lock` for longer than the timeout."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One ledger file that could not be used as a record."""

    path: str
    """Workspace-relative, `/`-separated."""
    reason: ProblemReason
    message: str
    line: int = 1
    column: int = 1
    schema: int | None = None
    """The schema the file claims, for "newer_schema"."""

    def finding(self, severity: Severity) -> Finding:
        return Finding(
            code="HR309",
            severity=severity,
            message=self.message,
            path=self.path,
            line=self.line,
            column=self.column,
            data={"file": self.path, "reason": self.reason},
        )


@dataclass(frozen=True, slots=True)
class LedgerRead:
    """What `Ledger.read()` found."""

    records: list[Record]
    """Every readable record, sorted by id (which is time order)."""
    problems: list[Problem]
    """Every file that was left out, sorted by path."""
    findings: list[Finding] = field(default_factory=list)
    """HR309 for each problem, at the severity the workflow gives (none when turned off)."""
    read_only: str | None = None
    """Why the ledger may not be written to (a newer schema), or None."""


# (size, mtime_ns, inode, ctime_ns): a changed file changes at least one of these.
_Signature = tuple[int, int, int, int]


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    return line, pos - start + 1


def _key_line(text: str, key: str) -> int:
    match = re.search(r'"' + re.escape(key) + r'"\s*:', text)
    return _line_col(text, match.start())[0] if match else 1


def _as_written(record: Record, data: bytes) -> bool:
    """True when `data` is `record` exactly as a writer of this or an earlier version wrote
    it, so it cannot hide a key repeated by a merge (JSON parsers keep the last silently)."""
    if data.count(b'\n  "') == len(type(record).model_fields):
        return True  # indented, as earlier versions wrote: one top-level line per field
    # One line, as `dump_record` writes today: the same bytes again, or the slow path
    # (issue 17: every record of a ledger written by this version used to take it).
    return data.endswith(b"}\n") and data.count(b"\n") == 1 and dump_record(record) == data


def parse_record_file(data: bytes, path: str, expected_id: str | None = None) -> Record | Problem:
    """Turn the bytes of one ledger file into a record, or a Problem saying what is wrong.

    Never raises for any input: every failure is a Problem naming `path` and, where it
    can, the line and column.
    """
    try:
        fast: Record | None = parse_record_json(data)
    except ValidationError:
        fast = None
    if (
        fast is not None
        and fast.model_fields_set >= STORED_FIELDS
        and (expected_id is None or fast.id == expected_id)
        and _as_written(fast, data)
    ):
        return fast
    # Anything unusual takes the slow path, which says exactly what is wrong and where.
    restore = _RESTORE.format(path=path)
    if not data.strip():
        return Problem(
            path, "torn", f"Ledger record {path} is empty: its write was interrupted. {restore}"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(
            path,
            "not_utf8",
            f"Ledger record {path} is not UTF-8 text (bad byte on line {line}). {restore}",
            line=line,
        )
    conflict = _CONFLICT_RE.search(text)
    if conflict:
        line = _line_col(text, conflict.start())[0]
        return Problem(
            path,
            "conflict",
            f"Unresolved merge conflict in {path} (line {line}). Ledger records are never "
            "edited, so two branches changed the same record: keep one side whole with "
            f"`git checkout --theirs -- {path}` (or `--ours`), then `git add` it.",
            line=line,
        )
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        line = _key_line(text, exc.key)
        return Problem(
            path,
            "duplicate_key",
            f"Ledger record {path} holds the key {exc.key!r} twice (line {line}): a merge kept "
            f"both sides of a change. {restore}",
            line=line,
        )
    except json.JSONDecodeError as exc:
        stripped = text.strip()
        cut_short = exc.pos >= len(text.rstrip()) or not stripped.endswith("}")
        if stripped.startswith("{") and cut_short:
            end = len(text.rstrip())
            line, column = _line_col(text, end)
            return Problem(
                path,
                "torn",
                f"Ledger record {path} is cut off at line {line}: its write was interrupted "
                f"or the file was truncated. {restore}",
                line=line,
                column=column,
            )
        if exc.msg == "Extra data":
            reason = "it holds more than one JSON value; a ledger file holds exactly one record"
        else:
            reason = exc.msg
        return Problem(
            path,
            "invalid_json",
            f"Ledger record {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{reason}). {restore}",
            line=exc.lineno,
            column=exc.colno,
        )
    except (ValueError, RecursionError) as exc:
        # Nesting too deep or an integer with too many digits: still just a bad file.
        return Problem(
            path, "invalid_json", f"Ledger record {path} is not valid JSON ({exc}). {restore}"
        )
    if not isinstance(obj, dict):
        return Problem(
            path,
            "invalid_record",
            f"Ledger record {path} is not a JSON object, so it is not a record. {restore}",
        )
    schema = obj.get("schema", CURRENT_SCHEMA)
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > CURRENT_SCHEMA:
        return Problem(
            path,
            "newer_schema",
            f"Ledger record {path} was written by a newer Handrail (record schema {schema}; "
            f"this version understands schema {CURRENT_SCHEMA}): upgrade Handrail. Until then "
            "this tool will not write to the ledger.",
            line=_key_line(text, "schema"),
            schema=schema,
        )
    try:
        record = parse_record(obj)
    except ValidationError as exc:
        return _invalid(path, text, obj, exc, restore)
    missing = sorted(STORED_FIELDS - set(obj))
    if missing:
        return Problem(
            path,
            "invalid_record",
            f"Ledger record {path} is not a valid record (line 1: missing field "
            f"{', '.join(repr(m) for m in missing)}). {restore}",
        )
    if expected_id is not None and record.id != expected_id:
        return Problem(
            path,
            "id_mismatch",
            f"Ledger record {path} holds record {record.id}, but its file name says "
            f"{expected_id}: records are never renamed or copied. {restore}",
            line=_key_line(text, "id"),
        )
    return record


def _invalid(
    path: str, text: str, obj: dict[str, Any], exc: ValidationError, restore: str
) -> Problem:
    kind = obj.get("kind")
    parts: list[str] = []
    first_key: str | None = None
    for error in exc.errors(include_url=False):
        if error["type"] == "default_factory_not_called":
            continue  # a consequence of another error, not a problem of its own
        loc = list(error["loc"])
        if loc and loc[0] == kind:
            loc = loc[1:]  # the union's tag, not a field of the file
        where = ".".join(str(p) for p in loc)
        if first_key is None and loc and isinstance(loc[0], str):
            first_key = loc[0]
        parts.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    line = _key_line(text, first_key) if first_key else 1
    shown = "; ".join(parts[:3]) + ("; ..." if len(parts) > 3 else "")
    return Problem(
        path,
        "invalid_record",
        f"Ledger record {path} is not a valid record (line {line}: {shown}). {restore}",
        line=line,
    )


_ERRNO_TEXT = {
    errno.ENOSPC: "the disk is full; free some space",
    errno.EROFS: "the file system is read-only; make the workspace writable",
    errno.EDQUOT: "the disk quota is used up; free some space",
    errno.EACCES: "permission denied; check who owns the .handrail folder",
    errno.EPERM: "the operation is not permitted; check who owns the .handrail folder",
    errno.EIO: "an input/output error occurred; check the disk",
}


def _write_error(exc: OSError, rel: str) -> LedgerWriteError:
    code = exc.errno if exc.errno is not None else 0
    why = _ERRNO_TEXT.get(code, exc.strerror or str(exc))
    name = errno.errorcode.get(code, "OSError")
    return LedgerWriteError(
        f"Could not write ledger record {rel}: {why} ({name}). Nothing was written and the "
        "ledger is unchanged; run the command again once this is fixed.",
        path=rel,
        reason=name,
    )


class _ProcessLock:
    """Per lock file: threads of this process queue here; the outermost holder takes flock.

    flock conflicts between two descriptors even in one process, so a nested take (the
    `accept` command appending inside `Ledger.lock()`) must not open a second one.
    """

    def __init__(self) -> None:
        self.rlock = threading.RLock()
        self.depth = 0
        self.file_lock: Any = None


_process_locks: dict[str, _ProcessLock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(path: Path) -> _ProcessLock:
    with _process_locks_guard:
        return _process_locks.setdefault(str(path), _ProcessLock())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, but belongs to someone else
    return True


class Ledger:
    """The records of one workspace.

    Cheap to create; the language server keeps one per workspace so that `read()` only
    parses files that changed since the last call.
    """

    def __init__(
        self,
        ws: Workspace,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        replace_retry_delays: Sequence[float] = REPLACE_RETRY_DELAYS,
        stale_temp_seconds: float = STALE_TEMP_SECONDS,
    ) -> None:
        self.ws = ws
        self.lock_timeout = lock_timeout
        self.replace_retry_delays = tuple(replace_retry_delays)
        self.stale_temp_seconds = stale_temp_seconds
        self._cache: dict[str, tuple[_Signature, Record | Problem]] = {}
        self._mutex = threading.Lock()
        self._read_only: str | None = None

    @property
    def folder(self) -> Path:
        return self.ws.ledger_dir

    @property
    def lock_path(self) -> Path:
        return self.ws.handrail_dir / LOCK_NAME

    @property
    def read_only(self) -> str | None:
        """Why this ledger may not be written to, as of the last read or append; else None."""
        return self._read_only

    def _rel(self, path: Path) -> str:
        try:
            return self.ws.relative(path)
        except PathEscapesWorkspace:
            return str(path)

    # ------------------------------------------------------------------ reading

    def read(self, workflow: Workflow | None = None) -> LedgerRead:
        """Every readable record plus an HR309 finding for each file that is not one."""
        records, problems, read_only = self._scan()
        severity = workflow.severity_of("HR309") if workflow else CODES["HR309"].severity
        findings = [p.finding(severity) for p in problems] if severity is not None else []
        return LedgerRead(records, problems, findings, read_only)

    def _resolved_folder(self) -> Path:
        return self.ws.resolve_inside(f"{HANDRAIL_DIR}/{LEDGER_DIR}")

    def _scan(self, *, restat: bool = True) -> tuple[list[Record], list[Problem], str | None]:
        """List and parse the ledger folder, reusing what the cache knows.

        With `restat` False a file already in the cache is trusted without a stat: records
        are immutable, so for the read-only check before an append only new names matter.
        """
        rel_folder = f"{HANDRAIL_DIR}/{LEDGER_DIR}"
        try:
            folder = self._resolved_folder()
        except PathEscapesWorkspace:
            problem = Problem(
                rel_folder,
                "folder",
                f"The ledger folder {rel_folder} leads outside the workspace (a symlink): "
                "Handrail will not read or write it. Make it a plain folder inside the "
                "repository.",
            )
            return [], [problem], None
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError) as exc:
            if isinstance(exc, NotADirectoryError) or folder.exists():
                problem = Problem(
                    rel_folder,
                    "folder",
                    f"{rel_folder} is a file, not a folder: Handrail keeps one file per "
                    "record in that folder. Move the file away.",
                )
                return [], [problem], None
            with self._mutex:
                self._cache.clear()
                self._read_only = None
            return [], [], None
        except OSError as exc:
            problem = Problem(
                rel_folder,
                "folder",
                f"The ledger folder {rel_folder} cannot be listed ({exc.strerror}).",
            )
            return [], [problem], None

        records: list[Record] = []
        problems: list[Problem] = []
        with self._mutex:
            seen: set[str] = set()
            for entry in entries:
                name = entry.name
                # Hidden names are temp files of a write in progress (or a killed one).
                if not name.endswith(".json") or name.startswith("."):
                    continue
                outcome = self._entry_outcome(entry, rel_folder, restat)
                if outcome is None:
                    continue
                seen.add(name)
                if isinstance(outcome, Problem):
                    problems.append(outcome)
                else:
                    records.append(outcome)
            for stale in set(self._cache) - seen:
                del self._cache[stale]
            newer = [p for p in problems if p.reason == "newer_schema"]
            self._read_only = _read_only_reason(newer)
            read_only = self._read_only
        records.sort(key=lambda r: r.id)
        problems.sort(key=lambda p: p.path)
        return records, problems, read_only

    def _entry_outcome(
        self, entry: os.DirEntry[str], rel_folder: str, restat: bool
    ) -> Record | Problem | None:
        name = entry.name
        rel = f"{rel_folder}/{name}"
        if not restat and name in self._cache:
            return self._cache[name][1]
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            return None  # removed since the listing (a checkout in progress)
        except OSError as exc:
            return Problem(rel, "unreadable", f"Ledger record {rel} cannot be read ({exc}).")
        if not stat.S_ISREG(st.st_mode):
            return Problem(
                rel,
                "not_regular",
                f"{rel} is not a regular file (a symlink, folder or device), so it is not "
                "read as a ledger record. Replace it with the record file or remove it.",
            )
        signature = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
        cached = self._cache.get(name)
        if cached is not None and cached[0] == signature:
            return cached[1]
        outcome = self._parse_path(entry.path, rel, name[: -len(".json")], st.st_size)
        if outcome is not None:
            self._cache[name] = (signature, outcome)
        return outcome

    @staticmethod
    def _parse_path(path: str, rel: str, stem: str, size: int) -> Record | Problem | None:
        if size > MAX_RECORD_BYTES:
            return Problem(
                rel,
                "too_large",
                f"Ledger record {rel} is {size:,} bytes, more than any record can be "
                f"({MAX_RECORD_BYTES:,}); it is not read. {_RESTORE.format(path=rel)}",
            )
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            return Problem(
                rel, "unreadable", f"Ledger record {rel} cannot be read ({exc.strerror})."
            )
        try:
            chunks = []
            remaining = MAX_RECORD_BYTES + 1
            while remaining > 0:
                chunk = os.read(fd, min(remaining, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        except OSError as exc:
            return Problem(
                rel, "unreadable", f"Ledger record {rel} cannot be read ({exc.strerror})."
            )
        finally:
            os.close(fd)
        return parse_record_file(b"".join(chunks), rel, stem)

    # ------------------------------------------------------------------ writing

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the ledger's writer lock (`.handrail/.lock`); re-entrant within a thread.

        Raises LedgerLockTimeout after `lock_timeout` seconds, naming the lock file and
        the process recorded as holding it.
        """
        import filelock  # only writers lock: a check that reads the ledger never pays for it

        lock_path = self.lock_path
        try:
            self.ws.resolve_inside(HANDRAIL_DIR)
            lock_path.parent.mkdir(parents=True, exist_ok=True)
        except PathEscapesWorkspace as exc:
            raise self._outside_error() from exc
        except OSError as exc:
            raise _write_error(exc, self._rel(lock_path)) from exc
        shared = _process_lock(lock_path)
        started = time.monotonic()
        timeout = self.lock_timeout
        if not shared.rlock.acquire(timeout=timeout if timeout >= 0 else -1):
            raise self._timeout_error(time.monotonic() - started, "another thread of this process")
        try:
            if shared.depth == 0:
                remaining = max(0.0, timeout - (time.monotonic() - started))
                file_lock = filelock.FileLock(
                    str(lock_path),
                    timeout=remaining if timeout >= 0 else -1,
                    thread_local=False,
                    # An append holds the lock for milliseconds; filelock's default 50 ms
                    # between tries would make a waiting writer idle far longer than that.
                    poll_interval=LOCK_POLL_SECONDS,
                )
                try:
                    file_lock.acquire()
                except filelock.Timeout as exc:
                    holder = self._describe_holder()
                    raise self._timeout_error(time.monotonic() - started, holder) from exc
                except OSError as exc:
                    raise _write_error(exc, self._rel(lock_path)) from exc
                shared.file_lock = file_lock
                self._record_holder()
            shared.depth += 1
            try:
                yield
            finally:
                shared.depth -= 1
                if shared.depth == 0:
                    with suppress(OSError):
                        (self.ws.handrail_dir / HOLDER_NAME).unlink()
                    file_lock = shared.file_lock
                    shared.file_lock = None
                    file_lock.release()
        finally:
            shared.rlock.release()

    def _record_holder(self) -> None:
        # Only for the timeout message of whoever waits next: losing it costs nothing.
        program = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "program": program[:200],
            "since": time.time(),
        }
        with suppress(OSError):
            (self.ws.handrail_dir / HOLDER_NAME).write_text(json.dumps(info), encoding="utf-8")

    def _describe_holder(self) -> str:
        try:
            info = json.loads((self.ws.handrail_dir / HOLDER_NAME).read_text(encoding="utf-8"))
            pid = int(info["pid"])
            host = str(info.get("host", ""))
            program = str(info.get("program", "")) or "unknown program"
            since = time.strftime("%H:%M:%S", time.localtime(float(info.get("since", 0))))
        except (OSError, ValueError, KeyError, TypeError):
            return "its holder did not record itself"
        if host and host != socket.gethostname():
            return f"held by process {pid} ({program}) on host {host} since {since}"
        if not _pid_alive(pid):
            return f"its last recorded holder, process {pid} ({program}), has exited"
        return f"held by process {pid} ({program}) since {since}"

    def _timeout_error(self, waited: float, holder: str) -> LedgerLockTimeout:
        rel = self._rel(self.lock_path)
        return LedgerLockTimeout(
            f"Waited {waited:.1f} s for the ledger lock {rel} without getting it ({holder}). "
            "Another Handrail process (the language server or a git hook) is writing to the "
            "ledger; try again. The operating system frees the lock as soon as its holder exits.",
            path=rel,
            reason="lock_timeout",
        )

    def _outside_error(self) -> LedgerWriteError:
        rel = f"{HANDRAIL_DIR}/{LEDGER_DIR}"
        return LedgerWriteError(
            f"The ledger folder {rel} leads outside the workspace (a symlink): Handrail will "
            "not write there. Make it a plain folder inside the repository.",
            path=rel,
            reason="outside",
        )

    def append(self, record: Record) -> Path:
        """Write `record` as `.handrail/ledger/<id>.json`, atomically, and return its path.

        Raises LedgerReadOnly when the ledger holds records of a newer schema,
        LedgerLockTimeout when another writer holds the lock too long, and
        LedgerWriteError for any file-system failure; in every case nothing is left half
        written.
        """
        data = dump_record(record)
        with self.lock():
            folder, target, rel = self._record_place(record)
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _write_error(exc, rel) from exc
            self._ensure_gitignore()
            _, _, read_only = self._scan(restat=False)
            if read_only is not None:
                raise LedgerReadOnly(read_only, path=rel, reason="read_only")
            self._sweep_temps(folder)
            if os.path.lexists(target):
                try:
                    same = target.read_bytes() == data
                except OSError:
                    same = False
                if same:
                    return target  # the same record appended twice: already there
                raise LedgerWriteError(
                    f"A different ledger record already uses the id {record.id} ({rel}); "
                    "records are never overwritten. Create the record again for a new id.",
                    path=rel,
                    reason="exists",
                )
            self._write_new(folder, target, data, rel)
        return target

    def withdraw(self, record: Record) -> None:
        """Take back a record this process has just appended, when what it records failed.

        The one exception to "records are never removed": marking writes the block's record
        first (it reserves the block id for every other writer) and then the markers; when
        the markers cannot be written, the record must go too, or the ledger would hold a
        block that no file has. Only a file whose bytes are exactly `record` is removed.
        Raises LedgerWriteError when it cannot be removed.
        """
        data = dump_record(record)
        with self.lock():
            folder, target, rel = self._record_place(record)
            try:
                if target.read_bytes() != data:
                    return  # not ours (or already gone): nothing to take back
                os.unlink(target)
            except FileNotFoundError:
                return
            except OSError as exc:
                why = _ERRNO_TEXT.get(exc.errno or 0, exc.strerror or str(exc))
                raise LedgerWriteError(
                    f"Could not take back ledger record {rel} ({why}): the block it records "
                    "was not marked, so delete that file by hand.",
                    path=rel,
                    reason=errno.errorcode.get(exc.errno or 0, "OSError"),
                ) from exc
            with self._mutex:
                self._cache.pop(target.name, None)
            atomic.fsync_folder(folder)

    def _record_place(self, record: Record) -> tuple[Path, Path, str]:
        """The ledger folder (resolved, inside the workspace), `record`'s file in it and that
        file's workspace-relative name for messages. Call with the lock held."""
        try:
            folder = self._resolved_folder()
        except PathEscapesWorkspace as exc:
            raise self._outside_error() from exc
        target = folder / f"{record.id}.json"
        return folder, target, self._rel(self.folder / target.name)

    def _write_new(self, folder: Path, target: Path, data: bytes, rel: str) -> None:
        temp = folder / f"{TEMP_PREFIX}{target.stem}-{secrets.token_hex(4)}"
        delays = self.replace_retry_delays
        try:
            atomic.replace(target, data, temp=temp, retry_delays=delays)
        except atomic.RenameBusy as exc:
            raise LedgerWriteError(
                f"Could not move the new ledger record into place as {rel}: another "
                f"program (an antivirus scanner, backup tool or editor) kept the file "
                f"busy for {sum(delays):.1f} s ({exc.strerror or 'permission denied'}). "
                "Nothing was written and the ledger is unchanged; run the command again.",
                path=rel,
                reason="EACCES",
            ) from exc
        except OSError as exc:
            raise _write_error(exc, rel) from exc

    def _sweep_temps(self, folder: Path) -> None:
        """Remove temp files left by writers killed mid-write (only ever under the lock)."""
        cutoff = time.time() - self.stale_temp_seconds
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if not entry.name.startswith(TEMP_PREFIX):
                continue
            with suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                    os.unlink(entry.path)

    def _ensure_gitignore(self) -> None:
        # The lock file and temp files are local state; without this, `git status` in a
        # workspace that never ran `handrail init` would show them.
        path = self.ws.handrail_dir / ".gitignore"
        if os.path.lexists(path):
            return
        text = "# Written by Handrail: local lock files and unfinished ledger writes.\n" + "".join(
            f"{line}\n" for line in LEDGER_GITIGNORE_LINES
        )
        with suppress(OSError):
            atomic.create_new(path, text.encode("utf-8"))

    def quarantine(self, name: str) -> Path:
        """Move one unreadable record file into `.handrail/ledger/quarantine/`.

        An explicit user action (a quick fix on HR309): reading never moves anything. The
        file keeps its bytes, so nothing is lost and git still shows what happened.
        """
        if "/" in name or "\\" in name or not name.endswith(".json") or name.startswith("."):
            raise LedgerError(f"{name!r} is not the file name of a ledger record")
        with self.lock():
            try:
                folder = self._resolved_folder()
            except PathEscapesWorkspace as exc:
                raise self._outside_error() from exc
            source = folder / name
            rel = self._rel(self.folder / name)
            if not os.path.lexists(source):
                raise LedgerError(f"There is no ledger file {rel} to set aside.")
            target_dir = folder / QUARANTINE_DIR
            target = target_dir / name
            counter = 1
            while os.path.lexists(target):
                target = target_dir / f"{name[: -len('.json')]}.{counter}.json"
                counter += 1
            try:
                target_dir.mkdir(exist_ok=True)
                os.replace(source, target)
            except OSError as exc:
                raise _write_error(exc, rel) from exc
            atomic.fsync_folder(folder)
        return target


def _read_only_reason(newer: list[Problem]) -> str | None:
    if not newer:
        return None
    top = max(p.schema or 0 for p in newer)
    return (
        f"The ledger holds {len(newer)} record(s) written by a newer Handrail (schema {top}, "
        f"for example {newer[0].path}; this version understands schema {CURRENT_SCHEMA}): "
        "upgrade Handrail. Until then this tool will not write to the ledger."
    )
