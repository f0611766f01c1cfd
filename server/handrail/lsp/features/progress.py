"""Work-done progress (``$/progress``) for commands that take a while."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from handrail.lsp.server import HandrailServer

log = logging.getLogger(__name__)

Report = Callable[[str], None]


def _client_shows_progress(server: HandrailServer) -> bool:
    window = server.client_capabilities.window
    return bool(window is not None and window.work_done_progress)


@asynccontextmanager
async def work_done(server: HandrailServer, title: str) -> AsyncIterator[Report]:
    """Show `title` as progress while the body runs; the body reports steps as messages.

    A client that cannot show server-started progress simply sees nothing; a client that
    refuses the token does not stop the work either.
    """
    token = f"handrail-{uuid.uuid4()}"
    shown = _client_shows_progress(server)
    if shown:
        try:
            await server.work_done_progress.create_async(token)
        except Exception as exc:  # the client said no: do the work without progress
            log.info("progress not shown (%s)", exc)
            shown = False
    if shown:
        server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, cancellable=False)
        )

    def report(message: str) -> None:
        if shown:
            server.work_done_progress.report(token, types.WorkDoneProgressReport(message=message))

    outcome = "failed"
    try:
        yield report
        outcome = "done"
    finally:
        if shown:
            server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=outcome))
