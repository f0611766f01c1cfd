"""The lifecycle's end: after `shutdown` every request is refused with InvalidRequest, and
`exit` ends the process with 0 (1 without `shutdown`), whatever the client does with stdin."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from raw_lsp import RawServer


def test_requests_after_shutdown_get_invalid_request(tmp_path: Path) -> None:
    with RawServer(tmp_path) as server:
        server.initialize(tmp_path)
        assert server.reply(server.request("shutdown"))["result"] is None
        hover = server.request(
            "textDocument/hover",
            {
                "textDocument": {"uri": (tmp_path / "a.py").as_uri()},
                "position": {"line": 0, "character": 0},
            },
        )
        again = server.request("shutdown")
        for msg_id in (hover, again):
            error = server.reply(msg_id)["error"]
            assert error["code"] == types.ErrorCodes.InvalidRequest == -32600
            assert "shutting down" in error["message"]
        server.notify("exit")
        assert server.exit_code() == 0
        assert "Traceback" not in server.stderr, server.stderr


def test_exit_without_shutdown_exits_1(tmp_path: Path) -> None:
    with RawServer(tmp_path) as server:
        server.initialize(tmp_path)
        server.notify("exit")
        assert server.exit_code() == 1
        assert "Traceback" not in server.stderr, server.stderr
