"""A pytest-lsp client for the feature tests: `python -m handrail lsp` over stdio.

The client keeps the text of the documents it opened and applies a server's
``workspace/applyEdit`` to them (sending ``didChange`` like an editor), records
``window/showDocument`` and ``$/progress``, and reads a CodeAction that carries a command
as a CodeAction (lsprotocol 2025.0.0 reads it as a Command on the client side).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsp_client import DocumentClient, recording_client, serving, text_document_capabilities
from lsprotocol import types

from handrail.tasks.files import save_task
from handrail.tasks.model import Task
from handrail.text_changes import TextChange, apply_changes
from handrail.workspace import Workspace

SPEC = (
    "Given a CSV header line, return the column names. It must keep quoted commas and "
    "follow parse_row in src/csv_utils.py."
)


class Client(DocumentClient):
    applied: list[types.WorkspaceEdit]
    apply_answer: bool
    initialized: types.InitializeResult

    def insert(self, uri: str, line: int, text: str) -> int:
        """Insert `text` at the start of 0-based `line`, as one incremental change."""
        lines = self.texts[uri].split("\n")
        offset = sum(len(part) + 1 for part in lines[:line])
        self.texts[uri] = self.texts[uri][:offset] + text + self.texts[uri][offset:]
        self.versions[uri] += 1
        at = types.Position(line=line, character=0)
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=at, end=at), text=text
                    )
                ],
            )
        )
        return self.versions[uri]

    def apply_edit(self, edit: types.WorkspaceEdit) -> None:
        """Apply `edit` to the open texts as an editor would, and tell the server."""
        by_uri: dict[str, list[types.TextEdit]] = {
            uri: list(edits) for uri, edits in (edit.changes or {}).items()
        }
        for change in edit.document_changes or []:
            assert isinstance(change, types.TextDocumentEdit)
            uri = change.text_document.uri
            assert change.text_document.version == self.versions[uri], "edit for an old version"
            by_uri[uri] = [e for e in change.edits if isinstance(e, types.TextEdit)]
        for uri, edits in by_uri.items():
            text = self.texts[uri]
            changes = [_to_change(text, e) for e in edits]
            self.replace_all(uri, apply_changes(text, changes))

    async def diagnostics_of(self, uri: str, version: int | None = None) -> list[types.Diagnostic]:
        """The newest published diagnostics of `uri` (at `version`, when given)."""

        def found() -> types.PublishDiagnosticsParams | None:
            for params in reversed(self.published):
                if params.uri == uri:
                    return params if version is None or params.version == version else None
            return None

        params: types.PublishDiagnosticsParams = await self.wait_for(
            found, what=f"diagnostics of {uri} v{version}"
        )
        return list(params.diagnostics)

    async def code_actions(
        self,
        uri: str,
        start: tuple[int, int],
        end: tuple[int, int],
        diagnostics: Any = (),
        *,
        notes: bool = False,
    ) -> list[types.CodeAction]:
        """The actions offered; the review notes every finding has only when `notes`."""
        result = await self.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=start[0], character=start[1]),
                    end=types.Position(line=end[0], character=end[1]),
                ),
                context=types.CodeActionContext(diagnostics=list(diagnostics)),
            )
        )
        actions = [a for a in result or [] if isinstance(a, types.CodeAction)]
        assert len(actions) == len(result or [])
        if not notes:
            actions = [a for a in actions if a.kind != "quickfix.handrail.note"]
        return actions

    async def run(self, command: types.Command | str, argument: Any = None) -> Any:
        if isinstance(command, types.Command):
            name, arguments = command.command, command.arguments
        else:
            name, arguments = command, [argument] if argument is not None else None
        result = await self.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=arguments)
        )
        from command_shapes import result_errors  # here: the import block is shared

        # Every answer of the real server must have its declared type (the command contract,
        # tests/contract/): the shared examples alone could drift from what the server sends.
        assert result_errors(name, result) == [], (name, result_errors(name, result))
        return result


def _to_change(text: str, edit: types.TextEdit) -> TextChange:
    """An LSP edit (UTF-16 positions) as an engine change on `text`."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def point(position: types.Position) -> tuple[int, int]:
        line = lines[position.line]
        units = 0
        for index, char in enumerate(line):
            if units >= position.character:
                return position.line + 1, index + 1
            units += 2 if ord(char) > 0xFFFF else 1
        return position.line + 1, len(line) + 1

    start, end = point(edit.range.start), point(edit.range.end)
    return TextChange(*start, *end, edit.new_text)


def _make_client() -> Client:
    def apply(c: Client, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        c.applied.append(params.edit)
        if c.apply_answer:
            c.apply_edit(params.edit)
        return types.ApplyWorkspaceEditResult(applied=c.apply_answer)

    client = recording_client(Client, {types.WORKSPACE_APPLY_EDIT: apply})
    client.applied = []
    client.apply_answer = True
    return client


def capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(
            work_done_progress=True,
            show_document=types.ShowDocumentClientCapabilities(support=True),
        ),
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            workspace_folders=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        ),
        text_document=text_document_capabilities(),
    )


@asynccontextmanager
async def running(
    folders: list[Path],
    *,
    env: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
    client_capabilities: types.ClientCapabilities | None = None,
) -> AsyncIterator[Client]:
    """Start the server on `folders` (with environment `env`, in initializationOptions the
    editor `settings` beside a zero debounce, other client capabilities), yield the client,
    shut the server down."""
    client = _make_client()
    options = {"handrail": {"debounce_ms": 0, **(settings or {})}}
    async with serving(
        client,
        folders,
        client_capabilities or capabilities(),
        init_options=options,
        env=env,
    ) as result:
        client.initialized = result
        yield client


def make_task(ws: Workspace, task_id: str = "k3f7qa", context: list[str] | None = None) -> Task:
    task = Task(id=task_id, spec=SPEC, context=context or [])
    save_task(ws, task)
    return task


def write_source(ws: Workspace, text: str) -> Path:
    """`text` written to src/a.py of `ws` (the folder made); its path."""
    path = ws.root / "src" / "a.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
