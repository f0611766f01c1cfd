"""Workspace diagnostics (LSP 3.17 `workspace/diagnostic`): what the gate sees in files that
are not open.

The Problems panel listed only open files, so the gate failed on findings the editor never
showed (issue 19.3). A client that pulls workspace diagnostics gets the gate's findings for
every file that is not open (open documents keep their own, fresher, document pull), each with
a result id, so an unchanged file is answered "unchanged". VS Code asks again every few
seconds; the gate's findings are therefore kept per folder until the folder reloads, a
document is saved, or `CACHE_SECONDS` pass. At most `MAX_FILES` files are reported.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from lsprotocol import types

from handrail.findings import Finding
from handrail.lsp.convert import finding_to_diagnostic, split_lines

if TYPE_CHECKING:
    from handrail.lsp.server import HandrailServer
    from handrail.lsp.state import FolderState

CACHE_SECONDS = 10.0
MAX_FILES = 2000
"""At most this many files with findings in one answer (the rest wait for the gate)."""
_MAX_READ = 5_000_000


class WorkspaceDiagnostics:
    """The gate's findings per folder, cached, turned into workspace diagnostic reports."""

    def __init__(self, server: HandrailServer) -> None:
        self.server = server
        self._cache: dict[FolderState, tuple[tuple[int, int], float, list[Finding]]] = {}
        self.saves = 0
        """Counts saves: a saved file may change its findings without a folder reload."""

    def _findings(self, folder: FolderState) -> list[Finding]:
        from handrail.check import run_check

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
        by_path: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            by_path[finding.path].append(finding)
        open_uris = set(self.server.documents.uris())
        encoding = self.server.position_encoding
        base = self.server.docs_url(folder)
        reports: list[types.WorkspaceDocumentDiagnosticReport] = []
        for rel in sorted(by_path)[:MAX_FILES]:
            path = folder.root / rel
            uri = path.as_uri()
            if uri in open_uris:
                continue  # the document pull answers for open documents
            try:
                with path.open("rb") as handle:
                    text = handle.read(_MAX_READ).decode("utf-8", "replace")
            except OSError:
                text = ""
            lines = split_lines(text)
            items = [finding_to_diagnostic(f, lines, encoding, base) for f in by_path[rel]]
            # The findings and the text they are placed in decide the diagnostics.
            state = [f.as_json() for f in by_path[rel]], hashlib.sha256(text.encode()).hexdigest()
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
            findings = await asyncio.to_thread(self._findings, folder)
            reports.extend(self._reports(folder, findings, previous))
        return types.WorkspaceDiagnosticReport(items=reports)
