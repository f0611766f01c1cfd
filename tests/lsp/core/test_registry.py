"""The folder registry: a document's folder is resolved once per version, and handed on.

The server is driven in-process through its protocol (the messages a client sends); the
count is taken through `FolderRegistry.locate`, the one place that walks the folders and
the disk, with the real lookup still done.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from captured_writer import CapturedWriter
from lsp_client import HANG_GUARD_S

from handrail.lsp.registry import FolderRegistry, uri_to_path
from handrail.lsp.server import HandrailServer, create_server
from handrail.workspace import Workspace


def _deliver(server: HandrailServer, method: str, params: Any, msg_id: int | None = None) -> None:
    """One client message, structured and handled as the server's reading loop does."""
    payload: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if msg_id is not None:
        payload["id"] = msg_id
    message = json.loads(json.dumps(payload), object_hook=server.protocol.structure_message)
    server.protocol.handle_message(message)


def _published_versions(out: CapturedWriter) -> list[int | None]:
    versions = []
    data = out.data
    while data:
        header, _, rest = data.partition(b"\r\n\r\n")
        length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        message = json.loads(rest[:length])
        if message.get("method") == "textDocument/publishDiagnostics":
            versions.append(message["params"].get("version"))
        data = rest[length:]
    return versions


async def _settled(server: HandrailServer, uri: str) -> None:
    """Wait for the pending diagnostics run of `uri`, if one is scheduled."""
    pending = server.diagnostics._pending.get(uri)
    if pending is not None:
        await asyncio.wait_for(pending, HANG_GUARD_S)


async def test_one_edit_resolves_its_folder_once(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = create_server()
    out = CapturedWriter()
    server.protocol.set_writer(out)
    root_uri = workspace.root.as_uri()
    _deliver(server, "initialize", {"processId": None, "rootUri": root_uri, "capabilities": {}}, 1)
    path = workspace.root / "app.py"
    path.write_text("x = 1\n")
    uri = path.as_uri()
    item = {"uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}
    _deliver(server, "textDocument/didOpen", {"textDocument": item})
    await _settled(server, uri)

    lookups: list[str] = []
    real_locate = server.registry.locate

    def counting_locate(uri: str) -> Any:
        lookups.append(uri)
        return real_locate(uri)

    monkeypatch.setattr(server.registry, "locate", counting_locate)
    pasted = "".join(f"y{i} = {i}\n" for i in range(40))  # a paste: the HR308 threshold is read
    change = {"range": _at(1, 0), "text": pasted}
    _deliver(
        server,
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [change]},
    )
    await _settled(server, uri)

    assert _published_versions(out)[-1] == 2
    assert lookups == [uri], "one edit looked its folder up more than once"
    # Features asking about the same version find it too, without a lookup.
    assert server.locate(uri) == (server.folders[workspace.root], "app.py")
    assert lookups == [uri]
    server.diagnostics.shutdown()


def _at(line: int, character: int) -> dict[str, Any]:
    position = {"line": line, "character": character}
    return {"start": position, "end": position}


def test_a_place_is_resolved_again_for_a_new_version_or_new_folders(workspace: Workspace) -> None:
    registry = FolderRegistry(executor=None, log_error=lambda *_: None)  # type: ignore[arg-type]
    inner = workspace.root / "inner"
    (inner / ".handrail").mkdir(parents=True)
    uri = (inner / "a.py").as_uri()
    registry.add(workspace.root.as_uri())
    outer = registry.place_of(uri, 1)
    assert outer.folder is not None and outer.rel == "inner/a.py"
    assert registry.place_of(uri, 1) is outer
    # A workspace folder added inside the first: the innermost folder owns the file now.
    registry.add(inner.as_uri())
    moved = registry.place_of(uri, 1)
    assert moved.folder is not None and moved.folder.root == inner.resolve()
    assert moved.rel == "a.py"
    assert registry.place_of(uri, 2) is not moved


def test_uri_to_path_reads_only_file_uris(workspace: Workspace) -> None:
    assert uri_to_path("untitled:Untitled-1") is None
    assert uri_to_path((workspace.root / "a b.py").as_uri()) == workspace.root / "a b.py"
