"""Code lenses on each begin marker: the block's status, risk tier and task, then the actions:
verify the block or its task, and what the author can record from the editor (a manual trace,
"I can explain every line")."""

from __future__ import annotations

import weakref

from lsprotocol import types

from handrail.ledger.evidence import BlockEvidence, status_summary
from handrail.lsp.features.commands import EXPLAIN, RECORD_TRACE
from handrail.lsp.features.common import first_words, lsp_range
from handrail.lsp.features.verification import VERIFY, verify_lens_command
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis, classify


def _actions(
    evidence: BlockEvidence | None, block_id: str, task_id: str, uri: str
) -> list[types.Command]:
    arguments = [{"block": block_id, "uri": uri}]
    commands = [
        verify_lens_command(block_id, uri),
        types.Command("Verify task", VERIFY, arguments=[{"task": task_id, "uri": uri}]),
    ]
    if evidence is None:
        return commands
    if "trace" in evidence.needs:
        commands.append(types.Command("Record trace", RECORD_TRACE, arguments=arguments))
    if evidence.explanation_required and not evidence.explained:
        commands.append(types.Command("I can explain every line", EXPLAIN, arguments=arguments))
    return commands


_made: weakref.WeakKeyDictionary[HandrailServer, dict[str, tuple[object, list[types.CodeLens]]]] = (
    weakref.WeakKeyDictionary()
)


def code_lenses(server: HandrailServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    """The lenses of a document, made once per analysis (an unchanged document asks again
    whenever the editor scrolls or refocuses)."""
    uri = params.text_document.uri
    if classify(server.locate(uri)[1]) != "source":
        return []  # only source files hold blocks (and a task file's analysis counts tokens)
    analysis = server.analysis_for(uri)
    if analysis is None or analysis.source is None or analysis.folder is None:
        return []
    made = _made.setdefault(server, {})
    for gone in [u for u in made if u not in server.documents]:
        del made[gone]
    found = made.get(uri)
    if found is not None and found[0] is analysis:
        return found[1]
    lenses = _lenses(server, analysis)
    made[uri] = (analysis, lenses)
    return lenses


def _lenses(server: HandrailServer, analysis: DocumentAnalysis) -> list[types.CodeLens]:
    assert analysis.source is not None and analysis.folder is not None
    tasks = analysis.folder.snapshot.tasks.tasks
    lenses: list[types.CodeLens] = []
    for block in analysis.source.parsed.blocks:
        where = lsp_range(
            server,
            analysis.lines,
            block.begin_line,
            block.begin_columns[0],
            block.begin_line,
            block.begin_columns[1],
        )
        evidence = analysis.source.evidence.get(block.id)
        status = status_summary(evidence) if evidence is not None else "not checked"
        if evidence is not None and evidence.tier is not None:
            head, sep, needs = status.partition(" · needs ")
            status = f"{head} · risk tier {evidence.tier.name}{sep}{needs}"
        task = tasks.get(block.task_id)
        about = first_words(task.task.spec) if task is not None else "unknown task"
        title = f"{block.id}: {status} · task {block.task_id}: {about}"
        # An empty command id: the status is shown, and clicking it does nothing.
        shown = [types.Command(title, "")]
        shown += _actions(evidence, block.id, block.task_id, analysis.uri)
        lenses += [types.CodeLens(range=where, command=command) for command in shown]
    return lenses


def register(server: HandrailServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def on_code_lens(ls: HandrailServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        return code_lenses(ls, params)
