"""What every end-to-end language-server test client needs, whatever it checks.

- `PollingClient.wait_for`: poll a condition (pytest-lsp's `wait_for_notification` hangs when
  the notification already arrived, so tests never wait on one).
- `serving`: start `python -m handrail lsp`, initialize it on some folders, shut it down after.
- `new_client`: a pytest-lsp client whose converter reads a CodeAction that carries a command
  correctly (lsprotocol 2025.0.0 reads it as a `Command` on the client side).
- `DocumentClient` and `recording_features`: open, change, save and close documents as an
  editor does, record every publishDiagnostics, ask for lenses and hovers;
  `text_document_capabilities` to match; `recording_client` builds one with a harness's own
  extra handlers (each harness keeps only what its area needs).
- `env_with_sitecustomize`: a server process whose Python runs a test's `sitecustomize` first
  (to break one part of the engine inside the real server, never in product code).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, Union

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

ClientT = TypeVar("ClientT", bound=LanguageClient)

HANG_GUARD_S = 60.0
"""The longest any end-to-end step (start, a request, a condition) may take before a test
calls it hung. Only a guard: the order of events decides every test, never this figure, and a
server that starts in one second here may take twenty on a machine under load."""


class PollingClient(LanguageClient):
    timeout_s = HANG_GUARD_S
    """How long `wait_for` waits unless told otherwise."""

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float | None = None, what: str = "condition"
    ) -> Any:
        """Poll `predicate` until it returns something truthy; AssertionError on timeout."""
        deadline = time.monotonic() + (self.timeout_s if timeout is None else timeout)
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.01)


class DocumentClient(PollingClient):
    """A client that keeps the text and version of each document it opened and records every
    publishDiagnostics (`recording_features` registers that)."""

    published: list[types.PublishDiagnosticsParams]
    texts: dict[str, str]
    versions: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published = []
        self.texts = {}
        self.versions = {}

    def open(self, path: Path, text: str | None = None, language_id: str = "python") -> str:
        """Open `path` at version 1 with `text` (default: what is on disk); its URI."""
        text = path.read_text(encoding="utf-8") if text is None else text
        uri = path.as_uri()
        self.texts[uri] = text
        self.versions[uri] = 1
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language_id, version=1, text=text
                )
            )
        )
        return uri

    def replace_all(self, uri: str, text: str) -> int:
        """Change the whole document to `text` in one change; the new version."""
        self.texts[uri] = text
        self.versions[uri] += 1
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return self.versions[uri]

    def save(self, uri: str, text: str | None = None) -> None:
        self.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri), text=text
            )
        )

    def close(self, uri: str) -> None:
        self.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def last(self, uri: str) -> types.PublishDiagnosticsParams | None:
        """The newest publication for `uri` (None before the first)."""
        for params in reversed(self.published):
            if params.uri == uri:
                return params
        return None

    async def code_lenses(self, uri: str) -> list[types.CodeLens]:
        """The code lenses of `uri` as the server answers them now."""
        result = await self.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        return list(result or [])

    async def hover_text(self, uri: str, line: int, character: int) -> str | None:
        """The hover's markdown at 0-based `line`, `character` of `uri` (None: no hover)."""
        result = await self.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
            )
        )
        if result is None:
            return None
        assert isinstance(result.contents, types.MarkupContent), result.contents
        return result.contents.value


def recording_features() -> dict[str, Any]:
    """pytest-lsp's client features, with publishDiagnostics recorded in `published`."""
    features = dict(DEFAULT_CLIENT_FEATURES)

    def publish(c: DocumentClient, params: types.PublishDiagnosticsParams) -> None:
        c.published.append(params)
        c.diagnostics[params.uri] = params.diagnostics

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    return features


DocumentClientT = TypeVar("DocumentClientT", bound=DocumentClient)


def recording_client(
    cls: type[DocumentClientT], features: Mapping[str, Callable[..., Any]] | None = None
) -> DocumentClientT:
    """A client of class `cls` (see `new_client`) that records every publishDiagnostics,
    with `features` (LSP method -> handler) answered as well."""
    client = new_client(cls)
    register_lsp_features(client, {**recording_features(), **(features or {})})
    return client


def text_document_capabilities(*, pull: bool = False) -> types.TextDocumentClientCapabilities:
    """Saves reported with their text, versioned pushed diagnostics, and (`pull`) pulled ones."""
    return types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
        diagnostic=types.DiagnosticClientCapabilities() if pull else None,
    )


def env_with_sitecustomize(folder: Path, source: str) -> dict[str, str]:
    """This environment, with `source` as a `sitecustomize` module the server's Python imports
    first (written to `folder`, which must exist)."""
    (folder / "sitecustomize.py").write_text(source, encoding="utf-8")
    path = os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def _code_action_or_command(data: Any, _: Any) -> types.CodeAction | types.Command:
    converter = default_converter()
    if isinstance(data, dict) and isinstance(data.get("command"), str):
        return converter.structure(data, types.Command)  # type: ignore[no-any-return]
    return converter.structure(data, types.CodeAction)  # type: ignore[no-any-return]


def new_client(cls: type[ClientT]) -> ClientT:
    """A client of class `cls` speaking through pytest-lsp's protocol, code actions fixed."""
    client = cls(converter_factory=default_converter, protocol_cls=LanguageClientProtocol)
    client.protocol._converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007 (the exact type lsprotocol uses)
        _code_action_or_command,
    )
    return client


@asynccontextmanager
async def serving(
    client: LanguageClient,
    folders: list[Path],
    capabilities: types.ClientCapabilities,
    *,
    init_options: Any = None,
    env: Mapping[str, str] | None = None,
    timeout: float = HANG_GUARD_S,
) -> AsyncIterator[types.InitializeResult]:
    """Run the server for `client` on `folders`; yields the `initialize` result and always
    shuts the server down (a failed test must not leave a server behind)."""
    await client.start_io(
        sys.executable, "-m", "handrail", "lsp", env=dict(os.environ if env is None else env)
    )
    try:
        yield await asyncio.wait_for(
            client.initialize_session(
                types.InitializeParams(
                    capabilities=capabilities,
                    workspace_folders=[
                        types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders
                    ],
                    initialization_options=init_options,
                )
            ),
            timeout,
        )
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), timeout)
        finally:
            await client.stop()
