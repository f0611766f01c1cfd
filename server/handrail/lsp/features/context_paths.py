"""Context entries as paths: completion while one is typed, and links to the files.

Completion lists one folder at a time (the part of the entry before the last ``/``), leaves
out what the workspace ignores (the rules' ``ignore`` and every ``.gitignore``: such files
must never reach a model), gives folders a trailing ``/``, and offers ``#L`` once the entry
names a file, for a line range.
"""

from __future__ import annotations

import os
from pathlib import Path

from lsprotocol import types

from handrail.context.entries import EntryError, parse_entry
from handrail.lsp.features.common import (
    TaskBuffer,
    engine_position,
    lsp_range,
    task_buffer,
    uri_of,
)
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import FolderState
from handrail.tasks.context_array import scan_context_array
from handrail.workspace import PathEscapesWorkspace

MAX_ITEMS = 500
TRIGGERS = ['"', "'", "/", "#"]
_NEVER_LISTED = {".git"}


def _listing(folder: FolderState, rel_dir: str) -> list[tuple[str, bool]]:
    """(name, is_folder) in workspace folder `rel_dir` that are not ignored, sorted."""
    try:
        real = folder.ws.resolve_inside(rel_dir) if rel_dir else folder.root
        entries = list(os.scandir(real))
    except (OSError, PathEscapesWorkspace):
        return []
    ignore = folder.snapshot.ignore
    found: list[tuple[str, bool]] = []
    for entry in entries:
        if entry.name in _NEVER_LISTED:
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        if ignore.match(rel, is_dir=is_dir) is not None:
            continue
        found.append((entry.name, is_dir))
    return sorted(found, key=lambda item: (not item[1], item[0].lower()))


def completions(
    server: HandrailServer, analysis: TaskBuffer, position: types.Position
) -> list[types.CompletionItem]:
    folder = analysis.folder
    array = scan_context_array(analysis.text)
    if array is None:
        return []
    line, column = engine_position(server, analysis.lines, position)
    entry = array.entry_at(line, column)
    if entry is None:
        return []
    typed = analysis.lines[line - 1][entry.column - 1 : column - 1]
    if "#" in typed or "\\" in typed:
        return []
    rel_dir, _, name = typed.rpartition("/")
    replace = lsp_range(server, analysis.lines, line, column - len(name), line, column)
    items: list[types.CompletionItem] = []
    if name and not typed.endswith("/") and _is_file(folder, typed):
        items.append(
            types.CompletionItem(
                label=f"{name}#L",
                kind=types.CompletionItemKind.Reference,
                detail="a line range: #L10-L40",
                text_edit=types.TextEdit(range=replace, new_text=f"{name}#L"),
                sort_text="0",
            )
        )
    for entry_name, is_dir in _listing(folder, rel_dir):
        if not entry_name.lower().startswith(name.lower()):
            continue
        label = entry_name + ("/" if is_dir else "")
        items.append(
            types.CompletionItem(
                label=label,
                kind=types.CompletionItemKind.Folder if is_dir else types.CompletionItemKind.File,
                text_edit=types.TextEdit(range=replace, new_text=label),
                sort_text=("1" if is_dir else "2") + entry_name.lower(),
            )
        )
        if len(items) >= MAX_ITEMS:
            break
    return items


def _is_file(folder: FolderState, rel: str) -> bool:
    try:
        return folder.ws.resolve_inside(rel).is_file()
    except (OSError, PathEscapesWorkspace):
        return False


def document_links(server: HandrailServer, analysis: TaskBuffer) -> list[types.DocumentLink]:
    folder = analysis.folder
    array = scan_context_array(analysis.text)
    if array is None:
        return []
    caps = server.client_capabilities.text_document
    tooltips = bool(caps and caps.document_link and caps.document_link.tooltip_support)
    links: list[types.DocumentLink] = []
    for span in array.entries:
        if not span.closed:
            continue
        try:
            entry = parse_entry(span.value)
            target: Path = folder.ws.resolve_inside(entry.path)
        except (EntryError, PathEscapesWorkspace, OSError):
            continue
        if not target.is_file():
            continue
        uri = uri_of(target)
        if entry.start_line is not None:
            uri += f"#L{entry.start_line}"
        links.append(
            types.DocumentLink(
                range=lsp_range(
                    server, analysis.lines, span.line, span.column, span.line, span.end_column
                ),
                target=uri,
                tooltip=f"Open {entry.path}" if tooltips else None,
            )
        )
    return links


def register(server: HandrailServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGERS)
    )
    def on_completion(
        ls: HandrailServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        buffer = task_buffer(ls, params.text_document.uri)
        if buffer is None:
            return None
        items = completions(ls, buffer, params.position)
        return types.CompletionList(is_incomplete=len(items) >= MAX_ITEMS, items=items)

    @server.feature(
        types.TEXT_DOCUMENT_DOCUMENT_LINK, types.DocumentLinkOptions(resolve_provider=False)
    )
    def on_document_link(
        ls: HandrailServer, params: types.DocumentLinkParams
    ) -> list[types.DocumentLink]:
        buffer = task_buffer(ls, params.text_document.uri)
        return document_links(ls, buffer) if buffer is not None else []
