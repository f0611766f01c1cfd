"""The workspace: its root, the `.handrail/` layout, and paths that must stay inside it."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

HANDRAIL_DIR = ".handrail"
WORKFLOW_FILE = "workflow.toml"
TASKS_DIR = "tasks"
LEDGER_DIR = "ledger"

LEDGER_GITIGNORE_LINES = (".lock", ".lock.holder", "ledger/.tmp-*")
"""The ledger's machine-local files in `.handrail/`: its lock and unfinished writes. The ledger
writes these lines itself when it finds no `.handrail/.gitignore`."""
GITIGNORE_LINES = tuple(dict.fromkeys((*LEDGER_GITIGNORE_LINES, "cache/", "*.tmp")))
"""What `handrail init` puts in `.handrail/.gitignore`: the ledger's lines, caches, and any
unfinished atomic write. The `.handrail/` layout lives here, so its ignore lines do too."""


class PathEscapesWorkspace(ValueError):
    """A path that resolves outside the workspace root (directly or through a symlink)."""


@dataclass(frozen=True, slots=True)
class Workspace:
    """A folder Handrail works in. `root` is absolute and fully resolved."""

    root: Path

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> Workspace:
        return cls(Path(path).resolve())

    @classmethod
    def find(cls, start: str | os.PathLike[str]) -> Workspace:
        """The nearest folder at or above `start` with `.handrail/`, else `.git`, else `start`."""
        begin = Path(start).resolve()
        if begin.is_file():
            begin = begin.parent
        for marker in (HANDRAIL_DIR, ".git"):
            for folder in (begin, *begin.parents):
                if (folder / marker).exists():
                    return cls(folder)
        return cls(begin)

    @classmethod
    def for_init(cls, start: str | os.PathLike[str]) -> Workspace:
        """Where `handrail init` started at `start` works: the nearest folder at or above it
        with `.handrail/` or `.git`, whichever comes first, else `start`.

        Unlike `find`, a git repository nested inside a folder that already has `.handrail/`
        gets its own: reusing the ancestor's silently initialised nothing (issue 19.9)."""
        begin = Path(start).resolve()
        if begin.is_file():
            begin = begin.parent
        for folder in (begin, *begin.parents):
            if (folder / HANDRAIL_DIR).exists() or (folder / ".git").exists():
                return cls(folder)
        return cls(begin)

    @property
    def handrail_dir(self) -> Path:
        return self.root / HANDRAIL_DIR

    @property
    def workflow_path(self) -> Path:
        return self.handrail_dir / WORKFLOW_FILE

    @property
    def tasks_dir(self) -> Path:
        return self.handrail_dir / TASKS_DIR

    @property
    def ledger_dir(self) -> Path:
        return self.handrail_dir / LEDGER_DIR

    def relative(self, path: str | os.PathLike[str]) -> str:
        """`path` as workspace-relative, `/`-separated text (no resolving of symlinks)."""
        p = Path(path)
        if not p.is_absolute():
            p = self.root / p
        try:
            rel = Path(os.path.normpath(p)).relative_to(self.root)
        except ValueError as exc:
            raise PathEscapesWorkspace(str(path)) from exc
        return rel.as_posix()

    def resolve_inside(self, rel: str) -> Path:
        """The real path of workspace-relative `rel`, refusing anything that leaves the root.

        Both the lexical path (``../``) and the real path (symlinks, including a symlinked
        parent folder) must stay inside the root; absolute paths are refused outright.
        """
        pure = PurePosixPath(rel.replace("\\", "/"))
        if pure.is_absolute() or rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":"):
            raise PathEscapesWorkspace(rel)
        lexical = Path(os.path.normpath(self.root / pure))
        if lexical != self.root and self.root not in lexical.parents:
            raise PathEscapesWorkspace(rel)
        real = lexical.resolve()
        if real != self.root and self.root not in real.parents:
            raise PathEscapesWorkspace(rel)
        return real


def is_regular_file(path: Path) -> bool:
    """True for a regular file (after following symlinks); FIFOs, devices and folders are not."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


class NotARegularFile(Exception):
    """The path is a FIFO, a device, a socket or a folder, not a regular file."""


class FileTooLarge(Exception):
    """The file holds more than the caller's limit; `size` is at least limit + 1."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


# O_NONBLOCK: opening a FIFO (even one swapped in after a type check) must not block; the type
# is then checked on the open descriptor, so what is read is what was checked.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_READ_CHUNK = 1 << 20


def open_regular_file(path: Path | str, *, follow_symlinks: bool = True) -> int:
    """A descriptor open for reading on `path`, which must be a regular file: the open never
    waits on a FIFO (a hostile repository's link to one, or to a terminal), and anything else
    is refused. The caller closes it. Raises `NotARegularFile` or `OSError`."""
    flags = _OPEN_FLAGS if follow_symlinks else _OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular_file(path: Path, limit: int, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `limit` bytes. Never blocks
    on a FIFO and never reads more than limit + 1 bytes. A caller that resolved `path` itself
    (`Workspace.resolve_inside`) passes ``follow_symlinks=False``, so a link swapped in since
    is refused rather than followed out of the workspace.

    Raises `NotARegularFile`, `FileTooLarge` or `OSError`.
    """
    fd = open_regular_file(path, follow_symlinks=follow_symlinks)
    try:
        info = os.fstat(fd)
        if info.st_size > limit:
            raise FileTooLarge(info.st_size)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_READ_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise FileTooLarge(size)
        return b"".join(chunks)
    finally:
        os.close(fd)
