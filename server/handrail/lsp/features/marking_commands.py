"""Stage 3 as a server command: ``handrail.markSelection`` wraps lines in block markers, and
`apply_mark`, the record-then-edit step that generated insertions share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from lsprotocol import types

from handrail.lsp.features.command_names import (
    MARK_SELECTION,
)
from handrail.lsp.features.command_support import (
    author_of,
    refresh,
    show_document,
    workflow_usable,
)
from handrail.lsp.features.common import (
    CommandFailed,
    bad_params,
    int_arg,
    one_mapping,
    text_arg,
    text_edit,
    uri_of,
    workspace_edit,
)
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis, FolderState

if TYPE_CHECKING:
    from handrail.lsp.features.command_results import (
        MarkResult,
        MarkSelectionResult,
    )
    from handrail.marking.buffer import MarkPlan
    from handrail.marking.ids import Allocation
    from handrail.text_changes import TextChange


_PROBE_TASK_ID = "zzzzzz"

# --- stage 3: marking -----------------------------------------------------------------------


def _source_analysis(server: HandrailServer, uri: str, command: str) -> DocumentAnalysis:
    analysis = server.analysis_for(uri)
    if analysis is None:
        raise CommandFailed(f"{command}: {uri} is not open in the editor.")
    if analysis.folder is None or analysis.rel is None or analysis.kind != "source":
        raise CommandFailed(
            f"{command}: {uri} is not a source file inside a workspace folder, so it cannot "
            "hold generated blocks."
        )
    return analysis


async def mark_selection(server: HandrailServer, *args: Any) -> MarkSelectionResult:
    """Wrap lines in block markers through ``workspace/applyEdit``, recorded (see
    `apply_mark`)."""
    from handrail.blocks.mark import MarkError
    from handrail.marking.buffer import next_id_for, plan_mark
    from handrail.tasks.files import create_template_task
    from handrail.tasks.model import TaskFileError

    values = one_mapping(args, MARK_SELECTION)
    uri = text_arg(values, "uri", MARK_SELECTION, required=True) or ""
    start = int_arg(values, "startLine", MARK_SELECTION, required=True) or 0
    end = int_arg(values, "endLine", MARK_SELECTION, required=True) or 0
    version = int_arg(values, "version", MARK_SELECTION, required=False)
    task_id = text_arg(values, "task", MARK_SELECTION, required=False)
    if start < 1 or end < start:
        raise bad_params(
            f"{MARK_SELECTION}: startLine {start} and endLine {end} are not a range of lines "
            "(1-based, startLine <= endLine)."
        )
    analysis = _source_analysis(server, uri, MARK_SELECTION)
    if version is not None and analysis.version is not None and version != analysis.version:
        raise CommandFailed(
            f"{MARK_SELECTION}: the document changed since the action was offered (version "
            f"{version}, now {analysis.version}); ask for the action again."
        )
    folder = analysis.folder
    rel = analysis.rel
    assert folder is not None and rel is not None  # _source_analysis checked both
    snapshot = folder.snapshot
    if task_id is not None and task_id not in snapshot.tasks.known_ids:
        raise CommandFailed(
            f"{MARK_SELECTION}: there is no task {task_id!r} in {folder.root.name}; create one "
            "first (handrail.newTask)."
        )
    closed = snapshot.tasks.tasks.get(task_id) if task_id is not None else None
    if closed is not None and closed.task.is_closed:
        raise CommandFailed(
            f"{MARK_SELECTION}: task {task_id} is closed ({closed.task.status}); reopen it "
            "first (handrail.reopenTask), or mark the lines for another task."
        )
    new_task_path: Path | None = None
    try:
        if task_id is None:
            workflow_usable(folder, MARK_SELECTION)
            # The lines must be markable before a task is created for them; any free id does.
            plan_mark(analysis.text, rel, start, end, f"{_PROBE_TASK_ID}.1")
            author = await asyncio.to_thread(author_of, folder)
            created = await asyncio.to_thread(
                create_template_task, folder.ws, snapshot.workflow.workflow, author=author
            )
            task_id, new_task_path = created.task.id, created.path
    except MarkError as exc:
        raise CommandFailed(f"{MARK_SELECTION}: {rel}: {exc}") from None
    except TaskFileError as exc:
        raise CommandFailed(f"{MARK_SELECTION}: {exc}") from None
    chosen_task = task_id

    def planner(allocation: Allocation) -> MarkPlan:
        block_id = next_id_for(allocation, chosen_task, analysis.text, rel)
        return plan_mark(analysis.text, rel, start, end, block_id)

    result = await apply_mark(
        server,
        analysis,
        planner,
        lambda plan: plan.changes,
        label="Mark as generated ({block})",
        command=MARK_SELECTION,
    )
    answer = cast("MarkSelectionResult", result)  # the same dict, with room for two keys
    if not result["applied"]:
        return answer
    await refresh(server, folder)
    if new_task_path is not None:
        answer["task_uri"] = uri_of(new_task_path)
        answer["shown"] = await show_document(server, new_task_path)
    return answer


def _open_buffer_ids(server: HandrailServer, folder: FolderState) -> set[str]:
    """Block ids in the open buffers of `folder`: unsaved markers the disk scan cannot see."""
    from handrail.marking.ids import ids_in_parse

    taken: set[str] = set()
    for uri in server.documents.uris():
        if server.folder_for(uri) is not folder:
            continue
        analysis = server.analysis_for(uri)
        if analysis is not None and analysis.source is not None:
            taken |= ids_in_parse(analysis.source.parsed)
    return taken


def _holds_block(server: HandrailServer, uri: str, plan: MarkPlan) -> bool:
    """Whether the open document now holds the planned block, markers and content alike."""
    analysis = server.analysis_for(uri)
    if analysis is None or analysis.source is None:
        return False
    block = analysis.source.parsed.block(plan.block_id)
    return block is not None and block.content_hash == plan.block.content_hash


async def apply_mark(
    server: HandrailServer,
    analysis: DocumentAnalysis,
    planner: Callable[[Allocation], MarkPlan],
    changes_of: Callable[[MarkPlan], list[TextChange]],
    *,
    label: str,
    command: str,
    produced_by: Mapping[str, Any] | None = None,
) -> MarkResult:
    """Mark a block in an editor's buffer: the record and the edit, both or neither.

    The block id is chosen and its `BlockMarked` record written under the ledger lock first
    (`reserve_mark`), so that no other writer (a `handrail mark` in a hook, another editor)
    takes the same id while the client applies the edit; nothing is sent when the record
    cannot be written. Then the edit goes through ``workspace/applyEdit`` at the analysed
    version. When the client does not apply it (refused, a newer version, no answer) and
    the buffer does not hold the block, the record is taken back (`Ledger.withdraw`).
    `label` may name the block as ``{block}``. Returns the block's place, and ``reason``
    when not applied.
    """
    from handrail.blocks.mark import MarkError
    from handrail.ledger.store import Ledger, LedgerWriteError
    from handrail.marking.buffer import reserve_mark

    folder, rel = analysis.folder, analysis.rel
    assert folder is not None and rel is not None  # only source documents are marked
    author = await asyncio.to_thread(author_of, folder)
    extra = _open_buffer_ids(server, folder)
    ledger = Ledger(folder.ws)
    try:
        plan, record = await asyncio.to_thread(
            reserve_mark,
            folder.ws,
            planner,
            author=author,
            extra=extra,
            ledger=ledger,
            produced_by=produced_by,
        )
    except MarkError as exc:
        raise CommandFailed(f"{command}: {rel}: {exc.message}") from None
    except LedgerWriteError as exc:
        raise CommandFailed(f"{command}: {rel} was not marked: {exc}") from None
    edits = [text_edit(server, analysis.lines, c) for c in changes_of(plan)]
    edit = workspace_edit(server, analysis.uri, analysis.version, edits)
    result: MarkResult = {
        "applied": False,
        "block": plan.block_id,
        "task": plan.block.task_id,
        "path": rel,
        "begin_line": plan.block.begin_line,
        "end_line": plan.block.end_line,
    }
    try:
        answer = await server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label.format(block=plan.block_id))
        )
        result["applied"] = bool(answer.applied)
        if not answer.applied:
            result["reason"] = answer.failure_reason or "the editor did not apply the edit"
    finally:
        if not result["applied"] and not _holds_block(server, analysis.uri, plan):
            try:
                await asyncio.to_thread(ledger.withdraw, record)
            except LedgerWriteError as exc:
                server.log_error(f"{command}: {exc}")
                result["reason"] = f"{result.get('reason', 'the edit failed')}; {exc}"
    return result
