"""Transport: the one place that reaches into pygls' private parts. KEEP IT THAT WAY.

Every name with a leading underscore that belongs to pygls (``workspace._text_documents``,
``protocol._server``, ``_send_data``, ``_send_response``, ``_handle_response``,
``_request_futures``, ``_shutdown``, the server's ``_stop_event``) is used here and nowhere
else in Handrail, behind a public name of ours; so is pygls' stream code (``pygls.io_``).
`tests/lsp/core/test_pygls_pins.py` pins each behaviour relied on, so a pygls upgrade that
changes one fails there, loudly, instead of somewhere odd.

What it adds to pygls:
- framing that finds its feet again after garbage: a broken frame (a body that is not JSON, a
  wrong Content-Length) is skipped and the reader finds the next ``Content-Length`` header;
- a message body read in chunks and let go of as soon as it is decoded (large didOpen);
- open documents whose text pygls reads from our validated store (`BufferDocument`);
- nothing sent once the output stream is closed (after `exit`);
- messages written from JSON text encoded beforehand (`encode`, `send_encoded`), so that a
  document's diagnostics are not unstructured by cattrs and encoded again on every edit when
  most of them are the ones already sent (`publish_diagnostics_body`); a request's handler
  may answer with such text too (`EncodedResult`, `full_report`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.io_ import StdinAsyncReader, StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import TextDocument, Workspace

from handrail.lsp.documents import Document

log = logging.getLogger("handrail.lsp")

_CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*(\d+)", re.IGNORECASE)
MAX_FRAME_BYTES = 256 * 1024 * 1024
READ_CHUNK = 1024 * 1024
"""A message body is read from stdin this many bytes at a time (see `PushbackReader`)."""


# -- documents ----------------------------------------------------------------------------


class BufferDocument(TextDocument):
    """pygls' view of an open document, reading the text from our validated store."""

    def __init__(self, document: Document, **kwargs: Any) -> None:
        super().__init__(document.uri, language_id=document.language_id, **kwargs)
        self._document = document

    @property
    def source(self) -> str:
        return self._document.text

    @property
    def version(self) -> int | None:
        return self._document.version

    @version.setter
    def version(self, value: int | None) -> None:
        """pygls assigns the version at construction; ours follows the store."""


def install_document(workspace: Workspace, document: Document) -> None:
    """Make `workspace.get_text_document(uri)` show our store's text for `document`.

    pygls keys its documents by the unquoted URI (see `Workspace.get_text_document`) and has
    no public way to add a document it did not build from a didOpen of its own.
    """
    workspace._text_documents[unquote(document.uri)] = BufferDocument(
        document, position_codec=workspace.position_codec
    )


# -- the protocol's private members -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EncodedResult:
    """A request's result given as its JSON text (`PyglsProtocol.encode`): a handler that
    returns one has it sent as it is, not unstructured and encoded again."""

    text: str


def full_report(items: list[str]) -> EncodedResult:
    """`types.RelatedFullDocumentDiagnosticReport(items=...)` (the `textDocument/diagnostic`
    answer) with its diagnostics already encoded: the JSON text pygls writes for it."""
    return EncodedResult(f'{{"items": [{", ".join(items)}], "kind": "full"}}')


class ServerHooks(Protocol):
    """What the protocol asks of the server it serves (see `PyglsProtocol.hooks`)."""

    def log_error(self, message: str, exc: BaseException | None = None) -> None: ...

    async def stop_commands(self) -> None: ...

    exit_code: int


class PyglsProtocol(LanguageServerProtocol):
    """`LanguageServerProtocol` with public names for the private members Handrail uses."""

    closed = False
    """Set once the output stream is closed (`exit`, end of input): nothing can be sent."""

    @property
    def hooks(self) -> ServerHooks:
        """The server this protocol serves (pygls: ``protocol._server``)."""
        server: Any = self._server
        return server  # type: ignore[no-any-return]

    @property
    def shutdown_requested(self) -> bool:
        """`shutdown` has arrived (pygls: ``protocol._shutdown``)."""
        return bool(self._shutdown)

    @shutdown_requested.setter
    def shutdown_requested(self, value: bool) -> None:
        self._shutdown = value

    def _send_response(
        self, msg_id: Any, result: Any | None = None, error: types.ResponseError | None = None
    ) -> None:
        if error is None and isinstance(result, EncodedResult):
            # pygls' answer to a request is {"id", "result", "jsonrpc"} in this order; the
            # result type it noted for the request is dropped as its own sending would.
            self._result_types.pop(msg_id, None)
            self.send_encoded(
                f'{{"id": {json.dumps(msg_id)}, "result": {result.text}, "jsonrpc": "2.0"}}'
            )
            return
        super()._send_response(msg_id, result, error)

    def send_error(self, msg_id: int | str, error: types.ResponseError) -> None:
        """Answer request `msg_id` with `error` (pygls: ``_send_response``)."""
        self._send_response(msg_id, error=error)

    def deliver_response(self, message: Any) -> None:
        """Hand a client's reply to whatever awaits it (pygls: ``_handle_response``)."""
        self._handle_response(
            message.id, getattr(message, "result", None), getattr(message, "error", None)
        )

    def current_request_future(self) -> Future[Any] | None:
        """The future pygls keeps for the request being handled (``_request_futures``,
        cancelled by ``$/cancelRequest``); None outside a request's handler."""
        msg_id = self.msg_id
        if msg_id is None:
            return None
        future: Future[Any] | None = self._request_futures.get(msg_id)
        return future

    def cancel_pending_requests(self, keep: object) -> None:
        """Cancel every request still being handled but `keep` (pygls: ``_request_futures``).

        A copy is iterated: cancelling one changes the dict (pygls' own `shutdown` handler
        iterates the dict itself and raises RuntimeError).
        """
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != keep and not future.done():
                future.cancel()

    def _send_data(self, data: Any) -> None:
        if self.closed:
            # After `exit` the stream is closed: a late progress report or log message from
            # a finishing thread is dropped, not turned into an error that is reported (by
            # sending a message...) over and over.
            log.debug("not sent after exit: %s", type(data).__name__)
            return
        super()._send_data(data)

    def encode(self, value: Any) -> str:
        """`value` (an lsprotocol object) as the JSON text pygls writes for it inside a message:
        unstructured by the protocol's converter (``_converter``), then `json.dumps` with the
        same fallback (``_serialize_message``) and options as ``_send_data``."""
        return json.dumps(self._converter.unstructure(value), default=self._serialize_message)

    def send_encoded(self, body: str) -> None:
        """Write one message given as its JSON text, framed as ``_send_data`` frames the
        messages it encodes (same header, same error handling); nothing after `closed`."""
        if self.closed:
            log.debug("not sent after exit: an encoded message")
            return
        if self.writer is None:
            log.error("Unable to send data, no available transport!")
            return
        try:
            data = body.encode(self.CHARSET)
            if self._include_headers:
                header = (
                    f"Content-Length: {len(data)}\r\n"
                    f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
                )
                data = header.encode(self.CHARSET) + data
            res = self.writer.write(data)
            if inspect.isawaitable(res):
                # An asynchronous writer (pygls' websocket one; ours is stdout): as pygls does.
                asyncio.ensure_future(res)  # noqa: RUF006
        except BrokenPipeError:
            log.exception("Error sending data. BrokenPipeError")
            raise
        except Exception as error:
            log.exception("Error sending data")
            self._server._report_server_error(error, JsonRpcInternalError)


def publish_diagnostics_body(uri: str, version: int | None, items: list[str]) -> str:
    """The JSON text of a ``textDocument/publishDiagnostics`` notification whose diagnostics
    are already encoded (`PyglsProtocol.encode`): byte for byte what pygls writes for the same
    `types.PublishDiagnosticsParams` (cattrs' field order, no ``version`` when it is None)."""
    version_part = "" if version is None else f', "version": {json.dumps(version)}'
    return (
        f'{{"params": {{"uri": {json.dumps(uri)}, "diagnostics": [{", ".join(items)}]'
        f'{version_part}}}, "method": "{types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS}", '
        '"jsonrpc": "2.0"}'
    )


# -- the stream ---------------------------------------------------------------------------


class PushbackReader:
    """stdin with bytes that can be pushed back, so a broken frame never swallows the next."""

    def __init__(self, reader: StdinAsyncReader) -> None:
        self._reader = reader
        self._buffer = b""

    @classmethod
    def of(cls, stdin: BinaryIO, executor: ThreadPoolExecutor) -> PushbackReader:
        """A reader of `stdin`, each blocking read done on `executor` (pygls' reader)."""
        return cls(StdinAsyncReader(stdin, executor))

    def push_back(self, data: bytes | bytearray) -> None:
        self._buffer = bytes(data) + self._buffer

    async def readline(self) -> bytes:
        while b"\n" not in self._buffer:
            more = await self._reader.readline()
            if not more:
                line, self._buffer = self._buffer, b""
                return line
            self._buffer += more
        index = self._buffer.index(b"\n") + 1
        line, self._buffer = self._buffer[:index], self._buffer[index:]
        return line

    async def readexactly(self, n: int) -> bytes | bytearray:
        """`n` bytes, or fewer at the end of the stream.

        Read a chunk at a time into one growing buffer: a worker thread reads each chunk and
        may keep it referenced for a moment after handing it over, so a body read whole
        would be held twice while it is decoded (tens of megabytes for a large didOpen).
        """
        if len(self._buffer) >= n:
            data, self._buffer = self._buffer[:n], self._buffer[n:]
            return data
        body = bytearray(self._buffer)
        self._buffer = b""
        while len(body) < n:
            more = await self._reader.readexactly(min(n - len(body), READ_CHUNK))
            if not more:
                break
            body += more
        return body


def attach_writer(protocol: LanguageServerProtocol, stdout: BinaryIO) -> None:
    """Send the protocol's messages to `stdout` (pygls' writer)."""
    protocol.set_writer(StdoutWriter(stdout))


def set_stop_event(server: LanguageServer, stop: threading.Event) -> None:
    """The event pygls' own loop watches (``server._stop_event``): `LanguageServer.shutdown`
    sets it, and ours stops reading when it is set."""
    server._stop_event = stop


async def serve(
    reader: PushbackReader,
    protocol: PyglsProtocol,
    stop: threading.Event,
    exiting: Callable[[], asyncio.Future[int] | None],
) -> None:
    """The message loop: pygls' framing, but one that finds its feet again after garbage.

    A header line is searched (not matched) for ``Content-Length``, so a header glued to the
    tail of a broken body still counts; a body that is not JSON is searched for the next
    header, which is pushed back and read again. Returns once `exiting()` gives a future
    (`exit` arrived), after setting the server's exit code from it.
    """
    length: int | None = None
    while not stop.is_set():
        header = await reader.readline()
        if not header:
            break
        matches = list(_CONTENT_LENGTH.finditer(header))
        if matches:
            length = int(matches[-1].group(1))
            continue
        if header.strip() or length is None:
            continue
        if length > MAX_FRAME_BYTES:
            log.error("Refusing a message of %d bytes", length)
            length = None
            continue
        if not await read_message(reader, protocol, length):
            break
        length = None
        if (done := exiting()) is not None:
            protocol.hooks.exit_code = await done
            return


async def read_message(reader: PushbackReader, protocol: PyglsProtocol, length: int) -> bool:
    """Read and handle one message body, or skip to the next header in it; False at the end.

    The body is decoded before parsing and the bytes let go first, so a large message (a
    didOpen of tens of megabytes) is held at most twice at once: bytes and text, then text
    and the parsed string (`json.loads` on bytes would hold all three). Nothing of it stays
    referenced here once it is handled.
    """
    body = await reader.readexactly(length)
    if not body:
        return False
    try:
        decoded = body.decode(json.detect_encoding(body), "surrogatepass")
    except UnicodeDecodeError as exc:
        _skip_body(reader, protocol, body, exc)
        return True
    del body
    try:
        message = json.loads(decoded, object_hook=protocol.structure_message)
    except Exception as exc:
        _skip_body(reader, protocol, decoded.encode("utf-8", "surrogatepass"), exc)
        return True
    del decoded
    try:
        protocol.handle_message(message)
    except Exception as exc:
        protocol.hooks.log_error(f"Handrail could not handle a message: {exc}", exc)
    return True


def _skip_body(
    reader: PushbackReader, protocol: PyglsProtocol, body: bytes | bytearray, exc: Exception
) -> None:
    """Log a body that is not a message; a header inside it starts the next one."""
    protocol.hooks.log_error(f"Handrail ignored a message it could not read: {exc}")
    found = _CONTENT_LENGTH.search(body, 1)
    if found is not None:
        reader.push_back(body[found.start() :])
