"""``handrail.generate``: send a task's checked prompt pack to the user's model and insert the
code it writes into an open document, marked, through ``workspace/applyEdit``.

The same engine as ``handrail generate`` (docs/generate.md): the gate before anything is sent,
the user's own settings, and no change at all when the model fails, refuses or writes no code.
The edit is tied to the document version the request was made for, so text typed while the
answer streamed is never overwritten: the command fails and asks to run it again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from handrail.findings import Finding
from handrail.lsp.features.common import (
    CommandFailed,
    bad_params,
    int_arg,
    one_mapping,
    text_arg,
    text_edit,
    workspace_edit,
)
from handrail.lsp.features.progress import work_done
from handrail.lsp.server import HandrailServer

GENERATE = "handrail.generate"


def _findings_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return [f.as_json() for f in sorted(findings, key=Finding.sort_key)]


async def generate(server: HandrailServer, *args: Any) -> dict[str, Any]:
    """Generate code for ``task`` and insert it before ``line`` (1-based) of ``uri``, marked.

    Without ``line`` the code goes at the end of the document. The result says whether the
    edit was applied; a refused gate returns ``refused`` with the findings, nothing sent.
    """
    from handrail.generate.client import GenerationError
    from handrail.generate.handoff import GenerationRefused, generate_code, insert_code
    from handrail.generate.settings import SettingsError, load_settings
    from handrail.ledger.store import Ledger, LedgerWriteError
    from handrail.marking import MarkError, plan_mark, record_mark
    from handrail.text_changes import changed_region
    from handrail.workflow.init import git_owner

    values = one_mapping(args, GENERATE)
    uri = text_arg(values, "uri", GENERATE, required=True) or ""
    task_id = text_arg(values, "task", GENERATE, required=True) or ""
    line = int_arg(values, "line", GENERATE, required=False)
    if line is not None and line < 1:
        raise bad_params(f"{GENERATE}: line {line} is not a line number (they start at 1).")
    analysis = server.analysis_for(uri)
    if analysis is None:
        raise CommandFailed(f"{GENERATE}: {uri} is not open in the editor.")
    folder, rel = analysis.folder, analysis.rel
    if folder is None or rel is None or analysis.kind != "source":
        raise CommandFailed(
            f"{GENERATE}: {uri} is not a source file inside a workspace folder, so it cannot "
            "hold generated blocks."
        )
    loaded = folder.snapshot.tasks.tasks.get(task_id)
    if loaded is None:
        raise CommandFailed(f"{GENERATE}: there is no task {task_id!r} in {folder.root.name}.")
    workflow = folder.snapshot.workflow.workflow
    version, text = analysis.version, analysis.text
    records = (await asyncio.to_thread(Ledger(folder.ws).read)).records
    try:
        settings = load_settings()
        # The target is checked before paying for an answer: a bad line, a format without
        # comments or a range inside a block fails now.
        probe, first, last = insert_code(text, "placeholder\n", line, rel)
        plan_mark(probe, rel, first, last, task_id, records)
    except SettingsError as exc:
        raise CommandFailed(f"{GENERATE}: {exc.message}") from None
    except MarkError as exc:
        raise CommandFailed(f"{GENERATE}: {rel}: {exc.message}") from None

    loop = asyncio.get_running_loop()
    async with work_done(server, f"Handrail: generating code for task {task_id}") as report:
        lines_seen = [0]

        def on_delta(piece: str) -> None:
            # Called on the worker thread: report a new line count on the event loop.
            if "\n" in piece:
                lines_seen[0] += piece.count("\n")
                loop.call_soon_threadsafe(report, f"{lines_seen[0]} lines received")

        try:
            generated = await asyncio.to_thread(
                generate_code, folder.ws, workflow, loaded, settings,
                target_rel=rel, on_delta=on_delta,
            )  # fmt: skip
        except GenerationRefused as exc:
            return {"refused": True, "applied": False, "findings": _findings_json(exc.findings)}
        except (GenerationError, SettingsError) as exc:
            raise CommandFailed(f"{GENERATE}: {exc.message} Nothing was changed.") from None

    now = server.analysis_for(uri)
    if now is None or now.version != version:
        raise CommandFailed(
            f"{GENERATE}: {rel} changed while the answer came in; nothing was inserted, run "
            "the command again."
        )
    try:
        inserted, first, last = insert_code(text, generated.code, line, rel)
        plan = plan_mark(inserted, rel, first, last, task_id, records)
    except MarkError as exc:
        raise CommandFailed(f"{GENERATE}: {rel}: {exc.message}") from None
    change = changed_region(text, plan.marked_text)
    if change is None:  # inserting code always changes the text; a safety net
        raise CommandFailed(f"{GENERATE}: the answer changed nothing in {rel}.")
    edit = workspace_edit(server, uri, version, [text_edit(server, analysis.lines, change)])
    answer = await server.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=f"Generated block {plan.block_id}")
    )
    result: dict[str, Any] = {
        "refused": False,
        "applied": bool(answer.applied),
        "block": plan.block_id,
        "task": task_id,
        "path": rel,
        "begin_line": plan.block.begin_line,
        "end_line": plan.block.end_line,
        "model": generated.answer.model or settings.model,
    }
    if not answer.applied:
        result["reason"] = answer.failure_reason or "the editor did not apply the edit"
        return result
    try:
        author = await asyncio.to_thread(git_owner, folder.root)
        await asyncio.to_thread(record_mark, folder.ws, plan, author=author)
    except LedgerWriteError as exc:
        raise CommandFailed(
            f"{GENERATE}: the block is in {rel}, but its ledger record was not written: {exc}"
        ) from None
    await server.reanalyze_open_documents()
    return result


def register(server: HandrailServer) -> None:
    async def run(ls: HandrailServer, *args: Any) -> dict[str, Any]:
        return await generate(ls, *args)

    server.command(GENERATE)(run)
