"""Fixtures for the ignore and listing tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A folder for the property tests' many small trees.

    On tmpfs when there is one: creating and removing thousands of folders on this machine's
    disk costs seconds (rmdir about 3 ms), on /dev/shm milliseconds.
    """
    shm = Path("/dev/shm")
    base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="handrail-files-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
