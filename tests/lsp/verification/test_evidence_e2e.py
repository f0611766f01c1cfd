"""Through the editor: the lens and hover carry the line figures, HR310 marks the block no test
ran, HR312 the lines no test ran."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from verification_harness import (
    PYTEST_COMMAND,
    TASK,
    Client,
    block_file,
    running,
    write_task,
    write_workflow,
)
from workspaces import shared_workspace

from handrail.verify import trust as trust_mod
from handrail.workspace import Workspace

# One server and one verification for the module: every test shares its event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")

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


@dataclass(frozen=True)
class Measured:
    """The module's one session: calc.py open after `handrail.verify` ran the task's tests."""

    client: Client
    uri: str
    result: dict[str, Any]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def measured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Measured]:
    """One server and one measured verification for the module (a run of pytest costs
    seconds); the tests only read what it left."""
    with shared_workspace(tmp_path_factory, "evidence") as ws:
        root = ws.root
        _project(ws)
        trust_mod.trust(ws)
        async with running(root, trusted=True) as client:
            uri = client.open(root / "calc.py")
            await client.codes_become(uri, ["HR300", "HR300"])
            result = await client.run("handrail.verify", {"task": TASK, "uri": uri})
            # add: 3 executable lines, the negative branch never ran (HR312); sub: HR310.
            await client.codes_become(uri, ["HR304", "HR310", "HR312", "HR312"])
            yield Measured(client, uri, result)


async def test_a_block_a_test_ran_is_verified_one_no_test_ran_is_not(measured: Measured) -> None:
    statuses = {b["block"]: b["status"] for b in measured.result["blocks"]}
    assert statuses == {TESTED: "verified", UNTESTED: "not_executed"}


async def test_hr310_sits_on_the_begin_marker_of_the_block_no_test_ran(
    measured: Measured,
) -> None:
    (hr310,) = [d for d in measured.client.latest(measured.uri) if d.code == "HR310"]
    assert hr310.range.start.line == 7  # the begin marker of the untested block
    assert "no passing test executed it" in hr310.message and "calc.py" in hr310.message


async def test_hr312_marks_each_line_no_test_ran(measured: Measured) -> None:
    shown = measured.client.latest(measured.uri)
    hints = sorted(d.range.start.line for d in shown if d.code == "HR312")
    assert hints == [3, 9]  # `return -(...)` of add; `return a - b` of sub (0-based)


async def test_lenses_say_a_few_words_and_their_tooltip_the_line_figures(
    measured: Measured,
) -> None:
    # Lenses are a few words (issue 19); the line figures are in the status lens's tooltip.
    found = await measured.client.code_lenses(measured.uri)
    titles = [lens.command.title for lens in found if lens.command is not None]
    assert "lines no test ran, needs explanation" in titles, titles
    assert "not executed by any test, lines no test ran" in titles, titles
    tooltips = [lens.command.tooltip or "" for lens in found if lens.command]
    assert any("2/3 lines run by 1 test" in t for t in tooltips), tooltips


async def test_hover_names_the_line_figures_and_the_test_that_ran(measured: Measured) -> None:
    text = await measured.client.hover_text(measured.uri, 0, 3)
    assert text is not None
    assert "2/3 lines run by 1 test" in text
    assert "**Lines:** 2/3 lines run by 1 test: `test_calc.py::test_add`" in text
