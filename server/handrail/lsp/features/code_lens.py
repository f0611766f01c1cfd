"""Code lenses on each begin marker, a few words long: the block's state ("unverified",
"failing", "needs explanation", or "verified"), then the next steps ("Verify", "Trace",
"Explain"). A long lens was cut off by the editor; the details (when it was verified, the risk
tier, the task's spec) are in the status lens's tooltip and the hover. The state comes from the
same block findings as the diagnostics and the gate (`handrail.ledger.states`).

With the setting ``lens.acceptedCode`` on, accepted code (markers removed) gets a lens too, on
the first line of each block still in the file (`handrail.lsp.features.accepted`)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from lsprotocol import types

from handrail.findings import Finding
from handrail.lsp.features.accepted import accepted_lenses
from handrail.lsp.features.commands import EXPLAIN, RECORD_TRACE
from handrail.lsp.features.common import first_words, lsp_range
from handrail.lsp.features.verification import verify_lens_command
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis, classify

if TYPE_CHECKING:
    # The engine (pydantic models, the ledger) is imported after `initialize` is answered,
    # with the first request that needs it (issue 17).
    from handrail.ledger.evidence import BlockEvidence


def _actions(evidence: BlockEvidence | None, block_id: str, uri: str) -> list[types.Command]:
    """The next steps, the first one first: verify, then trace, then explain."""
    arguments = [{"block": block_id, "uri": uri}]
    commands: list[types.Command] = []
    if evidence is None or evidence.status != "verified":
        commands.append(verify_lens_command(block_id, uri, "Verify"))
    if evidence is None:
        return commands
    if "trace" in evidence.needs:
        commands.append(
            types.Command(
                "Trace",
                RECORD_TRACE,
                arguments=arguments,
                tooltip=f"Record that you walked through {block_id} by hand (manual trace)",
            )
        )
    if evidence.explanation_required and not evidence.explained:
        commands.append(
            types.Command(
                "Explain",
                EXPLAIN,
                arguments=arguments,
                tooltip=f"Record that you can explain every line of {block_id}",
            )
        )
    return commands


def block_state_words(findings: list[Finding], block_id: str) -> str:
    """The block's states from its findings, most urgent first; "verified" when none."""
    from handrail.ledger.states import STATE_ORDER, state_of

    states: list[str] = []
    for finding in findings:
        if finding.data.get("block_id") != block_id:
            continue
        state = state_of(finding)
        if state is not None and state not in states:
            states.append(state)
    states.sort(key=lambda s: STATE_ORDER.index(s) if s in STATE_ORDER else len(STATE_ORDER))
    return ", ".join(states) if states else "verified"


_made: weakref.WeakKeyDictionary[
    HandrailServer, dict[str, tuple[object, bool, list[types.CodeLens]]]
] = weakref.WeakKeyDictionary()


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
    accepted = server.settings.accepted_code_lens
    found = made.get(uri)
    if found is not None and found[0] is analysis and found[1] == accepted:
        return found[2]
    lenses = _lenses(server, analysis) + accepted_lenses(server, analysis)
    made[uri] = (analysis, accepted, lenses)
    return lenses


def _lenses(server: HandrailServer, analysis: DocumentAnalysis) -> list[types.CodeLens]:
    assert analysis.source is not None and analysis.folder is not None
    from handrail.ledger.evidence import status_summary

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
            status += f" · risk tier {evidence.tier.name}"
        task = tasks.get(block.task_id)
        about = first_words(task.task.spec) if task is not None else "unknown task"
        # An empty command id: the state is shown, and clicking it does nothing; the details
        # are its tooltip.
        shown = [
            types.Command(
                block_state_words(analysis.findings, block.id),
                "",
                tooltip=f"{block.id}: {status} · task {block.task_id}: {about}",
            )
        ]
        shown += _actions(evidence, block.id, analysis.uri)
        lenses += [types.CodeLens(range=where, command=command) for command in shown]
    return lenses


def register(server: HandrailServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def on_code_lens(ls: HandrailServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        return code_lenses(ls, params)
