"""What every end-to-end language-server test client needs, whatever it checks.

- `PollingClient.wait_for`: poll a condition (pytest-lsp's `wait_for_notification` hangs when
  the notification already arrived, so tests never wait on one).
- `serving`: start `python -m handrail lsp`, initialize it on some folders, shut it down after.
- `new_client`: a pytest-lsp client whose converter reads a CodeAction that carries a command
  correctly (lsprotocol 2025.0.0 reads it as a `Command` on the client side).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, Union

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.protocol import LanguageClientProtocol

ClientT = TypeVar("ClientT", bound=LanguageClient)

HANG_GUARD_S = 60.0
"""The longest any end-to-end step (start, a request, a condition) may take before a test
calls it hung. Only a guard: the order of events decides every test, never this figure, and a
server that starts in one second here may take twenty on a machine under load."""


class PollingClient(LanguageClient):
    timeout_s = HANG_GUARD_S
    """How long `wait_for` waits unless told otherwise."""

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float | None = None, what: str = "condition"
    ) -> Any:
        """Poll `predicate` until it returns something truthy; AssertionError on timeout."""
        deadline = time.monotonic() + (self.timeout_s if timeout is None else timeout)
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.01)


def _code_action_or_command(data: Any, _: Any) -> types.CodeAction | types.Command:
    converter = default_converter()
    if isinstance(data, dict) and isinstance(data.get("command"), str):
        return converter.structure(data, types.Command)  # type: ignore[no-any-return]
    return converter.structure(data, types.CodeAction)  # type: ignore[no-any-return]


def new_client(cls: type[ClientT]) -> ClientT:
    """A client of class `cls` speaking through pytest-lsp's protocol, code actions fixed."""
    client = cls(converter_factory=default_converter, protocol_cls=LanguageClientProtocol)
    client.protocol._converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007 (the exact type lsprotocol uses)
        _code_action_or_command,
    )
    return client


@asynccontextmanager
async def serving(
    client: LanguageClient,
    folders: list[Path],
    capabilities: types.ClientCapabilities,
    *,
    init_options: Any = None,
    env: Mapping[str, str] | None = None,
    timeout: float = HANG_GUARD_S,
) -> AsyncIterator[types.InitializeResult]:
    """Run the server for `client` on `folders`; yields the `initialize` result and always
    shuts the server down (a failed test must not leave a server behind)."""
    await client.start_io(
        sys.executable, "-m", "handrail", "lsp", env=dict(os.environ if env is None else env)
    )
    try:
        yield await asyncio.wait_for(
            client.initialize_session(
                types.InitializeParams(
                    capabilities=capabilities,
                    workspace_folders=[
                        types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders
                    ],
                    initialization_options=init_options,
                )
            ),
            timeout,
        )
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), timeout)
        finally:
            await client.stop()
