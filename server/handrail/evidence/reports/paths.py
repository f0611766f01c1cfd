"""Mapping the paths a report names to workspace files, done once for every format.

Tools write paths against different roots: LCOV's `SF:` is absolute or relative to the
folder the tool ran in, Cobertura joins a `<source>` folder and a `filename`, JaCoCo gives
only a package path and a file name, Go gives import paths. Each format turns its path into
candidates; this module decides which candidate is a file of the workspace. A path that
leaves the root (lexically or through a symlink), or names no file, is dropped with a
reason, never guessed: coverage credited to the wrong file would be worse than none.

Backslashes are read as separators (Windows tools write them); on POSIX no source file of a
project has a backslash in its name.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from handrail.files import list_files
from handrail.workspace import PathEscapesWorkspace, Workspace, is_regular_file

log = logging.getLogger(__name__)

_DRIVE = re.compile(r"^[A-Za-z]:/")

OUTSIDE = "outside the workspace"
NO_FILE = "no such file in the workspace"


@dataclass(frozen=True, slots=True)
class DroppedPath:
    """A path the report names that maps to no workspace file, and why."""

    raw: str
    reason: str


def to_slashes(raw: str) -> str:
    return raw.replace("\\", "/")


def is_absolute(path: str) -> bool:
    """Absolute on POSIX or on Windows (`C:/x`, `//server/share`), whatever runs us."""
    return path.startswith("/") or bool(_DRIVE.match(path))


class SourceLocator:
    """Finds the workspace file a report path means.

    `bases` are the folders relative paths are tried against, nearest to the report first:
    the report's folder and each folder above it up to the root (a report written to
    `web/coverage/lcov.info` by a tool run in `web/` names `src/a.js` for `web/src/a.js`).
    """

    def __init__(self, root: Path, report: Path) -> None:
        self.ws = Workspace.at(root)
        self._roots = _root_forms(root, self.ws.root)
        bases: list[str] = []
        folder = self.relative_of_absolute(to_slashes(str(report.absolute().parent)))
        while folder is not None:
            bases.append(folder)
            if folder == "":
                break
            folder = posixpath.dirname(folder)
        if "" not in bases:
            bases.append("")
        self.bases: tuple[str, ...] = tuple(bases)
        self._by_name: dict[str, list[str]] | None = None

    def relative_of_absolute(self, path: str) -> str | None:
        """Workspace-relative form of absolute `path` (slashes), or None when outside."""
        for root in self._roots:
            fold = _DRIVE.match(path) is not None or os.name == "nt"
            probe = path.casefold() if fold else path
            anchor = root.casefold() if fold else root
            if probe == anchor:
                return ""
            if probe.startswith(anchor.rstrip("/") + "/"):
                rel = posixpath.normpath(path[len(anchor.rstrip("/")) + 1 :])
                if rel == "." or not rel:
                    return ""
                if rel == ".." or rel.startswith("../"):
                    return None
                return rel
        # A path through a symlink to the workspace (macOS /tmp -> /private/tmp, say).
        if os.name != "nt" and not _DRIVE.match(path):
            try:
                real = Path(path).resolve()
            except (OSError, ValueError, RuntimeError):
                return None
            if real.as_posix() != path:
                for root in self._roots:
                    if real.as_posix().startswith(root.rstrip("/") + "/"):
                        return posixpath.normpath(real.as_posix()[len(root.rstrip("/")) + 1 :])
        return None

    def folder(self, raw: str) -> list[str]:
        """Workspace-relative folders a report's folder name may mean (Cobertura `<source>`)."""
        path = to_slashes(raw.strip())
        if is_absolute(path):
            rel = self.relative_of_absolute(path)
            return [] if rel is None else [rel]
        out = []
        for base in self.bases:
            joined = _inside(posixpath.join(base, path))
            if joined is not None and joined not in out:
                out.append(joined)
        return out

    def locate(self, raw: str, bases: Sequence[str] | None = None) -> str | DroppedPath:
        """The workspace file `raw` names, trying `bases` (default: `self.bases`) in order."""
        path = to_slashes(raw)
        if path.startswith("file://"):
            path = _file_url_path(path)
        if not path:
            return DroppedPath(raw, "an empty path")
        if is_absolute(path):
            rel = self.relative_of_absolute(path)
            if rel is None:
                return DroppedPath(raw, OUTSIDE)
            candidates: Iterable[str | None] = [rel]
        else:
            candidates = (
                _inside(posixpath.join(base, path))
                for base in (self.bases if bases is None else bases)
            )
        reason = OUTSIDE
        for candidate in candidates:
            if candidate is None:
                continue
            found = self._is_file(candidate)
            if found is True:
                return candidate
            if found is False:
                reason = NO_FILE
        return DroppedPath(raw, reason)

    def by_suffix(self, raw: str, tail: str) -> str | DroppedPath:
        """The one workspace file whose path ends with `tail` (JaCoCo gives no source root)."""
        if self._by_name is None:
            self._by_name = defaultdict(list)
            try:
                listed = list_files(self.ws)
            except (OSError, PathEscapesWorkspace) as exc:
                log.warning("could not list the workspace's files: %s", exc)
                listed = []
            for rel in listed:
                self._by_name[posixpath.basename(rel)].append(rel)
        matches = [
            rel
            for rel in self._by_name.get(posixpath.basename(tail), [])
            if rel == tail or rel.endswith("/" + tail)
        ]
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(sorted(matches)[:3])
            return DroppedPath(
                raw, f"ambiguous: {len(matches)} workspace files end with it ({shown})"
            )
        return DroppedPath(raw, NO_FILE)

    def _is_file(self, rel: str) -> bool | None:
        """True for a regular file inside the root, False for none there, None when it escapes."""
        try:
            real = self.ws.resolve_inside(rel)
        except PathEscapesWorkspace:
            return None
        except (OSError, ValueError, RuntimeError):
            return False
        return is_regular_file(real)


def _file_url_path(url: str) -> str:
    """`file:///a/b` -> `/a/b`, `file:///C:/a` -> `C:/a` (some V8-based tools write URLs)."""
    path = unquote(urlsplit(url).path)
    if len(path) > 2 and path[0] == "/" and _DRIVE.match(path[1:]):
        path = path[1:]
    return path


def _inside(joined: str) -> str | None:
    rel = posixpath.normpath(joined)
    if rel == ".":
        return ""
    if rel == ".." or rel.startswith("../") or rel.startswith("/"):
        return None
    return rel


def _root_forms(given: Path, resolved: Path) -> list[str]:
    forms = []
    for root in (given.absolute(), resolved):
        text = to_slashes(str(root))
        if text not in forms:
            forms.append(text)
    return forms
