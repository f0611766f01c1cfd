"""Evidence for a block's current content: every status, tiers, traces, HR300-HR304 (D9)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_helpers import T0, at, default_workflow, run

from handrail.findings import Finding, Severity
from handrail.ledger.evidence import (
    BlockEvidence,
    EvidenceIndex,
    block_evidence,
    evaluate_block,
    evidence_findings,
    status_summary,
)
from handrail.ledger.records import (
    Accepted,
    BlockMarked,
    Explanation,
    Record,
    Review,
    Trace,
    VerificationRun,
    content_hash,
)
from handrail.workflow.model import RiskTier, Workflow

B = "k3f9qa.1"
H1, H2, H3 = "sha256:01", "sha256:02", "sha256:03"
WF = default_workflow()
AUTH = next(t for t in WF.risk_tiers if t.name == "auth")


def _evidence(
    records: list[Record],
    current: str = H1,
    tier: RiskTier | None = None,
    *,
    explain: bool = True,
    second: bool = False,
) -> BlockEvidence:
    return block_evidence(
        EvidenceIndex.build(records),
        B,
        current,
        tier,
        require_explanation=explain,
        require_second_reviewer=second,
    )


def _findings(evidence: BlockEvidence, workflow: Workflow = WF) -> list[Finding]:
    return evidence_findings(
        evidence, block_id=B, path="src/parse.py", line=4, end_line=12, workflow=workflow
    )


def _codes(evidence: BlockEvidence, workflow: Workflow = WF) -> list[str]:
    return [f.code for f in _findings(evidence, workflow)]


def _explained(minute: float, digest: str = H1, author: str = "ada") -> Explanation:
    return Explanation(at=at(minute), block_id=B, content_hash=digest, author=author)


def test_no_run_is_unverified() -> None:
    evidence = _evidence([])
    assert evidence.status == "unverified"
    assert evidence.runs == [] and evidence.deciding_run is None
    assert evidence.first_attempt_passed is None
    (finding,) = _findings(evidence)
    assert finding.code == "HR300"
    assert finding.severity is Severity.ERROR
    assert (finding.path, finding.line, finding.end_line) == ("src/parse.py", 4, 12)
    assert finding.data == {"block_id": B, "status": "unverified", "content_hash": H1}
    assert B in finding.message and "src/parse.py" in finding.message
    assert status_summary(evidence) == "not verified"


def test_passing_run_on_current_content_verifies() -> None:
    evidence = _evidence([run(1, {B: H1}, first=[B])])
    assert evidence.status == "verified"
    assert evidence.first_attempt_passed is True
    assert evidence.is_verified
    # Verified but not acknowledged: HR304 is the one thing left.
    assert _codes(evidence) == ["HR304"]
    assert status_summary(evidence) == (
        "verified 2026-03-01 09:01 UTC · 2/2 lines run by 1 test · needs explanation"
    )
    done = _evidence([run(1, {B: H1}), _explained(2)])
    assert done.explained and _codes(done) == []
    assert status_summary(done) == "verified 2026-03-01 09:01 UTC · 2/2 lines run by 1 test"


def test_editing_a_verified_block_makes_its_evidence_stale() -> None:
    records: list[Record] = [run(1, {B: H1}), _explained(2)]
    evidence = _evidence(records, current=H2)
    assert evidence.status == "changed"
    assert not evidence.explained  # the acknowledgement was for the old content too
    (finding,) = _findings(evidence)
    assert finding.code == "HR301"
    assert "changed since it last passed verification (2026-03-01 09:01 UTC)" in finding.message
    assert finding.data["status"] == "changed" and finding.data["content_hash"] == H2
    # Editing it back to the verified content restores the evidence.
    assert _evidence(records, current=H1).status == "verified"


def test_block_edited_during_its_run_is_not_verified() -> None:
    # The run took the hash when it started (H1); the block now holds H2.
    only_run = [run(5, {B: H1}, first=[B])]
    assert _evidence(only_run, current=H2).status == "changed"
    assert _evidence(only_run, current=H2).deciding_run is not None
    assert "HR300" not in _codes(_evidence(only_run, current=H2))
    assert not _evidence(only_run, current=H2).is_verified


def test_failed_run_on_current_content() -> None:
    failing = run(1, {B: H1}, passed=False, exit_code=2, command=["pytest", "-q", "tests/x y.py"])
    evidence = _evidence([failing])
    assert evidence.status == "failed"
    (finding,) = _findings(evidence)
    assert finding.code == "HR302"
    assert "`pytest -q 'tests/x y.py'` exited with code 2" in finding.message
    assert finding.data["exit_code"] == 2
    assert finding.data["command"] == ["pytest", "-q", "tests/x y.py"]
    assert "first attempt" not in finding.message
    assert status_summary(evidence).startswith("verification failed:")


def test_first_attempt_failing_adds_the_checkpoint() -> None:
    evidence = _evidence([run(1, {B: H1}, passed=False, first=[B])])
    assert evidence.first_attempt_passed is False
    (finding,) = _findings(evidence)
    assert "first attempt" in finding.message
    assert "generate again, rather than patching the output by hand" in finding.message
    assert finding.data["first_attempt"] is True


def test_a_command_that_could_not_run_is_advised_as_the_environment() -> None:
    # Issue 19.5: "`npm test --silent` exited with code 254" came with "fix the spec and
    # generate again", but the repository had no package.json.
    failing = run(1, {B: H1}, passed=False, exit_code=254, first=[B], command=["npm", "test"])
    failing = failing.model_copy(
        update={"output_tail": "npm ERR! enoent Could not read package.json: ENOENT\n"}
    )
    (finding,) = _findings(_evidence([failing]))
    assert "looks like the environment, not the block" in finding.message
    assert "generate again" not in finding.message
    assert finding.data["cause"] == "environment"
    # A test that fails is still the code's: the first-attempt advice stands.
    (code,) = _findings(_evidence([run(1, {B: H1}, passed=False, first=[B])]))
    assert code.data["cause"] == "code" and "generate again" in code.message


def test_first_attempt_advice_stays_after_the_block_is_patched() -> None:
    evidence = _evidence([run(1, {B: H1}, passed=False, first=[B])], current=H2)
    assert evidence.status == "failed"
    (finding,) = _findings(evidence)
    assert "first attempt" in finding.message and "changed since" in finding.message


def test_first_attempt_text_falls_back_when_the_pack_has_no_checkpoint() -> None:
    evidence = _evidence([run(1, {B: H1}, passed=False, first=[B])])
    (finding,) = _findings(evidence, default_workflow(checkpoints=[]))
    assert "Fix the spec or the context and generate again" in finding.message


def test_timeout_and_unstartable_command_are_named() -> None:
    (timeout,) = _findings(_evidence([run(1, {B: H1}, passed=False, timed_out=True)]))
    assert "timed out" in timeout.message and timeout.data["timed_out"] is True
    unstartable = VerificationRun(
        at=at(1),
        task_id="k3f9qa",
        command=["nope"],
        exit_code=None,
        passed=False,
        started_at=at(1),
        finished_at=at(1),
        blocks={B: H1},
    )
    (finding,) = _findings(_evidence([unstartable]))
    assert "could not be started" in finding.message


def test_latest_run_on_current_content_decides() -> None:
    assert _evidence([run(1, {B: H1}), run(2, {B: H1}, passed=False)]).status == "failed"
    assert _evidence([run(1, {B: H1}, passed=False), run(2, {B: H1})]).status == "verified"
    # Record order in the input does not matter: ids are time-sortable.
    assert _evidence([run(2, {B: H1}), run(1, {B: H1}, passed=False)]).status == "verified"


def test_latest_run_failing_on_other_content_is_failed_not_changed() -> None:
    records: list[Record] = [run(1, {B: H1}), run(2, {B: H2}, passed=False)]
    evidence = _evidence(records, current=H3)
    assert evidence.status == "failed"
    (finding,) = _findings(evidence)
    assert finding.code == "HR302" and "changed since" in finding.message
    # ...but a run on the current content always wins.
    assert _evidence([*records, run(3, {B: H3})], current=H3).status == "verified"
    assert _evidence([run(1, {B: H3}), run(2, {B: H2}, passed=False)], current=H3).status == (
        "verified"
    )


def test_runs_are_history_newest_first_across_blocks() -> None:
    other = "k3f9qa.2"
    records: list[Record] = [run(1, {B: H1, other: H2}), run(2, {other: H2}), run(3, {B: H2})]
    index = EvidenceIndex.build(records)
    assert [r.finished_at for r in index.runs_for(B)] == [at(3), at(1)]
    assert [r.finished_at for r in index.runs_for(other)] == [at(2), at(1)]
    assert index.has_run(B) and not index.has_run("zzz.1")
    assert index.block_ids() == [B, other]
    assert index.blocks_of_task("k3f9qa") == [B, other]
    assert index.runs_for("zzz.1") == []


def _marked(*, author: str) -> BlockMarked:
    """Block B of task k3f9qa marked at T0 on lines 4-12 of src/parse.py."""
    return BlockMarked(
        at=T0,
        block_id=B,
        task_id="k3f9qa",
        path="src/parse.py",
        content_hash=H1,
        begin_line=4,
        end_line=12,
        author=author,
    )


def test_marked_record_is_found() -> None:
    marked = _marked(author="ada")
    index = EvidenceIndex.build([marked])
    assert index.marked(B) == marked and index.marked("x.1") is None
    assert index.blocks_of_task("k3f9qa") == [B] and index.blocks_of_task("other") == []
    assert _evidence([marked]).marked == marked


def test_tier_needs_a_trace_of_this_exact_content() -> None:
    verified: list[Record] = [run(1, {B: H1}), _explained(2)]
    evidence = _evidence(verified, tier=AUTH)
    assert evidence.needs == ["trace"]
    assert not evidence.is_verified
    (finding,) = _findings(evidence)
    assert finding.code == "HR303"
    assert "'auth' risk tier" in finding.message and AUTH.why in finding.message
    assert finding.data["needs"] == "trace" and finding.data["tier"] == "auth"
    assert status_summary(evidence).endswith("· needs trace")

    old_trace = Trace(at=at(3), block_id=B, content_hash=H2)
    stale = _evidence([*verified, old_trace], tier=AUTH)
    assert stale.needs == ["trace"] and stale.stale_trace
    assert "earlier content" in _findings(stale)[0].message

    traced = _evidence([*verified, Trace(at=at(3), block_id=B, content_hash=H1)], tier=AUTH)
    assert traced.needs == [] and traced.traced and traced.is_verified
    assert _codes(traced) == []


def test_trace_is_asked_for_even_before_tests_pass() -> None:
    assert _codes(_evidence([], tier=AUTH)) == ["HR300", "HR303"]


def test_tests_only_tier_needs_nothing_more() -> None:
    tier = RiskTier(name="ui", requires=["tests"])
    assert _evidence([run(1, {B: H1})], tier=tier).needs == []


def test_second_reviewer_must_not_be_the_author() -> None:
    marked = _marked(author="Ada")
    tier = RiskTier(name="money", requires=["tests", "second_reviewer"], why="Money moves.")
    base: list[Record] = [marked, run(1, {B: H1}), _explained(2, author="ada")]
    assert _evidence(base, tier=tier).needs == ["second_reviewer"]
    self_review = Review(at=at(3), block_id=B, content_hash=H1, author="ada")
    assert _evidence([*base, self_review], tier=tier).needs == ["second_reviewer"]
    old_review = Review(at=at(3), block_id=B, content_hash=H2, author="grace")
    assert _evidence([*base, old_review], tier=tier).needs == ["second_reviewer"]
    review = Review(at=at(3), block_id=B, content_hash=H1, author="grace")
    assert _evidence([*base, review], tier=tier).needs == []
    (finding,) = _findings(_evidence(base, tier=tier))
    assert finding.code == "HR303" and "second reviewer" in finding.message
    assert finding.data["needs"] == "second_reviewer"


def test_workflow_can_demand_a_second_reviewer_for_a_tier() -> None:
    wf = default_workflow(review={"require_second_reviewer_for": ["auth"]})
    index = EvidenceIndex.build([run(1, {B: content_hash("if password:\n")})])
    evidence = evaluate_block(index, B, "src/auth/login.py", "if password:\n", wf)
    assert evidence.tier is not None and evidence.tier.name == "auth"
    assert evidence.needs == ["trace", "second_reviewer"]
    plain = evaluate_block(index, B, "src/parse.py", "x = 1\n", wf)
    assert plain.tier is None and plain.needs == [] and plain.status == "changed"


def test_evaluate_block_hashes_the_content_and_uses_task_risk() -> None:
    content = "total = 1\r\n"
    index = EvidenceIndex.build([run(1, {B: content_hash("total = 1\n")})])
    evidence = evaluate_block(index, B, "src/parse.py", content, WF, task_risk="crypto")
    assert evidence.status == "verified"
    assert evidence.tier is not None and evidence.tier.name == "crypto"


def test_explanation_only_once_verified_and_only_when_required() -> None:
    for records in ([], [run(1, {B: H1}, passed=False)], [run(1, {B: H2})]):
        assert "HR304" not in _codes(_evidence(records))  # type: ignore[arg-type]
    assert "HR304" in _codes(_evidence([run(1, {B: H1})]))
    assert _codes(_evidence([run(1, {B: H1})], explain=False)) == []
    old = _explained(0, digest=H2)
    assert "HR304" in _codes(_evidence([old, run(1, {B: H1})]))


def test_accepted_is_tracked_per_content() -> None:
    accepted = Accepted(at=at(5), block_id=B, content_hash=H1)
    assert _evidence([accepted]).accepted
    assert not _evidence([accepted], current=H2).accepted


def test_severity_overrides_and_off() -> None:
    wf = default_workflow(severity={"HR300": "off", "HR303": "warning"})
    evidence = _evidence([], tier=AUTH)
    findings = _findings(evidence, wf)
    assert [(f.code, f.severity) for f in findings] == [("HR303", Severity.WARNING)]


def test_every_finding_carries_quick_fix_data() -> None:
    cases: list[tuple[list[Record], str]] = [
        ([], H1),
        ([run(1, {B: H2})], H1),
        ([run(1, {B: H1}, passed=False)], H1),
        ([run(1, {B: H1})], H1),
    ]
    for records, current in cases:
        for finding in _findings(_evidence(records, current, AUTH)):
            assert {"block_id", "status", "content_hash"} <= set(finding.data)
            assert finding.data["content_hash"] == current
            assert finding.message.endswith((".", ")"))


# ---------------------------------------------------------------------- property test

HASHES = [H1, H2, H3]
BLOCKS = [B, "k3f9qa.2"]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Record], dict[str, str]]:
    """A random life of two blocks: edits, runs (some on content edited mid-run), traces."""
    current = {b: draw(st.sampled_from(HASHES)) for b in BLOCKS}
    records: list[Record] = []
    minute = 0.0
    for _ in range(draw(st.integers(0, 14))):
        minute += 1
        action = draw(st.sampled_from(["edit", "run", "run", "trace", "explain"]))
        block = draw(st.sampled_from(BLOCKS))
        if action == "edit":
            current[block] = draw(st.sampled_from(HASHES))
        elif action == "run":
            covered = draw(st.sets(st.sampled_from(BLOCKS), min_size=1))
            taken = {b: current[b] for b in sorted(covered)}
            if draw(st.booleans()):  # edited while the run was going on
                current[block] = draw(st.sampled_from(HASHES))
            passed = draw(st.booleans())
            first = [b for b in taken if not any(b in r.blocks for r in _runs(records))]
            records.append(run(minute, taken, passed=passed, first=first))
        elif action == "trace":
            records.append(Trace(at=at(minute), block_id=block, content_hash=current[block]))
        else:
            records.append(_explained(minute, digest=current[block]))
    return records, current


def _runs(records: list[Record]) -> list[VerificationRun]:
    return [r for r in records if isinstance(r, VerificationRun)]


def _reference(records: list[Record], block: str, current: str) -> dict[str, Any]:
    """The status rules written out plainly, over records in the order they happened."""
    runs = [r for r in _runs(records) if block in r.blocks]
    mine = [r for r in runs if r.blocks[block] == current]
    if mine:
        status = "verified" if mine[-1].passed else "failed"
    elif runs and not runs[-1].passed:
        status = "failed"
    elif any(r.passed for r in runs):
        status = "changed"
    else:
        status = "unverified"
    traced = any(
        isinstance(r, Trace) and r.block_id == block and r.content_hash == current for r in records
    )
    explained = any(
        isinstance(r, Explanation) and r.block_id == block and r.content_hash == current
        for r in records
    )
    firsts = [r for r in runs if block in r.first_attempt]
    return {
        "status": status,
        "traced": traced,
        "explained": explained,
        "first": firsts[0].passed if firsts else None,
        "runs": len(runs),
    }


@given(histories(), st.randoms(use_true_random=False))
def test_status_matches_a_reference_model(
    history: tuple[list[Record], dict[str, str]], rnd: random.Random
) -> None:
    records, current = history
    shuffled = list(records)
    rnd.shuffle(shuffled)  # the index must not depend on input order
    index = EvidenceIndex.build(shuffled)
    for block in BLOCKS:
        evidence = block_evidence(index, block, current[block], AUTH, require_explanation=True)
        expected = _reference(records, block, current[block])
        assert evidence.status == expected["status"]
        assert evidence.traced == expected["traced"]
        assert evidence.explained == expected["explained"]
        assert evidence.first_attempt_passed == expected["first"]
        assert len(evidence.runs) == expected["runs"]
        assert evidence.needs == ([] if expected["traced"] else ["trace"])
        codes = [
            f.code
            for f in evidence_findings(
                evidence, block_id=block, path="src/x.py", line=1, workflow=WF
            )
        ]
        status_code = {"unverified": "HR300", "changed": "HR301", "failed": "HR302"}
        for status, code in status_code.items():
            assert (code in codes) == (evidence.status == status)
        assert ("HR303" in codes) == (not expected["traced"])
        assert ("HR304" in codes) == (evidence.status == "verified" and not expected["explained"])
        if evidence.status == "verified":
            assert evidence.deciding_run is not None
            assert evidence.deciding_run.blocks[block] == current[block]
            assert evidence.deciding_run.passed


def test_reference_history_generator_makes_mid_run_edits() -> None:
    # Guard against a vacuous property test: the strategy must reach every status.
    seen: set[str] = set()

    @settings(max_examples=60)
    @given(histories())
    def collect(history: tuple[list[Record], dict[str, str]]) -> None:
        records, current = history
        for block in BLOCKS:
            seen.add(_reference(records, block, current[block])["status"])

    collect()
    assert seen == {"unverified", "changed", "failed", "verified"}


@pytest.mark.parametrize("status", ["unverified", "changed", "failed", "verified"])
def test_summary_mentions_the_status(status: str) -> None:
    records: dict[str, list[Record]] = {
        "unverified": [],
        "changed": [run(1, {B: H2})],
        "failed": [run(1, {B: H1}, passed=False)],
        "verified": [run(1, {B: H1}), _explained(2)],
    }
    text = status_summary(_evidence(records[status]))
    word = {"unverified": "not verified", "changed": "changed", "failed": "failed"}
    assert word.get(status, "verified") in text
