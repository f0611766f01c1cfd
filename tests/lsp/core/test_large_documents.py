"""A document over `max_document_bytes` costs about its own size, not several times it.

The server is driven in-process through its real message reader (a pipe, as stdin is) and
its memory is counted by tracemalloc: every allocation the server makes, deterministically,
whatever the machine's load (the resident-memory figure of a whole process lives in
`bench/lsp_bench.py --large`). Before, the text was held as a list of lines besides the text
(several times the text for short lines), the message's bytes stayed referenced while it was
parsed, and a parsed didOpen outlived its handling.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import tracemalloc
from typing import Any

from lsp_client import HANG_GUARD_S
from pygls.io_ import StdinAsyncReader

from handrail.lsp.server import HandrailServer, create_server
from handrail.lsp.transport import PushbackReader, read_message
from handrail.workspace import Workspace

LINE = "x = f(1)  # note\n"
LINES = 240_000
"""About 4 MB of short lines: where a list of lines costs most beside the text."""
LIMIT = 1_000_000
BLOCK = "# handrail:begin abcdef.1\nx = 1\n# handrail:end abcdef.1\n"


class _Capture:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.messages.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))

    def close(self) -> None:
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Stdin:
    """A pipe the server reads as its stdin; bodies are written by a thread (a pipe holds
    only 64 KB), each handled by `_read_message` as the server's loop would."""

    def __init__(self, server: HandrailServer) -> None:
        self.server = server
        read, self._write = os.pipe()
        self.reader = PushbackReader(StdinAsyncReader(os.fdopen(read, "rb")))

    async def send(self, body: bytes) -> None:
        writer = threading.Thread(target=_write_all, args=(self._write, body))
        writer.start()
        assert await read_message(self.reader, self.server.protocol, len(body))
        writer.join(HANG_GUARD_S)

    async def notify(self, method: str, params: dict[str, Any]) -> None:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        await self.send(json.dumps(message).encode())


async def _settle(server: HandrailServer, uri: str) -> None:
    """Wait for the analysis the last message scheduled (an event, not a pause)."""
    pending = server.diagnostics._pending.get(uri)
    if pending is not None:
        await asyncio.wait_for(pending, HANG_GUARD_S)


def _edit(uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str) -> Any:
    def position(at: tuple[int, int]) -> dict[str, int]:
        return {"line": at[0], "character": at[1]}

    return {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [
            {"range": {"start": position(start), "end": position(end)}, "text": text}
        ],
    }


async def test_a_document_over_the_limit_is_held_once_and_kept_in_step(
    workspace: Workspace,
) -> None:
    server = create_server()
    out = _Capture()
    server.protocol.set_writer(out)
    stdin = _Stdin(server)
    root = workspace.root.as_uri()
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "capabilities": {},
            "workspaceFolders": [{"uri": root, "name": "ws"}],
            # No closed-file findings pushed: that background gate run would count here.
            "initializationOptions": {
                "max_document_bytes": LIMIT,
                "debounce_ms": 0,
                "max_closed_files": 0,
            },
        },
    }
    await stdin.send(json.dumps(initialize).encode())
    await stdin.notify("initialized", {})
    # `initialized` reads each folder in the background: wait until that is done, or its
    # allocations (the workflow, the ledger) count against the document's on a loaded machine.
    deadline = time.monotonic() + HANG_GUARD_S
    while not all(folder.loaded for folder in server.folders.values()):
        assert time.monotonic() < deadline, "the folder was never read"
        await asyncio.sleep(0.01)
    await asyncio.get_running_loop().run_in_executor(server.diagnostics.executor, lambda: None)
    uri = (workspace.root / "big.py").as_uri()
    size = len(LINE) * LINES
    # The client's copy is made before counting starts: only the server's allocations count.
    item = {"uri": uri, "languageId": "python", "version": 1, "text": LINE * LINES}
    message = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": item}}
    body = json.dumps(message).encode()
    del item, message

    tracemalloc.start()
    await stdin.send(body)
    del body
    await _settle(server, uri)
    held, peak = tracemalloc.get_traced_memory()
    document = server.documents.get(uri)
    assert document is not None and document.over_limit
    # The store holds the text alone: no list of lines, no second copy in an analysis.
    assert not document.holds_lines
    assert server.analyses._analyses[uri].text == ""
    # Held: the text once (plus small change). Peak: the message as bytes and as text, then
    # as text and the parsed string, never three at once.
    assert held < 1.2 * size
    assert peak < 2.6 * size
    (published,) = [m for m in out.messages if m.get("method") == "textDocument/publishDiagnostics"]
    assert f"it is {size} bytes" in published["params"]["diagnostics"][0]["message"]

    # Edits are applied to that one text, each costing it once more for a moment at most.
    for version in range(2, 5):
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        await stdin.notify(
            "textDocument/didChange", _edit(uri, version, (version, 0), (version, 0), "y")
        )
        await _settle(server, uri)
        after, peak = tracemalloc.get_traced_memory()
        assert after - before < 0.2 * size
        assert peak - before < 1.5 * size
        assert not document.holds_lines
    assert document.text == LINE * 2 + ("y" + LINE) * 3 + LINE * (LINES - 5)

    # Edited under the limit, it is analysed again, from exactly the editor's text.
    await stdin.notify("textDocument/didChange", _edit(uri, 5, (0, 0), (LINES, 0), BLOCK))
    await _settle(server, uri)
    assert document.text == BLOCK and document.holds_lines
    last = [m for m in out.messages if m.get("method") == "textDocument/publishDiagnostics"][-1]
    assert last["params"]["version"] == 5
    assert {d["code"] for d in last["params"]["diagnostics"]} >= {"HR300"}
    server.diagnostics.shutdown()
    tracemalloc.stop()
