"""The probe runs by itself wherever a block of a tier that asks for it is verified: `handrail
verify` without --probe, `verify --all`, and the CI gate (`check --rerun`), which judges HR313
by its own fresh probe, never by a probe record already in the ledger."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result
from shop_project import PRICING, write_shop

from handrail.cli.main import cli
from handrail.ledger.records import ProbedMutant, ProbeRun
from handrail.ledger.store import Ledger
from handrail.verify import trust as trust_mod
from handrail.verify.run import find_blocks
from handrail.workspace import Workspace

TOTAL = f"{PRICING}.1"
REFUND = f"{PRICING}.2"


def _tier(requires: str) -> str:
    return (
        '\n[[risk_tiers]]\nname = "money"\npaths = ["shop/**"]\n'
        f'requires = {requires}\nwhy = "Rounding mistakes cost real money."\n'
    )


PROBE_TIER = _tier('["tests", "probe"]')
PLAIN_TIER = _tier('["tests"]')

NO_ASSERT_TESTS = (
    "from shop.pricing import total\n\n\n"
    "def test_total_runs():\n    total([1.5, 2.5], discount=10)\n"
)
"""Tests that run `total` and check nothing: every mutant of it survives."""


def handrail(ws: Workspace, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args], catch_exceptions=False)


def probe_runs(ws: Workspace) -> list[ProbeRun]:
    return [r for r in Ledger(ws).read().records if isinstance(r, ProbeRun)]


def test_verify_probes_a_block_whose_tier_asks_without_being_told(workspace: Workspace) -> None:
    write_shop(workspace, extra=PROBE_TIER)
    trust_mod.trust(workspace)

    out = handrail(workspace, "verify", PRICING)  # no --probe

    (run,) = probe_runs(workspace)
    assert run.block_id == TOTAL and run.tried > 0
    assert f"{TOTAL}  shop/pricing.py:3  probe: caught {run.caught} of {run.tried}" in out.stdout
    # The untested block was not verified, so it was not probed, and the output says why.
    assert f"{REFUND}  shop/pricing.py:" in out.stdout and "not probed" in out.stdout
    # The progress display: the clean run, then one line per mutant.
    assert f"probe {TOTAL}: the tests pass unchanged" in out.stderr
    assert f"[{run.tried}/{run.tried}] line " in out.stderr


def test_verify_all_probes_too_and_json_carries_the_counts(workspace: Workspace) -> None:
    write_shop(workspace, extra=PROBE_TIER)
    trust_mod.trust(workspace)

    out = handrail(workspace, "verify", "--all", "--json")

    (run,) = probe_runs(workspace)
    probed = {b["block"]: b for b in json.loads(out.stdout)["probe"]}
    assert probed[TOTAL]["caught"] == run.caught and probed[TOTAL]["tried"] == run.tried
    assert probed[TOTAL]["required"] is True and probed[TOTAL]["record"] == run.id


def test_a_tier_that_does_not_ask_for_the_probe_gets_none(workspace: Workspace) -> None:
    write_shop(workspace, extra=PLAIN_TIER)
    trust_mod.trust(workspace)

    out = handrail(workspace, "verify", "--all")

    assert probe_runs(workspace) == []
    assert "probe" not in out.stdout and "probe" not in out.stderr


def test_the_ci_gate_probes_and_judges_by_its_own_probe(workspace: Workspace) -> None:
    write_shop(workspace, extra=PROBE_TIER)
    (workspace.root / "tests" / "test_pricing.py").write_text(NO_ASSERT_TESTS, encoding="utf-8")
    # A probe record written by hand says every mutant of the current content was caught:
    # `check` believes the ledger, the gate that reruns must not.
    (block,) = [b for b in find_blocks(workspace) if b.block_id == TOTAL]
    forged = ProbeRun.create(
        block_id=TOTAL,
        task_id=PRICING,
        path="shop/pricing.py",
        content_hash=block.content_hash,
        command=["pytest"],
        tests=None,
        clean_duration_s=0.1,
        duration_s=0.1,
        complete=True,
        mutants=[
            ProbedMutant(
                id="a1",
                operator="compare",
                line=5,
                column=8,
                block_line=2,
                original="if",
                replacement="if not",
                outcome="caught",
            )
        ],
    )
    Ledger(workspace).append(forged)

    # Not trusted with `handrail trust`: --trust-commands is what lets CI run the commands.
    out = handrail(workspace, "check", "--rerun", "--trust-commands", "--format", "json")

    assert out.exit_code == 1, out.output
    fresh = [r for r in probe_runs(workspace) if r.id != forged.id]
    assert len(fresh) == 1 and fresh[0].block_id == TOTAL
    assert fresh[0].tried > 0 and fresh[0].caught == 0
    findings = [f for f in json.loads(out.stdout)["findings"] if f["code"] == "HR313"]
    main = [f for f in findings if "catch none of its" in f["message"]]
    assert len(main) == 1 and main[0]["severity"] == "error", findings
    assert "'money' risk tier" in main[0]["message"]
    assert f"probe {TOTAL}: the tests pass unchanged" in out.stderr
