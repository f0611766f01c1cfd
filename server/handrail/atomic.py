"""Durable writes: the only two ways Handrail puts bytes into a file it keeps.

- `replace(path, data)`: a reader sees the old bytes or the new ones, never a mix.
- `create_new(path, data)`: a file that did not exist; one that is there (or appears meanwhile)
  is never overwritten, and a reader sees all of the new file or nothing.

Both write a temp file beside the target (so the move stays on one file system), opened with
O_CREAT|O_EXCL|O_NOFOLLOW so a file or link someone planted under the temp name is never
followed or reused; write every byte, fsync it, move it into place, and fsync the folder so the
move itself survives a power cut. Neither writes through a symlink at `path`: `replace` replaces
the link itself, `create_new` refuses it like any existing file. Callers that mean to write
through a link resolve it first (`blocks.mark`), and callers that must stay inside the workspace
check the folder first (`Workspace.resolve_inside`). Each caller turns the `OSError` into its own
words. A killed writer leaves at most a temp file (`.<name>.<random>.tmp` unless the caller
names it), which the owner of each folder sweeps.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# Windows refuses a rename while a virus scanner or an editor holds the file: retry for about
# a second there, as pip does. Elsewhere a PermissionError is final unless the caller says.
_WINDOWS_RETRY_DELAYS = (0.1,) * 9
# Where a file system has no hard links, `create_new` writes the target itself instead.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV})
_NEW_FILE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class RenameBusy(PermissionError):
    """The final rename kept failing with a permission error through every retry (on Windows:
    another program held the target). A `PermissionError`, so callers that do not care about
    the difference see the same error as before."""


def replace(
    path: Path,
    data: bytes,
    *,
    mode: int = 0o666,
    prepare: Callable[[Path], None] | None = None,
    temp: Path | None = None,
    retry_delays: Sequence[float] | None = None,
    durable: bool = True,
) -> None:
    """Replace (or create) `path` with `data`.

    `mode` is the new file's permission bits before the umask. `prepare(temp)` runs once the
    data is durable and before the rename: the place to copy permissions or owner, or to raise
    when the target changed meanwhile (the temp file is then removed and the target untouched).
    `temp` names the temp file (it must be in `path`'s folder) for owners that sweep their own
    pattern. `retry_delays` are the pauses between rename attempts that fail with a permission
    error (default: about a second on Windows, none elsewhere); after the last one `RenameBusy`.
    `durable=False` skips both fsyncs, for a cache whose loss or torn copy after a crash costs
    only a recomputation (a reader still sees the old bytes or the new ones, never a mix).
    Raises the `OSError` of whatever step failed; the temp file never stays behind.
    """
    temp = temp if temp is not None else _temp_name(path)
    _write_new_file(temp, data, mode)
    try:
        if prepare is not None:
            prepare(temp)
        _rename(temp, path, _WINDOWS_RETRY_DELAYS if retry_delays is None else retry_delays)
    except BaseException:
        # Whatever stopped us (a full disk, Ctrl-C), no temp file may stay behind.
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if durable:
        fsync_folder(path.parent)


def create_new(path: Path, data: bytes, *, mode: int = 0o666) -> None:
    """Create `path` holding `data`; `FileExistsError` when anything (a file, folder or link)
    is already there, even if it appeared after the caller looked.

    The temp file is hard-linked into place, which fails rather than replace what is there, so
    a reader never sees a half-written file. Where the file system has no hard links the target
    is written directly with O_EXCL: it still never overwrites, and a failed write removes it.
    Raises the `OSError` of whatever step failed; the temp file never stays behind.
    """
    temp = _temp_name(path)
    _write_new_file(temp, data, mode)
    try:
        try:
            os.link(temp, path)
        except OSError as exc:
            if isinstance(exc, FileExistsError) or exc.errno not in _NO_HARD_LINKS:
                raise
            _write_new_file(path, data, mode)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename or removal in `folder` durable. Windows cannot open a folder this way and
    the change is already visible, so a failure here is not an error."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _write_new_file(path: Path, data: bytes, mode: int, *, durable: bool = True) -> None:
    """Create `path` (never an existing file or link), write all of `data`, fsync it; on any
    failure the half-written file is removed."""
    fd = os.open(path, _NEW_FILE_FLAGS, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:
                    raise OSError(errno.EIO, "the write made no progress")
                view = view[written:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _rename(source: Path, target: Path, delays: Sequence[float]) -> None:
    for attempt in range(len(delays) + 1):
        try:
            os.replace(source, target)
            return
        except PermissionError as exc:
            if attempt == len(delays):
                busy = RenameBusy(exc.errno, exc.strerror, exc.filename, None, exc.filename2)
                raise busy from exc
            time.sleep(delays[attempt])
