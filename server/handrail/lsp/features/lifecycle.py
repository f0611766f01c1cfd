"""The lifecycle handlers: start, settings, folders, watched files, open/change/save/close,
pulled diagnostics and shutdown, registered like every other feature module.

Each edit's document place is resolved once (`registry.place_of`) and handed on to the
HR308 hints and the scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from handrail.lsp.documents import Document
from handrail.lsp.registry import uri_to_path
from handrail.lsp.server import HandrailServer, capability
from handrail.lsp.state import FolderState, classify
from handrail.lsp.transport import EncodedResult, full_report

log = logging.getLogger("handrail.lsp")

WATCH_GLOBS = ("**/*",)
"""Everything: `.handrail/**` and `.gitignore` reload a folder, and source files changed on
disk while a task is active get HR308 hints (`lsp.disk_changes`)."""
_WATCH_REGISTRATION_ID = "handrail-watch"


def register(server: HandrailServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: HandrailServer, params: types.InitializeParams) -> None:
        ls.init_options = params.initialization_options
        # The settings are read on first use (the first document opened), so that the
        # answer waits for no model: see `HandrailServer.settings`.
        uris = [f.uri for f in params.workspace_folders or []]
        if not uris and params.root_uri:
            uris = [params.root_uri]
        elif not uris and params.root_path:
            uris = [Path(params.root_path).resolve().as_uri()]
        for uri in uris:
            try:
                ls.registry.add(uri)
            except Exception as exc:
                ls.log_error(f"Handrail could not open the folder {uri}: {exc}", exc)
        with contextlib.suppress(RuntimeError):  # no event loop: a server driven in-process
            # Once the answer is sent (the next turn of the loop), not before it.
            asyncio.get_running_loop().call_soon(warm_up, ls)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: HandrailServer, params: types.InitializedParams) -> None:
        await pull_configuration(ls)
        await register_watchers(ls)
        ls.closed_files.refresh()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: HandrailServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if capability(ls.client_capabilities, "workspace", "configuration"):
            await pull_configuration(ls)
        else:
            ls.apply_settings(params.settings)
        await ls.diagnostics.analyze_all_now(ls.documents.uris())
        ls.refresh_pulled_diagnostics()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(
        ls: HandrailServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        for removed in params.event.removed:
            ls.registry.remove(removed.uri)
        for added in params.event.added:
            try:
                ls.registry.add(added.uri)
            except Exception as exc:
                ls.log_error(f"Handrail could not open the folder {added.uri}: {exc}", exc)
        await ls.diagnostics.analyze_all_now(ls.documents.uris())
        ls.refresh_pulled_diagnostics()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched(
        ls: HandrailServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        await watched_files_changed(ls, params.changes)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HandrailServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.registry.forget(uri)
        ls.diagnostics.forget(uri, keep_disk_hints=True)
        ls.closed_files.opened(uri)
        ls.disk_changes.opened(uri)
        ls.diagnostics.schedule(uri, 0)

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
        # Resolved once for this version: the scheduled run finds it again without a lookup.
        place = ls.registry.place_of(uri, document.version)
        ls.analyses.note_changes(document, place)
        ls.diagnostics.schedule(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=True))
    async def did_save(ls: HandrailServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.workspace_diagnostics.saves += 1
        document = ls.documents.get(uri)
        if document is not None and document.out_of_sync is not None:
            resync(ls, document, params.text)
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
            await files_changed(ls, [uri])
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
        uri = params.text_document.uri
        ls.diagnostics.close(uri)
        ls.registry.forget(uri)
        ls.disk_changes.closed(uri)
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
    ) -> EncodedResult:
        # A `types.RelatedFullDocumentDiagnosticReport`, sent as encoded (issue 17).
        return full_report(ls.diagnostics.pull(params.text_document.uri))

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


def warm_up(ls: HandrailServer) -> None:
    """Right after `initialize` is answered, while the client sends `initialized` and opens
    its first document: import the settings model (pydantic) and the engine, then read each
    folder's workflow, tasks and ledger on the worker threads. `initialize` itself waits for
    neither (issue 17).

    The import runs here, on the event loop's thread, before any worker starts: Python 3.11
    breaks what it takes for a deadlock between two threads importing overlapping modules by
    handing one of them a half-imported module, which surfaced as "cannot import name
    'Snapshot' from 'handrail.analysis'" when the warm-up and the first workspace-diagnostics
    round imported the engine at once. The messages the client sends meanwhile wait in the
    pipe; the first analysis needs the engine anyway."""
    _import_engine(ls.owns_process)
    ls.registry.warm_up()


def _import_engine(owns_process: bool) -> None:
    """Import the settings model and the engine (with what the workspace-diagnostics rounds
    import first, the gate). In a server process of its own, with the collector off, then
    freezing what they made, as `handrail.cli.entry.serve` does for the start-up imports: the
    collector would walk hundreds of thousands of new objects for nothing (issue 17). A
    server inside another process (tests) leaves its collector alone."""
    if owns_process:
        gc.disable()
    try:
        import handrail.analysis
        import handrail.gate.run
        import handrail.lsp.settings  # noqa: F401  (the import is the work)
    finally:
        if owns_process:
            gc.freeze()
            gc.enable()


# -- settings -------------------------------------------------------------------------------


async def pull_configuration(ls: HandrailServer) -> None:
    """Ask the client for the ``handrail`` section (`workspace/configuration`), if it can."""
    if not capability(ls.client_capabilities, "workspace", "configuration"):
        return
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="handrail")])
        )
    except Exception as exc:
        ls.log_error(f"Handrail could not read the editor settings: {exc}")
        return
    ls.apply_settings(result[0] if result else None)


# -- watching -------------------------------------------------------------------------------


async def register_watchers(ls: HandrailServer) -> None:
    if not capability(
        ls.client_capabilities, "workspace", "did_change_watched_files", "dynamic_registration"
    ):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCH_GLOBS]
    )
    try:
        await ls.client_register_capability_async(
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
        ls.log_error(f"Handrail could not register its file watchers: {exc}")


async def watched_files_changed(ls: HandrailServer, changes: Sequence[types.FileEvent]) -> None:
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
                _task_created(ls, change.uri)
        elif change.type == types.FileChangeType.Deleted:
            deleted.append(change.uri)
        else:
            written.append(change.uri)
    if own:
        await files_changed(ls, own)
    ls.disk_changes.deleted(deleted)
    ls.disk_changes.note(written)
    if written or deleted:
        # A file changed on disk: the gate's findings may have (clients that never pull
        # workspace diagnostics see them pushed).
        ls.workspace_diagnostics.saves += 1
        ls.closed_files.refresh()


def _task_created(ls: HandrailServer, uri: str) -> None:
    """`handrail task new` in a terminal (or any new task file) starts work on that task."""
    folder, rel = ls.locate(uri)
    if folder is not None and rel is not None and classify(rel) == "task":
        folder.active_task = rel.rsplit("/", 1)[-1].removesuffix(".toml")


async def files_changed(ls: HandrailServer, uris: Sequence[str]) -> None:
    """Something under `.handrail/` or a `.gitignore` changed on disk."""
    folders: set[FolderState] = ls.registry.containing(uris)
    if not folders:
        return
    await ls.registry.reload(folders)
    affected = [uri for uri in ls.documents.uris() if ls.folder_for(uri) in folders]
    await ls.diagnostics.analyze_all_now(affected)
    ls.refresh_pulled_diagnostics()


def resync(ls: HandrailServer, document: Document, text: str | None) -> None:
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
