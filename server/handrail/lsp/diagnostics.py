"""Diagnostics: when documents are analysed, and what is published or pulled.

Open and save analyse at once; a change waits for the per-document debounce (an asyncio task
per document, cancelled by the next change). A result is published only while the document
is still open, in sync and at the version that was analysed, and always with that version.
Task files (token counting) are analysed in a worker thread, never on the event loop.

This module only schedules, publishes, answers pulls and clears on close: analyses come
from `lsp.analysis_cache`, a document's folder from `lsp.registry` (resolved once per
version), and what is asked of the server is the small `DiagnosticsHost` below.

A push (and a pull's answer) is written from JSON text (issue 17, edit -> diagnostics): each
document keeps the encoded diagnostic of every finding it last sent, keyed by all the
conversion reads (`convert.conversion_key`), since an edit changes the findings of one
block, not all of them. What goes out is the same as pygls would write for the same
diagnostics.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from lsprotocol import types

from handrail.lsp.analysis_cache import AnalysisCache, PlaceOf
from handrail.lsp.convert import conversion_key, finding_to_diagnostic
from handrail.lsp.documents import Document, DocumentStore

if TYPE_CHECKING:
    from handrail.analysis import RuleFailure
    from handrail.lsp.settings import Settings
    from handrail.lsp.state import DocumentAnalysis, FolderState

log = logging.getLogger("handrail.lsp")

TOO_LARGE_MESSAGE = (
    "Handrail did not analyse this document: it is {size} bytes, over the limit of {limit} "
    "bytes (the max_document_bytes setting). Raise the setting to check it in the editor; "
    "`handrail check` still checks the file."
)
OUT_OF_SYNC_MESSAGE = (
    "Handrail lost track of this buffer's text ({reason}), so it shows no findings for it. "
    "Save the file, or close and reopen it, to resume checking."
)


class DiagnosticsHost(Protocol):
    """What publishing needs from the server: the client's wishes and the way to it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def client_pulls_diagnostics(self) -> bool: ...

    @property
    def position_encoding(self) -> str: ...

    def docs_url(self, folder: FolderState | None) -> str | None: ...

    def refresh_lenses(self) -> None: ...

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None: ...

    def encode_diagnostic(self, diagnostic: types.Diagnostic) -> str: ...

    def publish_encoded(self, uri: str, version: int | None, items: list[str]) -> None:
        """Push diagnostics given as their JSON text (`encode_diagnostic`)."""


class Diagnostics:
    """Analysis scheduling and publishing for one server."""

    def __init__(
        self,
        host: DiagnosticsHost,
        documents: DocumentStore,
        analyses: AnalysisCache,
        place_of: PlaceOf,
        executor: ThreadPoolExecutor,
    ) -> None:
        self._host = host
        self._documents = documents
        self._analyses = analyses
        self._place_of = place_of
        self.executor = executor
        """Where task files are analysed (shared with the features' heavy work)."""
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._lens_signatures: dict[str, object] = {}
        """Per document, the block places and states its lenses were last asked for with."""
        self._texts: dict[str, dict[tuple[object, ...], str]] = {}
        """Per document, the JSON text of each diagnostic it last pushed or was pulled, by
        conversion key (only the last time's: the table never outgrows the findings)."""

    # -- scheduling ---------------------------------------------------------------------

    def schedule(self, uri: str, delay_ms: int | None = None) -> None:
        """Analyse and publish `uri` after `delay_ms` (the debounce setting by default);
        a later call for the same document cancels this one."""
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        delay = self._host.settings.debounce_ms if delay_ms is None else delay_ms
        task = asyncio.get_running_loop().create_task(self._run(uri, delay))
        self._pending[uri] = task
        task.add_done_callback(lambda done: self._forget_task(uri, done))

    def _forget_task(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._pending.get(uri) is task:
            del self._pending[uri]

    async def _run(self, uri: str, delay_ms: int) -> None:
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        document = self._documents.get(uri)
        if document is None:
            return
        if document.out_of_sync is not None:
            self.publish_out_of_sync(document)
            return
        version, text = document.version, document.text
        place = self._place_of(uri, version)
        if document.over_limit:
            self.publish(self._analyses.finish(self._analyses.analyze_document(document, place)))
            return
        if place.kind == "task":
            loop = asyncio.get_running_loop()
            analysis = await loop.run_in_executor(
                self.executor, functools.partial(self._analyses.analyze, uri, version, text, place)
            )
        else:
            analysis = self._analyses.analyze(uri, version, text, place)
        current = self._documents.get(uri)
        if current is not document or document.version != version or document.text is not text:
            return  # a newer version arrived meanwhile: its own run publishes
        if document.out_of_sync is not None:
            return
        # The document holds the analysed text (checked just above): its lines are the
        # analysis', without splitting the text again.
        self.publish(self._analyses.finish(analysis), document.lines_now())
        self._lenses_follow(analysis)

    def _lenses_follow(self, analysis: DocumentAnalysis) -> None:
        """Ask for the lenses again when a block's state or place changed, so that they
        arrive with the diagnostics instead of whenever the editor next asks (issue 19.6)."""
        source = analysis.source
        if source is None:
            return
        states = tuple(
            sorted(
                (str(f.data.get("block_id")), f.code, f.line)
                for f in analysis.findings
                if "block_id" in f.data
            )
        )
        places = tuple((b.id, b.begin_line) for b in source.parsed.blocks)
        signature = (places, states)
        if self._lens_signatures.get(analysis.uri) == signature:
            return
        self._lens_signatures[analysis.uri] = signature
        self._host.refresh_lenses()

    async def analyze_all_now(self, uris: Iterable[str]) -> None:
        """Analyse and publish every document in `uris` now (after a reload)."""
        for uri in list(uris):
            if uri in self._documents:
                self._analyses.drop(uri)
                await self._run(uri, 0)

    # -- publishing ---------------------------------------------------------------------

    def diagnostics_of(self, analysis: DocumentAnalysis) -> list[types.Diagnostic]:
        notes = [_failure_note(failure) for failure in analysis.failures]
        return self._finding_diagnostics(analysis) + notes

    def _finding_diagnostics(self, analysis: DocumentAnalysis) -> list[types.Diagnostic]:
        if analysis.too_large:
            message = TOO_LARGE_MESSAGE.format(
                size=analysis.size, limit=self._host.settings.max_document_bytes
            )
            return [_note(message, types.DiagnosticSeverity.Information)]
        encoding = self._host.position_encoding
        base = self._host.docs_url(analysis.folder)
        return [finding_to_diagnostic(f, analysis.lines, encoding, base) for f in analysis.findings]

    def publish(self, analysis: DocumentAnalysis, lines: Sequence[str] | None = None) -> None:
        """Push the diagnostics of `analysis`; `lines` are its lines when the caller has
        them (`analysis.lines` otherwise)."""
        if self._host.client_pulls_diagnostics:
            return  # the client asks (`pull`); pushing too would show everything twice
        items = self._encoded(analysis, lines)
        self._host.publish_encoded(analysis.uri, analysis.version, items)

    def _encoded(self, analysis: DocumentAnalysis, lines: Sequence[str] | None) -> list[str]:
        """`diagnostics_of(analysis)`, each as its JSON text (`_encoded_findings`)."""
        encode = self._host.encode_diagnostic
        if analysis.too_large:
            items = [encode(d) for d in self._finding_diagnostics(analysis)]
        else:
            items = self._encoded_findings(analysis, analysis.lines if lines is None else lines)
        return items + [encode(_failure_note(failure)) for failure in analysis.failures]

    def _encoded_findings(self, analysis: DocumentAnalysis, lines: Sequence[str]) -> list[str]:
        """The JSON text of each finding's diagnostic, in order: the text pushed last time
        for a finding whose conversion key is unchanged, converted and encoded otherwise."""
        encoding = self._host.position_encoding
        base = self._host.docs_url(analysis.folder)
        encode = self._host.encode_diagnostic
        before = self._texts.get(analysis.uri, {})
        now: dict[tuple[object, ...], str] = {}
        items = []
        for finding in analysis.findings:
            key = conversion_key(finding, lines, encoding, base)
            text = None if key is None else now.get(key) or before.get(key)
            if text is None:
                text = encode(finding_to_diagnostic(finding, lines, encoding, base))
            if key is not None:
                now[key] = text
            items.append(text)
        self._texts[analysis.uri] = now
        return items

    def publish_out_of_sync(self, document: Document) -> None:
        self._analyses.drop(document.uri)
        self._texts.pop(document.uri, None)
        if self._host.client_pulls_diagnostics:
            return  # `pull` answers with the same note
        message = OUT_OF_SYNC_MESSAGE.format(reason=document.out_of_sync)
        items = [_note(message, types.DiagnosticSeverity.Information)]
        self._host.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=document.uri, diagnostics=items, version=document.version
            )
        )

    def pull(self, uri: str) -> list[str]:
        """What `textDocument/diagnostic` answers: the list a push would carry, each
        diagnostic as its JSON text (`DiagnosticsHost.encode_diagnostic`)."""
        document = self._documents.get(uri)
        if document is None:
            return []
        if document.out_of_sync is not None:
            note = _note(
                OUT_OF_SYNC_MESSAGE.format(reason=document.out_of_sync),
                types.DiagnosticSeverity.Information,
            )
            return [self._host.encode_diagnostic(note)]
        analysis = self._analyses.analysis_for(uri)
        if analysis is None:
            return []
        # The analysis is of the document's text as it is: its lines are the document's.
        lines = document.lines_now() if analysis.text is document.text else None
        return self._encoded(analysis, lines)

    # -- closing ------------------------------------------------------------------------

    def forget(self, uri: str, *, keep_disk_hints: bool = False) -> None:
        """Stop any pending run and drop everything known about `uri` (see
        `AnalysisCache.forget` for the hints that stay)."""
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self._analyses.forget(uri, keep_disk_hints=keep_disk_hints)
        self._lens_signatures.pop(uri, None)
        self._texts.pop(uri, None)

    def close(self, uri: str) -> None:
        """Forget `uri` and clear what was published for it."""
        self.forget(uri)
        self._host.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def shutdown(self) -> None:
        for task in self._pending.values():
            task.cancel()
        self._pending.clear()
        self.executor.shutdown(wait=False, cancel_futures=True)


def _failure_note(failure: RuleFailure) -> types.Diagnostic:
    """One rule raised: say so once, at the top, instead of silently showing less."""
    error = f"{type(failure.error).__name__}: {failure.error}"
    return _note(
        f"Handrail could not run {failure.rule}: {error}; other findings are shown. "
        "The details are in the Handrail output log.",
        types.DiagnosticSeverity.Warning,
    )


def _note(message: str, severity: types.DiagnosticSeverity) -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
        ),
        message=message,
        severity=severity,
        source="handrail",
    )
