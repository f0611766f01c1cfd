"""The HR308 hints: line ranges of large insertions, kept per document and moved with edits.

A large insertion is known only from the edit that made it, so the server keeps the line
range of each such edit, moves it with later edits, and asks the engine
(`blocks.check.large_insertion`) again at every analysis: the hint goes once the lines are
marked, when the document is closed, or when the user dismisses it. Lines that changed on
disk while a task was active (`lsp.disk_changes`) are hints of the same kind that carry the
task: they survive opening the file, and `blocks.check.disk_insertion` judges them.

The store is shared by the event loop and worker threads (features may ask for an analysis
from one), hence its lock.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from handrail.lsp.documents import AppliedChange, Document

if TYPE_CHECKING:
    from handrail.findings import Finding
    from handrail.lsp.state import DocumentAnalysis


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


class InsertionHints:
    """The hints of every document, by URI."""

    def __init__(self) -> None:
        self._hints: dict[str, list[InsertionHint]] = {}
        self.lock = threading.RLock()

    def _put(self, uri: str, hints: list[InsertionHint]) -> None:
        if hints:
            self._hints[uri] = hints
        else:
            self._hints.pop(uri, None)

    def note_changes(self, document: Document, threshold: int | None) -> None:
        """Move the hints of `document` along its latest changes, and start new ones for
        insertions of at least `threshold` lines (None: the folder sets none)."""
        with self.lock:
            hints = self._hints.get(document.uri, [])
            for change in document.changes:
                hints = shift_hints(hints, change)
                # The hint covers exactly the lines that hold inserted text: a paste ending
                # with a line break does not take in the line that follows it.
                last = change.last_inserted_line
                if threshold is not None and last - change.start_line + 1 >= threshold:
                    hints.append(InsertionHint(change.start_line + 1, last + 1))
            self._put(document.uri, hints)

    def dismiss(self, uri: str, line: int) -> bool:
        """Forget the hint that covers 1-based `line`; True when there was one."""
        with self.lock:
            hints = self._hints.get(uri, [])
            kept = [h for h in hints if not h.start_line <= line <= h.end_line]
            if len(kept) == len(hints):
                return False
            self._put(uri, kept)
            return True

    def set_disk_hints(self, uri: str, hints: list[InsertionHint]) -> None:
        """Replace the on-disk hints of `uri` (its editor-edit hints stay)."""
        with self.lock:
            self._put(uri, [h for h in self._hints.get(uri, []) if h.task is None] + hints)

    def forget(self, uri: str, *, keep_disk_hints: bool = False) -> None:
        """Drop the hints of `uri`, or only its editor-edit ones."""
        with self.lock:
            disk = [h for h in self._hints.get(uri, []) if h.task is not None]
            self._put(uri, disk if keep_disk_hints else [])

    def findings(self, analysis: DocumentAnalysis) -> list[Finding]:
        """The HR308 findings of `analysis`' document; hints the engine no longer reports
        (the lines were marked) are dropped."""
        from handrail.blocks.check import disk_insertion, large_insertion

        with self.lock:
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
            self._put(analysis.uri, kept)
            return found
