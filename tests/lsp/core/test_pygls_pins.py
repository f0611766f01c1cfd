"""Pins for every pygls behaviour `handrail.lsp.transport` relies on.

`transport` is the one module that reaches into pygls' private members and stream code. Each
test here names one thing it assumes; after a pygls upgrade, a failure here says which
assumption broke, instead of the server misbehaving somewhere odd.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pygls
import pytest
from captured_writer import CapturedWriter
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import TextDocument, Workspace

import handrail.lsp
from handrail.lsp.documents import DocumentStore
from handrail.lsp.protocol import HandrailProtocol
from handrail.lsp.server import create_server
from handrail.lsp.transport import (
    BufferDocument,
    PushbackReader,
    attach_writer,
    full_report,
    install_document,
    publish_diagnostics_body,
    set_stop_event,
)


def _log(message: str) -> types.LogMessageParams:
    return types.LogMessageParams(type=types.MessageType.Info, message=message)


def test_the_pygls_version_is_a_2_x() -> None:
    """The whole of `transport` is written against pygls 2 (`pyproject.toml` pins it)."""
    from importlib.metadata import version

    assert version("pygls").startswith("2."), pygls.__file__


def test_the_workspace_keeps_documents_by_unquoted_uri_in_text_documents() -> None:
    """`install_document`: ``workspace._text_documents`` is the dict `get_text_document`
    reads, keyed by the unquoted URI, and a document put there is what it returns."""
    workspace = Workspace(None)
    store = DocumentStore()
    uri = "file:///tmp/a%20b.py"
    document = store.open(uri, "python", 3, "one\ntwo\n")
    install_document(workspace, document)
    shown = workspace.get_text_document(uri)
    assert isinstance(shown, BufferDocument)
    assert shown.source == "one\ntwo\n" and shown.version == 3
    assert list(shown.lines) == ["one\n", "two\n"]
    document.replace_all("three\n", 4)
    assert shown.source == "three\n" and shown.version == 4
    workspace.remove_text_document(uri)
    assert "file:///tmp/a b.py" not in workspace._text_documents


def test_a_text_document_assigns_its_version_and_reads_source() -> None:
    """`BufferDocument`: pygls' `TextDocument` sets ``self.version`` in its constructor (our
    setter ignores it) and derives `lines` from the `source` property."""
    init = inspect.getsource(TextDocument.__init__)
    assert "self.version = version" in init
    assert isinstance(inspect.getattr_static(TextDocument, "lines"), property)
    assert "self.source" in inspect.getsource(TextDocument.lines.fget)  # type: ignore[attr-defined]


def test_the_protocol_knows_its_server_and_its_shutdown_flag() -> None:
    """`PyglsProtocol.hooks` is ``protocol._server``; `shutdown_requested` is
    ``protocol._shutdown``, which pygls' own request handling also reads."""
    server = create_server()
    assert server.protocol.hooks is server
    assert server.protocol._shutdown is False
    server.protocol.shutdown_requested = True
    assert server.protocol._shutdown is True
    assert "_shutdown" in inspect.getsource(LanguageServerProtocol.handle_message)


def test_send_response_sends_an_error_answer() -> None:
    """`send_error`: ``_send_response(msg_id, error=...)`` writes one JSON-RPC error."""
    server = create_server()
    out = CapturedWriter()
    server.protocol.set_writer(out)
    error = types.ResponseError(code=types.ErrorCodes.InvalidRequest, message="no")
    server.protocol.send_error(7, error)
    (answer,) = out.messages()
    assert answer["id"] == 7 and answer["error"]["message"] == "no"


async def test_handle_response_resolves_the_request_of_ours_it_answers() -> None:
    """`deliver_response`: ``_handle_response(id, result, error)`` completes the future of
    the request we sent with that id."""
    server = create_server()
    out = CapturedWriter()
    server.protocol.set_writer(out)
    future = server.protocol.send_request(
        types.WORKSPACE_CONFIGURATION, types.ConfigurationParams(items=[])
    )
    (sent,) = out.messages()

    class Reply:
        def __init__(self) -> None:
            self.id = sent["id"]
            self.result = [{"debounceMs": 5}]
            self.error = None

    server.protocol.deliver_response(Reply())
    assert await asyncio.wait_for(asyncio.wrap_future(future), 5) == [{"debounceMs": 5}]


async def test_request_futures_hold_the_requests_being_handled() -> None:
    """`cancel_pending_requests`, `current_request_future`: ``_request_futures`` maps the id
    of each client request being handled to its future."""
    server = create_server()
    assert isinstance(server.protocol._request_futures, dict)
    loop = asyncio.get_running_loop()
    kept, cancelled = loop.create_future(), loop.create_future()
    server.protocol._request_futures.update({1: kept, 2: cancelled})
    # `msg_id` is the id of the request whose handler runs (a context variable of pygls').
    assert server.protocol.current_request_future() is None
    token = server.protocol._ctx_msg_id.set(1)
    try:
        assert server.protocol.msg_id == 1
        assert server.protocol.current_request_future() is kept
    finally:
        server.protocol._ctx_msg_id.reset(token)
    server.protocol.cancel_pending_requests(keep=1)
    assert cancelled.cancelled() and not kept.done()


def test_every_message_goes_out_through_send_data() -> None:
    """`PyglsProtocol._send_data` is the one door out: once `closed`, nothing is written."""
    server = create_server()
    out = CapturedWriter()
    server.protocol.set_writer(out)
    server.protocol.notify(types.WINDOW_LOG_MESSAGE, _log("before"))
    assert len(out.messages()) == 1
    server.protocol.closed = True
    server.protocol.notify(types.WINDOW_LOG_MESSAGE, _log("after"))
    server.protocol.send_error(9, types.ResponseError(code=-32600, message="after"))
    assert len(out.messages()) == 1


def test_the_overridden_handlers_are_pygls_own_names() -> None:
    """`HandrailProtocol` replaces pygls' built-in handlers by defining methods of the same
    name with `lsp_method`: those names must still be pygls' own."""
    for name in (
        "lsp_shutdown",
        "lsp_exit",
        "lsp_text_document__did_open",
        "lsp_text_document__did_change",
        "lsp_text_document__did_close",
    ):
        assert callable(getattr(LanguageServerProtocol, name, None)), name
        assert getattr(HandrailProtocol, name) is not getattr(LanguageServerProtocol, name)
    server = create_server()
    assert server.protocol._get_handler(types.SHUTDOWN).__func__ is HandrailProtocol.lsp_shutdown  # type: ignore[attr-defined]


def test_the_server_loop_stops_on_its_stop_event() -> None:
    """`set_stop_event`: pygls' ``LanguageServer.shutdown`` sets ``_stop_event``."""
    server = LanguageServer("pin", "0")
    stop = threading.Event()
    set_stop_event(server, stop)
    server.shutdown()  # type: ignore[no-untyped-call]
    assert stop.is_set()


async def test_the_stdin_reader_and_stdout_writer_do_what_the_loop_needs() -> None:
    """`PushbackReader.of` wraps pygls' `StdinAsyncReader` (readline, readexactly on a
    worker thread); `attach_writer` pygls' `StdoutWriter` (write, close)."""
    with ThreadPoolExecutor(1) as pool:
        reader = PushbackReader.of(io.BytesIO(b"Content-Length: 2\r\n\r\n{}rest"), pool)
        assert await reader.readline() == b"Content-Length: 2\r\n"
        assert await reader.readline() == b"\r\n"
        assert await reader.readexactly(2) == b"{}"
        assert await reader.readexactly(10) == b"rest"
    server = create_server()
    sink = io.BytesIO()
    attach_writer(server.protocol, sink)
    server.protocol.notify(types.WINDOW_LOG_MESSAGE, _log("x"))
    assert sink.getvalue().startswith(b"Content-Length: ")


def _diagnostic(message: str) -> types.Diagnostic:
    at = types.Position(line=3, character=2)
    return types.Diagnostic(
        range=types.Range(start=at, end=at),
        message=message,
        severity=types.DiagnosticSeverity.Warning,
        code="HR305",
        code_description=types.CodeDescription(href="https://docs.example/HR305.md"),
        source="handrail",
        data={"code": "HR305", "lines": [1, 2], "nested": {"é": None}},
    )


@pytest.mark.parametrize("version", [7, None])
def test_an_encoded_publication_is_byte_for_byte_what_pygls_writes(version: int | None) -> None:
    """`encode`, `publish_diagnostics_body`, `send_encoded`: pygls writes a notification with
    ``json.dumps(message, default=self._serialize_message)``, which unstructures it with
    ``self._converter`` (cattrs' field order, None fields left out), framed by
    ``_include_headers``; the encoded path writes the very same bytes."""
    assert "json.dumps(data, default=self._serialize_message)" in inspect.getsource(
        LanguageServerProtocol._send_data
    )
    assert "self._converter.unstructure" in inspect.getsource(
        LanguageServerProtocol._serialize_message
    )
    uri = 'file:///tmp/a%20b/\u00e9"x.py'
    diagnostics = [_diagnostic("one \u2603 `x`"), _diagnostic('two "quoted"\n')]
    pygls_way, our_way = create_server(), create_server()
    expected, written = CapturedWriter(), CapturedWriter()
    pygls_way.protocol.set_writer(expected)
    our_way.protocol.set_writer(written)
    pygls_way.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
    )
    items = [our_way.protocol.encode(d) for d in diagnostics]
    our_way.protocol.send_encoded(publish_diagnostics_body(uri, version, items))
    assert written.data == expected.data
    (message,) = written.messages()
    assert ("version" in message["params"]) is (version is not None)


@pytest.mark.parametrize("msg_id", [3, "req-3"])
def test_an_encoded_result_is_byte_for_byte_the_answer_pygls_writes(msg_id: int | str) -> None:
    """`EncodedResult`, `full_report`: pygls answers a request through
    ``_send_response(msg_id, result=...)``, with the result type it noted for the request in
    ``_result_types`` (popped); an encoded report writes the same bytes and pops it too."""
    assert "self._result_types.pop(msg_id" in inspect.getsource(
        LanguageServerProtocol._send_response
    )
    diagnostics = [_diagnostic("one"), _diagnostic("two")]
    pygls_way, our_way = create_server(), create_server()
    expected, written = CapturedWriter(), CapturedWriter()
    pygls_way.protocol.set_writer(expected)
    our_way.protocol.set_writer(written)
    for server in (pygls_way, our_way):
        server.protocol._result_types[msg_id] = server.protocol.get_result_type(
            types.TEXT_DOCUMENT_DIAGNOSTIC
        )
    pygls_way.protocol._send_response(
        msg_id, result=types.RelatedFullDocumentDiagnosticReport(items=diagnostics)
    )
    our_way.protocol._send_response(
        msg_id, result=full_report([our_way.protocol.encode(d) for d in diagnostics])
    )
    assert written.data == expected.data
    assert msg_id not in our_way.protocol._result_types


def test_an_encoded_message_is_not_sent_after_exit_and_a_write_error_is_reported() -> None:
    """`send_encoded` keeps `_send_data`'s rules: nothing once `closed`; a failing write is
    reported through ``_server._report_server_error`` (which our server only logs)."""
    server = create_server()
    out = CapturedWriter()
    server.protocol.set_writer(out)
    server.protocol.closed = True
    server.protocol.send_encoded(publish_diagnostics_body("file:///a.py", 1, []))
    assert out.data == b""
    assert "self._server._report_server_error(error, JsonRpcInternalError)" in (
        inspect.getsource(LanguageServerProtocol._send_data)
    )

    class Broken:
        def write(self, data: bytes) -> None:
            raise OSError("gone")

        def close(self) -> None:
            return None

    reported: list[object] = []
    server = create_server()
    server.report_server_error = lambda error, source: reported.append(source)  # type: ignore[method-assign]
    server.protocol.set_writer(Broken())
    server.protocol.send_encoded(publish_diagnostics_body("file:///a.py", 1, []))
    assert [getattr(s, "__name__", s) for s in reported] == ["JsonRpcInternalError"]


PYGLS_PRIVATE = {
    "_result_types",
    "_converter",
    "_serialize_message",
    "_include_headers",
    "_report_server_error",
    "_text_documents",
    "_server",
    "_shutdown",
    "_send_data",
    "_send_response",
    "_handle_response",
    "_request_futures",
    "_stop_event",
    "_ctx_msg_id",
}


def test_only_transport_touches_pygls_private_members() -> None:
    """The pins above cover `transport` only: no other module may reach past pygls' public
    names (an attribute from the list, or pygls' stream module `pygls.io_`)."""
    lsp_dir = Path(handrail.lsp.__file__).parent
    found = []
    for path in sorted(lsp_dir.rglob("*.py")):
        if path.name == "transport.py" and path.parent == lsp_dir:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in PYGLS_PRIVATE:
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pygls.io_"):
                found.append(f"{path.name}:{node.lineno} pygls.io_")
    assert found == []
