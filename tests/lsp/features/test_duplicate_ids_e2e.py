"""The editor shows HR305 on a block whose id another file of the folder uses too: the
folder's index of the saved files, updated on every save (issue 16, point 5)."""

from __future__ import annotations

import pytest
from features_harness import Client, make_task, running
from lsprotocol import types

from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio


def _block(block_id: str, body: str = "x = 1\n") -> str:
    return f"# handrail:begin {block_id}\n{body}# handrail:end {block_id}\n"


def _codes(client: Client, uri: str) -> list[tuple[str, int]] | None:
    for params in reversed(client.published):
        if params.uri == uri:
            return sorted((str(d.code), d.range.start.line) for d in params.diagnostics)
    return None


async def test_a_block_id_used_in_a_file_on_disk_is_hr305(workspace: Workspace) -> None:
    make_task(workspace)
    src = workspace.root / "src"
    src.mkdir()
    (src / "b.py").write_text("y = 0\n" + _block("k3f7qa.1"))
    a = src / "a.py"
    a.write_text(_block("k3f7qa.1"))
    async with running([workspace.root]) as client:
        uri = client.open(a, a.read_text())
        diagnostics = await client.diagnostics_of(uri, 1)
        (dup,) = [d for d in diagnostics if d.code == "HR305"]
        assert dup.range.start.line == 0
        assert "also used in src/b.py (line 2)" in dup.message
        # No evidence is judged for it: neither HR300 nor any other evidence code.
        assert [d.code for d in diagnostics] == ["HR305"]


async def test_saving_a_duplicate_in_another_file_updates_the_open_one(
    workspace: Workspace,
) -> None:
    make_task(workspace)
    src = workspace.root / "src"
    src.mkdir()
    a, b = src / "a.py", src / "b.py"
    a.write_text(_block("k3f7qa.1"))
    b.write_text("y = 0\n")
    async with running([workspace.root]) as client:
        a_uri = client.open(a, a.read_text())
        b_uri = client.open(b, b.read_text())
        assert [d.code for d in await client.diagnostics_of(a_uri, 1)] == ["HR300"]

        # The other file gains a block with the same id (pasted) and is saved.
        text = "y = 0\n" + _block("k3f7qa.1", "z = 2\n")
        client.replace_all(b_uri, text)
        b.write_text(text)
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=b_uri), text=text
            )
        )
        await client.wait_for(lambda: _codes(client, a_uri) == [("HR305", 0)], what="HR305 in a.py")
        await client.wait_for(lambda: _codes(client, b_uri) == [("HR305", 1)], what="HR305 in b.py")

        # Renumbered and saved again: both are plain blocks once more.
        text = "y = 0\n" + _block("k3f7qa.2", "z = 2\n")
        client.replace_all(b_uri, text)
        b.write_text(text)
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=b_uri), text=text
            )
        )
        await client.wait_for(lambda: _codes(client, a_uri) == [("HR300", 0)], what="a.py")


async def test_the_renumber_command_clears_the_duplicate(workspace: Workspace) -> None:
    make_task(workspace)
    src = workspace.root / "src"
    src.mkdir()
    a, b = src / "a.py", src / "b.py"
    a.write_text(_block("k3f7qa.1"))
    b.write_text("y = 0\n" + _block("k3f7qa.1"))
    async with running([workspace.root]) as client:
        a_uri = client.open(a, a.read_text())
        assert [d.code for d in await client.diagnostics_of(a_uri, 1)] == ["HR305"]
        dry = await client.run("handrail.renumber", {"dryRun": True})
        assert dry["dry_run"] is True  # the name `handrail renumber --json` prints
        assert [(r["path"], r["new"]) for r in dry["renumbered"]] == [("src/b.py", "k3f7qa.2")]
        assert "k3f7qa.1" in b.read_text()

        done = await client.run("handrail.renumber")
        assert [(r["path"], r["old"], r["new"]) for r in done["renumbered"]] == [
            ("src/b.py", "k3f7qa.1", "k3f7qa.2")
        ]
        assert b.read_text() == "y = 0\n" + _block("k3f7qa.2")
        await client.wait_for(lambda: _codes(client, a_uri) == [("HR300", 0)], what="a.py")
