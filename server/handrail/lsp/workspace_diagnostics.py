"""Workspace diagnostics (LSP 3.17 `workspace/diagnostic`): what the gate sees in files that
are not open.

The Problems panel listed only open files, so the gate failed on findings the editor never
showed (issue 19.3). A client that pulls workspace diagnostics gets the gate's findings for
every file that is not open (open documents keep their own, fresher, document pull), each with
a result id, so an unchanged file is answered "unchanged". VS Code asks again every few
seconds; the gate's findings are therefore kept per folder until the folder reloads, a
document is saved, or `CACHE_SECONDS` pass. At most `MAX_FILES` files are reported.

A client that does not announce workspace diagnostics (no ``workspace.diagnostics`` in its
capabilities: Neovim 0.11, Emacs' eglot) never asks, so `ClosedFileDiagnostics` pushes the
same findings with ``textDocument/publishDiagnostics`` instead: in the background after
start, again after a save, a reload or a command that wrote Handrail's files, bounded by the
``max_closed_files`` setting and by a time and reading budget, and cleared when a file's
findings go or the file is opened (its own diagnostics take over).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lsprotocol import types
from lsprotocol.converters import get_converter

from handrail.findings import Finding, Severity
from handrail.lsp.convert import finding_to_diagnostic, split_lines
from handrail.workspace import FileTooLarge, NotARegularFile, read_regular_file

if TYPE_CHECKING:
    from handrail.lsp.documents import DocumentStore
    from handrail.lsp.settings import Settings
    from handrail.lsp.state import FolderState

log = logging.getLogger("handrail.lsp")

CACHE_SECONDS = 10.0
MAX_FILES = 2000
"""At most this many files with findings in one answer (the rest wait for the gate)."""
_MAX_READ = 5_000_000
PUSH_BUDGET_S = 5.0
"""Pushing closed files' findings stops reading files after this long (the gate has run)."""
PUSH_READ_BUDGET = 50_000_000
"""...or after reading this many bytes of them, whichever comes first."""


def _read(path: Path) -> str:
    """The text the findings of `path` are placed in; "" for anything but a regular file of at
    most `_MAX_READ` bytes. A repository decides what its paths are: a FIFO there must not
    block the worker that answers the pull (`read_regular_file` never opens one blocking)."""
    try:
        return read_regular_file(path, _MAX_READ).decode("utf-8", "replace")
    except (OSError, NotARegularFile, FileTooLarge):
        return ""


def _by_path(findings: list[Finding]) -> dict[str, list[Finding]]:
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    return by_path


class WorkspaceHost(Protocol):
    """What the gate's findings of the workspace need from the server."""

    documents: DocumentStore

    @property
    def folders(self) -> dict[Path, FolderState]: ...

    @property
    def position_encoding(self) -> str: ...

    def docs_url(self, folder: FolderState | None) -> str | None: ...


class ClosedFilesHost(WorkspaceHost, Protocol):
    """What pushing the closed files' findings needs from the server besides."""

    workspace_diagnostics: WorkspaceDiagnostics
    shutting_down: bool

    @property
    def protocol(self) -> Any: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def client_pulls_diagnostics(self) -> bool: ...

    def log_error(self, message: str, exc: BaseException | None = None) -> None: ...

    def log_message(self, message: str, kind: types.MessageType = ...) -> None: ...

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None: ...


class WorkspaceDiagnostics:
    """The gate's findings per folder, cached, turned into workspace diagnostic reports."""

    def __init__(self, server: WorkspaceHost) -> None:
        self.server = server
        self._cache: dict[FolderState, tuple[tuple[int, int], float, list[Finding]]] = {}
        self.saves = 0
        """Counts saves: a saved file may change its findings without a folder reload."""

    def findings(self, folder: FolderState) -> list[Finding]:
        """The gate's findings for `folder` (cached; run in a worker thread)."""
        from handrail.gate.run import run_check

        key = (folder.generation, self.saves)
        cached = self._cache.get(folder)
        if cached is not None and cached[0] == key and time.monotonic() - cached[1] < CACHE_SECONDS:
            return cached[2]
        findings = run_check(folder.ws).findings
        self._cache[folder] = (key, time.monotonic(), findings)
        return findings

    def _reports(
        self, folder: FolderState, findings: list[Finding], previous: dict[str, str]
    ) -> list[types.WorkspaceDocumentDiagnosticReport]:
        by_path = _by_path(findings)
        open_uris = set(self.server.documents.uris())
        encoding = self.server.position_encoding
        base = self.server.docs_url(folder)
        reports: list[types.WorkspaceDocumentDiagnosticReport] = []
        for rel in sorted(by_path)[:MAX_FILES]:
            path = folder.root / rel
            uri = path.as_uri()
            if uri in open_uris:
                continue  # the document pull answers for open documents
            text = _read(path)
            lines = split_lines(text)
            items = [finding_to_diagnostic(f, lines, encoding, base) for f in by_path[rel]]
            # The findings, the text they are placed in, the position encoding and the help
            # links' base decide the diagnostics: a change to any of them is a new result.
            state = (
                [f.as_json() for f in by_path[rel]],
                hashlib.sha256(text.encode()).hexdigest(),
                str(encoding),
                base,
            )
            digest = hashlib.sha256(
                json.dumps(state, sort_keys=True, default=str).encode()
            ).hexdigest()[:16]
            if previous.get(uri) == digest:
                reports.append(
                    types.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=uri, result_id=digest, version=None
                    )
                )
            else:
                reports.append(
                    types.WorkspaceFullDocumentDiagnosticReport(
                        uri=uri, items=items, result_id=digest, version=None
                    )
                )
        return reports

    async def pull(
        self, params: types.WorkspaceDiagnosticParams
    ) -> types.WorkspaceDiagnosticReport:
        previous = {p.uri: p.value for p in params.previous_result_ids}
        reports: list[types.WorkspaceDocumentDiagnosticReport] = []
        for folder in list(self.server.folders.values()):
            if not folder.loaded:
                continue
            findings = await asyncio.to_thread(self.findings, folder)
            reports.extend(self._reports(folder, findings, previous))
        return types.WorkspaceDiagnosticReport(items=reports)


@dataclass(slots=True)
class _Pushed:
    """What one background round found: diagnostics per URI, and what it left out."""

    items: dict[str, list[types.Diagnostic]]
    files_with_findings: int
    cut_by: str | None
    """Why files with findings were left out (the setting, the time or the reading budget)."""


class ClosedFileDiagnostics:
    """Push the gate's findings of files that are not open, for clients that never pull
    workspace diagnostics. One round at a time; a request for another while one runs makes
    one more round after it (saves in a burst cost at most two gate runs)."""

    def __init__(self, server: ClosedFilesHost) -> None:
        self.server = server
        self._published: dict[str, str] = {}
        """URI -> digest of the diagnostics pushed for it (not open when pushed)."""
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._last_note: str | None = None

    @property
    def active(self) -> bool:
        """The client does not announce workspace diagnostics, and the setting allows some."""
        client = getattr(self.server.protocol, "client_capabilities", None)
        workspace = getattr(client, "workspace", None)
        if client is None or getattr(workspace, "diagnostics", None) is not None:
            return False
        return self.server.settings.max_closed_files > 0

    def refresh(self) -> None:
        """Start a round in the background (or one more after the running one)."""
        if not self.active and not self._published:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a server driven in-process, outside its loop
            return
        self._task = loop.create_task(self._rounds())

    async def _rounds(self) -> None:
        while True:
            self._again = False
            try:
                await self._round()
            except Exception as exc:  # the open documents' diagnostics are unaffected
                self.server.log_error(
                    f"Handrail could not publish the findings of files that are not open: {exc}",
                    exc,
                )
            if not self._again or self.server.shutting_down:
                return

    async def _round(self) -> None:
        # Loaded or not: the gate reads the folder itself (right after start, the warm-up
        # may still be reading it).
        folders = list(self.server.folders.values())
        pushed = _Pushed({}, 0, None)
        if self.active:
            pushed = await asyncio.to_thread(
                self._collect,
                folders,
                set(self.server.documents.uris()),
                self.server.settings.max_closed_files,
            )
        if self.server.shutting_down:
            return
        # On the event loop from here: a document opened meanwhile is skipped, not overwritten.
        open_uris = set(self.server.documents.uris())
        for uri, items in pushed.items.items():
            if uri in open_uris:
                continue
            digest = _digest(items)
            if self._published.get(uri) == digest:
                continue
            self._published[uri] = digest
            self._send(uri, items)
        for uri in [u for u in self._published if u not in pushed.items]:
            del self._published[uri]
            if uri not in open_uris:
                self._send(uri, [])
        self._note(pushed)

    def _collect(self, folders: list[FolderState], open_uris: set[str], limit: int) -> _Pushed:
        """In a worker thread: the gate's findings, the files that are not open, bounded."""
        encoding = self.server.position_encoding
        base = self.server.settings.docs_base_url
        candidates: list[tuple[bool, str, Path, list[Finding]]] = []
        seen = set(open_uris)
        # Nested folders: a file's findings come from its innermost folder, once.
        for folder in sorted(folders, key=lambda f: len(f.root.parts), reverse=True):
            for rel, found in _by_path(self.server.workspace_diagnostics.findings(folder)).items():
                path = folder.root / rel
                if path.as_uri() in seen:
                    continue
                seen.add(path.as_uri())
                has_error = any(f.severity is Severity.ERROR for f in found)
                candidates.append((not has_error, path.as_uri(), path, found))
        candidates.sort(key=lambda c: (c[0], c[1]))  # errors first, then by path
        items: dict[str, list[types.Diagnostic]] = {}
        cut_by = "the max_closed_files setting" if len(candidates) > limit else None
        deadline = time.monotonic() + PUSH_BUDGET_S
        read = 0
        for _, uri, path, found in candidates[:limit]:
            if time.monotonic() > deadline:
                cut_by = f"the time budget of {PUSH_BUDGET_S:g} s"
                break
            if read > PUSH_READ_BUDGET:
                cut_by = f"the reading budget of {PUSH_READ_BUDGET // 1_000_000} MB"
                break
            text = _read(path)
            read += len(text)
            lines = split_lines(text)
            items[uri] = [finding_to_diagnostic(f, lines, encoding, base) for f in found]
        return _Pushed(items, len(candidates), cut_by)

    def _note(self, pushed: _Pushed) -> None:
        """Say in the log when files with findings were left out (once per different count)."""
        if pushed.cut_by is None:
            self._last_note = None
            return
        note = (
            f"Handrail shows the findings of {len(pushed.items)} of "
            f"{pushed.files_with_findings} files that are not open ({pushed.cut_by}); "
            "`handrail check` lists them all."
        )
        if note != self._last_note:
            self._last_note = note
            self.server.log_message(note)

    def opened(self, uri: str) -> None:
        """`uri` was opened: its own diagnostics take over. A client that pulls them keeps
        pushed ones apart, so what was pushed is cleared; a pushing client's next publish
        for the document replaces it."""
        if self._published.pop(uri, None) is not None and self.server.client_pulls_diagnostics:
            self._send(uri, [])

    def _send(self, uri: str, items: list[types.Diagnostic]) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=items)
        )

    def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()


def _digest(items: list[types.Diagnostic]) -> str:
    raw = get_converter().unstructure(items)
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
