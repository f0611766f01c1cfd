"""Inlay hints in task files: the tokens of each context entry and the total of the budget.

The numbers come from the task file's analysis (the engine's context report), which is made
in the analysis thread pool: token counting never runs on the event loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from handrail.lsp.features.common import current_analysis, lsp_range
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis
from handrail.tasks.context_array import EntrySpan, scan_context_array
from handrail.wording import plural

if TYPE_CHECKING:
    # Types only: the context check (tokenizer, secret scanner) loads with the first task
    # file's analysis, not with the server (issue 17).
    from handrail.context.check import ContextReport, EntryReport


def entry_label(entry: EntryReport) -> str:
    if entry.tokens is None:
        return f"{entry.status}"
    label = plural(entry.tokens, "token", grouped=True)
    return label if entry.status == "ok" else f"{label}, {entry.status}"


def total_label(report: ContextReport) -> str:
    label = (
        f"total {report.total_tokens:,} of {report.max_tokens:,} tokens ({report.encoding_used})"
    )
    if report.total_tokens > report.max_tokens:
        label += f", over by {report.total_tokens - report.max_tokens:,}"
    return label


def _hint(
    server: HandrailServer, analysis: DocumentAnalysis, line: int, column: int, label: str
) -> types.InlayHint:
    position = lsp_range(server, analysis.lines, line, column).start
    return types.InlayHint(position=position, label=label, padding_left=True)


def inlay_hints(
    server: HandrailServer, analysis: DocumentAnalysis, wanted: types.Range
) -> list[types.InlayHint]:
    task = analysis.task
    if analysis.kind != "task" or task is None or task.context is None:
        return []
    report = task.context
    array = scan_context_array(analysis.text)
    spans: list[EntrySpan | None] = list(array.entries) if array is not None else []
    if len(spans) != len(report.entries):
        spans = [None] * len(report.entries)
    per_line: dict[int, int] = {}
    for entry in report.entries:
        per_line[entry.line] = per_line.get(entry.line, 0) + 1
    hints: list[types.InlayHint] = []
    for entry, span in zip(report.entries, spans, strict=True):
        line = entry.line
        if not 1 <= line <= len(analysis.lines):
            continue
        if per_line[line] > 1 and span is not None and span.line == line:
            column = span.end_column + (1 if span.closed else 0)  # after the closing quote
        else:
            column = len(analysis.lines[line - 1]) + 1
        hints.append(_hint(server, analysis, line, column, entry_label(entry)))
    if array is not None and array.close is not None:
        line, column = array.close
        hints.append(_hint(server, analysis, line, column + 1, total_label(report)))
    first, last = wanted.start.line, wanted.end.line
    return [h for h in hints if first <= h.position.line <= last]


def register(server: HandrailServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
    async def on_inlay_hint(
        ls: HandrailServer, params: types.InlayHintParams
    ) -> list[types.InlayHint]:
        analysis = await current_analysis(ls, params.text_document.uri)
        if analysis is None:
            return []
        return inlay_hints(ls, analysis, params.range)
