"""The folder registry: which folder (workspace, workflow, tasks, ledger) a document belongs to.

Workspace folders come from the client; a file outside every one of them gets the folder
found above it (`Workspace.find`), remembered by root and by the file's own directory. A
document's place (its folder and workspace-relative path) is resolved once per document
version (`place_of`) and handed to everything that needs it on the way from an edit to its
diagnostics (the HR308 threshold, the scheduler, the analysis), instead of each looking it
up again. Adding or removing a folder makes every remembered place stale.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from handrail.lsp.state import DocumentKind, FolderState, classify
from handrail.workspace import PathEscapesWorkspace, Workspace

log = logging.getLogger("handrail.lsp")

LogError = Callable[[str, BaseException | None], None]


def uri_to_path(uri: str) -> Path | None:
    """The local path of a ``file:`` URI, else None."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and re.match(r"^/[A-Za-z]:", path):
        path = path[1:]
    return Path(path)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a document lives: its folder and workspace-relative path (None: no folder)."""

    folder: FolderState | None
    rel: str | None

    @property
    def kind(self) -> DocumentKind:
        """Which analysis the document gets."""
        return classify(self.rel) if self.folder is not None else "other"


NOWHERE = Place(None, None)


class FolderRegistry:
    """The folders of one server, and each open document's place in them."""

    def __init__(self, executor: Executor, log_error: LogError) -> None:
        self.folders: dict[Path, FolderState] = {}
        # Folders found above files outside every workspace folder: by root, and by the
        # file's own folder so that `Workspace.find` walks up once per folder, not per edit.
        self._implicit: dict[Path, FolderState] = {}
        self._implicit_by_dir: dict[Path, FolderState] = {}
        self._lock = threading.Lock()
        self._places: dict[str, tuple[int, int | None, Place]] = {}
        """Per URI: the registry generation and document version a place was resolved for."""
        self._generation = 0
        self._executor = executor
        self._log_error = log_error

    # -- places -----------------------------------------------------------------------------

    def place_of(self, uri: str, version: int | None) -> Place:
        """The place of version `version` of open document `uri`, resolved once per version."""
        known = self._places.get(uri)
        if known is not None and known[0] == self._generation and known[1] == version:
            return known[2]
        place = self.locate(uri)
        if version is not None:
            self._places[uri] = (self._generation, version, place)
        return place

    def forget(self, uri: str) -> None:
        """The document was closed (or reopened): its place is resolved afresh next time."""
        self._places.pop(uri, None)

    def locate(self, uri: str) -> Place:
        """The folder holding `uri` (the innermost one) and its relative path, looked up now."""
        path = uri_to_path(uri)
        if path is None:
            return NOWHERE
        path = Path(os.path.normpath(path))
        best: FolderState | None = None
        for folder in list(self.folders.values()):
            if folder.contains(path) and (
                best is None or len(folder.root.parts) > len(best.root.parts)
            ):
                best = folder
        if best is None and path.exists():
            real = path.resolve()
            if real != path:
                # A folder opened through a symlinked path: its root is resolved.
                return self.locate(real.as_uri())
        if best is None:
            best = self._implicit_folder(path)
        if best is None:
            return NOWHERE
        try:
            return Place(best, best.ws.relative(path))
        except PathEscapesWorkspace:
            return NOWHERE

    def _implicit_folder(self, path: Path) -> FolderState | None:
        known = self._implicit_by_dir.get(path.parent)
        if known is not None:
            return known
        try:
            ws = Workspace.find(path.parent)
        except OSError:
            return None
        with self._lock:
            folder = self._implicit.get(ws.root)
            if folder is None:
                folder = FolderState(ws, implicit=True)
                self._implicit[ws.root] = folder
            self._implicit_by_dir[path.parent] = folder
        return folder

    # -- folders ----------------------------------------------------------------------------

    def all_folders(self) -> list[FolderState]:
        """Workspace folders and the folders found above files outside them."""
        return [*self.folders.values(), *self._implicit.values()]

    def containing(self, uris: Iterable[str]) -> set[FolderState]:
        """The folders (workspace or implicit) that hold any of `uris`."""
        found: set[FolderState] = set()
        for uri in uris:
            path = uri_to_path(uri)
            if path is None:
                continue
            path = Path(os.path.normpath(path))
            found.update(f for f in self.all_folders() if f.contains(path))
        return found

    def add(self, uri: str) -> None:
        path = uri_to_path(uri)
        if path is None:
            return
        ws = Workspace.at(path)
        if ws.root not in self.folders:
            self.folders[ws.root] = FolderState(ws)
            self._generation += 1

    def remove(self, uri: str) -> None:
        path = uri_to_path(uri)
        if path is not None:
            self.folders.pop(Path(os.path.normpath(path)).resolve(), None)
            self._generation += 1

    def warm_up(self) -> None:
        """Read each folder's snapshot in the background, so the first document opened does
        not wait for the ledger (`initialize` was answered without it)."""
        loop = asyncio.get_running_loop()
        for folder in list(self.folders.values()):
            future = loop.run_in_executor(self._executor, folder.load)
            future.add_done_callback(functools.partial(self._warmed, folder))

    def _warmed(self, folder: FolderState, future: asyncio.Future[None]) -> None:
        if not future.cancelled() and (exc := future.exception()) is not None:
            self._log_error(f"Handrail could not read {folder.root}: {exc}", exc)

    async def reload(self, folders: Iterable[FolderState]) -> None:
        """Read `folders` again (off the event loop); a failure keeps the previous state."""
        loop = asyncio.get_running_loop()
        for folder in folders:
            try:
                await loop.run_in_executor(self._executor, folder.reload)
            except Exception as exc:
                self._log_error(
                    f"Handrail could not reload {folder.root}: {exc}. The previous state is kept.",
                    exc,
                )
