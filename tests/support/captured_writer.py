"""The output stream of a server driven in-process: it keeps every byte the server writes and
splits them into the JSON-RPC messages they frame."""

from __future__ import annotations

import json
from typing import Any


class CapturedWriter:
    """What a server wrote, as bytes (`data`) and as messages (`messages()`)."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        return None

    def messages(self) -> list[dict[str, Any]]:
        found, data = [], self.data
        while data:
            header, _, rest = data.partition(b"\r\n\r\n")
            length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            found.append(json.loads(rest[:length]))
            data = rest[length:]
        return found
