"""A pytest-lsp client driving `python -m handrail lsp` over stdio, one per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsp_client import DocumentClient, recording_client, serving, text_document_capabilities
from lsprotocol import types


class Client(DocumentClient):
    """The test client, recording every publishDiagnostics (with its version) and every
    registration the server asks for."""

    registrations: list[types.Registration]

    def edit(
        self,
        uri: str,
        start: tuple[int, int],
        end: tuple[int, int],
        text: str,
        *,
        version: int | None = None,
    ) -> int:
        if version is None:
            version = self.versions[uri] + 1
        self.versions[uri] = version
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=start[0], character=start[1]),
                            end=types.Position(line=end[0], character=end[1]),
                        ),
                        text=text,
                    )
                ],
            )
        )
        return version

    async def diagnostics_for(
        self, uri: str, version: int | None = None, *, after: int = 0
    ) -> types.PublishDiagnosticsParams:
        """The first publication for `uri` (at `version`, when given) after the
        `after`-th publication overall."""

        def found() -> types.PublishDiagnosticsParams | None:
            for params in self.published[after:]:
                if params.uri == uri and (version is None or params.version == version):
                    return params
            return None

        result: types.PublishDiagnosticsParams = await self.wait_for(
            found, what=f"diagnostics of {uri} v{version}"
        )
        return result


def _make_client() -> Client:
    def register(c: Client, params: types.RegistrationParams) -> None:
        c.registrations.extend(params.registrations)

    client = recording_client(Client, {types.CLIENT_REGISTER_CAPABILITY: register})
    client.registrations = []
    return client


def capabilities(
    *,
    encodings: list[str] | None = None,
    watch: bool = True,
    configuration: bool = True,
    pull: bool = False,
) -> types.ClientCapabilities:
    """A client that takes pushed diagnostics, or (`pull`) one that asks for them, as VS Code
    and Neovim do (the server then pushes nothing for open documents)."""
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind(e) for e in encodings]
            if encodings
            else None
        ),
        workspace=types.WorkspaceClientCapabilities(
            configuration=configuration,
            workspace_folders=True,
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=watch
            ),
            diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True),
        ),
        text_document=text_document_capabilities(pull=pull),
    )


@asynccontextmanager
async def running(
    folders: list[Path],
    *,
    encodings: list[str] | None = None,
    init_options: Any = None,
    configuration: dict[str, Any] | None = None,
    watch: bool = True,
    pull: bool = False,
) -> AsyncIterator[tuple[Client, types.InitializeResult]]:
    """Start the server, initialize it with `folders`, yield, shut it down."""
    client = _make_client()
    if configuration is not None:
        client.set_configuration(configuration, section="handrail")
    caps = capabilities(encodings=encodings, watch=watch, pull=pull)
    async with serving(client, folders, caps, init_options=init_options) as result:
        yield client, result
