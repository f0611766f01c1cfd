"""The analysis cache: each open document's latest analysis, made by the engine on demand.

An analysis is the engine's findings for one version of a document's text (`lsp.state`)
plus the HR308 hints of its edit history (`lsp.insertion_hints`). It stays valid while the
document keeps that version and text and its folder keeps the snapshot generation it was made
against; features and the diagnostics scheduler both read it from here, so a document is
analysed once per version whoever asks first.

Collaborators are the few it needs: the document store, a function giving a document's
place (`FolderRegistry.place_of`), the size limit, and an error log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from handrail.lsp.documents import Document, DocumentStore, utf8_size
from handrail.lsp.insertion_hints import InsertionHint, InsertionHints
from handrail.lsp.registry import LogError, Place
from handrail.lsp.state import DocumentAnalysis, analyze_text

log = logging.getLogger("handrail.lsp")

PlaceOf = Callable[[str, int | None], Place]


class AnalysisCache:
    """The latest analysis of every open document, and the hints that go into it."""

    def __init__(
        self,
        documents: DocumentStore,
        place_of: PlaceOf,
        max_document_bytes: Callable[[], int],
        log_error: LogError,
    ) -> None:
        self._documents = documents
        self._place_of = place_of
        self._max_bytes = max_document_bytes
        self._log_error = log_error
        self.hints = InsertionHints()
        self._analyses: dict[str, DocumentAnalysis] = {}
        # Features may call `analysis_for` from a worker thread (task files): the hint and
        # analysis tables are shared with the event loop, under the hints' lock.
        self._lock = self.hints.lock

    def cached(self, uri: str) -> DocumentAnalysis | None:
        """The latest analysis when it still matches the document and its folder."""
        analysis = self._analyses.get(uri)
        document = self._documents.get(uri)
        if analysis is None or document is None or document.out_of_sync is not None:
            return None
        if analysis.version != document.version or analysis.text is not document.text:
            return None
        if analysis.folder is not None and analysis.generation != analysis.folder.generation:
            return None
        return analysis

    def analysis_for(self, uri: str) -> DocumentAnalysis | None:
        """The analysis of open document `uri` at its current version (made now if stale);
        None when it is not open or its text is out of sync with the editor."""
        document = self._documents.get(uri)
        if document is None or document.out_of_sync is not None:
            return None
        analysis = self.cached(uri)
        if analysis is None:
            place = self._place_of(uri, document.version)
            analysis = self.finish(self.analyze_document(document, place))
        return analysis

    def analyze(
        self,
        uri: str,
        version: int | None,
        text: str,
        place: Place | None = None,
        *,
        with_context: bool = True,
    ) -> DocumentAnalysis:
        """Analyse one version of a document; never raises. Safe on a worker thread: it
        touches nothing shared but the folder snapshot. `place` is the document's, when the
        caller has resolved it already."""
        if place is None:
            place = self._place_of(uri, version)
        folder, rel = place.folder, place.rel
        limit = self._max_bytes()
        if len(text) * 4 > limit and (size := utf8_size(text)) > limit:
            return self._too_large(uri, version, size, place)
        try:
            analysis = analyze_text(
                uri, version, text, folder=folder, rel=rel, with_context=with_context
            )
            analysis.findings = [f for f in analysis.findings if f.path == rel]
            for failure in analysis.failures:
                self._log_error(
                    f"Handrail could not run {failure.rule} on {rel or uri}: "
                    f"{type(failure.error).__name__}: {failure.error}. Other findings are shown.",
                    failure.error,
                )
        except Exception as exc:  # one document's failure must not take the server down
            self._log_error(
                f"Handrail could not analyse {rel or uri}: {type(exc).__name__}: {exc}. "
                "Its findings are not shown; other documents are unaffected.",
                exc,
            )
            analysis = DocumentAnalysis(uri, version, "other", rel, folder, text, [], [])
            analysis.lines = text.split("\n")
        return analysis

    @staticmethod
    def _too_large(uri: str, version: int | None, size: int, place: Place) -> DocumentAnalysis:
        """The analysis of a document over the limit: none, and none of its text."""
        return DocumentAnalysis(
            uri, version, "other", place.rel, place.folder, "", [""], [], too_large=True, size=size
        )

    def analyze_document(self, document: Document, place: Place) -> DocumentAnalysis:
        """`analyze` for an open document (one over the limit is never joined or copied)."""
        if document.over_limit:
            return self._too_large(document.uri, document.version, document.size, place)
        return self.analyze(document.uri, document.version, document.text, place)

    def finish(self, analysis: DocumentAnalysis) -> DocumentAnalysis:
        """Add the edit-history hints and keep the result (on the event loop, or under the
        lock: hints are shared state)."""
        with self._lock:
            try:
                analysis.extra = self.hints.findings(analysis)
            except Exception as exc:
                self._log_error(f"Handrail could not check large insertions: {exc}", exc)
                analysis.extra = []
            analysis.findings = analysis.findings + analysis.extra
            self._analyses[analysis.uri] = analysis
        return analysis

    def drop(self, uri: str) -> None:
        """Forget the analysis of `uri` (it is made again when next asked for)."""
        with self._lock:
            self._analyses.pop(uri, None)

    # -- the hints, which change what an analysis holds -------------------------------------

    def note_changes(self, document: Document, place: Place) -> None:
        """Move the HR308 hints of `document` along its latest changes, and start new ones."""
        self.hints.note_changes(document, _insertion_threshold(place, document.uri))

    def dismiss_insertion(self, uri: str, line: int) -> bool:
        """Forget the hint that covers 1-based `line`; True when there was one."""
        with self._lock:
            dismissed = self.hints.dismiss(uri, line)
            if dismissed:
                self._analyses.pop(uri, None)
            return dismissed

    def set_disk_hints(self, uri: str, hints: list[InsertionHint]) -> None:
        """Replace the on-disk hints of `uri` (its editor-edit hints stay)."""
        with self._lock:
            self.hints.set_disk_hints(uri, hints)
            self._analyses.pop(uri, None)

    def forget(self, uri: str, *, keep_disk_hints: bool = False) -> None:
        """Drop everything known about `uri` (an open starts afresh: no edit hints on open;
        the on-disk hints stay then, as the file was opened to look at them)."""
        with self._lock:
            self.hints.forget(uri, keep_disk_hints=keep_disk_hints)
            self._analyses.pop(uri, None)


def _insertion_threshold(place: Place, uri: str) -> int | None:
    if place.folder is None:
        return None
    try:
        return place.folder.snapshot.workflow.workflow.detection.large_insertion_lines
    except Exception as exc:  # an unreadable folder: its analysis reports the failure
        log.warning("no large-insertion threshold for %s: %s", uri, exc)
        return None
