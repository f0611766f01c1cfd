"""A pytest-lsp client for the verification tests: `python -m handrail lsp` over stdio, with
or without the editor's trust, recording diagnostics, progress and pop-ups."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsp_client import HANG_GUARD_S, PollingClient, new_client, serving
from lsprotocol import types
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from handrail.workspace import Workspace

TIMEOUT = HANG_GUARD_S
PY = sys.executable
TASK = "abcdef"
SPEC = "Given two integers, return their sum. It must never raise and follow the style of calc.py."
PYTEST_COMMAND = f"{shlex.quote(PY)} -m pytest -q -p no:cacheprovider"


class Client(PollingClient):
    timeout_s = TIMEOUT
    published: list[types.PublishDiagnosticsParams]
    texts: dict[str, str]
    versions: dict[str, int]
    lens_refreshes: int

    def open(self, path: Path, text: str | None = None) -> str:
        text = path.read_text(encoding="utf-8") if text is None else text
        uri = path.as_uri()
        self.texts[uri] = text
        self.versions[uri] = 1
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        return uri

    def rewrite(self, path: Path, text: str) -> int:
        """The user edits the buffer to `text` and saves it (verification reads the disk)."""
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
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
        self.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri), text=text
            )
        )
        return self.versions[uri]

    def codes(self, uri: str) -> list[str] | None:
        """The codes of the newest publication for `uri` (None before the first)."""
        for params in reversed(self.published):
            if params.uri == uri:
                return sorted(str(d.code) for d in params.diagnostics)
        return None

    async def codes_become(self, uri: str, codes: list[str]) -> None:
        await self.wait_for(lambda: self.codes(uri) == codes, what=f"{codes} on {uri}")

    def latest(self, uri: str) -> list[types.Diagnostic]:
        for params in reversed(self.published):
            if params.uri == uri:
                return list(params.diagnostics)
        return []

    async def run(self, name: str, *arguments: Any, msg_id: str | None = None) -> Any:
        params = types.ExecuteCommandParams(command=name, arguments=list(arguments) or None)
        if msg_id is None:
            return await self.workspace_execute_command_async(params)
        return await self.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id
        )

    def progress_messages(self) -> list[str]:
        found: list[str] = []
        for reports in self.progress_reports.values():
            for report in reports:
                if isinstance(report, types.WorkDoneProgressBegin):
                    found.append(f"begin: {report.title}")
                elif isinstance(report, types.WorkDoneProgressReport):
                    found.append(f"report: {report.message}")
                elif isinstance(report, types.WorkDoneProgressEnd):
                    found.append(f"end: {report.message}")
        return found


def _make_client() -> Client:
    client = new_client(Client)
    client.published = []
    client.texts = {}
    client.versions = {}
    features = dict(DEFAULT_CLIENT_FEATURES)

    def publish(c: Client, params: types.PublishDiagnosticsParams) -> None:
        c.published.append(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    client.lens_refreshes = 0

    def lens_refresh(c: Client, params: None) -> None:
        c.lens_refreshes += 1

    features[types.WORKSPACE_CODE_LENS_REFRESH] = lens_refresh
    register_lsp_features(client, features)
    return client


def capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(
            workspace_folders=True,
            code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True),
        ),
        text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
        ),
    )


@asynccontextmanager
async def running(root: Path, *, trusted: bool) -> AsyncIterator[Client]:
    """The server on `root`; `trusted` is what the editor passes as Workspace Trust."""
    client = _make_client()
    env = dict(os.environ)
    # The child pytest of a verification needs none of this run's plugins.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    options = {"handrail": {"debounce_ms": 0, "trusted": trusted}}
    async with serving(
        client, [root], capabilities(), init_options=options, env=env, timeout=TIMEOUT
    ):
        yield client


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\' or ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def write_workflow(ws: Workspace, command: str) -> None:
    ws.workflow_path.write_text(
        'extends = "default"\n\n[workflow]\nowner = "Ada Tester"\nreviewed = 2026-11-01\n\n'
        f"[verification]\ncommand = {toml_string(command)}\ntimeout_s = 60\n",
        encoding="utf-8",
    )


def write_task(ws: Workspace, task_id: str = TASK, verify: str | None = None) -> None:
    lines = [f'id = "{task_id}"', f"spec = {toml_string(SPEC)}", "context = []"]
    if verify is not None:
        lines.append(f"verify = {toml_string(verify)}")
    (ws.tasks_dir / f"{task_id}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def block_file(block_id: str, body: str) -> str:
    return f"# handrail:begin {block_id}\n{body}# handrail:end {block_id}\n"


def python_command(code: str) -> str:
    """A command text that runs `code` with this Python (no shell)."""
    return f"{shlex.quote(PY)} -c {shlex.quote(code)}"


def sentinel_command(name: str) -> str:
    return python_command(f"open({name!r}, 'w').write('ran')")
