"""The four signs on crafted histories: the exact figures, and a tiny sample flagged as such."""

from __future__ import annotations

import datetime as dt

from handrail.ledger.records import BlockMarked, Note, Record, ReviewMeeting, VerificationRun
from handrail.review.agenda import Agenda, build_agenda, review_period
from handrail.review.agenda_render import render_html, render_markdown, render_text
from handrail.review.stats import compute_stats
from handrail.workflow.load import load_pack
from handrail.workflow.model import RiskTier, Workflow

ADA = "Ada <ada@example.com>"
BOB = "Bob <bob@example.com>"
CAROL = "Carol <carol@example.com>"
T0 = dt.datetime(2026, 9, 7, 9, 0, tzinfo=dt.UTC)  # a Monday, ISO week 2026-W37
D = dt.timedelta(days=1)
H = dt.timedelta(hours=1)


class History:
    """Blocks with chosen outcomes: first attempt passed or not, reworked or not."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.n = 0

    def block(self, author: str, at: dt.datetime, *, first_pass: bool, reworked: bool) -> None:
        self.n += 1
        block_id = f"t{self.n:05d}.1"
        marked = "h-marked"
        self.records.append(
            BlockMarked.create(
                at=at,
                block_id=block_id,
                task_id=block_id[:6],
                path="src/app.py",
                content_hash=marked,
                begin_line=1,
                end_line=4,
                author=author,
            )
        )
        self.run(block_id, marked, at + H, passed=first_pass, first=True)
        if not first_pass:
            self.run(
                block_id, "h-fixed" if reworked else marked, at + 2 * H, passed=True, first=False
            )

    def run(
        self, block_id: str, digest: str, at: dt.datetime, *, passed: bool, first: bool
    ) -> None:
        self.records.append(
            VerificationRun.create(
                at=at,
                task_id=block_id[:6],
                command=["pytest"],
                exit_code=0 if passed else 1,
                passed=passed,
                started_at=at - dt.timedelta(minutes=1),
                finished_at=at,
                blocks={block_id: digest},
                first_attempt=[block_id] if first else [],
            )
        )


def agenda_of(
    records: list[Record],
    workflow: Workflow | None = None,
    *,
    tier_hits: dict[str, int] | None = None,
) -> Agenda:
    workflow = workflow or load_pack("default")
    period = review_period(records, workflow)
    since = period.since.date() if period.since else None
    return build_agenda(
        records=records,
        workflow=workflow,
        stats_all=compute_stats(records),
        stats_period=compute_stats(records, since=since),
        firing={},
        cap_tasks={},
        tasks_total=0,
        tier_hits=tier_hits or {},
        doc_state="current",
        today=dt.date(2026, 11, 1),
    )


def six_weeks() -> History:
    """Ada and Bob for six weeks, rework falling; Carol joins in week 5 and struggles."""
    h = History()
    for week in range(6):
        start = T0 + week * 7 * D
        # Weeks 0-2: 2 of 4 blocks reworked each week; weeks 3-5: none of 4.
        for i, author in enumerate((ADA, BOB, ADA, BOB)):
            reworked = week < 3 and i < 2
            h.block(author, start + i * H, first_pass=not reworked, reworked=reworked)
    for i in range(6):  # Carol: week 5 and 6, 6 blocks, 2 first attempts pass, 3 reworked
        h.block(CAROL, T0 + 28 * D + i * D, first_pass=i < 2, reworked=2 <= i < 5)
    return h


def test_new_developers_first_weeks_against_the_team() -> None:
    h = six_weeks()
    h.records.append(ReviewMeeting.create(at=T0 + 21 * D, reviewed=(T0 + 21 * D).date()))
    agenda = agenda_of(h.records)
    assert agenda.period.basis == "meeting"
    # Only Carol started in the period (Ada and Bob began before the last meeting).
    (carol,) = agenda.newcomers.newcomers
    assert carol.author == CAROL and carol.started == (T0 + 28 * D).date()
    # Her first 14 days: all 6 blocks; 2 of 6 first attempts passed; 3 of 6 reworked.
    g = carol.first_weeks
    assert (g.blocks, g.first_attempt_passed, g.first_attempts, g.reworked) == (6, 2, 6, 3)
    # The team in the period (weeks 3-5: 12 blocks of Ada and Bob, all clean, and Carol's 6).
    team = agenda.newcomers.team
    assert (team.blocks, team.first_attempt_passed, team.reworked) == (18, 14, 3)
    text = render_text(agenda)
    assert "Carol" in text and "33% (2/6)" in text and "50% (3/6)" in text


def test_consistency_is_the_spread_between_developers_of_a_fair_size() -> None:
    agenda = agenda_of(six_weeks().records)
    authors = agenda.consistency[0]
    rates = {g.key: g.first_attempt_pass_rate for g in authors.groups}
    # Ada and Bob: 9 of 12 first attempts each; Carol 2 of 6.
    assert rates[ADA] == rates[BOB] == 0.75
    assert abs(rates[CAROL] - 1 / 3) < 1e-9
    assert sorted(authors.compared) == sorted([ADA, BOB, CAROL])
    assert authors.points is not None and abs(authors.points - (0.75 - 1 / 3)) < 1e-9
    # No block record names an agent or model: said so, not shown as zero spread.
    agents = agenda.consistency[1]
    assert not agents.recorded and agents.points is None
    assert "not recorded" in render_text(agenda)
    assert any("points between developers" in s.text for s in agenda.suggestions)


def test_rework_trend_goes_down() -> None:
    agenda = agenda_of(six_weeks().records)
    trend = agenda.trend
    # Earlier three weeks: 6 of 12 reworked; later three: Carol's 3 of 18.
    assert (trend.earlier.hits, trend.earlier.total) == (6, 12)
    assert (trend.later.hits, trend.later.total) == (3, 18)
    assert trend.direction == "down"
    assert "Rework is going down" in render_text(agenda)
    assert "<polyline" in render_html(agenda)  # charted: the sample carries a trend


def test_rework_going_up_is_a_suggestion() -> None:
    h = History()
    for week in range(4):
        for i in range(4):
            reworked = week >= 2 and i < 3
            h.block(ADA, T0 + week * 7 * D + i * H, first_pass=not reworked, reworked=reworked)
    agenda = agenda_of(h.records)
    assert agenda.trend.direction == "up"
    assert any(s.text.startswith("Rework is going up") for s in agenda.suggestions)


def test_a_tiny_sample_is_flagged_and_never_called_a_trend() -> None:
    h = History()
    h.block(ADA, T0, first_pass=False, reworked=True)
    h.block(BOB, T0 + 8 * D, first_pass=True, reworked=False)
    agenda = agenda_of(h.records)
    assert agenda.trend.direction == "too few"
    assert agenda.consistency[0].points is None  # nobody has 5 first attempts
    text = render_text(agenda)
    assert "Too few blocks to call a trend in rework" in text
    assert "50% (1/2, small sample)" in text  # the team's first attempts
    assert "100% (1/1, small sample)" in text  # one developer's rework
    html = render_html(agenda)
    assert "<polyline" not in html and "small sample" in html
    # With 2 blocks, no suggestion is drawn from the rates.
    assert not any("first attempts passed" in s.text for s in agenda.suggestions)


def test_referencing_the_document_counts_only_what_people_said() -> None:
    h = six_weeks()
    for answered in ("docs", "docs", "docs", "colleague", None):
        h.records.append(
            Note.create(at=T0 + 10 * D, verdict="helped", code="HR201", answered_by=answered)
        )
    agenda = agenda_of(h.records)
    rate = agenda.doc.answered
    assert (rate.hits, rate.total) == (3, 4) and rate.small
    assert "75% (3/4, small sample)" in render_text(agenda)
    assert "does not watch" in render_markdown(agenda)


def test_a_tier_that_matched_nothing_and_a_code_in_the_way_are_suggested() -> None:
    h = six_weeks()
    for text in ("cap too tight for our migrations", "again the file cap", "three files"):
        h.records.append(Note.create(at=T0 + D, verdict="in_the_way", code="HR201", text=text))
    base = load_pack("default")
    workflow = base.model_copy(
        update={
            "risk_tiers": [
                RiskTier(name="payments", paths=["billing/**"]),
                RiskTier(name="core", paths=["src/**"]),
            ]
        }
    )
    agenda = agenda_of(h.records, workflow, tier_hits={"core": 30})
    texts = [s.text for s in agenda.suggestions]
    assert any("'payments'" in t and "matched none" in t for t in texts)
    assert not any("'core'" in t for t in texts)
    assert any(t.startswith("Discuss HR201") and "3 notes" in t for t in texts)


def test_a_cap_most_tasks_hit_is_suggested() -> None:
    records = six_weeks().records
    workflow = load_pack("default")
    agenda = build_agenda(
        records=records,
        workflow=workflow,
        stats_all=compute_stats(records),
        stats_period=compute_stats(records),
        firing={"HR200": 3},
        cap_tasks={"HR200": 3, "HR201": 1},
        tasks_total=4,
        tier_hits={},
        doc_state="stale",
        today=dt.date(2026, 11, 1),
    )
    texts = [s.text for s in agenda.suggestions]
    assert any("[context] max_tokens: 3 of 4 tasks" in t for t in texts)
    assert not any("max_files" in t for t in texts)
    assert any("WORKFLOW.md is stale" in t for t in texts)


def test_the_period_starts_at_the_last_meeting_else_the_review_date() -> None:
    workflow = load_pack("default")
    assert review_period([], workflow).basis == "all"
    dated = workflow.model_copy(
        update={"workflow": workflow.workflow.model_copy(update={"reviewed": dt.date(2026, 9, 1)})}
    )
    period = review_period([], dated)
    assert period.basis == "reviewed" and period.since == dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    older = ReviewMeeting.create(at=T0, reviewed=T0.date())
    newer = ReviewMeeting.create(at=T0 + 7 * D, reviewed=(T0 + 7 * D).date())
    period = review_period([newer, older], dated)
    assert period.meeting == newer and period.since == newer.at


def test_overridden_and_switched_off_checks_are_listed_with_the_notes_about_them() -> None:
    h = six_weeks()
    h.records.append(Note.create(at=T0 + D, verdict="helped", code="HR307", text="kept it small"))
    base = load_pack("default")
    workflow = base.model_copy(update={"severity": {"HR307": "off", "HR101": "error"}})
    agenda = agenda_of(h.records, workflow)
    lines = {c.code: c for c in agenda.codes}
    assert lines["HR307"].setting == "off" and lines["HR307"].helped == 1
    assert lines["HR101"].setting == "error"  # a warning by default
    assert any(
        s.text == "HR307 is switched off, yet 1 note says it helped." for s in agenda.suggestions
    )
    assert "| HR307 | 0 | 0 | 0 | 1 | off |" in render_markdown(agenda)
