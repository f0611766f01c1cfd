"""A local chat-completions server speaking the streaming protocol, scripted per test."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def chunk(content: str | None = None, *, finish: str | None = None, **delta: Any) -> str:
    """One SSE event carrying a chat-completions chunk."""
    if content is not None:
        delta["content"] = content
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def answer_events(text: str, *, pieces: int = 4) -> list[str]:
    """`text` streamed in a few pieces, then a stop chunk and [DONE]."""
    size = max(1, len(text) // pieces)
    parts = [text[i : i + size] for i in range(0, len(text), size)]
    return [
        chunk(role="assistant"),
        *(chunk(p) for p in parts),
        chunk(finish="stop"),
        "data: [DONE]\n\n",
    ]


@dataclass
class Script:
    status: int = 200
    events: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    script: Script

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.script.requests.append({"path": self.path, **json.loads(self.rfile.read(length))})
        self.script.auth.append(self.headers.get("Authorization"))
        script = self.script
        self.send_response(script.status)
        if script.status != 200:
            for name, value in script.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(script.body)))
            self.end_headers()
            self.wfile.write(script.body)
            return
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for event in script.events:
                if script.delay_s:
                    time.sleep(script.delay_s)
                self.wfile.write(event.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextmanager
def serving() -> Iterator[tuple[str, Script]]:
    script = Script()
    handler = type("Handler", (_Handler,), {"script": script})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    finally:
        httpd.shutdown()
        httpd.server_close()


def write_settings(base_url: str, *, timeout_s: float = 60.0, key_env: str | None = None) -> Path:
    folder = Path(os.environ["XDG_CONFIG_HOME"]) / "handrail"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[generate]", f'base_url = "{base_url}"', 'model = "test-model"']
    lines.append(f"timeout_s = {timeout_s}")
    if key_env:
        lines.append(f'api_key_env = "{key_env}"')
    path = folder / "settings.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
