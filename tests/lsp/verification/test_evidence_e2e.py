"""Through the editor: the lens and hover carry the line figures, HR310 marks the block no test
ran, HR312 the lines no test ran."""

from __future__ import annotations

import pytest
from lsprotocol import types
from verification_harness import (
    PYTEST_COMMAND,
    TASK,
    Client,
    block_file,
    running,
    write_task,
    write_workflow,
)

from handrail.verify import trust as trust_mod
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

TESTED, UNTESTED = f"{TASK}.1", f"{TASK}.2"
ADD = "def add(a, b):\n    if a < 0:\n        return -(abs(a) - b)\n    return a + b\n"
SUB = "def sub(a, b):\n    return a - b\n"


def _project(ws: Workspace) -> None:
    write_workflow(ws, PYTEST_COMMAND)
    write_task(ws)
    (ws.root / "calc.py").write_text(block_file(TESTED, ADD) + "\n" + block_file(UNTESTED, SUB))
    (ws.root / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )


async def _lens_titles(client: Client, uri: str) -> list[str]:
    found = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return [lens.command.title for lens in found or [] if lens.command is not None]


async def test_lens_hover_and_hr310_after_a_measured_run(workspace: Workspace) -> None:
    _project(workspace)
    trust_mod.trust(workspace)
    calc = workspace.root / "calc.py"
    async with running(workspace.root, trusted=True) as client:
        uri = client.open(calc)
        await client.codes_become(uri, ["HR300", "HR300"])
        result = await client.run("handrail.verify", {"task": TASK, "uri": uri})
        statuses = {b["block"]: b["status"] for b in result["blocks"]}
        assert statuses == {TESTED: "verified", UNTESTED: "not_executed"}
        # add: 3 executable lines, the negative branch never ran (HR312); sub: HR310.
        await client.codes_become(uri, ["HR304", "HR310", "HR312", "HR312"])
        shown = client.latest(uri)
        (hr310,) = [d for d in shown if d.code == "HR310"]
        assert hr310.range.start.line == 7  # the begin marker of the untested block
        assert "no passing test executed it" in hr310.message and "calc.py" in hr310.message
        hints = sorted(d.range.start.line for d in shown if d.code == "HR312")
        assert hints == [3, 9]  # `return -(...)` of add; `return a - b` of sub (0-based)

        # Lenses are a few words (issue 19); the line figures are in the status lens's tooltip.
        titles = await _lens_titles(client, uri)
        assert "lines no test ran, needs explanation" in titles, titles
        assert "not executed by any test, lines no test ran" in titles, titles
        found = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        tooltips = [lens.command.tooltip or "" for lens in found or [] if lens.command]
        assert any("2/3 lines run by 1 test" in t for t in tooltips), tooltips

        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=0, character=3),
            )
        )
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        text = hover.contents.value
        assert "2/3 lines run by 1 test" in text
        assert "**Lines:** 2/3 lines run by 1 test: `test_calc.py::test_add`" in text
