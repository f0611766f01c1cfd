"""Probe records in the ledger: they round-trip, and they never count as other evidence."""

from __future__ import annotations

from collections.abc import Callable

from handrail.evidence.probe_findings import probe_findings
from handrail.findings import Finding, Severity
from handrail.ledger.evidence import (
    BlockEvidence,
    EvidenceIndex,
    block_evidence,
    probe_summary,
    status_summary,
)
from handrail.ledger.records import (
    MutantDismissed,
    ProbedMutant,
    ProbeRun,
    Record,
    dump_record,
    parse_record_json,
)
from handrail.workflow.model import RiskTier, Workflow

HASH = "sha256:" + "a" * 64


def probe_run() -> ProbeRun:
    return ProbeRun.create(
        block_id="abcdef.1",
        task_id="abcdef",
        path="calc.py",
        content_hash=HASH,
        command=["python", "-m", "pytest", "t.py::x"],
        tests=["t.py::x"],
        clean_duration_s=0.5,
        duration_s=3.0,
        complete=True,
        mutants=[
            ProbedMutant(
                id="0a1b2c3d",
                operator="compare",
                line=5,
                column=10,
                block_line=2,
                original="<",
                replacement="<=",
                outcome="survived",
            ),
            ProbedMutant(
                id="1a1b2c3d",
                operator="constant",
                line=6,
                column=3,
                block_line=3,
                original="1",
                replacement="2",
                outcome="timed_out",
            ),
        ],
    )


def test_a_probe_run_round_trips_and_counts_timeouts_as_caught() -> None:
    run = probe_run()
    again = parse_record_json(dump_record(run))
    assert again == run
    assert isinstance(again, ProbeRun)
    assert (again.caught, again.tried, [m.id for m in again.survivors]) == (1, 2, ["0a1b2c3d"])


def test_probe_records_never_count_as_an_acceptance() -> None:
    # Before probe records had their own slot, the index filed every unknown kind under
    # "accepted": a probe of the current content made the block look accepted.
    run = probe_run()
    dismissal = MutantDismissed.create(
        block_id="abcdef.1", content_hash=HASH, mutant_id="0a1b2c3d", reason="same result"
    )
    index = EvidenceIndex.build([dismissal, run])
    assert index.accepted_for("abcdef.1") == []
    assert [type(r) for r in index.probes_for("abcdef.1")] == [MutantDismissed, ProbeRun]


def findings_for(
    workflow: Workflow, records: list[Record], tier: RiskTier | None = None
) -> list[Finding]:
    return probe_findings(
        records,
        block_id="abcdef.1",
        path="calc.py",
        content_hash=HASH,
        begin_line=3,
        end_line=12,
        tier=tier,
        verified=True,
        workflow=workflow,
    )


def test_hr313_follows_the_team_severity_and_the_content(
    make_workflow: Callable[..., Workflow],
) -> None:
    run = probe_run()
    default = findings_for(make_workflow(), [run])
    # One survivor, one timeout (caught): a hint on the survivor's current line, no "none caught".
    assert [(f.severity, f.data["kind"], f.line) for f in default] == [
        (Severity.HINT, "survivor", 5)
    ]
    assert findings_for(make_workflow(severity={"HR313": "off"}), [run]) == []
    # A probe of other content says nothing about this one.
    other = run.model_copy(update={"content_hash": "sha256:" + "b" * 64})
    assert findings_for(make_workflow(), [other]) == []


def test_a_tier_that_asks_for_the_probe_wants_one_for_this_content(
    make_workflow: Callable[..., Workflow],
) -> None:
    tier = RiskTier(name="money", requires=["tests", "probe"])
    [missing] = findings_for(make_workflow(), [], tier)
    assert missing.severity is Severity.ERROR and missing.data["kind"] == "not_probed"
    assert "handrail verify abcdef.1 --probe" in missing.message
    assert findings_for(make_workflow(), [], RiskTier(name="plain")) == []


def test_the_probe_figure_is_shown_with_the_block_status() -> None:
    """Lens, hover and `pr` carry "probe K/N caught" for this content (issue 11, point 6);
    a probe of other content, or none, shows nothing."""
    run = probe_run()
    dismissal = MutantDismissed.create(
        block_id="abcdef.1", content_hash=HASH, mutant_id="0a1b2c3d", reason="same result"
    )

    def evidence(records: list[Record], current: str = HASH) -> BlockEvidence:
        return block_evidence(
            EvidenceIndex.build(records), "abcdef.1", current, None, require_explanation=False
        )

    assert probe_summary(evidence([run])) == "probe 1/2 caught"
    assert status_summary(evidence([run])).endswith(" · probe 1/2 caught")
    assert probe_summary(evidence([run, dismissal])) == "probe 1/2 caught, 1 dismissed"
    assert probe_summary(evidence([run], current="sha256:" + "b" * 64)) is None
    assert probe_summary(evidence([])) is None
    cut = run.model_copy(update={"complete": False})
    assert probe_summary(evidence([cut])) == "probe 1/2 caught (cut short)"
