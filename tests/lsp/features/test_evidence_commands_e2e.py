"""End to end: evidence the author gives from the editor (``handrail.recordTrace``,
``handrail.explain``), and the commands the server advertises, each with its declared type."""

from __future__ import annotations

import pytest
from features_harness import make_task, running
from pygls.exceptions import JsonRpcException

from handrail.ledger.records import BlockMarked, Trace, content_hash
from handrail.ledger.store import Ledger
from handrail.lsp.features.command_results import COMMAND_RESULTS
from handrail.review.acknowledgements import MAX_BLOCK_FILE_BYTES
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio


async def test_every_advertised_command_has_a_declared_result_type(workspace: Workspace) -> None:
    # The command contract (tests/contract/) covers what the real server offers, no less.
    async with running([workspace.root]) as client:
        provider = client.initialized.capabilities.execute_command_provider
        assert provider is not None
        assert sorted(provider.commands) == sorted(COMMAND_RESULTS)


async def test_a_trace_records_the_editors_content_and_answers_like_the_cli(
    workspace: Workspace,
) -> None:
    (workspace.root / "src").mkdir()
    path = workspace.root / "src" / "a.py"
    path.write_text("# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n")
    make_task(workspace)
    async with running([workspace.root]) as client:
        uri = client.open(path, "# handrail:begin k3f7qa.1\nx = 2\n# handrail:end k3f7qa.1\n")
        await client.diagnostics_of(uri, 1)
        done = await client.run("handrail.recordTrace", {"block": "k3f7qa.1", "uri": uri})
    (record,) = [r for r in Ledger(workspace).read().records if isinstance(r, Trace)]
    assert (done["record"], done["content_hash"]) == (record.id, record.content_hash)
    assert record.content_hash == content_hash("x = 2\n")  # the unsaved buffer, not the disk
    assert done["kind"] == "trace" and done["path"] == "src/a.py"
    assert done["still_needed"]  # unverified: what `handrail trace --json` says too


async def test_a_trace_for_a_block_in_a_huge_closed_file_is_refused_unread(
    workspace: Workspace,
) -> None:
    # The block is found on disk through the ledger when no editor holds its file: the server
    # reads that file with a bound (read_regular_file), never a multi-gigabyte read_bytes().
    (workspace.root / "src").mkdir()
    big = workspace.root / "src" / "big.py"
    big.write_text("# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n")
    with open(big, "r+b") as handle:  # sparse: nothing is written past the block
        handle.truncate(MAX_BLOCK_FILE_BYTES + 1)
    make_task(workspace)
    Ledger(workspace).append(
        BlockMarked.create(
            block_id="k3f7qa.1",
            task_id="k3f7qa",
            path="src/big.py",
            content_hash="sha256:x",
            begin_line=1,
            end_line=3,
            author="Ada Tester <ada@example.com>",
        )
    )
    async with running([workspace.root]) as client:
        with pytest.raises(JsonRpcException) as caught:
            await client.run("handrail.recordTrace", {"block": "k3f7qa.1"})
    assert caught.value.code == -32803
    assert "src/big.py is 33,554,433 bytes, over the 33,554,432 bytes" in caught.value.message
    assert not [r for r in Ledger(workspace).read().records if isinstance(r, Trace)]
