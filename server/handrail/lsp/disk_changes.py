"""HR308 hints for files that change on disk, outside the editor, while a task is active.

Coding agents (Claude Code, Cursor, aider) write files directly; none of it passes through
the editor's buffers, so the edit-based hint never sees it. When the client reports a source
file created or changed (`workspace/didChangeWatchedFiles`) in a folder with an active task,
and the file is not open, the server asks git which lines were added since HEAD
(`marking.diff.changed_hunks`, the same hunks `handrail mark --diff` marks) and publishes one
hint per run of unmarked added lines, naming the task. Opening the file keeps the hints and
offers "Mark as generated" for the active task first.

Events arrive in bursts (an agent writes ten files, a checkout rewrites hundreds), so they
are collected per folder and handled after a short pause, in one git call, off the event
loop; a burst of more than `MAX_FILES_PER_BURST` files is a checkout or a build, not an
agent's edit, and is skipped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lsprotocol import types

from handrail.findings import Finding
from handrail.lsp.convert import finding_to_diagnostic, split_lines
from handrail.lsp.insertion_hints import InsertionHint
from handrail.lsp.state import FolderState, classify
from handrail.workspace import PathEscapesWorkspace, is_regular_file

if TYPE_CHECKING:
    from handrail.lsp.analysis_cache import AnalysisCache
    from handrail.lsp.documents import DocumentStore
    from handrail.lsp.settings import Settings

log = logging.getLogger("handrail.lsp")

PAUSE_S = 0.3
"""How long a burst of file events may go on before it is handled."""
MAX_FILES_PER_BURST = 200


class DiskChangesHost(Protocol):
    """What the on-disk hints need from the server."""

    documents: DocumentStore
    analyses: AnalysisCache
    executor: ThreadPoolExecutor

    @property
    def settings(self) -> Settings: ...

    @property
    def folders(self) -> dict[Path, FolderState]: ...

    @property
    def position_encoding(self) -> str: ...

    @property
    def client_pulls_diagnostics(self) -> bool: ...

    def locate(self, uri: str) -> tuple[FolderState | None, str | None]: ...

    def docs_url(self, folder: FolderState | None) -> str | None: ...

    def log_error(self, message: str, exc: BaseException | None = None) -> None: ...

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None: ...


@dataclass(frozen=True, slots=True)
class FileHints:
    """The hints of one file that changed on disk, with the text they refer to."""

    rel: str
    text: str
    findings: list[Finding]


def scan_files(folder: FolderState, rels: list[str], task_id: str, limit: int) -> list[FileHints]:
    """The HR308 findings of each of `rels` against HEAD (runs on a worker thread).

    A file that cannot be read, is binary, or is over `limit` bytes gets no findings (its
    earlier hints, if any, are cleared); git failing (no repository, no commit) gives none.
    """
    from handrail.blocks.check import disk_insertion
    from handrail.blocks.markers import decode_source, parse_blocks
    from handrail.marking.diff import DiffMarkError, changed_hunks

    ws = folder.ws
    try:
        hunks = changed_hunks(ws, "HEAD", rels)
    except DiffMarkError as exc:
        log.info("no on-disk change hints in %s: %s", ws.root, exc)
        hunks = {}
    workflow = folder.snapshot.workflow.workflow
    found: list[FileHints] = []
    for rel in rels:
        text = ""
        findings: list[Finding] = []
        try:
            path = ws.resolve_inside(rel)
            if is_regular_file(path) and path.stat().st_size <= limit:
                data = path.read_bytes()
                if b"\0" not in data:
                    text, _ = decode_source(data)
        except (OSError, PathEscapesWorkspace):
            text = ""
        if text and hunks.get(rel):
            parsed = parse_blocks(text, rel)
            for hunk in hunks[rel]:
                finding = disk_insertion(
                    text,
                    parsed,
                    path=rel,
                    start_line=hunk.start,
                    end_line=hunk.end,
                    workflow=workflow,
                    task_id=task_id,
                )
                if finding is not None:
                    findings.append(finding)
        found.append(FileHints(rel, text, findings))
    return found


class DiskChanges:
    """Collects file events per folder and publishes the on-disk hints of unopened files."""

    def __init__(self, server: DiskChangesHost) -> None:
        self.server = server
        self._pending: dict[FolderState, dict[str, str]] = {}
        """Per folder: workspace-relative path -> the URI the client used."""
        self._timer: asyncio.Task[None] | None = None
        self._published: set[str] = set()
        """URIs whose on-disk hints were published while not open (cleared when they go)."""

    def note(self, uris: list[str]) -> None:
        """Source files created or changed on disk; handled after a pause."""
        if not any(f.active_task for f in self.server.folders.values()):
            return  # the common case, and cheap: a build writing 10,000 files costs nothing
        if len(uris) > MAX_FILES_PER_BURST:
            log.info(
                "%d files changed on disk at once (a checkout or a build?): no hints", len(uris)
            )
            return
        for uri in uris:
            folder, rel = self.server.locate(uri)
            if folder is None or rel is None or folder.implicit or classify(rel) != "source":
                continue
            if rel == ".git" or rel.startswith(".git/"):
                continue  # git's own files (the index, refs) change with every commit
            if folder.active_task is None or uri in self.server.documents:
                continue  # nothing is being generated, or the buffer is the truth
            self._pending.setdefault(folder, {})[rel] = uri
        if self._pending and (self._timer is None or self._timer.done()):
            self._timer = asyncio.get_running_loop().create_task(self._after_pause())

    def deleted(self, uris: list[str]) -> None:
        for uri in uris:
            if uri in self._published and uri not in self.server.documents:
                self._clear(uri)

    async def _after_pause(self) -> None:
        await asyncio.sleep(PAUSE_S)
        while self._pending:
            folder, files = self._pending.popitem()
            try:
                await self._handle(folder, files)
            except Exception as exc:  # one folder's failure must not stop the others
                self.server.log_error(
                    f"Handrail could not check the files that changed on disk in "
                    f"{folder.root}: {type(exc).__name__}: {exc}",
                    exc,
                )

    async def _handle(self, folder: FolderState, files: dict[str, str]) -> None:
        task_id = folder.active_task
        if task_id is None:
            return
        if len(files) > MAX_FILES_PER_BURST:
            log.info(
                "%d files changed on disk at once in %s (a checkout or a build?): no hints",
                len(files),
                folder.root,
            )
            return
        loop = asyncio.get_running_loop()
        scanned = await loop.run_in_executor(
            self.server.executor,
            functools.partial(
                scan_files,
                folder,
                sorted(files),
                task_id,
                self.server.settings.max_document_bytes,
            ),
        )
        for result in scanned:
            uri = files[result.rel]
            if uri in self.server.documents:
                continue  # opened meanwhile: its buffer is analysed on its own
            hints = [
                InsertionHint(int(f.line or 1), int(f.end_line or f.line or 1), task_id)
                for f in result.findings
            ]
            self.server.analyses.set_disk_hints(uri, hints)
            if result.findings:
                self._publish(uri, result)
            elif uri in self._published:
                self._clear(uri)

    def _publish(self, uri: str, result: FileHints) -> None:
        lines = split_lines(result.text)
        encoding = self.server.position_encoding
        base = self.server.docs_url(self.server.locate(uri)[0])
        items = [finding_to_diagnostic(f, lines, encoding, base) for f in result.findings]
        self._published.add(uri)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=items)
        )

    def _clear(self, uri: str) -> None:
        self._published.discard(uri)
        self.server.analyses.set_disk_hints(uri, [])
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def opened(self, uri: str) -> None:
        """A document with pushed on-disk hints was opened: its analysis carries them now.
        A client that pulls keeps pushed diagnostics apart, so the pushed copy goes."""
        if uri in self._published:
            self._published.discard(uri)
            if self.server.client_pulls_diagnostics:
                self.server.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
                )

    def closed(self, uri: str) -> None:
        """A document was closed: its hints went with it (the user has seen the file)."""
        self._published.discard(uri)

    def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
