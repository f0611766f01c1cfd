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


class _BrokenWriter:
    def __init__(self) -> None:
        self.attempts = 0

    def write(self, data: bytes) -> None:
        self.attempts += 1
        raise ValueError("write to closed file")

    def close(self) -> None:
        return None


def test_a_failed_send_is_logged_once_not_reported_by_sending_again() -> None:
    """A message that cannot be written (the client closed the stream) once made pygls report
    the error by sending a log message, which failed and was reported again, a traceback each
    time, until the recursion limit: seconds of CPU and megabytes of stderr."""
    from handrail.lsp.server import create_server

    server = create_server()
    writer = _BrokenWriter()
    server.protocol.set_writer(writer)
    server.log_message("hello")
    assert writer.attempts == 1
