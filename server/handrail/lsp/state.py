"""What the server knows: one `FolderState` per workspace folder, one `DocumentAnalysis` per
open document, and the function that turns a document's text into its analysis.

No rule logic here: every finding comes from `handrail.analysis`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from handrail.findings import Finding
from handrail.lsp.convert import split_lines
from handrail.workspace import HANDRAIL_DIR, TASKS_DIR, WORKFLOW_FILE, Workspace

if TYPE_CHECKING:
    # The engine (and with it pydantic) is imported when a folder is first read, not at
    # start: `initialize` is answered without it (issue 17).
    from handrail.analysis import (
        RuleFailure,
        Snapshot,
        SourceAnalysis,
        SourceAnalysisCache,
        TaskAnalysis,
    )
    from handrail.marking.ids import MarkerIndex

DocumentKind = Literal["source", "task", "workflow", "other"]
log = logging.getLogger(__name__)


class FolderState:
    """One workspace folder (multi-root: each has its own workflow, tasks and ledger).

    `snapshot` is reloaded when `.handrail/**` or a `.gitignore` changes on disk, or when a
    command of ours wrote to the ledger; `generation` counts the reloads, so an analysis made
    against an older snapshot is known to be stale.
    """

    def __init__(self, ws: Workspace, *, implicit: bool = False) -> None:
        self.ws = ws
        self.implicit = implicit
        """True for a folder found from a file outside every workspace folder."""
        self.generation = 0
        self.active_task: str | None = None
        """The task the developer is working on: set by `handrail.setActiveTask`, by a task
        created, or by generating for one. Files changed on disk meanwhile get HR308 hints."""
        self._lock = threading.Lock()
        self._sources: SourceAnalysisCache | None = None
        self._markers: MarkerIndex | None = None

    @property
    def snapshot(self) -> Snapshot:
        """Loaded on first use, so that `initialize` is answered without reading the ledger."""
        return self.sources.snapshot

    @property
    def sources(self) -> SourceAnalysisCache:
        """Source-file analysis against the current snapshot, block evidence remembered."""
        sources = self._sources
        if sources is None:
            with self._lock:
                if self._sources is None:
                    from handrail.analysis import Snapshot, SourceAnalysisCache

                    self._markers = _marker_index(self.ws)
                    self._sources = SourceAnalysisCache(Snapshot.load(self.ws))
                sources = self._sources
        return sources

    @property
    def markers(self) -> MarkerIndex:
        """Which saved file uses which block id (HR305 across files), read with the snapshot
        and kept up to date on every save of ours (`saved`)."""
        _ = self.sources
        markers = self._markers
        if markers is None:
            from handrail.marking.ids import MarkerIndex

            markers = MarkerIndex()
        return markers

    def saved(self, rel: str, text: str) -> bool:
        """A source file was saved with `text`: True when its block ids changed, so that the
        other open documents of the folder need analysing again."""
        from handrail.blocks.markers import parse_blocks

        return self.markers.update(rel, parse_blocks(text, rel))

    def load(self) -> None:
        """Read the snapshot now if it has not been read yet."""
        _ = self.sources

    @property
    def loaded(self) -> bool:
        """Whether the snapshot has been read (it is read on first use)."""
        return self._sources is not None

    @property
    def root(self) -> Path:
        return self.ws.root

    def reload(self) -> None:
        """Read the workflow, tasks and ledger again. On failure the old snapshot stays."""
        from handrail.analysis import Snapshot, SourceAnalysisCache

        markers = _marker_index(self.ws)
        sources = SourceAnalysisCache(Snapshot.load(self.ws))
        with self._lock:
            self._markers = markers
            self._sources = sources
            self.generation += 1

    def contains(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents


def _marker_index(ws: Workspace) -> MarkerIndex:
    """The block ids of the folder's files on disk; empty when they cannot be listed (then
    only duplicates within one document are shown, never a false one)."""
    from handrail.marking.ids import MarkerIndex

    try:
        return MarkerIndex.build(ws)
    except Exception as exc:  # a listing failure must not stop the folder from loading
        log.warning("Handrail could not index the block markers of %s: %s", ws.root, exc)
        return MarkerIndex()


def classify(rel: str | None) -> DocumentKind:
    """Which analysis a workspace-relative path gets."""
    if rel is None:
        return "other"
    parts = PurePosixPath(rel).parts
    if parts and parts[0] == HANDRAIL_DIR:
        if parts[1:] == (WORKFLOW_FILE,):
            return "workflow"
        if len(parts) == 3 and parts[1] == TASKS_DIR and parts[2].endswith(".toml"):
            return "task"
        return "other"
    return "source"


@dataclass(slots=True)
class DocumentAnalysis:
    """The latest analysis of one open document."""

    uri: str
    version: int | None
    kind: DocumentKind
    rel: str | None
    folder: FolderState | None
    text: str
    _lines: list[str] | None
    """`lines`, once split (None: not yet)."""
    findings: list[Finding]
    source: SourceAnalysis | None = None
    task: TaskAnalysis | None = None
    generation: int = -1
    """The folder's snapshot generation this analysis was made against."""
    too_large: bool = False
    """The document was over ``max_document_bytes`` and was not analysed (`text` is "": the
    analysis must not keep a second copy of a text that large)."""
    size: int = 0
    """The document's length in UTF-8 bytes, when it was too large."""
    extra: list[Finding] = field(default_factory=list)
    """Findings the server adds from the edit history (HR308), already in `findings`."""
    failures: list[RuleFailure] = field(default_factory=list)
    """Rules that raised on this text: each is logged and shown as one note; the others ran."""

    @property
    def lines(self) -> list[str]:
        """`text` split at the LSP line breaks, without them (pygls re-splits per access):
        split on first use, since publishing the diagnostics of an edit does without
        (`Diagnostics.publish` reads the document's own lines, issue 17)."""
        lines = self._lines
        if lines is None:
            lines = self._lines = split_lines(self.text)
        return lines

    @lines.setter
    def lines(self, value: list[str]) -> None:
        self._lines = value


def analyze_text(
    uri: str,
    version: int | None,
    text: str,
    *,
    folder: FolderState | None,
    rel: str | None,
    with_context: bool = True,
    today: dt.date | None = None,
) -> DocumentAnalysis:
    """Analyse one document's text with the engine. May raise: the caller isolates it."""
    from handrail.analysis import GuardedRules, analyze_task, analyze_workflow

    kind = classify(rel) if folder is not None else "other"
    result = DocumentAnalysis(uri, version, kind, rel, folder, text, None, [])
    if folder is None or rel is None:
        return result
    # The generation is read first: a reload in between makes this analysis look stale
    # (and be redone), never the other way round.
    result.generation = folder.generation
    sources = folder.sources
    snapshot = sources.snapshot
    rules = GuardedRules()
    if kind == "source":
        result.source = sources.analyze_source(rel, text, markers=folder.markers, rules=rules)
        result.findings = list(result.source.findings)
    elif kind == "task":
        result.task = analyze_task(snapshot, rel, text, with_context=with_context, rules=rules)
        result.findings = list(result.task.findings)
    elif kind == "workflow":
        today = today or dt.date.today()
        result.findings = analyze_workflow(folder.ws, text, today=today, rules=rules)
    result.failures = rules.failures
    return result
