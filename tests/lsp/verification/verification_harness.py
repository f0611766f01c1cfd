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

from lsp_client import DocumentClient, recording_client, serving, text_document_capabilities
from lsprotocol import types
from toml_text import toml_string

from handrail.workspace import Workspace

PY = sys.executable
TASK = "abcdef"
SPEC = "Given two integers, return their sum. It must never raise and follow the style of calc.py."
PYTEST_COMMAND = f"{shlex.quote(PY)} -m pytest -q -p no:cacheprovider"


class Client(DocumentClient):
    lens_refreshes: int

    def rewrite(self, path: Path, text: str) -> int:
        """The user edits the buffer to `text` and saves it (verification reads the disk)."""
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        version = self.replace_all(uri, text)
        self.save(uri, text)
        return version

    def codes(self, uri: str) -> list[str] | None:
        """The codes of the newest publication for `uri` (None before the first)."""
        params = self.last(uri)
        return None if params is None else sorted(str(d.code) for d in params.diagnostics)

    async def codes_become(self, uri: str, codes: list[str]) -> None:
        await self.wait_for(lambda: self.codes(uri) == codes, what=f"{codes} on {uri}")

    def latest(self, uri: str) -> list[types.Diagnostic]:
        params = self.last(uri)
        return [] if params is None else list(params.diagnostics)

    async def run(self, name: str, *arguments: Any, msg_id: str | None = None) -> Any:
        params = types.ExecuteCommandParams(command=name, arguments=list(arguments) or None)
        if msg_id is None:
            result = await self.workspace_execute_command_async(params)
        else:
            result = await self.protocol.send_request_async(
                types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id
            )
        from command_shapes import result_errors  # here: the import block is shared

        # Every answer has its declared type (the command contract, tests/contract/).
        assert result_errors(name, result) == [], (name, result_errors(name, result))
        return result

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
    def lens_refresh(c: Client, params: None) -> None:
        c.lens_refreshes += 1

    client = recording_client(Client, {types.WORKSPACE_CODE_LENS_REFRESH: lens_refresh})
    client.lens_refreshes = 0
    return client


def capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(
            workspace_folders=True,
            code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True),
        ),
        text_document=text_document_capabilities(),
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
    async with serving(client, [root], capabilities(), init_options=options, env=env):
        yield client


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
