"""Diagnostics: when documents are analysed, what is published, and the HR308 hints.

Open and save analyse at once; a change waits for the per-document debounce (an asyncio task
per document, cancelled by the next change). A result is published only while the document
is still open, in sync and at the version that was analysed, and always with that version.
Task files (token counting) are analysed in a worker thread, never on the event loop.

A large insertion (HR308) is known only from the edit that made it, so the server keeps the
line range of each such edit, moves it with later edits, and asks the engine
(`blocks.check.large_insertion`) again at every analysis: the hint goes once the lines are
marked, when the document is closed, or when the user dismisses it. Lines that changed on
disk while a task was active (`lsp.disk_changes`) are hints of the same kind that carry the
task: they survive opening the file, and `blocks.check.disk_insertion` judges them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from handrail.analysis import RuleFailure
from handrail.blocks.check import disk_insertion, large_insertion
from handrail.findings import Finding
from handrail.lsp.convert import finding_to_diagnostic
from handrail.lsp.documents import AppliedChange, Document, utf8_size
from handrail.lsp.state import DocumentAnalysis, analyze_text, classify

if TYPE_CHECKING:
    from handrail.lsp.server import HandrailServer

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


@dataclass(slots=True)
class InsertionHint:
    """Lines (1-based, inclusive) of one large edit, moved along with later edits."""

    start_line: int
    end_line: int
    task: str | None = None
    """Set when the lines changed on disk while this task was active (not an editor edit)."""


def shift_hints(hints: list[InsertionHint], change: AppliedChange) -> list[InsertionHint]:
    """The hints after one applied change (the change's lines are 0-based)."""
    first = change.start_line + 1
    old_last = first + change.removed_lines
    delta = change.inserted_lines - change.removed_lines
    moved: list[InsertionHint] = []
    for hint in hints:
        if hint.end_line < first:
            moved.append(hint)
        elif hint.start_line > old_last:
            moved.append(InsertionHint(hint.start_line + delta, hint.end_line + delta, hint.task))
        else:
            start = min(hint.start_line, first)
            end = max(first, hint.end_line + delta)
            moved.append(InsertionHint(start, end, hint.task))
    return moved


class Diagnostics:
    """Analysis scheduling and publishing for one server."""

    def __init__(self, server: HandrailServer) -> None:
        self.server = server
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._hints: dict[str, list[InsertionHint]] = {}
        self._analyses: dict[str, DocumentAnalysis] = {}
        self._lens_signatures: dict[str, object] = {}
        """Per document, the block places and states its lenses were last asked for with."""
        # Features may call `analysis_for` from a worker thread (task files): the hint and
        # analysis tables are shared with the event loop.
        self._lock = threading.RLock()
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="handrail-analysis")

    # -- the edit history (HR308) -------------------------------------------------------

    def note_changes(self, document: Document) -> None:
        """Move the hints of `document` along its latest changes, and start new ones."""
        threshold = self._insertion_threshold(document.uri)
        with self._lock:
            hints = self._hints.get(document.uri, [])
            for change in document.changes:
                hints = shift_hints(hints, change)
                # The hint covers exactly the lines that hold inserted text: a paste ending
                # with a line break does not take in the line that follows it.
                last = change.last_inserted_line
                if threshold is not None and last - change.start_line + 1 >= threshold:
                    hints.append(InsertionHint(change.start_line + 1, last + 1))
            if hints:
                self._hints[document.uri] = hints
            else:
                self._hints.pop(document.uri, None)

    def _insertion_threshold(self, uri: str) -> int | None:
        folder = self.server.folder_for(uri)
        if folder is None:
            return None
        try:
            return folder.snapshot.workflow.workflow.detection.large_insertion_lines
        except Exception as exc:  # an unreadable folder: its analysis reports the failure
            log.warning("no large-insertion threshold for %s: %s", uri, exc)
            return None

    def dismiss_insertion(self, uri: str, line: int) -> bool:
        """Forget the hint that covers 1-based `line`; True when there was one."""
        with self._lock:
            hints = self._hints.get(uri, [])
            kept = [h for h in hints if not h.start_line <= line <= h.end_line]
            if len(kept) == len(hints):
                return False
            if kept:
                self._hints[uri] = kept
            else:
                self._hints.pop(uri, None)
            self._analyses.pop(uri, None)
            return True

    def _insertion_findings(self, analysis: DocumentAnalysis) -> list[Finding]:
        hints = self._hints.get(analysis.uri)
        if not hints or analysis.source is None or analysis.folder is None or not analysis.rel:
            return []
        workflow = analysis.folder.snapshot.workflow.workflow
        found: list[Finding] = []
        kept: list[InsertionHint] = []
        for hint in hints:
            judge = (
                functools.partial(disk_insertion, task_id=hint.task)
                if hint.task is not None
                else large_insertion
            )
            finding = judge(
                analysis.text,
                analysis.source.parsed,
                path=analysis.rel,
                start_line=hint.start_line,
                end_line=hint.end_line,
                workflow=workflow,
            )
            if finding is not None:
                found.append(finding)
                kept.append(hint)
        if kept:
            self._hints[analysis.uri] = kept
        else:
            self._hints.pop(analysis.uri, None)
        return found

    def set_disk_hints(self, uri: str, hints: list[InsertionHint]) -> None:
        """Replace the on-disk hints of `uri` (its editor-edit hints stay)."""
        with self._lock:
            kept = [h for h in self._hints.get(uri, []) if h.task is None] + hints
            if kept:
                self._hints[uri] = kept
            else:
                self._hints.pop(uri, None)
            self._analyses.pop(uri, None)

    # -- analysing ----------------------------------------------------------------------

    def cached(self, uri: str) -> DocumentAnalysis | None:
        """The latest analysis when it still matches the document and its folder."""
        analysis = self._analyses.get(uri)
        document = self.server.documents.get(uri)
        if analysis is None or document is None or document.out_of_sync is not None:
            return None
        if analysis.version != document.version or analysis.text is not document.text:
            return None
        if analysis.folder is not None and analysis.generation != analysis.folder.generation:
            return None
        return analysis

    def analyze(
        self, uri: str, version: int | None, text: str, *, with_context: bool = True
    ) -> DocumentAnalysis:
        """Analyse one version of a document; never raises. Safe on a worker thread: it
        touches no server state but the folder snapshot."""
        folder, rel = self.server.locate(uri)
        limit = self.server.settings.max_document_bytes
        if len(text) * 4 > limit and (size := utf8_size(text)) > limit:
            return self._too_large(uri, version, size)
        try:
            analysis = analyze_text(
                uri, version, text, folder=folder, rel=rel, with_context=with_context
            )
            analysis.findings = [f for f in analysis.findings if f.path == rel]
            for failure in analysis.failures:
                self.server.log_error(
                    f"Handrail could not run {failure.rule} on {rel or uri}: "
                    f"{type(failure.error).__name__}: {failure.error}. Other findings are shown.",
                    failure.error,
                )
        except Exception as exc:  # one document's failure must not take the server down
            self.server.log_error(
                f"Handrail could not analyse {rel or uri}: {type(exc).__name__}: {exc}. "
                "Its findings are not shown; other documents are unaffected.",
                exc,
            )
            analysis = DocumentAnalysis(uri, version, "other", rel, folder, text, [], [])
            analysis.lines = text.split("\n")
        return analysis

    def _too_large(self, uri: str, version: int | None, size: int) -> DocumentAnalysis:
        """The analysis of a document over the limit: none, and none of its text."""
        folder, rel = self.server.locate(uri)
        return DocumentAnalysis(
            uri, version, "other", rel, folder, "", [""], [], too_large=True, size=size
        )

    def _analyze_document(self, document: Document) -> DocumentAnalysis:
        """`analyze` for an open document (one over the limit is never joined or copied)."""
        if document.over_limit:
            return self._too_large(document.uri, document.version, document.size)
        return self.analyze(document.uri, document.version, document.text)

    def _finish(self, analysis: DocumentAnalysis) -> DocumentAnalysis:
        """Add the edit-history hints (on the event loop: they are server state)."""
        with self._lock:
            try:
                analysis.extra = self._insertion_findings(analysis)
            except Exception as exc:
                self.server.log_error(f"Handrail could not check large insertions: {exc}", exc)
                analysis.extra = []
            analysis.findings = analysis.findings + analysis.extra
            self._analyses[analysis.uri] = analysis
        return analysis

    def analysis_for(self, uri: str) -> DocumentAnalysis | None:
        document = self.server.documents.get(uri)
        if document is None or document.out_of_sync is not None:
            return None
        analysis = self.cached(uri)
        if analysis is None:
            analysis = self._finish(self._analyze_document(document))
        return analysis

    # -- scheduling ---------------------------------------------------------------------

    def schedule(self, uri: str, delay_ms: int | None = None) -> None:
        """Analyse and publish `uri` after `delay_ms` (the debounce setting by default);
        a later call for the same document cancels this one."""
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        delay = self.server.settings.debounce_ms if delay_ms is None else delay_ms
        task = asyncio.get_running_loop().create_task(self._run(uri, delay))
        self._pending[uri] = task
        task.add_done_callback(lambda done: self._forget(uri, done))

    def _forget(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._pending.get(uri) is task:
            del self._pending[uri]

    async def _run(self, uri: str, delay_ms: int) -> None:
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        document = self.server.documents.get(uri)
        if document is None:
            return
        if document.out_of_sync is not None:
            self.publish_out_of_sync(document)
            return
        if document.over_limit:
            self.publish(self._finish(self._analyze_document(document)))
            return
        version, text = document.version, document.text
        folder, rel = self.server.locate(uri)
        if folder is not None and classify(rel) == "task":
            loop = asyncio.get_running_loop()
            analysis = await loop.run_in_executor(
                self.executor, functools.partial(self.analyze, uri, version, text)
            )
        else:
            analysis = self.analyze(uri, version, text)
        current = self.server.documents.get(uri)
        if current is not document or document.version != version or document.text is not text:
            return  # a newer version arrived meanwhile: its own run publishes
        if document.out_of_sync is not None:
            return
        self.publish(self._finish(analysis))
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
        self.server.refresh_lenses()

    async def analyze_all_now(self, uris: Iterable[str]) -> None:
        """Analyse and publish every document in `uris` now (after a reload)."""
        for uri in list(uris):
            if uri in self.server.documents:
                self._analyses.pop(uri, None)
                await self._run(uri, 0)

    # -- publishing ---------------------------------------------------------------------

    def diagnostics_of(self, analysis: DocumentAnalysis) -> list[types.Diagnostic]:
        notes = [_failure_note(failure) for failure in analysis.failures]
        return self._finding_diagnostics(analysis) + notes

    def _finding_diagnostics(self, analysis: DocumentAnalysis) -> list[types.Diagnostic]:
        if analysis.too_large:
            message = TOO_LARGE_MESSAGE.format(
                size=analysis.size, limit=self.server.settings.max_document_bytes
            )
            return [_note(message, types.DiagnosticSeverity.Information)]
        encoding = self.server.position_encoding
        base = self.server.docs_url(analysis.folder)
        return [finding_to_diagnostic(f, analysis.lines, encoding, base) for f in analysis.findings]

    def publish(self, analysis: DocumentAnalysis) -> None:
        if self.server.client_pulls_diagnostics:
            return  # the client asks (`pull`); pushing too would show everything twice
        items = self.diagnostics_of(analysis)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=analysis.uri, diagnostics=items, version=analysis.version
            )
        )

    def publish_out_of_sync(self, document: Document) -> None:
        self._analyses.pop(document.uri, None)
        if self.server.client_pulls_diagnostics:
            return  # `pull` answers with the same note
        message = OUT_OF_SYNC_MESSAGE.format(reason=document.out_of_sync)
        items = [_note(message, types.DiagnosticSeverity.Information)]
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=document.uri, diagnostics=items, version=document.version
            )
        )

    def pull(self, uri: str) -> list[types.Diagnostic]:
        """What `textDocument/diagnostic` answers: the same list a push would carry."""
        document = self.server.documents.get(uri)
        if document is None:
            return []
        if document.out_of_sync is not None:
            return [
                _note(
                    OUT_OF_SYNC_MESSAGE.format(reason=document.out_of_sync),
                    types.DiagnosticSeverity.Information,
                )
            ]
        analysis = self.analysis_for(uri)
        return self.diagnostics_of(analysis) if analysis is not None else []

    def forget(self, uri: str, *, keep_disk_hints: bool = False) -> None:
        """Drop everything known about `uri` (an open starts afresh: no edit hints on open;
        the on-disk hints stay then, as the file was opened to look at them)."""
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()
        with self._lock:
            disk = [h for h in self._hints.get(uri, []) if h.task is not None]
            self._hints.pop(uri, None)
            if keep_disk_hints and disk:
                self._hints[uri] = disk
            self._analyses.pop(uri, None)
        self._lens_signatures.pop(uri, None)

    def close(self, uri: str) -> None:
        """Forget `uri` and clear what was published for it."""
        self.forget(uri)
        self.server.text_document_publish_diagnostics(
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
