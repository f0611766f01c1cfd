"""A passing run counts only as far as it executed the block; a run that could not run
gives no verdict (HR310, HR311, HR312)."""

from __future__ import annotations

from ledger_helpers import default_workflow, run

from handrail.findings import Finding
from handrail.ledger.evidence import (
    BlockEvidence,
    EvidenceIndex,
    block_evidence,
    evidence_findings,
    status_summary,
)
from handrail.ledger.records import Record, VerificationRun, decode_ranges, encode_ranges
from handrail.workflow.model import MinExecuted

B, H1 = "k3f9qa.1", "sha256:one"
WF = default_workflow()


def _evidence(records: list[Record], min_executed: MinExecuted = "one") -> BlockEvidence:
    return block_evidence(
        EvidenceIndex.build(records),
        B,
        H1,
        None,
        require_explanation=False,
        min_executed=min_executed,
    )


def _findings(evidence: BlockEvidence) -> list[Finding]:
    return evidence_findings(
        evidence, block_id=B, path="src/calc.py", line=10, end_line=14, workflow=WF
    )


def test_ranges_round_trip() -> None:
    assert encode_ranges([7, 1, 2, 3, 9, 10]) == "1-3,7,9-10"
    assert decode_ranges("1-3,7,9-10") == {1, 2, 3, 7, 9, 10}
    assert encode_ranges([]) == "" and decode_ranges("") == frozenset()


def test_a_passing_run_that_executed_no_line_leaves_the_block_unverified() -> None:
    evidence = _evidence([run(1, {B: H1}, executed="")])
    assert evidence.status == "unverified" and not evidence.is_verified
    (hr310,) = [f for f in _findings(evidence) if f.code == "HR310"]
    assert "0 of its 2 executable lines ran" in hr310.message
    assert "python -m pytest -q" in hr310.message and "src/calc.py" in hr310.message
    assert status_summary(evidence) == "not verified: no test ran it · 0/2 lines run"


def test_a_record_without_line_evidence_is_not_measured_unless_the_workflow_opts_out() -> None:
    old = run(1, {B: H1}, measured=False)
    evidence = _evidence([old])
    assert evidence.status == "unverified"
    (hr310,) = [f for f in _findings(evidence) if f.code == "HR310"]
    assert "not measured" in hr310.message
    assert _evidence([old], "none").status == "verified"


def test_min_executed_all_needs_every_line_and_hints_the_missing_ones() -> None:
    partial = run(1, {B: H1}, executed="1")
    assert _evidence([partial]).status == "verified"
    strict = _evidence([partial], "all")
    assert strict.status == "unverified"
    hints = [f for f in _findings(strict) if f.code == "HR312"]
    # Content line 2 is file line 12 (the begin marker is line 10).
    assert [(h.line, h.end_line) for h in hints] == [(12, 12)]
    assert _evidence([partial], 0.5).status == "verified"
    assert _evidence([partial], 0.6).status == "unverified"


def test_a_run_that_could_not_run_gives_no_verdict() -> None:
    passed = run(1, {B: H1})
    broken = run(2, {B: H1}, passed=False, exit_code=4, could_not_run="pytest usage error")
    evidence = _evidence([passed, broken])
    assert evidence.status == "verified"
    codes = [f.code for f in _findings(evidence)]
    assert "HR311" in codes and "HR302" not in codes
    alone = _evidence([broken])
    assert alone.status == "unverified" and alone.first_attempt_passed is None
    assert "HR302" not in [f.code for f in _findings(alone)]


def test_first_attempt_uses_the_block_outcome_not_the_command_exit() -> None:
    failed = run(1, {B: H1}, passed=False, first=[B])
    assert isinstance(failed, VerificationRun)
    evidence = _evidence([failed])
    assert evidence.status == "failed" and evidence.first_attempt_passed is False
    assert failed.coverage is not None
    elsewhere = failed.model_copy(
        update={
            "coverage": {B: failed.coverage[B].model_copy(update={"outcome": "failed_elsewhere"})}
        }
    )
    other = _evidence([elsewhere])
    assert other.status == "unverified" and other.failed_elsewhere
    assert [f.code for f in _findings(other)] == ["HR300"]


def test_a_block_with_no_executable_lines_is_verified_and_says_so() -> None:
    empty = run(1, {B: H1})
    assert empty.coverage is not None
    nothing = empty.model_copy(
        update={
            "coverage": {B: empty.coverage[B].model_copy(update={"executable": "", "executed": ""})}
        }
    )
    evidence = _evidence([nothing], "all")
    assert evidence.status == "verified"
    assert "no executable lines" in status_summary(evidence)
    assert [f.code for f in _findings(evidence)] == []
