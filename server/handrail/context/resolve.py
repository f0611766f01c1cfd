"""From a parsed entry to the text a model would see, refusing anything unsafe or unreadable.

The order matters. The path is confined to the workspace (``../``, absolute paths and
symlinks out, including a symlinked parent folder) before the disk is touched; the target is
`stat`-ed before it is opened, so a FIFO never blocks and a device is never read; the size is
checked before reading, so a 50 MB file costs one `stat`; and the final open refuses to follow
a symlink swapped in after the check. Whatever cannot be decoded as UTF-8 is reported as not
scannable: detect-secrets returns "nothing found" for such files, which must never pass for
clean.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from handrail.context.entries import ContextEntry
from handrail.workspace import PathEscapesWorkspace, Workspace

ProblemStatus = Literal["missing", "outside", "not-a-file", "unscannable", "too-large"]

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_READ_CHUNK = 1 << 20


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split where an editor splits them (LF, CRLF, CR)."""
    return _LINE.findall(text)


@dataclass(frozen=True, slots=True)
class EntryText:
    """A readable entry: its text with the line range applied."""

    entry: ContextEntry
    rel: str
    """Workspace-relative path of the file actually read (symlinks resolved)."""
    text: str
    first_line: int
    """The file line that `text` starts on (1 without a range)."""
    file_lines: int
    size: int
    digest: bytes = b""
    """sha256 of `text` in UTF-8: the key of token counts and scan results."""


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """Why an entry cannot be used; `code` is HR205 or HR206."""

    entry: ContextEntry
    status: ProblemStatus
    code: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Located:
    """An entry confined to the workspace, not yet opened."""

    entry: ContextEntry
    real: Path
    rel: str


def _outside(entry: ContextEntry) -> EntryProblem:
    return EntryProblem(
        entry,
        "outside",
        "HR205",
        f"{entry.path} is outside the workspace (an absolute path, a '..' or a symlink "
        f"pointing out); only files inside the workspace can be context.",
        {"entry": entry.raw, "reason": "outside"},
    )


class Locator:
    """Confines entries to one workspace, remembering the folders it has resolved.

    `Workspace.resolve_inside` is the rule. For the common entry, a plain relative path
    whose last part is not a symlink, the real path is the real path of its folder plus its
    name, so each folder is resolved once per check instead of once per entry (pathlib's
    resolve costs 0.1-0.3 ms an entry). Anything unusual goes to `resolve_inside` itself.
    """

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._folders: dict[str, tuple[Path, str]] = {"": (ws.root, "")}

    def locate(self, entry: ContextEntry) -> Located | EntryProblem:
        """Confine `entry` to the workspace without reading anything."""
        try:
            real, rel = self._confine(entry.path)
        except PathEscapesWorkspace:
            return _outside(entry)
        except (OSError, RuntimeError) as exc:
            # RuntimeError: a symlink loop on Python 3.11.
            return EntryProblem(
                entry,
                "missing",
                "HR205",
                f"{entry.path} cannot be resolved ({_reason(exc)}); fix the path or remove "
                f"the entry.",
                {"entry": entry.raw, "reason": "unresolvable"},
            )
        return Located(entry, real, rel)

    def _slow(self, path: str) -> tuple[Path, str]:
        real = self.ws.resolve_inside(path)
        return real, self.ws.relative(real)

    def _confine(self, path: str) -> tuple[Path, str]:
        parts = path.split("/")
        if (
            path.startswith("/")
            or (len(path) > 1 and path[1] == ":")
            or any(p in ("", ".", "..") for p in parts)
        ):
            return self._slow(path)
        folder = "/".join(parts[:-1])
        known = self._folders.get(folder)
        if known is None:
            known = self._folders[folder] = self._slow(folder)
        real_folder, rel_folder = known
        candidate = real_folder / parts[-1]
        try:
            mode = os.lstat(candidate).st_mode
        except OSError:
            return self._slow(path)
        if stat.S_ISLNK(mode):
            return self._slow(path)
        return candidate, f"{rel_folder}/{parts[-1]}" if rel_folder else parts[-1]


def locate(ws: Workspace, entry: ContextEntry) -> Located | EntryProblem:
    """Confine `entry` to the workspace without reading anything."""
    return Locator(ws).locate(entry)


def read_entry(
    ws: Workspace, entry: ContextEntry, *, max_file_bytes: int
) -> EntryText | EntryProblem:
    """Locate and read `entry` (see the module docstring for the order of the checks)."""
    located = locate(ws, entry)
    if isinstance(located, EntryProblem):
        return located
    return read_located(located, max_file_bytes=max_file_bytes)


def read_located(located: Located, *, max_file_bytes: int) -> EntryText | EntryProblem:
    entry, real, rel = located.entry, located.real, located.rel
    name = entry.path
    try:
        before = os.stat(real)
    except FileNotFoundError:
        return _missing(entry)
    except NotADirectoryError:
        return _missing(entry)
    except OSError as exc:
        return _unscannable(entry, f"cannot be read ({_reason(exc)})", "unreadable")
    if not stat.S_ISREG(before.st_mode):
        kind = _kind(before.st_mode)
        return EntryProblem(
            entry,
            "not-a-file",
            "HR205",
            f"{name} is {kind}, not a regular file; attach the files inside it one by one."
            if kind == "a folder"
            else f"{name} is {kind}, not a regular file; it cannot be context.",
            {"entry": entry.raw, "reason": "not-a-file", "kind": kind},
        )
    if before.st_size > max_file_bytes:
        return _too_large(entry, before.st_size, max_file_bytes)
    key = _memo_key(real, before)
    known = _MEMO.get(key)
    if known is None:
        try:
            data = _read_checked(real, before, max_file_bytes)
        except _Changed as exc:
            return _unscannable(entry, str(exc), "changed")
        except _TooLarge as exc:
            return _too_large(entry, exc.size, max_file_bytes)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return _unscannable(entry, "was replaced by a symlink while being read", "changed")
            if exc.errno == errno.ENOENT:
                return _missing(entry)
            return _unscannable(entry, f"cannot be read ({_reason(exc)})", "unreadable")
        decoded = decode_text(data)
        if isinstance(decoded, _Undecodable):
            return _unscannable(entry, decoded.why, decoded.reason)
        known = _FileText(decoded, len(data), _bytes_digest(data))
        _MEMO.put(key, known, before)
    total = known.line_count
    if entry.start_line is None or entry.end_line is None:
        return EntryText(entry, rel, known.text, 1, total, known.size, known.digest)
    if entry.end_line > total:
        return EntryProblem(
            entry,
            "missing",
            "HR205",
            f"{entry.raw.strip()} asks for lines {entry.start_line}-{entry.end_line} but "
            f"{name} has {_lines(total)}; fix the line range."
            if entry.start_line != entry.end_line
            else f"{entry.raw.strip()} asks for line {entry.start_line} but {name} has "
            f"{_lines(total)}; fix the line range.",
            {"entry": entry.raw, "reason": "past-end", "file_lines": total},
        )
    text, digest = known.range(entry.start_line, entry.end_line)
    return EntryText(entry, rel, text, entry.start_line, total, known.size, digest)


def count_lines(text: str) -> int:
    """How many lines `split_lines` would return, without building them."""
    if not text:
        return 0
    ends = text.count("\n")
    if "\r" in text:  # most files have none: one pass over the text instead of three
        ends += text.count("\r") - text.count("\r\n")
    return ends if text.endswith(("\n", "\r")) else ends + 1


def text_digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _bytes_digest(data: bytes) -> bytes:
    """`text_digest` of what `decode_text` made of `data`, from the bytes themselves.

    Strict UTF-8 decoding gives back exactly the bytes it read once encoded (it never makes a
    surrogate), less the BOM it drops: hashing the bytes saves encoding the text again.
    """
    body = memoryview(data)[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    return hashlib.sha256(body).digest()


class _FileText:
    """One decoded file, with what a check needs of it computed at most once."""

    __slots__ = ("_digest", "_lines", "_ranges", "line_count", "size", "text")

    def __init__(self, text: str, size: int, digest: bytes | None = None) -> None:
        self.text = text
        self.size = size
        self.line_count = count_lines(text)
        self._digest: bytes | None = digest
        self._lines: list[str] | None = None
        self._ranges: dict[tuple[int, int], tuple[str, bytes]] = {}

    @property
    def digest(self) -> bytes:
        if self._digest is None:
            self._digest = text_digest(self.text)
        return self._digest

    def range(self, start: int, end: int) -> tuple[str, bytes]:
        found = self._ranges.get((start, end))
        if found is None:
            if self._lines is None:
                self._lines = split_lines(self.text)
            text = "".join(self._lines[start - 1 : end])
            found = self._ranges[(start, end)] = (text, text_digest(text))
        return found


_MemoKey = tuple[str, int, int, int, int, int]


def _memo_key(real: Path, st: os.stat_result) -> _MemoKey:
    return (str(real), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _ReadMemo:
    """Decoded files by identity and stat signature, so a re-check skips the reading.

    Trusted the way git trusts its index: any write changes the size, mtime or ctime, and
    a file changed in the last two seconds is not remembered at all, so an edit landing in
    the same timestamp tick as our read is never mistaken for the old content.
    """

    RACY_NS = 2_000_000_000
    MAX_CHARS = 128 * 1024 * 1024

    def __init__(self) -> None:
        self._items: OrderedDict[_MemoKey, _FileText] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: _MemoKey) -> _FileText | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: _MemoKey, value: _FileText, st: os.stat_result) -> None:
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < self.RACY_NS:
            return
        if len(value.text) > self.MAX_CHARS // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._chars -= len(old.text)
            self._items[key] = value
            self._chars += len(value.text)
            while self._chars > self.MAX_CHARS and self._items:
                _, dropped = self._items.popitem(last=False)
                self._chars -= len(dropped.text)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0


_MEMO = _ReadMemo()


class _Changed(Exception):
    pass


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _read_checked(real: Path, before: os.stat_result, limit: int) -> bytes:
    fd = os.open(real, _OPEN_FLAGS)
    try:
        after = os.fstat(fd)
        # What was opened must be what was checked: a FIFO or device swapped in after the
        # stat would block or never end.
        if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (
            before.st_dev,
            before.st_ino,
        ):
            raise _Changed("was replaced while being read; check it again")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(_READ_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _TooLarge(max(size, after.st_size))
        return b"".join(chunks)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class _Undecodable:
    why: str
    reason: str


def decode_text(data: bytes) -> str | _Undecodable:
    """UTF-8 text (a UTF-8 BOM is dropped), or why the bytes are not scannable text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not data.startswith(
        codecs.BOM_UTF32_LE
    ):
        return _Undecodable("is UTF-16 text; save it as UTF-8 to attach it", "utf-16")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _Undecodable("is UTF-32 text; save it as UTF-8 to attach it", "utf-32")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return _Undecodable(
            f"is binary (a NUL byte on line {line}); only text can be context", "binary"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return _Undecodable(
            f"is not valid UTF-8 (first bad byte on line {line}, perhaps latin-1 or another "
            f"legacy encoding); save it as UTF-8 to attach it",
            "not-utf-8",
        )


def _missing(entry: ContextEntry) -> EntryProblem:
    return EntryProblem(
        entry,
        "missing",
        "HR205",
        f"{entry.path} does not exist in the workspace; fix the path or remove the entry.",
        {"entry": entry.raw, "reason": "missing"},
    )


def _unscannable(entry: ContextEntry, why: str, reason: str) -> EntryProblem:
    return EntryProblem(
        entry,
        "unscannable",
        "HR206",
        f"{entry.path} {why}. It cannot be checked for secrets, so it is never treated as clean.",
        {"entry": entry.raw, "reason": reason},
    )


def _too_large(entry: ContextEntry, size: int, limit: int) -> EntryProblem:
    return EntryProblem(
        entry,
        "too-large",
        "HR206",
        f"{entry.path} is {_bytes(size)}, over [context].max_file_bytes ({_bytes(limit)}); "
        f"it was not read. Attach a smaller file, or raise the cap if this one really belongs "
        f"in a prompt.",
        {"entry": entry.raw, "reason": "too-large", "size": size, "max_file_bytes": limit},
    )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _lines(n: int) -> str:
    return "1 line" if n == 1 else f"{n} lines"


def _bytes(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.1f} kB"
    return f"{n} bytes"
