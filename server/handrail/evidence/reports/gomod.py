"""Go import paths to workspace folders, through the `go.mod` files a workspace has.

A coverprofile names `example.com/mod/pkg/file.go`; the module `example.com/mod` lives in
the folder holding its `go.mod`. Modules come from the `go.mod` at the root or in a folder
between the report and the root, and from the `use` lines of a root `go.work`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path

_MODULE = re.compile(r"^\s*module\s+\"?([^\s\"]+)\"?", re.MULTILINE)
_USE_ONE = re.compile(r"^\s*use\s+(?!\()\"?([^\s\"]+)\"?", re.MULTILINE)
_USE_BLOCK = re.compile(r"^\s*use\s*\((.*?)\)", re.MULTILINE | re.DOTALL)
_COMMENT = re.compile(r"//.*$", re.MULTILINE)
_MAX_MOD_BYTES = 1 << 20


def go_modules(root: Path, folders: Sequence[str]) -> dict[str, str]:
    """Module path -> workspace-relative folder (`""` for the root)."""
    dirs = list(folders)
    work = _read(root / "go.work")
    if work is not None:
        uses = _USE_ONE.findall(work)
        for block in _USE_BLOCK.findall(work):
            uses += [item.strip().strip('"') for item in block.splitlines() if item.strip()]
        for use in uses:
            rel = posixpath.normpath(use.replace("\\", "/"))
            if rel != ".." and not rel.startswith(("../", "/")):
                dirs.append("" if rel == "." else rel)
    modules: dict[str, str] = {}
    for folder in dirs:
        text = _read(root / folder / "go.mod")
        match = _MODULE.search(text) if text is not None else None
        if match is not None:
            modules.setdefault(match.group(1), folder)
    return modules


def module_file(import_path: str, modules: dict[str, str]) -> str | None:
    """The workspace-relative file of `import_path`, by the longest module that holds it."""
    best = ""
    for module in modules:
        if import_path.startswith(module + "/") and len(module) > len(best):
            best = module
    if not best:
        return None
    return posixpath.join(modules[best], import_path[len(best) + 1 :])


def _read(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            text = handle.read(_MAX_MOD_BYTES).decode("utf-8", errors="replace")
    except (OSError, ValueError):
        return None
    return _COMMENT.sub("", text)
