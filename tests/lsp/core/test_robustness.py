"""Never down: broken frames, malformed params, stray output, a failing analysis."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from captured_writer import CapturedWriter
from hypothesis import given
from hypothesis import strategies as st
from lsp_client import HANG_GUARD_S
from lsprotocol import types

from handrail.lsp import analysis_cache as analysis_module
from handrail.lsp.documents import AppliedChange
from handrail.lsp.insertion_hints import InsertionHint, shift_hints
from handrail.lsp.server import create_server
from handrail.lsp.settings import Settings, parse_settings
from handrail.workspace import Workspace


def frame(payload: dict[str, Any] | bytes, length: int | None = None) -> bytes:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return f"Content-Length: {len(body) if length is None else length}\r\n\r\n".encode() + body


def read_messages(data: bytes) -> list[dict[str, Any]]:
    messages = []
    while data:
        header, _, rest = data.partition(b"\r\n\r\n")
        length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        messages.append(json.loads(rest[:length]))
        data = rest[length:]
    return messages


def request(msg_id: int, method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}


def test_garbage_bad_lengths_and_bad_params_never_stop_the_server(tmp_path: Path) -> None:
    init = request(1, "initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    stream = b"".join(
        [
            frame(init),
            frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
            frame(b"this is not json at all"),
            # Too short a length: the rest of the body spills into the header reader.
            frame(request(2, "shutdown", None), length=10),
            # Garbage glued in front of a header.
            b"junk junk " + frame(request(3, "textDocument/diagnostic", {"textDocument": 5})),
            # Too long a length: it swallows the head of the next message.
            frame(request(4, "shutdown", None), length=60),
            frame(request(5, "textDocument/diagnostic", {"textDocument": {"uri": "file:///x"}})),
            frame(request(6, "shutdown", None)),
            frame({"jsonrpc": "2.0", "method": "exit", "params": None}),
        ]
    )
    done = subprocess.run(
        [sys.executable, "-m", "handrail", "lsp"],
        input=stream,
        capture_output=True,
        timeout=30,
        cwd=tmp_path,
    )
    replies = {m["id"]: m for m in read_messages(done.stdout) if "id" in m}
    assert "capabilities" in replies[1]["result"]
    assert replies[3]["error"]["code"] == types.ErrorCodes.InvalidParams
    assert replies[5]["result"]["items"] == []
    assert replies[6]["result"] is None
    assert done.returncode == 0


def test_stdout_is_the_protocol_alone(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, subprocess, sys
        from handrail.lsp.server import _protect_stdio
        stdin, stdout = _protect_stdio()
        print("stray print")
        subprocess.run(["echo", "child output"])
        os.write(1, b"raw fd write\\n")
        stdout.write(b"PROTOCOL")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=30, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"PROTOCOL"
    for leaked in (b"stray print", b"child output", b"raw fd write"):
        assert leaked in done.stderr


def test_a_failing_analysis_drops_only_its_own_findings(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = create_server()
    out = CapturedWriter()
    server.protocol.set_writer(out)
    server.registry.add(workspace.root.as_uri())
    good_uri = (workspace.root / "good.py").as_uri()
    bad_uri = (workspace.root / "bad.py").as_uri()
    text = "# handrail:begin abcdef.1\nx = 1\n# handrail:end abcdef.1\n"
    real = analysis_module.analyze_text

    def flaky(uri: str, *args: Any, **kwargs: Any) -> Any:
        if uri == bad_uri:
            raise RuntimeError("engine exploded")
        return real(uri, *args, **kwargs)

    monkeypatch.setattr(analysis_module, "analyze_text", flaky)
    bad = server.analyses.analyze(bad_uri, 1, text)
    good = server.analyses.analyze(good_uri, 1, text)
    assert bad.findings == []
    assert sorted(f.code for f in good.findings) == ["HR300", "HR306"]
    logged = [m for m in read_messages(out.data) if m.get("method") == "window/logMessage"]
    assert len(logged) == 1
    assert logged[0]["params"]["type"] == types.MessageType.Error
    assert "engine exploded" in logged[0]["params"]["message"]


def test_settings_merge_and_refuse_values_in_plain_words() -> None:
    settings, problems = parse_settings(
        {"handrail": {"debounceMs": 0, "trusted": True}},
        {"docsBaseUrl": "https://x", "trusted": False, "max_document_bytes": 0, "other": 1},
    )
    assert settings == Settings(
        debounce_ms=0, docs_base_url="https://x", max_document_bytes=5_000_000, trusted=True
    )
    assert len(problems) == 1 and "max_document_bytes" in problems[0]
    assert "default 5000000" in problems[0]
    # Workspace configuration cannot make a workspace trusted.
    assert parse_settings({}, {"trusted": True})[0].trusted is False
    assert parse_settings({"trusted": "yes"})[0].trusted is False
    assert parse_settings("not a table", 42) == (Settings(), [])


def test_the_accepted_code_lens_setting_is_read_nested_as_vscode_sends_it() -> None:
    assert parse_settings({})[0].accepted_code_lens is False
    on, problems = parse_settings({}, {"handrail": {"lens": {"acceptedCode": True}}})
    assert on.accepted_code_lens is True and problems == []
    assert parse_settings({"acceptedCodeLens": True})[0].accepted_code_lens is True
    refused, problems = parse_settings({}, {"lens": {"acceptedCode": "yes"}})
    assert refused.accepted_code_lens is False
    assert problems == [
        "Handrail setting accepted_code_lens = 'yes' is invalid "
        "(input should be a valid boolean); using the default False."
    ]
    # Other keys of the table are the client's own: ignored, never an error.
    assert parse_settings({}, {"lens": {"other": 1}}) == (Settings(), [])


def test_insertion_hints_move_with_edits() -> None:
    hints = [InsertionHint(10, 20)]
    # Two lines inserted above: moved down.
    assert shift_hints(hints, AppliedChange(2, 0, 2)) == [InsertionHint(12, 22)]
    # Below: unchanged.
    assert shift_hints(hints, AppliedChange(30, 0, 5)) == hints
    # Three lines deleted inside: shrinks.
    assert shift_hints(hints, AppliedChange(12, 3, 0)) == [InsertionHint(10, 17)]


async def test_reanalyze_open_documents_reloads_after_a_command_wrote_a_task(
    workspace: Workspace,
) -> None:
    server = create_server()
    out = CapturedWriter()
    server.protocol.set_writer(out)
    server.registry.add(workspace.root.as_uri())
    uri = (workspace.root / "a.py").as_uri()
    server.documents.open(
        uri, "python", 3, "# handrail:begin abcdef.1\nx = 1\n# handrail:end abcdef.1\n"
    )
    before = server.analysis_for(uri)
    assert before is not None and "HR306" in [f.code for f in before.findings]
    (workspace.tasks_dir / "abcdef.toml").write_text(
        'id = "abcdef"\nspec = "Parse a header line. Keep it fast."\ncontext = []\n'
    )
    await server.reanalyze_open_documents()
    published = [
        m["params"]
        for m in read_messages(out.data)
        if m.get("method") == "textDocument/publishDiagnostics"
    ]
    assert published[-1]["version"] == 3
    assert [d["code"] for d in published[-1]["diagnostics"]] == ["HR300"]
    analysis = server.analysis_for(uri)
    assert analysis is not None and [f.code for f in analysis.findings] == ["HR300"]
    server.diagnostics.shutdown()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
setting_names = st.sampled_from(
    [
        "debounce_ms",
        "debounceMs",
        "docs_base_url",
        "maxDocumentBytes",
        "trusted",
        "acceptedCodeLens",
        "lens",
        "other",
    ]
)


@given(
    st.dictionaries(setting_names, json_values, max_size=4) | json_values,
    st.dictionaries(setting_names, json_values, max_size=4) | json_values,
)
def test_any_settings_payload_gives_valid_settings(init: object, configuration: object) -> None:
    settings, problems = parse_settings(init, configuration)
    assert isinstance(settings, Settings)
    assert settings.debounce_ms >= 0 and settings.max_document_bytes >= 1
    assert all(p.startswith("Handrail setting ") for p in problems)
    if not isinstance(init, dict) or init.get("trusted") is not True:
        assert settings.trusted is False


async def test_a_result_for_an_older_version_is_never_published(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = create_server()
    out = CapturedWriter()
    server.protocol.set_writer(out)
    server.registry.add(workspace.root.as_uri())
    uri = (workspace.tasks_dir / "abcdef.toml").as_uri()
    text = 'id = "abcdef"\nspec = "Parse a header line. Keep it fast."\ncontext = []\n'
    server.documents.open(uri, "toml", 1, text)
    started, release = threading.Event(), threading.Event()
    real = analysis_module.analyze_text

    def slow(uri: str, version: int | None, *args: Any, **kwargs: Any) -> Any:
        if version == 1:
            started.set()
            release.wait(HANG_GUARD_S)  # version 1 finishes only after version 2 has arrived
        return real(uri, version, *args, **kwargs)

    monkeypatch.setattr(analysis_module, "analyze_text", slow)
    server.diagnostics.schedule(uri, 0)
    first = server.diagnostics._pending[uri]
    # Version 1 is being analysed (in the worker thread: a task file) when version 2 arrives.
    await asyncio.get_running_loop().run_in_executor(None, started.wait, HANG_GUARD_S)
    assert started.is_set()
    edit = types.TextDocumentContentChangeWholeDocument(text=text.replace("fast", "quick"))
    server.documents.change(uri, 2, [edit], "utf-16")
    release.set()
    # Version 1's run finishes now, finds version 2 in the store and publishes nothing.
    await asyncio.wait_for(first, HANG_GUARD_S)
    assert b"publishDiagnostics" not in out.data
    server.diagnostics.schedule(uri, 0)
    await asyncio.wait_for(server.diagnostics._pending[uri], HANG_GUARD_S)
    versions = [
        m["params"]["version"]
        for m in read_messages(out.data)
        if m.get("method") == "textDocument/publishDiagnostics"
    ]
    assert versions == [2]
    server.diagnostics.shutdown()
