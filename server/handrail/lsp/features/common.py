"""What the feature modules share: positions in the client's encoding, errors, arguments."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.uris import from_fs_path, to_fs_path

from handrail.lsp.convert import from_lsp_position, split_lines, to_lsp_range
from handrail.lsp.state import DocumentAnalysis, FolderState, classify
from handrail.text_changes import TextChange

if TYPE_CHECKING:
    from handrail.lsp.server import HandrailServer


class CommandFailed(JsonRpcException):
    """A well-formed request that could not be carried out (LSP's RequestFailed)."""

    CODE = types.LSPErrorCodes.RequestFailed.value


def bad_params(message: str) -> JsonRpcInvalidParams:
    """A JSON-RPC "invalid params" error whose message is only the plain sentence."""
    return JsonRpcInvalidParams(message)


def encoding_of(server: HandrailServer) -> str:
    """The position encoding negotiated with the client (UTF-16 unless it chose another)."""
    return server.position_encoding


def lsp_range(
    server: HandrailServer,
    lines: list[str],
    line: int,
    column: int,
    end_line: int | None = None,
    end_column: int | None = None,
) -> types.Range:
    return to_lsp_range(lines, line, column, end_line, end_column, encoding_of(server))


def engine_position(
    server: HandrailServer, lines: list[str], position: types.Position
) -> tuple[int, int]:
    return from_lsp_position(lines, position, encoding_of(server))


def text_edit(server: HandrailServer, lines: list[str], change: TextChange) -> types.TextEdit:
    """An engine change as an LSP edit against the document split into `lines`."""
    return types.TextEdit(
        range=lsp_range(
            server, lines, change.line, change.column, change.end_line, change.end_column
        ),
        new_text=change.new_text,
    )


async def current_analysis(server: HandrailServer, uri: str) -> DocumentAnalysis | None:
    """`server.analysis_for(uri)`, off the event loop when it would count tokens.

    Only a task file's analysis counts tokens (its context); when its cached analysis is
    stale the new one is made in the analysis thread pool, as diagnostics are.
    """
    if server.analyses.cached(uri) is None:
        folder, rel = server.locate(uri)
        if folder is not None and classify(rel) == "task":
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(server.diagnostics.executor, server.analysis_for, uri)
    return server.analysis_for(uri)


@dataclass(frozen=True, slots=True)
class TaskBuffer:
    """An open task file's current text, without analysing it (no token counting)."""

    uri: str
    text: str
    lines: list[str]
    folder: FolderState
    rel: str


def task_buffer(server: HandrailServer, uri: str) -> TaskBuffer | None:
    document = server.documents.get(uri)
    if document is None or document.out_of_sync is not None:
        return None
    folder, rel = server.locate(uri)
    if folder is None or rel is None or classify(rel) != "task":
        return None
    text = document.text
    return TaskBuffer(uri, text, split_lines(text), folder, rel)


def workspace_edit(
    server: HandrailServer, uri: str, version: int | None, edits: list[types.TextEdit]
) -> types.WorkspaceEdit:
    """Edits to one document, tied to `version` where the client can check it (so an edit
    made for text the user has changed since is refused rather than misplaced)."""
    caps = server.client_capabilities.workspace
    versioned = bool(caps and caps.workspace_edit and caps.workspace_edit.document_changes)
    if versioned and version is not None:
        document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        return types.WorkspaceEdit(
            document_changes=[types.TextDocumentEdit(text_document=document, edits=list(edits))]
        )
    return types.WorkspaceEdit(changes={uri: list(edits)})


def uri_of(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def path_of(uri: str) -> Path | None:
    fs = to_fs_path(uri)
    return Path(fs) if fs else None


def one_mapping(args: tuple[Any, ...], command: str) -> Mapping[str, Any]:
    """The single object argument every ``handrail.*`` command takes (none is ``{}``)."""
    if not args or (len(args) == 1 and args[0] is None):
        return {}
    if len(args) != 1 or not isinstance(args[0], Mapping):
        raise bad_params(
            f'{command} takes one argument, an object such as {{"task": "k3f7qa"}}; '
            f"it got {len(args)} argument(s)."
        )
    return args[0]


def text_arg(values: Mapping[str, Any], key: str, command: str, *, required: bool) -> str | None:
    value = values.get(key)
    if value is None:
        if required:
            raise bad_params(f"{command} needs the argument {key!r} (text).")
        return None
    if not isinstance(value, str):
        raise bad_params(f"{command}: {key!r} must be text, not {type(value).__name__}.")
    return value


def int_arg(values: Mapping[str, Any], key: str, command: str, *, required: bool) -> int | None:
    value = values.get(key)
    if value is None:
        if required:
            raise bad_params(f"{command} needs the argument {key!r} (a whole number).")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_params(f"{command}: {key!r} must be a whole number, not {value!r}.")
    return value


def first_words(text: str, count: int = 8) -> str:
    """The first `count` words of a spec, on one line, with an ellipsis when cut."""
    words = text.split()
    head = " ".join(words[:count])
    return head + ("…" if len(words) > count else "")
