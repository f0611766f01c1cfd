"""``handrail.generate``: send a task's checked prompt pack to the user's model and insert the
code it writes into an open document, marked, through ``workspace/applyEdit``; and
``handrail.insertGenerated``, the same insertion for code a model wrote elsewhere (VS Code chat).

The same engine as ``handrail generate`` (docs/generate.md): the gate before anything is sent,
the user's own settings, and no change at all when the model fails, refuses or writes no code.
The edit is tied to the document version the request was made for, so text typed while the
answer streamed is never overwritten: the command fails and asks to run it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from handrail.findings import Finding, Severity, findings_json
from handrail.lsp.features.commands import apply_mark
from handrail.lsp.features.common import (
    CommandFailed,
    bad_params,
    int_arg,
    one_mapping,
    text_arg,
)
from handrail.lsp.features.progress import work_done
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis, FolderState
from handrail.wording import plural

if TYPE_CHECKING:
    from handrail.lsp.features.command_results import (
        GeneratedResult,
        GenerateRefusedResult,
        InsertedResult,
    )
    from handrail.marking.buffer import MarkPlan
    from handrail.marking.ids import Allocation
    from handrail.marking.write import Replaced
    from handrail.tasks.model import LoadedTask
    from handrail.text_changes import TextChange

GENERATE = "handrail.generate"
INSERT_GENERATED = "handrail.insertGenerated"


async def generate(server: HandrailServer, *args: Any) -> GeneratedResult | GenerateRefusedResult:
    """Generate code for ``task`` and insert it before ``line`` (1-based) of ``uri``, marked.

    Without ``line`` the code goes at the end of the document. The result says whether the
    edit was applied; a refused gate returns ``refused`` with the findings, nothing sent.
    """
    from handrail.generate.client import GenerationError
    from handrail.generate.handoff import GenerationRefused, generate_code
    from handrail.generate.settings import SettingsError, load_settings

    values = one_mapping(args, GENERATE)
    target = _target(server, values, GENERATE)
    folder, rel, loaded = target.folder, target.rel, target.loaded
    workflow = folder.snapshot.workflow.workflow
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise CommandFailed(f"{GENERATE}: {exc.message}") from None
    # The target is checked before paying for an answer: a bad line, a format without
    # comments or a range inside a block fails now.
    from handrail.blocks.mark import MarkError
    from handrail.marking.ids import Allocation

    try:
        _planner(target, "placeholder\n")(Allocation(()))
    except MarkError as exc:
        raise CommandFailed(f"{GENERATE}: {rel}: {exc.message}") from None

    loop = asyncio.get_running_loop()
    async with work_done(server, f"Handrail: generating code for task {target.task_id}") as report:
        lines_seen = [0]

        def on_delta(piece: str) -> None:
            # Called on the worker thread: report a new line count on the event loop.
            if "\n" in piece:
                lines_seen[0] += piece.count("\n")
                loop.call_soon_threadsafe(report, f"{plural(lines_seen[0], 'line')} received")

        from handrail.prompt import InsertionPoint

        replaces = target.replaces
        insertion = InsertionPoint(
            rel,
            target.line,
            target.analysis.text,
            (replaces.begin_line, replaces.end_line) if replaces else None,
        )
        try:
            generated = await asyncio.to_thread(
                generate_code, folder.ws, workflow, loaded, settings,
                target_rel=rel, on_delta=on_delta, insertion=insertion,
            )  # fmt: skip
        except GenerationRefused as exc:
            _show_refusal(server, target.task_id, exc.findings)
            return {"refused": True, "applied": False, "findings": findings_json(exc.findings)}
        except (GenerationError, SettingsError) as exc:
            raise CommandFailed(f"{GENERATE}: {exc.message} Nothing was changed.") from None

    result = await _insert(server, target, generated.code, GENERATE, generated.produced_by)
    return {**result, "model": generated.answer.model or settings.model}


def _show_refusal(server: HandrailServer, task_id: str, findings: list[Finding]) -> None:
    """Say why nothing was sent: a code action's caller never sees the command's result."""
    errors = [f for f in sorted(findings, key=Finding.sort_key) if f.severity is Severity.ERROR]
    shown = "; ".join(f"{f.code} {f.message}" for f in (errors or findings)[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    message = f"Handrail sent nothing for task {task_id}: its checks fail. {shown}{more}"
    server.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Warning, message=message)
    )


async def insert_generated(server: HandrailServer, *args: Any) -> InsertedResult:
    """Insert ``code`` that a model wrote elsewhere (VS Code chat, an agent) before ``line`` of
    ``uri``, wrapped in markers for ``task``, and record the block.

    The caller ran the gate before the model saw anything (``handrail.prompt``); this command
    only places and records what came back, like ``handrail mark`` does for a range.
    """
    values = one_mapping(args, INSERT_GENERATED)
    code = values.get("code")
    if not isinstance(code, str) or not code.strip():
        raise bad_params(f'{INSERT_GENERATED}: "code" must be the non-empty text to insert.')
    target = _target(server, values, INSERT_GENERATED)
    return await _insert(server, target, code, INSERT_GENERATED)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where generated code goes: an open source document, at one version, for one task."""

    uri: str
    analysis: DocumentAnalysis
    folder: FolderState
    rel: str
    task_id: str
    loaded: LoadedTask
    line: int | None
    replaces: Replaced | None = None
    """The block a new attempt replaces (``replace``): removed, and the code put in its place."""


def _target(server: HandrailServer, values: Mapping[str, Any], command: str) -> _Target:
    uri = text_arg(values, "uri", command, required=True) or ""
    replace = text_arg(values, "replace", command, required=False)
    task_id = text_arg(values, "task", command, required=replace is None) or ""
    line = int_arg(values, "line", command, required=False)
    if replace is not None:
        owner = replace.rpartition(".")[0]
        if not owner or (task_id and task_id != owner):
            raise bad_params(f"{command}: {replace!r} is not a block of task {task_id or '?'}.")
        task_id = owner
    if line is not None and line < 1:
        raise bad_params(f"{command}: line {line} is not a line number (they start at 1).")
    analysis = server.analysis_for(uri)
    if analysis is None:
        raise CommandFailed(f"{command}: {uri} is not open in the editor.")
    folder, rel = analysis.folder, analysis.rel
    if folder is None or rel is None or analysis.kind != "source":
        raise CommandFailed(
            f"{command}: {uri} is not a source file inside a workspace folder, so it cannot "
            "hold generated blocks."
        )
    loaded = folder.snapshot.tasks.tasks.get(task_id)
    if loaded is None:
        raise CommandFailed(f"{command}: there is no task {task_id!r} in {folder.root.name}.")
    if loaded.task.is_closed:
        raise CommandFailed(
            f"{command}: task {task_id} is closed ({loaded.task.status}); reopen it first "
            "(handrail.reopenTask)."
        )
    replaces = None
    if replace is not None:
        from handrail.marking.write import Replaced

        source = analysis.source
        found = [b for b in (source.parsed.blocks if source else []) if b.id == replace]
        if len(found) != 1:
            raise CommandFailed(f"{command}: {rel} holds no block {replace} to replace.")
        (block,) = found
        replaces = Replaced(block.id, block.begin_line, block.end_line, block.content_hash)
        line = block.begin_line
    folder.active_task = task_id  # generating for a task is working on it
    return _Target(uri, analysis, folder, rel, task_id, loaded, line, replaces)


def _planner(target: _Target, code: str) -> Callable[[Allocation], MarkPlan]:
    """The marking of `code` at the target's line in the text the target was read at."""
    from handrail.marking.buffer import next_id_for, plan_mark
    from handrail.marking.write import insert_code

    def plan(allocation: Allocation) -> MarkPlan:
        text = target.analysis.text
        if target.replaces is not None:
            from handrail.marking.write import without_block

            text = without_block(text, target.replaces, target.rel)
        inserted, first, last = insert_code(text, code, target.line, target.rel, spaced=True)
        block_id = next_id_for(allocation, target.task_id, inserted, target.rel)
        return plan_mark(inserted, target.rel, first, last, block_id)

    return plan


async def _insert(
    server: HandrailServer,
    target: _Target,
    code: str,
    command: str,
    produced_by: Mapping[str, Any] | None = None,
) -> InsertedResult:
    """Apply the marked insertion through ``workspace/applyEdit``, recorded (`apply_mark`)."""
    from handrail.text_changes import changed_region

    rel, analysis = target.rel, target.analysis
    now = server.analysis_for(target.uri)
    if now is None or now.version != analysis.version:
        raise CommandFailed(
            f"{command}: {rel} changed while the answer came in; nothing was inserted, run "
            "the command again."
        )

    def changes(plan: MarkPlan) -> list[TextChange]:
        change = changed_region(analysis.text, plan.marked_text)
        # Inserting code always changes the text; an empty edit would be refused (and the
        # record taken back) rather than recorded.
        return [change] if change is not None else []

    extra = dict(produced_by or {})
    if target.replaces is not None:
        extra["replaces"] = target.replaces.block_id
        extra["replaces_hash"] = target.replaces.content_hash
    result = await apply_mark(
        server,
        analysis,
        _planner(target, code),
        changes,
        label="Generated block {block}",
        command=command,
        produced_by=extra,
    )
    if result["applied"]:
        await server.reanalyze_open_documents()
    replaced = target.replaces.block_id if target.replaces else None
    return {"refused": False, **result, "replaced": replaced}


def register(server: HandrailServer) -> None:
    # Registered handlers keep annotations pygls can resolve at run time (the result types
    # are imported for type checking only).
    async def run(ls: HandrailServer, *args: Any) -> Any:
        return await generate(ls, *args)

    async def insert(ls: HandrailServer, *args: Any) -> Any:
        return await insert_generated(ls, *args)

    server.command(GENERATE)(run)
    server.command(INSERT_GENERATED)(insert)
