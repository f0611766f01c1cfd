"""The protocol: pygls' message handling with our document sync, error answers and shutdown.

- Malformed params of a request are answered with a JSON-RPC error (pygls only logs them).
- After `shutdown`, requests are refused with InvalidRequest (pygls drops them unanswered).
- `didOpen`/`didChange`/`didClose` go through our validated store (`lsp.documents`); pygls'
  own view of a document reads from it.
- `exit` stops the reading loop with the exit code instead of raising SystemExit.

pygls-private members are reached only through `lsp.transport`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator
from typing import Any, Protocol

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol.language_server import lsp_method

from handrail.lsp.documents import DocumentStore
from handrail.lsp.transport import PyglsProtocol, ServerHooks, install_document

log = logging.getLogger("handrail.lsp")


class ProtocolHooks(ServerHooks, Protocol):
    """What `HandrailProtocol` needs of its server: the store and a way to stop commands."""

    documents: DocumentStore


@attrs.define
class InvalidRequest:
    """A request whose params could not be read: answered with an error, not dropped."""

    id: int | str
    method: str
    message: str


class HandrailProtocol(PyglsProtocol):
    """pygls' protocol with our own document sync, error answers and shutdown."""

    exiting: asyncio.Future[int] | None = None
    """Created when `exit` arrives, resolved with the exit code once it is carried out."""

    @property
    def server_hooks(self) -> ProtocolHooks:
        hooks: Any = self.hooks
        return hooks  # type: ignore[no-any-return]

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data and isinstance(data["id"], int | str):
                cause = exc.__cause__ or exc
                return InvalidRequest(data["id"], str(data["method"]), short_error(cause))
            raise

    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        if self.shutdown_requested and method != types.EXIT:
            if method is None:
                # A reply to a request of ours: whatever awaits it may be part of stopping.
                self.deliver_response(message)
            elif getattr(message, "id", None) is not None:
                # pygls drops requests after `shutdown` unanswered; LSP wants InvalidRequest.
                self.send_error(
                    message.id,
                    types.ResponseError(
                        code=types.ErrorCodes.InvalidRequest,
                        message=f"Handrail is shutting down: {method} is refused "
                        "(only `exit` may follow `shutdown`).",
                    ),
                )
            return
        if isinstance(message, InvalidRequest):
            log.warning("Invalid params for %s: %s", message.method, message.message)
            self.send_error(
                message.id,
                types.ResponseError(
                    code=types.ErrorCodes.InvalidParams,
                    message=f"Invalid params for {message.method}: {message.message}",
                ),
            )
            return
        super().handle_message(message)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """`shutdown`: refuse new requests at once, stop running commands, then answer.

        pygls' own handler cancels the pending requests while iterating over the dict their
        cancellation changes (RuntimeError: the answer is an error and `exit` then exits 1),
        and sets its flag only at the end.
        """
        self.shutdown_requested = True
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        self.cancel_pending_requests(keep=self.msg_id)
        return None

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """`exit`: code 0 after `shutdown`, else 1 (LSP); nothing is sent after it.

        pygls raises SystemExit from inside the handler; `transport.serve` instead stops
        reading and returns the code. Reading on would leave a thread blocked on stdin, which
        the interpreter waits for at exit: the process would hang until the client closed it.
        """
        self.exiting = exiting = asyncio.get_running_loop().create_future()
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        # `exit` without `shutdown`: running commands are stopped (and their requests
        # answered) first. Left to the event loop's closing, their tasks would be cancelled
        # under pygls' executeCommand handler, which logs a traceback for each.
        yield self.server_hooks.stop_commands, (), None
        self.closed = True
        if self.writer is not None:
            with contextlib.suppress(OSError, ValueError):
                self.writer.close()
        exiting.set_result(0 if self.shutdown_requested else 1)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(
        self, params: types.DidOpenTextDocumentParams
    ) -> Generator[Any, Any, None]:
        item = params.text_document
        document = self.server_hooks.documents.open(
            item.uri, item.language_id, item.version, item.text
        )
        install_document(self.workspace, document)
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        # pygls would apply the changes unchecked; the user handler applies them validated.
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Generator[Any, Any, None]:
        self.server_hooks.documents.close(params.text_document.uri)
        self.workspace.remove_text_document(params.text_document.uri)
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


def short_error(exc: BaseException) -> str:
    """The first line of an error's text, else its type's name."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
