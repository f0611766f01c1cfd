"""Through the editor: Verify on a block whose risk tier asks for the probe probes it too, with
its progress in the verification's work-done progress, and records "caught K of N"."""

from __future__ import annotations

import pytest
from verification_harness import (
    PYTEST_COMMAND,
    TASK,
    block_file,
    running,
    toml_string,
    write_task,
)

from handrail.ledger.records import ProbeRun
from handrail.ledger.store import Ledger
from handrail.verify import trust as trust_mod
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

BLOCK = f"{TASK}.1"
CHARGE = (
    "def charge(amount, fee):\n    if amount <= 0:\n        return 0\n    return amount + fee\n"
)
TESTS = (
    "from billing import charge\n\n\n"
    "def test_charge_adds_the_fee():\n    assert charge(10, 2) == 12\n\n\n"
    "def test_nothing_to_charge():\n    assert charge(0, 2) == 0\n"
)


def _risky_project(ws: Workspace) -> None:
    ws.workflow_path.write_text(
        'extends = "default"\n\n[workflow]\nowner = "Ada Tester"\nreviewed = 2026-11-01\n\n'
        f"[verification]\ncommand = {toml_string(PYTEST_COMMAND)}\ntimeout_s = 60\n\n"
        '[[risk_tiers]]\nname = "money"\npaths = ["billing.py"]\n'
        'requires = ["tests", "probe"]\nwhy = "Charging the wrong amount costs money."\n',
        encoding="utf-8",
    )
    write_task(ws)
    (ws.root / "billing.py").write_text(block_file(BLOCK, CHARGE), encoding="utf-8")
    (ws.root / "test_billing.py").write_text(TESTS, encoding="utf-8")


async def test_verify_in_the_editor_probes_a_risky_block(workspace: Workspace) -> None:
    _risky_project(workspace)
    trust_mod.trust(workspace)
    async with running(workspace.root, trusted=True) as client:
        uri = client.open(workspace.root / "billing.py")
        result = await client.run("handrail.verify", {"block": BLOCK, "uri": uri})

        assert [b["status"] for b in result["blocks"]] == ["verified"]
        (probed,) = result["probe"]
        (run,) = [r for r in Ledger(workspace).read().records if isinstance(r, ProbeRun)]
        assert probed["block"] == BLOCK and probed["record"] == run.id
        assert probed["tried"] == run.tried > 0 and probed["caught"] == run.caught
        assert f"Probe: {BLOCK}: caught {run.caught} of {run.tried} mutants" in result["message"]
        # The probe's steps arrive through the verification's own progress.
        progress = client.progress_messages()
        assert any(
            m.startswith(f"report: probe {BLOCK}: the tests pass unchanged") for m in progress
        )
        assert any(
            m.startswith(f"report: probe {BLOCK}: [{run.tried}/{run.tried}]") for m in progress
        )
        assert progress[-1].startswith("end: Verified 1 of 1 block (")
