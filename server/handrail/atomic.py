"""Replacing a file so that a reader sees the old bytes or the new ones, never a mix.

A temp file beside the target (so the rename stays on one file system), fsync, `os.replace`,
then an fsync of the folder so the rename itself survives a power cut. A killed writer leaves
at most a `.<name>.<random>.tmp` file, which the owners of each folder sweep.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

# Windows refuses a rename while a virus scanner or an editor holds the file: retry for about
# a second there, as pip does. Elsewhere a PermissionError is final.
_REPLACE_ATTEMPTS = 10
_REPLACE_PAUSE_S = 0.1


def temp_name_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int = 0o666,
    prepare: Callable[[Path], None] | None = None,
) -> None:
    """Replace (or create) `path` with `data`.

    `mode` is the new file's permission bits before the umask. `prepare(temp)` runs once the
    data is durable and before the rename: the place to copy permissions or owner, or to raise
    when the target changed meanwhile (the temp file is then removed and the target untouched).
    Raises the `OSError` of whatever step failed.
    """
    temp = temp_name_for(path)
    # O_EXCL: never follow or reuse a file someone planted under the temp name.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if prepare is not None:
            prepare(temp)
        replace_with_retry(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    fsync_folder(path.parent)


def replace_with_retry(source: Path, target: Path) -> None:
    attempts = _REPLACE_ATTEMPTS if os.name == "nt" else 1
    for attempt in range(attempts):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if attempt == attempts - 1:
                raise
            time.sleep(_REPLACE_PAUSE_S)


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable; folders cannot be opened (nor need it) everywhere."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
