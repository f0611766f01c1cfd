"""The Handrail language server: the server class, its factory and `main`.

The parts, each in its own module: `transport` (the stream and every pygls-private member,
in one marked place), `protocol` (our overrides of pygls' message handling), `registry`
(folders, and each document's place resolved once per version), `analysis_cache` (each open
document's analysis), `diagnostics` (schedule, publish, pull, close), `settings`; the
lifecycle handlers (`initialize`, `initialized`, configuration, folders, open/change/save/
close, `shutdown`) are the feature module `features.lifecycle`, registered like the others.

The class is the features' contract: they read a document through `server.analysis_for(uri)`
(text, lines, findings) or `server.documents.get(uri).text`, its folder through
`server.locate(uri)`; `server.workspace.get_text_document(uri)` also shows the live text.

stdout belongs to the protocol alone: `main` moves the real stdout to a private descriptor and
points descriptor 1 at stderr, so a stray print or a child process that inherits it cannot
corrupt the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.lsp.server import LanguageServer

from handrail import __version__
from handrail.lsp.analysis_cache import AnalysisCache
from handrail.lsp.convert import UTF16
from handrail.lsp.diagnostics import Diagnostics
from handrail.lsp.disk_changes import DiskChanges
from handrail.lsp.documents import DocumentStore
from handrail.lsp.protocol import HandrailProtocol
from handrail.lsp.registry import FolderRegistry, uri_to_path
from handrail.lsp.state import DocumentAnalysis, FolderState
from handrail.lsp.transport import (
    PushbackReader,
    attach_writer,
    publish_diagnostics_body,
    serve,
    set_stop_event,
)
from handrail.lsp.workspace_diagnostics import ClosedFileDiagnostics, WorkspaceDiagnostics

if TYPE_CHECKING:
    from handrail.lsp.settings import Settings

log = logging.getLogger("handrail.lsp")

_STOP_COMMANDS_S = 30.0


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
        self._settings: Settings | None = None
        self.init_options: object = None
        """The client's ``initializationOptions`` (settings, and the only source of trust)."""
        self.documents = DocumentStore(lambda: self.settings.max_document_bytes)
        # Two workers: task files are analysed here, folders read, heavy feature work done.
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="handrail-analysis")
        self.registry = FolderRegistry(self.executor, self.log_error)
        self.analyses = AnalysisCache(
            self.documents,
            self.registry.place_of,
            lambda: self.settings.max_document_bytes,
            self.log_error,
        )
        self.diagnostics = Diagnostics(
            self, self.documents, self.analyses, self.registry.place_of, self.executor
        )
        self.disk_changes = DiskChanges(self)
        self.workspace_diagnostics = WorkspaceDiagnostics(self)
        self.closed_files = ClosedFileDiagnostics(self)
        self._shown_problems: set[str] = set()
        self.exit_code = 0
        self.shutting_down = False
        """`shutdown` arrived: no re-analysis after a stopped command, nothing new starts."""
        self.stopped_by_signal: int | None = None
        """The signal (SIGTERM, SIGINT, SIGHUP) that ended serving, if one did."""
        self.owns_process = False
        """Set by `main`: the process is this server's, so it may tune the collector."""
        self._commands: dict[asyncio.Task[Any], threading.Event] = {}

    # -- the contract with the features ---------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The editor settings: from ``initializationOptions`` until the client's
        configuration is read. Validated on first use, not in `initialize`: the model (and
        pydantic) is imported after `initialize` is answered (issue 17)."""
        settings = self._settings
        if settings is None:
            self.apply_settings()
            settings = self._settings
            assert settings is not None
        return settings

    def apply_settings(self, configuration: object = None) -> None:
        """Take the settings from ``initializationOptions`` and `configuration`; a refused
        value is shown once and keeps its default."""
        from handrail.lsp.settings import parse_settings

        settings, problems = parse_settings(self.init_options, configuration)
        previous, self._settings = self._settings, settings
        if previous is not None:
            # (The first settings are read before any document is stored: nothing to redo.)
            if settings.accepted_code_lens != previous.accepted_code_lens and self.documents.uris():
                # The accepted-code lens was turned on or off. No open document: the editor
                # asks when it opens one.
                self.refresh_lenses()
            self.documents.refit()
        for problem in problems:
            self.show_message_once(problem, types.MessageType.Warning)

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

    @property
    def folders(self) -> dict[Path, FolderState]:
        """The workspace folders, by root."""
        return self.registry.folders

    def folder_for(self, uri: str) -> FolderState | None:
        """The workspace folder holding `uri` (the innermost one); a file outside every
        folder gets the folder found above it (`Workspace.find`); None for non-file URIs."""
        return self.locate(uri)[0]

    def locate(self, uri: str) -> tuple[FolderState | None, str | None]:
        """The folder of `uri` and its workspace-relative path (for an open document, the
        place resolved for its current version)."""
        document = self.documents.get(uri)
        if document is not None:
            place = self.registry.place_of(uri, document.version)
        else:
            place = self.registry.locate(uri)
        return place.folder, place.rel

    def analysis_for(self, uri: str) -> DocumentAnalysis | None:
        """The analysis of open document `uri` at its current version (made now if stale);
        None when it is not open or its text is out of sync with the editor."""
        return self.analyses.analysis_for(uri)

    async def reanalyze_open_documents(self) -> None:
        """Reload every folder's snapshot and publish every open document again: after a
        command wrote the ledger or a task."""
        await self.registry.reload(f for f in self.registry.all_folders() if f.loaded)
        await self.diagnostics.analyze_all_now(self.documents.uris())
        self.refresh_pulled_diagnostics()

    @property
    def client_pulls_diagnostics(self) -> bool:
        """The client asks for the diagnostics of open documents (`textDocument/diagnostic`).
        They are then never pushed as well: VS Code and Neovim keep pushed and pulled
        diagnostics apart, so every finding would be shown (and counted) twice."""
        client = getattr(self.protocol, "client_capabilities", None)
        return capability(client, "text_document", "diagnostic")

    def refresh_pulled_diagnostics(self) -> None:
        """Ask the client to pull again what it pulls (`workspace/diagnostic/refresh`, and
        `workspace/codeLens/refresh` for the block status lenses): what other files hold
        (tasks, ledger, workflow) changed, so every document's findings may have. A client
        that never pulls workspace diagnostics gets the closed files' findings pushed."""
        # No capabilities before `initialize` (a server driven in-process).
        client = getattr(self.protocol, "client_capabilities", None)
        self.closed_files.refresh()
        if capability(client, "workspace", "diagnostics", "refresh_support"):
            self.workspace_diagnostic_refresh(None)
        if capability(client, "workspace", "code_lens", "refresh_support"):
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

    def encode_diagnostic(self, diagnostic: types.Diagnostic) -> str:
        """`diagnostic` as the JSON text it is sent as (see `publish_encoded`)."""
        return self.protocol.encode(diagnostic)

    def publish_encoded(self, uri: str, version: int | None, items: list[str]) -> None:
        """`textDocument/publishDiagnostics` with diagnostics already encoded (each from
        `encode_diagnostic`): the message pygls would send for them, without encoding them
        again (issue 17)."""
        self.protocol.send_encoded(publish_diagnostics_body(uri, version, items))

    def refresh_lenses(self) -> None:
        """Ask the client for the code lenses again (`workspace/codeLens/refresh`), if it can."""
        client = getattr(self.protocol, "client_capabilities", None)
        if capability(client, "workspace", "code_lens", "refresh_support"):
            self.workspace_code_lens_refresh(None)

    def is_trusted(self, folder: FolderState) -> bool:
        """Whether commands may run things the folder defines (initializationOptions only)."""
        return self.settings.trusted

    def dismiss_insertion(self, uri: str, line: int) -> bool:
        """Drop the HR308 hint covering 1-based `line` of `uri` and publish again."""
        dismissed = self.analyses.dismiss_insertion(uri, line)
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

    # -- running ----------------------------------------------------------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve on stdin/stdout until `exit`, the end of input, or SIGTERM, SIGINT or
        SIGHUP (pygls' loop with our resilient framing). However serving ends, no command
        started for the client is left running."""
        stop = threading.Event()
        set_stop_event(self, stop)
        reader = PushbackReader.of(stdin or sys.stdin.buffer, self.thread_pool)
        attach_writer(self.protocol, stdout or sys.stdout.buffer)

        async def run() -> None:
            loop = self._loop = asyncio.get_running_loop()
            serving = asyncio.current_task()
            assert serving is not None
            signals = _watch_stop_signals(loop, self, serving)
            try:
                await serve(reader, self.protocol, stop, lambda: self.protocol.exiting)
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
                self.protocol.closed = True
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


def capability(root: object, *names: str) -> bool:
    """Whether the capability at `root.names...` is there and truthy (None: not sent)."""
    value: object = root
    for name in names:
        value = getattr(value, name, None)
        if value is None:
            return False
    return bool(value)


def create_server() -> HandrailServer:
    """A fresh server with every handler registered (the lifecycle is a feature module)."""
    server = HandrailServer()
    try:
        from handrail.lsp.features import register_all
    except ImportError as exc:
        log.warning("Handrail features are not available: %s", exc)
    else:
        register_all(server)
    return server


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
    server.owns_process = True
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


__all__ = ["HandrailServer", "capability", "create_server", "main", "uri_to_path"]
