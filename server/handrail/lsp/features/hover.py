"""Hover on block markers and task ids: the spec, the context, the verification history.

The context summary of a task needs its token counts, which read files and may load the
tokenizer: it is made in the analysis thread pool and kept per task until the folder's
snapshot is reloaded, so a repeated hover costs a dictionary lookup.
"""

from __future__ import annotations

import asyncio
import functools
import re
import shlex
import weakref
from typing import TYPE_CHECKING

from lsprotocol import types

from handrail.lsp.features.accepted import accepted_in
from handrail.lsp.features.common import current_analysis, engine_position, lsp_range
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis, FolderState
from handrail.wording import plural

if TYPE_CHECKING:
    # The engine (pydantic models, the ledger) is imported after `initialize` is answered,
    # with the first request that needs it (issue 17).
    from handrail.ledger.evidence import BlockEvidence
    from handrail.ledger.records import VerificationRun
    from handrail.tasks.model import LoadedTask

MAX_RUNS_SHOWN = 5
MAX_TESTS_SHOWN = 5


@functools.cache
def _task_word() -> re.Pattern[str]:
    from handrail.tasks.model import TASK_ID_PATTERN

    return re.compile(rf"(?<![A-Za-z0-9]){TASK_ID_PATTERN}(?![A-Za-z0-9])")


_summaries: weakref.WeakKeyDictionary[FolderState, dict[tuple[int, str], str]] = (
    weakref.WeakKeyDictionary()
)


def context_line(report_entries: int, total: int, budget: int, encoding: str) -> str:
    over = f", **over by {total - budget:,}**" if total > budget else ""
    entries = plural(report_entries, "entry", "entries")
    return f"**Context:** {entries}, {total:,} of {budget:,} tokens ({encoding}){over}"


async def context_summary(server: HandrailServer, folder: FolderState, task: LoadedTask) -> str:
    cache = _summaries.setdefault(folder, {})
    key = (folder.generation, task.task.id)
    found = cache.get(key)
    if found is None:
        from handrail.analysis import context_report

        loop = asyncio.get_running_loop()
        report = await loop.run_in_executor(
            server.diagnostics.executor, context_report, folder.snapshot, task
        )
        found = context_line(
            len(report.entries), report.total_tokens, report.max_tokens, report.encoding_used
        )
        stale = [k for k in cache if k[0] != folder.generation]
        for k in stale:
            del cache[k]
        cache[key] = found
    return found


def _run_line(run: VerificationRun, block_id: str, current_hash: str) -> str:
    from handrail.ledger.evidence import run_result_for_block

    when = run.finished_at.strftime("%Y-%m-%d %H:%M UTC")
    outcome = run_result_for_block(run, block_id)
    content = "this content" if run.blocks.get(block_id) == current_hash else "earlier content"
    return f"- {when}: {outcome}, `{shlex.join(run.command)}` on {content}"


def _evidence_lines(evidence: BlockEvidence) -> list[str]:
    from handrail.ledger.evidence import lines_summary, probe_summary

    lines = ["**Verification history:**"]
    runs = evidence.runs[:MAX_RUNS_SHOWN]
    lines += [_run_line(r, evidence.block_id, evidence.content_hash) for r in runs]
    if not runs:
        lines.append("- no verification run yet")
    elif len(evidence.runs) > len(runs):
        lines.append(f"- … and {plural(len(evidence.runs) - len(runs), 'earlier run')}")
    coverage = evidence.coverage
    if coverage is not None:
        figure = lines_summary(coverage) or ""
        names = sorted(coverage.tests)[:MAX_TESTS_SHOWN]
        more = coverage.test_count - len(names)
        shown = ", ".join(f"`{n}`" for n in names) + (f" and {more} more" if more > 0 else "")
        lines += ["", f"**Lines:** {figure}" + (f": {shown}" if names else "")]
        if coverage.failed_tests:
            failing = ", ".join(f"`{n}`" for n in coverage.failed_tests[:MAX_TESTS_SHOWN])
            lines.append(f"**Failing tests that ran it:** {failing}")
    probed = probe_summary(evidence)
    if probed is not None:
        lines.append(
            f"**Probe** (do the tests fail when it breaks?): {probed.removeprefix('probe ')}"
        )
    tier = evidence.tier
    lines.append("")
    lines.append(f"**Risk tier:** {tier.name if tier is not None else 'none'}")
    if tier is not None and "trace" in tier.requires:
        lines.append(f"**Manual trace:** {'recorded' if evidence.traced else 'needed'}")
    if evidence.explanation_required:
        said = "recorded" if evidence.explained else "not yet"
        lines.append(f'**"I can explain every line":** {said}')
    return lines


async def _block_hover(
    server: HandrailServer, analysis: DocumentAnalysis, line: int
) -> types.Hover | None:
    source, folder = analysis.source, analysis.folder
    if source is None or folder is None:
        return None
    block = source.parsed.block_at(line)
    if block is None or line not in (block.begin_line, block.end_line):
        return None
    from handrail.ledger.evidence import status_summary

    evidence = source.evidence.get(block.id)
    status = status_summary(evidence) if evidence is not None else "not checked"
    parts = [f"**Generated block {block.id}** · {status}", ""]
    task = folder.snapshot.tasks.tasks.get(block.task_id)
    parts += await _task_lines(server, folder, block.task_id, task)
    if evidence is not None:
        parts += ["", *_evidence_lines(evidence)]
    where = lsp_range(server, analysis.lines, line, 1, line, len(analysis.lines[line - 1]) + 1)
    return _hover("\n".join(parts), where)


async def _task_lines(
    server: HandrailServer, folder: FolderState, task_id: str, task: LoadedTask | None
) -> list[str]:
    if task is None:
        return [f"**Task {task_id}:** unknown (no file .handrail/tasks/{task_id}.toml)"]
    lines = [
        f"**Task {task_id}** ({task.rel})",
        "",
        *(f"> {s}" for s in task.task.spec.split("\n")),
    ]
    lines += ["", await context_summary(server, folder, task)]
    if task.task.risk:
        lines.append(f"**Risk tier (set by the task):** {task.task.risk}")
    return lines


async def _task_hover(
    server: HandrailServer, analysis: DocumentAnalysis, line: int, column: int
) -> types.Hover | None:
    folder = analysis.folder
    if folder is None or not 1 <= line <= len(analysis.lines):
        return None
    text = analysis.lines[line - 1]
    for match in _task_word().finditer(text):
        if not match.start() < column <= match.end() + 1:
            continue
        task_id = match.group(0)
        task = folder.snapshot.tasks.tasks.get(task_id)
        if task is None:
            return None
        parts = await _task_lines(server, folder, task_id, task)
        blocks = folder.snapshot.index.blocks_of_task(task_id)
        if blocks:
            parts += ["", f"**Blocks in the ledger:** {', '.join(blocks)}"]
        where = lsp_range(server, analysis.lines, line, match.start() + 1, line, match.end() + 1)
        return _hover("\n".join(parts), where)
    return None


def _accepted_hover(
    server: HandrailServer, analysis: DocumentAnalysis, line: int
) -> types.Hover | None:
    """Provenance of accepted code (markers removed): what `handrail blame` says of the line,
    from the blocks found once per analysis (shared with the accepted-code lens)."""
    for block in accepted_in(server, analysis):
        if line not in block.lines:
            continue
        verdict = "verified" if block.verified else f"not verified ({block.status})"
        spec = " ".join((block.spec or "(the task file is gone)").split())
        parts = [
            f"**Generated, accepted: {block.block_id}** · {block.state} · {verdict}",
            "",
            f"> {spec}",
            "",
            block.detail,
            "",
            *(
                f"- {e.at:%Y-%m-%d %H:%M} UTC {e.what}{f' by {e.who}' if e.who else ''}"
                for e in block.events
            ),
        ]
        first, last = block.first_line, block.last_line
        where = lsp_range(server, analysis.lines, first, 1, last, len(analysis.lines[last - 1]) + 1)
        return _hover("\n".join(parts), where)
    return None


def _hover(markdown: str, where: types.Range) -> types.Hover:
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
        range=where,
    )


async def hover(server: HandrailServer, params: types.HoverParams) -> types.Hover | None:
    analysis = await current_analysis(server, params.text_document.uri)
    if analysis is None or analysis.folder is None:
        return None
    line, column = engine_position(server, analysis.lines, params.position)
    if analysis.kind == "source":
        found = await _block_hover(server, analysis, line)
        if found is None:
            found = _accepted_hover(server, analysis, line)
        if found is not None:
            return found
    if analysis.kind in ("source", "task"):
        return await _task_hover(server, analysis, line, column)
    return None


def register(server: HandrailServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: HandrailServer, params: types.HoverParams) -> types.Hover | None:
        return await hover(ls, params)
