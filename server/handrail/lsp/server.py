"""The Handrail language server: document lifecycle, settings, folders, watching.

Text comes from `handrail.lsp.documents` (validated edits), analyses from
`handrail.lsp.diagnostics`, features (code actions, lenses, hover...) from
`handrail.lsp.features`. Features read a document through `server.analysis_for(uri)` (text,
lines, findings) or `server.documents.get(uri).text`; `server.workspace.get_text_document(uri)`
also shows the live text.

Robustness: malformed params of a request are answered with a JSON-RPC error (pygls only
logs them), a broken frame (garbage body, wrong Content-Length) is skipped and the reader
finds the next ``Content-Length`` header, and stdout belongs to the protocol alone: `main`
moves the real stdout to a private descriptor and points descriptor 1 at stderr, so a stray
print or a child process that inherits it cannot corrupt the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import logging
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.io_ import StdinAsyncReader, StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.workspace import TextDocument

from handrail import __version__
from handrail.lsp.convert import UTF16
from handrail.lsp.diagnostics import Diagnostics
from handrail.lsp.disk_changes import DiskChanges
from handrail.lsp.documents import Document, DocumentStore
from handrail.lsp.settings import Settings, parse_settings
from handrail.lsp.state import DocumentAnalysis, FolderState, classify
from handrail.lsp.workspace_diagnostics import ClosedFileDiagnostics, WorkspaceDiagnostics
from handrail.workspace import PathEscapesWorkspace, Workspace

log = logging.getLogger("handrail.lsp")

WATCH_GLOBS = ("**/*",)
"""Everything: `.handrail/**` and `.gitignore` reload a folder, and source files changed on
disk while a task is active get HR308 hints (`lsp.disk_changes`)."""
_WATCH_REGISTRATION_ID = "handrail-watch"
_CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*(\d+)", re.IGNORECASE)
_MAX_FRAME_BYTES = 256 * 1024 * 1024
_STOP_COMMANDS_S = 30.0
_READ_CHUNK = 1024 * 1024
"""A message body is read from stdin this many bytes at a time (see `_PushbackReader`)."""


def uri_to_path(uri: str) -> Path | None:
    """The local path of a ``file:`` URI, else None."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and re.match(r"^/[A-Za-z]:", path):
        path = path[1:]
    return Path(path)


class _BufferDocument(TextDocument):
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


@attrs.define
class _InvalidRequest:
    """A request whose params could not be read: answered with an error, not dropped."""

    id: int | str
    method: str
    message: str


class HandrailProtocol(LanguageServerProtocol):
    """pygls' protocol with our own document sync, error answers and shutdown."""

    _server: HandrailServer
    _closed = False
    """Set by `exit` once the output stream is closed: nothing can be sent any more."""
    exiting: asyncio.Future[int] | None = None
    """Created when `exit` arrives, resolved with the exit code once it is carried out."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data and isinstance(data["id"], int | str):
                cause = exc.__cause__ or exc
                return _InvalidRequest(data["id"], str(data["method"]), _short(cause))
            raise

    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        if self._shutdown and method != types.EXIT:
            if method is None:
                # A reply to a request of ours: whatever awaits it may be part of stopping.
                self._handle_response(
                    message.id, getattr(message, "result", None), getattr(message, "error", None)
                )
            elif getattr(message, "id", None) is not None:
                # pygls drops requests after `shutdown` unanswered; LSP wants InvalidRequest.
                self._send_response(
                    message.id,
                    error=types.ResponseError(
                        code=types.ErrorCodes.InvalidRequest,
                        message=f"Handrail is shutting down: {method} is refused "
                        "(only `exit` may follow `shutdown`).",
                    ),
                )
            return
        if isinstance(message, _InvalidRequest):
            log.warning("Invalid params for %s: %s", message.method, message.message)
            self._send_response(
                message.id,
                error=types.ResponseError(
                    code=types.ErrorCodes.InvalidParams,
                    message=f"Invalid params for {message.method}: {message.message}",
                ),
            )
            return
        super().handle_message(message)

    def _send_data(self, data: Any) -> None:
        if self._closed:
            # After `exit` the stream is closed: a late progress report or log message from
            # a finishing thread is dropped, not turned into an error that is reported (by
            # sending a message...) over and over.
            log.debug("not sent after exit: %s", type(data).__name__)
            return
        super()._send_data(data)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """`shutdown`: refuse new requests at once, stop running commands, then answer.

        pygls' own handler cancels the pending requests while iterating over the dict their
        cancellation changes (RuntimeError: the answer is an error and `exit` then exits 1),
        and sets its flag only at the end.
        """
        self._shutdown = True
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        return None

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """`exit`: code 0 after `shutdown`, else 1 (LSP); nothing is sent after it.

        pygls raises SystemExit from inside the handler; `_serve` instead stops reading and
        returns the code. Reading on would leave a thread blocked on stdin, which the
        interpreter waits for at exit: the process would hang until the client closed it.
        """
        self.exiting = exiting = asyncio.get_running_loop().create_future()
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        # `exit` without `shutdown`: running commands are stopped (and their requests
        # answered) first. Left to the event loop's closing, their tasks would be cancelled
        # under pygls' executeCommand handler, which logs a traceback for each.
        yield self._server.stop_commands, (), None
        self._closed = True
        if self.writer is not None:
            with contextlib.suppress(OSError, ValueError):
                self.writer.close()
        exiting.set_result(0 if self._shutdown else 1)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(
        self, params: types.DidOpenTextDocumentParams
    ) -> Generator[Any, Any, None]:
        item = params.text_document
        document = self._server.documents.open(item.uri, item.language_id, item.version, item.text)
        # pygls keys its documents by the unquoted URI (see Workspace.get_text_document).
        self.workspace._text_documents[unquote(item.uri)] = _BufferDocument(
            document, position_codec=self.workspace.position_codec
        )
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
        self._server.documents.close(params.text_document.uri)
        self.workspace.remove_text_document(params.text_document.uri)
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _PushbackReader:
    """stdin with bytes that can be pushed back, so a broken frame never swallows the next."""

    def __init__(self, reader: StdinAsyncReader) -> None:
        self._reader = reader
        self._buffer = b""

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
            more = await self._reader.readexactly(min(n - len(body), _READ_CHUNK))
            if not more:
                break
            body += more
        return body


async def _serve(
    reader: _PushbackReader, protocol: HandrailProtocol, stop: threading.Event
) -> None:
    """The message loop: pygls' framing, but one that finds its feet again after garbage.

    A header line is searched (not matched) for ``Content-Length``, so a header glued to the
    tail of a broken body still counts; a body that is not JSON is searched for the next
    header, which is pushed back and read again.
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
        if length > _MAX_FRAME_BYTES:
            log.error("Refusing a message of %d bytes", length)
            length = None
            continue
        if not await _read_message(reader, protocol, length):
            break
        length = None
        if protocol.exiting is not None:
            protocol._server.exit_code = await protocol.exiting
            return


async def _read_message(reader: _PushbackReader, protocol: HandrailProtocol, length: int) -> bool:
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
        protocol._server.log_error(f"Handrail could not handle a message: {exc}", exc)
    return True


def _skip_body(
    reader: _PushbackReader, protocol: HandrailProtocol, body: bytes | bytearray, exc: Exception
) -> None:
    """Log a body that is not a message; a header inside it starts the next one."""
    protocol._server.log_error(f"Handrail ignored a message it could not read: {exc}")
    found = _CONTENT_LENGTH.search(body, 1)
    if found is not None:
        reader.push_back(body[found.start() :])


class HandrailServer(LanguageServer):
    """The server. One instance per process (`create_server` makes a fresh one per test)."""

    protocol: HandrailProtocol

    def __init__(self) -> None:
        super().__init__(
            "handrail",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=HandrailProtocol,
        )
        self.settings = Settings()
        self.documents = DocumentStore(lambda: self.settings.max_document_bytes)
        self.diagnostics = Diagnostics(self)
        self.disk_changes = DiskChanges(self)
        self.workspace_diagnostics = WorkspaceDiagnostics(self)
        self.closed_files = ClosedFileDiagnostics(self)
        self.folders: dict[Path, FolderState] = {}
        # Folders found above files outside every workspace folder: by root, and by the
        # file's own folder so that `Workspace.find` walks up once per folder, not per edit.
        self._implicit: dict[Path, FolderState] = {}
        self._implicit_by_dir: dict[Path, FolderState] = {}
        self._init_options: object = None
        self._shown_problems: set[str] = set()
        self._folder_lock = threading.Lock()
        self.exit_code = 0
        self.shutting_down = False
        self.stopped_by_signal: int | None = None
        """The signal (SIGTERM, SIGINT, SIGHUP) that ended serving, if one did."""
        """`shutdown` arrived: no re-analysis after a stopped command, nothing new starts."""
        self._commands: dict[asyncio.Task[Any], threading.Event] = {}

    # -- the contract with the features ---------------------------------------------------

    @property
    def position_encoding(self) -> str:
        """The negotiated position encoding: "utf-16" (default), "utf-8" or "utf-32"."""
        try:
            encoding = self.workspace.position_encoding
        except RuntimeError:
            return UTF16
        if encoding is None:
            return UTF16
        return str(getattr(encoding, "value", encoding))

    def folder_for(self, uri: str) -> FolderState | None:
        """The workspace folder holding `uri` (the innermost one); a file outside every
        folder gets the folder found above it (`Workspace.find`); None for non-file URIs."""
        return self.locate(uri)[0]

    def locate(self, uri: str) -> tuple[FolderState | None, str | None]:
        """The folder of `uri` and its workspace-relative path."""
        path = uri_to_path(uri)
        if path is None:
            return None, None
        path = Path(os.path.normpath(path))
        best: FolderState | None = None
        for folder in list(self.folders.values()):
            if folder.contains(path) and (
                best is None or len(folder.root.parts) > len(best.root.parts)
            ):
                best = folder
        if best is None and path.exists():
            real = path.resolve()
            if real != path:
                # A folder opened through a symlinked path: its root is resolved.
                return self.locate(real.as_uri())
        if best is None:
            best = self._implicit_folder(path)
        if best is None:
            return None, None
        try:
            return best, best.ws.relative(path)
        except PathEscapesWorkspace:
            return None, None

    def _implicit_folder(self, path: Path) -> FolderState | None:
        known = self._implicit_by_dir.get(path.parent)
        if known is not None:
            return known
        try:
            ws = Workspace.find(path.parent)
        except OSError:
            return None
        with self._folder_lock:
            folder = self._implicit.get(ws.root)
            if folder is None:
                folder = FolderState(ws, implicit=True)
                self._implicit[ws.root] = folder
            self._implicit_by_dir[path.parent] = folder
        return folder

    def analysis_for(self, uri: str) -> DocumentAnalysis | None:
        """The analysis of open document `uri` at its current version (made now if stale);
        None when it is not open or its text is out of sync with the editor."""
        return self.diagnostics.analysis_for(uri)

    async def reanalyze_open_documents(self) -> None:
        """Reload every folder's snapshot and publish every open document again: after a
        command wrote the ledger or a task."""
        folders = {f for f in [*self.folders.values(), *self._implicit.values()] if f.loaded}
        await self._reload(folders)
        await self.diagnostics.analyze_all_now(self.documents.uris())
        self.refresh_pulled_diagnostics()

    @property
    def client_pulls_diagnostics(self) -> bool:
        """The client asks for the diagnostics of open documents (`textDocument/diagnostic`).
        They are then never pushed as well: VS Code and Neovim keep pushed and pulled
        diagnostics apart, so every finding would be shown (and counted) twice."""
        client = getattr(self.protocol, "client_capabilities", None)
        return _capability(client, "text_document", "diagnostic")

    def refresh_pulled_diagnostics(self) -> None:
        """Ask the client to pull again what it pulls (`workspace/diagnostic/refresh`, and
        `workspace/codeLens/refresh` for the block status lenses): what other files hold
        (tasks, ledger, workflow) changed, so every document's findings may have. A client
        that never pulls workspace diagnostics gets the closed files' findings pushed."""
        # No capabilities before `initialize` (a server driven in-process).
        client = getattr(self.protocol, "client_capabilities", None)
        self.closed_files.refresh()
        if _capability(client, "workspace", "diagnostics", "refresh_support"):
            self.workspace_diagnostic_refresh(None)
        if _capability(client, "workspace", "code_lens", "refresh_support"):
            self.workspace_code_lens_refresh(None)

    def docs_url(self, folder: FolderState | None) -> str | None:
        """Where the help links of `folder`'s diagnostics point (codeDescription.href): the
        editor's ``docsBaseUrl``, else the folder's workflow ``[docs] url``; None: the
        published documentation. Always http(s): VS Code opens the link in a browser, and a
        file: path of a package copy would not be the editor's to open (issue 12.7)."""
        if self.settings.docs_base_url:
            return self.settings.docs_base_url
        if folder is None:
            return None
        try:
            return folder.snapshot.workflow.workflow.docs.url or None
        except Exception:  # a folder whose files cannot be read still gets its diagnostics
            log.exception("Handrail could not read the workflow of %s", folder.root)
            return None

    def refresh_lenses(self) -> None:
        """Ask the client for the code lenses again (`workspace/codeLens/refresh`), if it can."""
        client = getattr(self.protocol, "client_capabilities", None)
        if _capability(client, "workspace", "code_lens", "refresh_support"):
            self.workspace_code_lens_refresh(None)

    def is_trusted(self, folder: FolderState) -> bool:
        """Whether commands may run things the folder defines (initializationOptions only)."""
        return self.settings.trusted

    def dismiss_insertion(self, uri: str, line: int) -> bool:
        """Drop the HR308 hint covering 1-based `line` of `uri` and publish again."""
        dismissed = self.diagnostics.dismiss_insertion(uri, line)
        if dismissed and uri in self.documents:
            if self.client_pulls_diagnostics:
                self.refresh_pulled_diagnostics()
            else:
                self.diagnostics.schedule(uri, 0)
        return dismissed

    # -- commands that run processes --------------------------------------------------------

    @contextlib.contextmanager
    def stoppable(self, cancel: threading.Event) -> Iterator[None]:
        """Within this block the current task runs something `cancel` stops (a verification):
        `shutdown` and `exit` set `cancel` and wait for the task."""
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._commands[task] = cancel
        try:
            yield
        finally:
            self._commands.pop(task, None)

    async def stop_commands(self) -> None:
        """Stop every running command and wait until each has finished (its process group
        gone, its request answered)."""
        tasks = list(self._commands)
        for cancel in self._commands.values():
            cancel.set()
        if not tasks:
            return
        # The runner kills a group within its grace period; the bound only keeps a stuck
        # thread from holding up `shutdown` for ever.
        _done, pending = await asyncio.wait(tasks, timeout=_STOP_COMMANDS_S)
        if pending:
            log.error("%d command(s) did not stop within %s s", len(pending), _STOP_COMMANDS_S)

    # -- logging ----------------------------------------------------------------------------

    def log_message(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """`window/logMessage`, from any thread (sent on the event loop)."""
        params = types.LogMessageParams(type=kind, message=message)
        self._on_loop(lambda: self.window_log_message(params))

    def log_error(self, message: str, exc: BaseException | None = None) -> None:
        detail = message
        if exc is not None:
            detail += "\n" + "".join(traceback.format_exception(exc)).rstrip()
        log.error("%s", detail)
        self.log_message(detail, types.MessageType.Error)

    def show_message_once(self, message: str, kind: types.MessageType) -> None:
        if message in self._shown_problems:
            return
        self._shown_problems.add(message)
        params = types.ShowMessageParams(type=kind, message=message)
        self._on_loop(lambda: self.window_show_message(params))

    def _on_loop(self, send: Any) -> None:
        loop = self._loop
        if loop is None or threading.current_thread() is threading.main_thread():
            try:
                send()
            except Exception:
                log.warning("could not send a message to the client", exc_info=True)
            return
        loop.call_soon_threadsafe(send)

    _loop: asyncio.AbstractEventLoop | None = None

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Protocol-level trouble is for the log, not a pop-up the user cannot act on.
        if source is JsonRpcInternalError:
            # Sending itself failed: reporting it by sending would fail again, and again.
            log.error("Handrail could not send a message: %s", error)
            return
        self.log_message(f"Handrail server error: {error}", types.MessageType.Error)

    # -- settings ---------------------------------------------------------------------------

    def apply_settings(self, configuration: object = None) -> None:
        settings, problems = parse_settings(self._init_options, configuration)
        lenses_changed = settings.accepted_code_lens != self.settings.accepted_code_lens
        self.settings = settings
        if lenses_changed and self.documents.uris():
            # The accepted-code lens was turned on or off. No open document (at `initialize`,
            # before the client may be asked anything): the editor asks when it opens one.
            self.refresh_lenses()
        self.documents.refit()
        for problem in problems:
            self.show_message_once(problem, types.MessageType.Warning)

    async def pull_configuration(self) -> None:
        if not _capability(self.client_capabilities, "workspace", "configuration"):
            return
        try:
            result = await self.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="handrail")])
            )
        except Exception as exc:
            self.log_error(f"Handrail could not read the editor settings: {exc}")
            return
        self.apply_settings(result[0] if result else None)

    # -- folders and watching ---------------------------------------------------------------

    def add_folder(self, uri: str) -> None:
        path = uri_to_path(uri)
        if path is None:
            return
        ws = Workspace.at(path)
        if ws.root not in self.folders:
            self.folders[ws.root] = FolderState(ws)

    def remove_folder(self, uri: str) -> None:
        path = uri_to_path(uri)
        if path is not None:
            self.folders.pop(Path(os.path.normpath(path)).resolve(), None)

    def warm_up(self) -> None:
        """Read each folder's snapshot in the background, so the first document opened does
        not wait for the ledger (`initialize` was answered without it)."""
        loop = asyncio.get_running_loop()
        for folder in list(self.folders.values()):
            future = loop.run_in_executor(self.diagnostics.executor, folder.load)
            future.add_done_callback(functools.partial(self._warmed, folder))

    def _warmed(self, folder: FolderState, future: asyncio.Future[None]) -> None:
        if not future.cancelled() and (exc := future.exception()) is not None:
            self.log_error(f"Handrail could not read {folder.root}: {exc}", exc)

    async def _reload(self, folders: set[FolderState]) -> None:
        loop = asyncio.get_running_loop()
        for folder in folders:
            try:
                await loop.run_in_executor(self.diagnostics.executor, folder.reload)
            except Exception as exc:
                self.log_error(
                    f"Handrail could not reload {folder.root}: {exc}. The previous state is kept.",
                    exc,
                )

    async def watched_files_changed(self, changes: Sequence[types.FileEvent]) -> None:
        """Route file events: Handrail's own files reload their folder; a task file created
        makes that task the active one; other files go to the on-disk hints."""
        own: list[str] = []
        written: list[str] = []
        deleted: list[str] = []
        for change in changes:
            path = uri_to_path(change.uri)
            if path is None:
                continue
            if ".handrail" in path.parts or path.name == ".gitignore":
                own.append(change.uri)
                if change.type == types.FileChangeType.Created:
                    self._task_created(change.uri)
            elif change.type == types.FileChangeType.Deleted:
                deleted.append(change.uri)
            else:
                written.append(change.uri)
        if own:
            await self.files_changed(own)
        self.disk_changes.deleted(deleted)
        self.disk_changes.note(written)
        if written or deleted:
            # A file changed on disk: the gate's findings may have (clients that never pull
            # workspace diagnostics see them pushed).
            self.workspace_diagnostics.saves += 1
            self.closed_files.refresh()

    def _task_created(self, uri: str) -> None:
        """`handrail task new` in a terminal (or any new task file) starts work on that task."""
        folder, rel = self.locate(uri)
        if folder is not None and rel is not None and classify(rel) == "task":
            folder.active_task = rel.rsplit("/", 1)[-1].removesuffix(".toml")

    async def files_changed(self, uris: Sequence[str]) -> None:
        """Something under `.handrail/` or a `.gitignore` changed on disk."""
        folders: set[FolderState] = set()
        for uri in uris:
            path = uri_to_path(uri)
            if path is None:
                continue
            path = Path(os.path.normpath(path))
            for folder in [*self.folders.values(), *self._implicit.values()]:
                if folder.contains(path):
                    folders.add(folder)
        if not folders:
            return
        await self._reload(folders)
        affected = [uri for uri in self.documents.uris() if self.folder_for(uri) in folders]
        await self.diagnostics.analyze_all_now(affected)
        self.refresh_pulled_diagnostics()

    async def register_watchers(self) -> None:
        if not _capability(
            self.client_capabilities,
            "workspace",
            "did_change_watched_files",
            "dynamic_registration",
        ):
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCH_GLOBS]
        )
        try:
            await self.client_register_capability_async(
                types.RegistrationParams(
                    registrations=[
                        types.Registration(
                            id=_WATCH_REGISTRATION_ID,
                            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=options,
                        )
                    ]
                )
            )
        except Exception as exc:
            self.log_error(f"Handrail could not register its file watchers: {exc}")

    # -- running ----------------------------------------------------------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve on stdin/stdout until `exit`, the end of input, or SIGTERM, SIGINT or
        SIGHUP (pygls' loop with our resilient framing). However serving ends, no command
        started for the client is left running."""
        self._stop_event = stop = threading.Event()
        reader = _PushbackReader(StdinAsyncReader(stdin or sys.stdin.buffer, self.thread_pool))
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

        async def run() -> None:
            loop = self._loop = asyncio.get_running_loop()
            serving = asyncio.current_task()
            assert serving is not None
            signals = _watch_stop_signals(loop, self, serving)
            try:
                await _serve(reader, self.protocol, stop)
            except asyncio.CancelledError:
                if self.stopped_by_signal is None:
                    raise
                serving.uncancel()
            finally:
                for sig in signals:
                    loop.remove_signal_handler(sig)
            if self.protocol.exiting is None:
                # The client is gone (end of input) or a signal came: nobody may read what we
                # send (a full pipe would block us), and nothing may keep running.
                self.protocol._closed = True
                await self.stop_commands()

        try:
            asyncio.run(run())
        except SystemExit as exc:
            self.exit_code = exc.code if isinstance(exc.code, int) else 0
        except (BrokenPipeError, KeyboardInterrupt):
            pass
        finally:
            self.diagnostics.shutdown()
            if self.stopped_by_signal is None:
                # After a signal, a thread is still blocked reading stdin: waiting for it
                # would hang until the client closed the pipe (`main` exits without it).
                self.shutdown()  # type: ignore[no-untyped-call]


def _watch_stop_signals(
    loop: asyncio.AbstractEventLoop, server: HandrailServer, serving: asyncio.Task[None]
) -> list[signal.Signals]:
    """SIGTERM (an editor stopping us), SIGINT and SIGHUP end serving through `run`'s clean-up
    rather than killing the process outright, which would leave a command's group running
    (it has its own session, so the signal never reaches it). Main thread only; a signal the
    process was started ignoring stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        return []

    def on_signal(sig: signal.Signals) -> None:
        if server.stopped_by_signal is None:
            server.stopped_by_signal = sig
            server.exit_code = 128 + sig
            serving.cancel()

    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_IGN:
            continue
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on POSIX
            continue
        installed.append(sig)
    return installed


def _capability(root: object, *names: str) -> bool:
    value: object = root
    for name in names:
        value = getattr(value, name, None)
        if value is None:
            return False
    return bool(value)


def create_server() -> HandrailServer:
    """A fresh server with every handler registered."""
    server = HandrailServer()
    _register_lifecycle(server)
    try:
        from handrail.lsp.features import register_all
    except ImportError as exc:
        log.warning("Handrail features are not available: %s", exc)
    else:
        register_all(server)
    return server


def _register_lifecycle(server: HandrailServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: HandrailServer, params: types.InitializeParams) -> None:
        ls._init_options = params.initialization_options
        ls.apply_settings()
        uris = [f.uri for f in params.workspace_folders or []]
        if not uris and params.root_uri:
            uris = [params.root_uri]
        elif not uris and params.root_path:
            uris = [Path(params.root_path).resolve().as_uri()]
        for uri in uris:
            try:
                ls.add_folder(uri)
            except Exception as exc:
                ls.log_error(f"Handrail could not open the folder {uri}: {exc}", exc)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: HandrailServer, params: types.InitializedParams) -> None:
        ls.warm_up()
        await ls.pull_configuration()
        await ls.register_watchers()
        ls.closed_files.refresh()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: HandrailServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if _capability(ls.client_capabilities, "workspace", "configuration"):
            await ls.pull_configuration()
        else:
            ls.apply_settings(params.settings)
        await ls.diagnostics.analyze_all_now(ls.documents.uris())
        ls.refresh_pulled_diagnostics()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(
        ls: HandrailServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        for removed in params.event.removed:
            ls.remove_folder(removed.uri)
        for added in params.event.added:
            try:
                ls.add_folder(added.uri)
            except Exception as exc:
                ls.log_error(f"Handrail could not open the folder {added.uri}: {exc}", exc)
        await ls.diagnostics.analyze_all_now(ls.documents.uris())
        ls.refresh_pulled_diagnostics()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched(
        ls: HandrailServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        await ls.watched_files_changed(params.changes)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HandrailServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.diagnostics.forget(params.text_document.uri, keep_disk_hints=True)
        ls.closed_files.opened(params.text_document.uri)
        ls.disk_changes.opened(params.text_document.uri)
        ls.diagnostics.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: HandrailServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        try:
            document, refused = ls.documents.change(
                uri, params.text_document.version, params.content_changes, ls.position_encoding
            )
        except KeyError:
            ls.log_error(f"Handrail got an edit for {uri}, which is not open; ignored.")
            return
        for reason in refused:
            ls.log_error(
                f"Handrail refused an edit of {uri}: {reason}. Until the document is saved or "
                "reopened, Handrail shows no findings for it."
            )
        if document.out_of_sync is not None:
            ls.diagnostics.schedule(uri, 0)
            return
        ls.diagnostics.note_changes(document)
        ls.diagnostics.schedule(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=True))
    async def did_save(ls: HandrailServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.workspace_diagnostics.saves += 1
        document = ls.documents.get(uri)
        if document is not None and document.out_of_sync is not None:
            _resync(ls, document, params.text)
        elif document is not None and params.text is not None and params.text != document.text:
            # Every edit was applied and still the texts differ: never carry on silently.
            ls.log_error(
                f"Handrail's copy of {uri} did not match the saved text; it now uses the saved "
                "text. Please report this with the editor you use."
            )
            document.replace_all(params.text, document.version)
        path = uri_to_path(uri)
        if path is not None and (".handrail" in path.parts or path.name == ".gitignore"):
            # Clients without file watching still see their own saves reloaded.
            await ls.files_changed([uri])
        if document is not None:
            ls.diagnostics.schedule(uri, 0)
            folder, rel = ls.locate(uri)
            source = folder is not None and folder.loaded and classify(rel) == "source"
            if source and folder is not None and rel and folder.saved(rel, document.text):
                # Its block ids changed: a duplicate in another open file may have
                # appeared or gone (HR305 across files).
                others = [u for u in ls.documents.uris() if u != uri]
                await ls.diagnostics.analyze_all_now(
                    [u for u in others if ls.folder_for(u) is folder]
                )
        ls.closed_files.refresh()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HandrailServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.diagnostics.close(params.text_document.uri)
        ls.disk_changes.closed(params.text_document.uri)
        # Closed, its findings are the gate's again.
        ls.closed_files.refresh()

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="handrail", inter_file_dependencies=True, workspace_diagnostics=True
        ),
    )
    def pull_diagnostics(
        ls: HandrailServer, params: types.DocumentDiagnosticParams
    ) -> types.RelatedFullDocumentDiagnosticReport:
        return types.RelatedFullDocumentDiagnosticReport(
            items=ls.diagnostics.pull(params.text_document.uri)
        )

    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    async def pull_workspace_diagnostics(
        ls: HandrailServer, params: types.WorkspaceDiagnosticParams
    ) -> types.WorkspaceDiagnosticReport:
        return await ls.workspace_diagnostics.pull(params)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: HandrailServer, params: None) -> None:
        ls.shutting_down = True
        # Answer only once no command runs: the client may kill us right after `exit`.
        await ls.stop_commands()
        ls.disk_changes.shutdown()
        ls.closed_files.shutdown()
        ls.diagnostics.shutdown()


def _resync(ls: HandrailServer, document: Document, text: str | None) -> None:
    """Bring an out-of-sync document back: the saved text, else the file just written."""
    if text is None:
        path = uri_to_path(document.uri)
        if path is None:
            return
        try:
            text = path.read_bytes().decode("utf-8", "surrogateescape")
        except OSError as exc:
            ls.log_error(f"Handrail could not reread {path}: {exc}")
            return
    document.replace_all(text, document.version)
    ls.log_message(f"Handrail is back in sync with {document.uri}.")


def _protect_stdio() -> tuple[BinaryIO, BinaryIO]:
    """The protocol's own stdin/stdout; descriptors 0 and 1 no longer reach the client.

    Descriptor 1 is pointed at stderr and 0 at /dev/null, so a print, a C library or a
    child process that inherits them can neither corrupt nor steal protocol bytes.
    """
    sys.stdout.flush()
    # Buffered both ways: a buffered write never stops short, and a buffered read(n) waits
    # for all n bytes, as pygls' reader expects.
    protocol_out = os.fdopen(os.dup(1), "wb")
    protocol_in = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = sys.stderr
    return protocol_in, protocol_out


def main() -> int:
    """Run the server on stdio; returns the exit code."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)
    stdin, stdout = _protect_stdio()
    server = create_server()
    # What start-up made lives as long as the server: later collections need not scan it.
    # (`handrail lsp` imports with the collector off: this turns it back on.)
    gc.freeze()
    gc.enable()
    server.start_io(stdin, stdout)
    if server.stopped_by_signal is not None:
        # Every command is stopped; only the thread blocked on stdin is left, and a normal
        # interpreter exit would wait for it.
        sys.stderr.flush()
        os._exit(server.exit_code)
    return server.exit_code


__all__ = ["HandrailServer", "create_server", "main", "uri_to_path"]
