"""Stage 5 as server commands: evidence people give about a block (``handrail.recordTrace``,
``explain``, ``review``) and notes for the workflow review (``handrail.note``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from handrail.lsp.features.command_names import (
    EXPLAIN,
    NOTE,
    RECORD_TRACE,
    REVIEW,
)
from handrail.lsp.features.command_support import (
    author_of,
    folder_from,
    refresh,
)
from handrail.lsp.features.common import (
    CommandFailed,
    bad_params,
    one_mapping,
    path_of,
    text_arg,
    uri_of,
)
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import FolderState

if TYPE_CHECKING:
    from handrail.lsp.features.command_results import (
        NoteResult,
    )
    from handrail.review.acknowledgements import AcknowledgementJson
    from handrail.review.reviews import ReviewJson


def _current_block(
    server: HandrailServer, block_id: str, uri: str | None, command: str
) -> tuple[FolderState, str, str]:
    """(folder, path, content) of the block as the editor (or the disk) holds it now."""
    from handrail.review.acknowledgements import BlockFileError, block_in_file, content_of

    uris = [uri] if uri else []
    folders = [server.folder_for(f.uri) for f in server.workspace.folders.values()]
    for folder in folders:
        marked = folder.snapshot.index.marked(block_id) if folder is not None else None
        if folder is not None and marked is not None:
            uris.append(uri_of(folder.root / marked.path))
    unreadable: list[str] = []
    for candidate in uris:
        analysis = server.analysis_for(candidate)
        if analysis is not None and analysis.source is not None and analysis.folder is not None:
            block = analysis.source.parsed.block(block_id)
            if block_id in analysis.source.evidence and block is not None and analysis.rel:
                return analysis.folder, analysis.rel, content_of(analysis.text, block)
        path = path_of(candidate)
        folder = server.folder_for(candidate)
        if analysis is None and path is not None and folder is not None:
            rel = folder.ws.relative(path)
            try:
                found = block_in_file(folder.ws, rel, block_id)
            except BlockFileError as exc:
                unreadable.append(str(exc))
                continue
            if found is not None:
                return folder, rel, content_of(*found)
    why = f" ({'; '.join(unreadable)})" if unreadable else ""
    raise CommandFailed(
        f"{command}: block {block_id} was not found{why}: open the file that holds it and "
        "try again."
    )


async def _record_evidence(
    server: HandrailServer, command: str, args: tuple[Any, ...]
) -> AcknowledgementJson:
    from handrail.blocks.markers import is_block_id
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.acknowledgements import record_acknowledgement

    values = one_mapping(args, command)
    block_id = text_arg(values, "block", command, required=True) or ""
    if not is_block_id(block_id):
        raise bad_params(f"{command}: {block_id!r} is not a block id (like k3f7qa.1).")
    uri = text_arg(values, "uri", command, required=False)
    note = text_arg(values, "note", command, required=False) or ""
    folder, rel, content = _current_block(server, block_id, uri, command)
    author = await asyncio.to_thread(author_of, folder)
    try:
        done = await asyncio.to_thread(
            record_acknowledgement,
            folder.ws,
            "trace" if command == RECORD_TRACE else "explain",
            block_id,
            rel,
            content,
            author=author,
            note=note if command == RECORD_TRACE else "",
        )
    except LedgerWriteError as exc:
        raise CommandFailed(f"{command}: the record was not written: {exc}") from None
    await refresh(server, folder)
    return done.to_json()


async def record_trace(server: HandrailServer, *args: Any) -> AcknowledgementJson:
    """Record that the author traced the block's current content by hand: the answer of
    `handrail trace --json` (`handrail.review.acknowledgements`)."""
    return await _record_evidence(server, RECORD_TRACE, args)


async def explain(server: HandrailServer, *args: Any) -> AcknowledgementJson:
    """Record "I can explain every line" for the block's current content: the answer of
    `handrail explain --json`."""
    return await _record_evidence(server, EXPLAIN, args)


async def review(server: HandrailServer, *args: Any) -> ReviewJson:
    """A teammate's verdict on a block (or every block of a task) as saved: ``handrail review``.

    Arguments: ``block`` (a block or task id), ``verdict`` ("approve", the default, or
    "request_changes"), ``note``, and ``uri``/``folder`` to pick the workspace folder.
    """
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.reviews import ReviewError, record_reviews

    values = one_mapping(args, REVIEW)
    target = text_arg(values, "block", REVIEW, required=True) or ""
    verdict = text_arg(values, "verdict", REVIEW, required=False) or "approve"
    if verdict not in ("approve", "request_changes"):
        raise bad_params(f"{REVIEW}: verdict must be approve or request_changes, not {verdict!r}.")
    note = text_arg(values, "note", REVIEW, required=False) or ""
    folder = folder_from(server, values, REVIEW)
    reviewer = await asyncio.to_thread(author_of, folder)
    try:
        result = await asyncio.to_thread(
            record_reviews,
            folder.ws,
            target,
            reviewer=reviewer,
            verdict="approve" if verdict == "approve" else "request_changes",
            note=note,
        )
    except ReviewError as exc:
        raise CommandFailed(f"{REVIEW}: {exc}") from None
    except LedgerWriteError as exc:
        raise CommandFailed(f"{REVIEW}: the review was not recorded: {exc}") from None
    await refresh(server, folder)
    return result.as_json()


async def note(server: HandrailServer, *args: Any) -> NoteResult:
    """A note for the workflow review (``handrail note``): where the workflow helped or got in
    the way.

    Arguments: ``verdict`` ("helped" or "in-the-way"), ``code``, ``uri`` (the document, which
    also picks the folder) and ``line``, ``text`` (one optional sentence), ``answeredBy``
    ("docs" or "colleague"), ``source`` ("editor", the default, or "chat").
    """
    from handrail.ledger.store import LedgerWriteError
    from handrail.review.notes import NoteError, NoteRequest, describe, record_note
    from handrail.workspace import PathEscapesWorkspace

    values = dict(one_mapping(args, NOTE))
    folder = folder_from(server, values, NOTE)
    uri = text_arg(values, "uri", NOTE, required=False)
    values["path"] = None
    if uri:
        target = path_of(uri)
        try:
            values["path"] = folder.ws.relative(target) if target is not None else None
        except PathEscapesWorkspace:
            raise bad_params(f"{NOTE}: {uri} is outside the workspace {folder.root}.") from None
    try:
        request = NoteRequest.from_json(
            values, source="chat" if values.get("source") == "chat" else "editor"
        )
        author = await asyncio.to_thread(author_of, folder)
        recorded = await asyncio.to_thread(record_note, folder.ws, request, author=author)
    except NoteError as exc:
        raise bad_params(f"{NOTE}: {exc}") from None
    except LedgerWriteError as exc:
        raise CommandFailed(f"{NOTE}: the note was not recorded: {exc}") from None
    message = describe(recorded)
    server.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Info, message=message)
    )
    return {"note": recorded.model_dump(mode="json", by_alias=True), "message": message}
