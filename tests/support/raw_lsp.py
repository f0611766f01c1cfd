"""`python -m handrail lsp` driven byte by byte: for the lifecycle tests that pytest-lsp hides
(what `shutdown` answers, what `exit` returns, what the server writes to stderr).

Replies are read by a thread and kept by id; stderr is collected whole. Every wait polls with
a generous timeout, so a loaded machine makes a test slower, never wrong.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

TIMEOUT_S = 60.0


class RawServer:
    """One server process; use as a context manager (it is killed if a test fails)."""

    def __init__(self, cwd: Path, env: Mapping[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "handrail", "lsp"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ if env is None else env),
        )
        self.messages: list[dict[str, Any]] = []
        self._stderr = bytearray()
        self._next_id = 0
        assert self.process.stdout is not None and self.process.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_frames, args=(self.process.stdout,), daemon=True),
            threading.Thread(target=self._read_all, args=(self.process.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for thread in self._threads:
            thread.join(5)

    def _read_frames(self, stream: IO[bytes]) -> None:
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is not None:
                self.messages.append(json.loads(stream.read(length)))

    def _read_all(self, stream: IO[bytes]) -> None:
        while chunk := stream.read1(65536):  # type: ignore[attr-defined]
            self._stderr += chunk

    @property
    def stderr(self) -> str:
        return self._stderr.decode("utf-8", "replace")

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.process.stdin.flush()

    def close_stdin(self) -> None:
        """The client goes away without `shutdown` or `exit` (an editor that crashed)."""
        assert self.process.stdin is not None
        self.process.stdin.close()

    def request(self, method: str, params: Any = None) -> int:
        """Send a request; its id (wait for the reply with `reply`)."""
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, "params": params})
        return self._next_id

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    def reply(self, msg_id: int, timeout_s: float = TIMEOUT_S) -> dict[str, Any]:
        """The reply to request `msg_id`; AssertionError when none comes in time."""
        deadline = time.monotonic() + timeout_s
        while True:
            for message in list(self.messages):
                if message.get("id") == msg_id and "method" not in message:
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply to request {msg_id}; stderr:\n{self.stderr}")
            if self.process.poll() is not None and not self._threads[0].is_alive():
                raise AssertionError(f"the server exited before replying to {msg_id}")
            time.sleep(0.01)

    def initialize(self, root: Path, options: Any = None) -> dict[str, Any]:
        msg_id = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": {},
                "initializationOptions": options,
            },
        )
        answer = self.reply(msg_id)
        self.notify("initialized", {})
        return answer

    def exit_code(self, timeout_s: float = TIMEOUT_S) -> int:
        """Wait for the process to end (its stdin still open: `exit` alone must end it)."""
        return self.process.wait(timeout_s)
