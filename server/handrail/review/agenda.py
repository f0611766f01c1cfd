"""`handrail workflow review`: the agenda of the team's workflow review meeting.

A workflow is kept alive by one owner and a short recurring review where the team brings
examples of where it helped and where it got in the way, then adjusts. This module prepares
that meeting for the period since the last one (the newest `ReviewMeeting` record, else the
workflow's `reviewed` date, else all history):

- the notes people left (`handrail note`, the editor, the chat, the PR template), grouped by
  stage and code;
- which checks fire most now, which the team overrode or switched off, which failed the gate;
- the four signs that a workflow works, as figures with their sample sizes (docs/review.md
  says exactly what each figure means), a small sample flagged as small and never called a
  trend;
- suggested changes drawn from those (a cap most tasks hit, a tier that matched nothing, a
  code that keeps getting in the way).

Block figures are `handrail.review.stats`' (first attempt, rework); nothing here re-derives
them. Everything but "fires now" and the doc check is a pure function of the records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from handrail.codes import CODES, stage_of
from handrail.ledger.records import BlockMarked, Note, Record, ReviewMeeting
from handrail.review.stats import BlockStats, GroupStats, Stats, group
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

SMALL_SAMPLE = 5
"""A rate over fewer observations is shown with its counts and flagged "small sample"."""
TREND_MIN_WEEKS = 3
TREND_MIN_BLOCKS = 10
"""A trend needs this many weeks with verified blocks and this many verified blocks in all."""
NEW_DEVELOPER_DAYS = 14
"""A developer's "first weeks with the workflow": from their first marked block, this long."""
FLAT_POINTS = 0.05
"""A change of rework rate smaller than this (5 percentage points) is "flat"."""

STAGE_NAMES = {
    "specify": "1 Specification",
    "assemble": "2 Context assembly",
    "generate": "3 Generation",
    "verify": "4 Verification",
    "integrate": "5 Integration and review",
}
# The caps a task or a block can hit, and the key that sets each.
CAP_KEYS = {
    "HR101": "[spec] max_sentences",
    "HR200": "[context] max_tokens",
    "HR201": "[context] max_files",
    "HR202": "[context] max_file_tokens",
    "HR307": "[generation] max_block_lines",
}


@dataclass(frozen=True, slots=True)
class Period:
    since: dt.datetime | None
    """None: all history."""
    basis: Literal["meeting", "reviewed", "all"]
    meeting: ReviewMeeting | None = None

    def label(self) -> str:
        if self.since is None:
            return "all history (no review recorded yet)"
        day = self.since.date().isoformat()
        if self.meeting is not None:
            return f"since the last review meeting ({day})"
        return f"since the workflow was last reviewed ({day}, [workflow] reviewed)"

    def covers(self, moment: dt.datetime) -> bool:
        return self.since is None or moment >= self.since


def review_period(records: Iterable[Record], workflow: Workflow) -> Period:
    """Where the next meeting's period starts: the newest meeting, else `reviewed`, else never."""
    meetings = sorted((r for r in records if isinstance(r, ReviewMeeting)), key=lambda r: r.id)
    if meetings:
        return Period(meetings[-1].at, "meeting", meetings[-1])
    reviewed = workflow.workflow.reviewed
    if reviewed is not None:
        return Period(dt.datetime.combine(reviewed, dt.time(), dt.UTC), "reviewed")
    return Period(None, "all")


@dataclass(frozen=True, slots=True)
class Rate:
    """A share with its counts, so a reader sees 1/1 and never only "100%"."""

    hits: int
    total: int

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    @property
    def small(self) -> bool:
        return self.total < SMALL_SAMPLE

    def text(self) -> str:
        if not self.total:
            return "n/a (no data)"
        flag = ", small sample" if self.small else ""
        return f"{self.hits / self.total * 100:.0f}% ({self.hits}/{self.total}{flag})"

    def as_json(self) -> dict[str, Any]:
        value = self.value
        return {
            "hits": self.hits,
            "total": self.total,
            "rate": None if value is None else round(value, 4),
            "small_sample": self.small,
        }


def first_pass(g: GroupStats) -> Rate:
    return Rate(g.first_attempt_passed, g.first_attempts)


def rework(g: GroupStats) -> Rate:
    return Rate(g.reworked, g.verified)


# -- the four signs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Newcomer:
    author: str
    started: dt.date
    first_weeks: GroupStats


@dataclass(frozen=True, slots=True)
class NewDevelopers:
    """Each developer who started in the period: their first weeks against the team's."""

    newcomers: list[Newcomer]
    team: GroupStats

    def as_json(self) -> dict[str, Any]:
        return {
            "window_days": NEW_DEVELOPER_DAYS,
            "team": {
                "first_pass": first_pass(self.team).as_json(),
                "rework": rework(self.team).as_json(),
            },
            "newcomers": [
                {
                    "author": n.author,
                    "started": n.started.isoformat(),
                    "blocks": n.first_weeks.blocks,
                    "first_pass": first_pass(n.first_weeks).as_json(),
                    "rework": rework(n.first_weeks).as_json(),
                }
                for n in self.newcomers
            ],
        }


@dataclass(frozen=True, slots=True)
class Spread:
    """How far apart the groups' first-attempt pass rates are (only groups of a fair size)."""

    dimension: str
    groups: list[GroupStats]
    compared: list[str]
    """The groups large enough to compare (at least SMALL_SAMPLE first attempts)."""
    points: float | None
    """Highest minus lowest first-attempt pass rate of the compared groups; None under two."""
    recorded: bool = True
    """False when the ledger records nothing for this dimension (agent and model)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "recorded": self.recorded,
            "compared": self.compared,
            "first_pass_spread": None if self.points is None else round(self.points, 4),
            "groups": [
                {"key": g.key, "first_pass": first_pass(g).as_json(), "rework": rework(g).as_json()}
                for g in self.groups
            ],
        }


@dataclass(frozen=True, slots=True)
class Trend:
    """Rework per week and whether it goes down, from the first half of the weeks to the second."""

    weeks: list[GroupStats]
    earlier: Rate
    later: Rate
    direction: Literal["down", "up", "flat", "too few"]

    def as_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "earlier": self.earlier.as_json(),
            "later": self.later.as_json(),
            "weeks": [{"week": w.key, "rework": rework(w).as_json()} for w in self.weeks],
        }


@dataclass(frozen=True, slots=True)
class DocReference:
    """Whether people answer their questions from the document: only what they say themselves."""

    answered: Rate
    """Notes saying "the docs answered it", out of the notes that say where the answer was."""
    doc_state: str
    """WORKFLOW.md against the rules: current, stale or missing (`handrail doc --check`)."""

    def as_json(self) -> dict[str, Any]:
        return {"answered_by_docs": self.answered.as_json(), "workflow_md": self.doc_state}


def new_developers(
    every_block: Sequence[BlockStats], period: Period, team: GroupStats
) -> NewDevelopers:
    """Developers whose first block (in all history) is in the period, over their first weeks."""
    started: dict[str, dt.datetime] = {}
    for b in every_block:
        if b.author not in started or b.marked_at < started[b.author]:
            started[b.author] = b.marked_at
    found = []
    for author, first in sorted(started.items(), key=lambda kv: (kv[1], kv[0])):
        if not period.covers(first):
            continue
        end = first + dt.timedelta(days=NEW_DEVELOPER_DAYS)
        mine = [b for b in every_block if b.author == author and b.marked_at < end]
        found.append(Newcomer(author, first.date(), group(author, mine)))
    return NewDevelopers(found, team)


def spread(dimension: str, groups: list[GroupStats], *, recorded: bool = True) -> Spread:
    fair = [g for g in groups if g.first_attempts >= SMALL_SAMPLE]
    rates = [r for g in fair if (r := g.first_attempt_pass_rate) is not None]
    points = max(rates) - min(rates) if len(rates) >= 2 else None
    return Spread(dimension, groups, [g.key for g in fair], points, recorded)


def rework_trend(weeks: list[GroupStats]) -> Trend:
    with_data = [w for w in weeks if w.verified]
    half = len(with_data) // 2
    first, second = with_data[:half], with_data[len(with_data) - half :]
    earlier = Rate(sum(w.reworked for w in first), sum(w.verified for w in first))
    later = Rate(sum(w.reworked for w in second), sum(w.verified for w in second))
    total = sum(w.verified for w in with_data)
    if len(with_data) < TREND_MIN_WEEKS or total < TREND_MIN_BLOCKS:
        return Trend(weeks, earlier, later, "too few")
    change = (later.value or 0.0) - (earlier.value or 0.0)
    direction: Literal["down", "up", "flat"] = (
        "flat" if abs(change) < FLAT_POINTS else ("down" if change < 0 else "up")
    )
    return Trend(weeks, earlier, later, direction)


def _by_agent(blocks: Sequence[BlockStats], marks: Mapping[str, BlockMarked]) -> list[GroupStats]:
    """Blocks grouped by "agent:model" where the `block_marked` record names them."""
    groups: dict[str, list[BlockStats]] = {}
    for b in blocks:
        mark = marks.get(b.block_id)
        agent = getattr(mark, "agent", None)
        model = getattr(mark, "model", None)
        if not agent and not model:
            continue
        groups.setdefault(f"{agent or 'unknown'}:{model or 'unknown'}", []).append(b)
    return [group(k, v) for k, v in sorted(groups.items())]


# -- checks --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeLine:
    """One code's row in "which checks fire": now, in failed gate runs, in notes."""

    code: str
    firing_now: int = 0
    failed_gates: int = 0
    in_the_way: int = 0
    helped: int = 0
    setting: str | None = None
    """The team's `[severity]` for it when it differs from the default ("off" = switched off)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": CODES[self.code].title if self.code in CODES else "",
            "firing_now": self.firing_now,
            "failed_gates": self.failed_gates,
            "in_the_way": self.in_the_way,
            "helped": self.helped,
            "setting": self.setting,
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    why: str

    def as_json(self) -> dict[str, str]:
        return {"suggestion": self.text, "why": self.why}


@dataclass(frozen=True, slots=True)
class Agenda:
    period: Period
    generated: dt.date
    owner: str
    notes: list[Note]
    codes: list[CodeLine]
    stats: Stats
    newcomers: NewDevelopers
    consistency: list[Spread]
    trend: Trend
    doc: DocReference
    suggestions: list[Suggestion]
    tasks_total: int = 0
    warnings: list[str] = field(default_factory=list)

    def notes_by_stage(self) -> list[tuple[str, list[tuple[str, list[Note]]]]]:
        """Notes grouped by stage (in workflow order, "no stage" last), then by code."""
        order = [*STAGE_NAMES, None]
        found: list[tuple[str, list[tuple[str, list[Note]]]]] = []
        for stage in order:
            here = [n for n in self.notes if n.stage == stage]
            if not here:
                continue
            by_code: dict[str, list[Note]] = {}
            for n in here:
                by_code.setdefault(n.code or "no code", []).append(n)
            name = STAGE_NAMES[stage] if stage else "Not tied to a stage"
            found.append((name, sorted(by_code.items())))
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {
                "since": self.period.since.isoformat() if self.period.since else None,
                "basis": self.period.basis,
                "label": self.period.label(),
            },
            "owner": self.owner,
            "notes": [n.model_dump(mode="json", by_alias=True) for n in self.notes],
            "codes": [c.as_json() for c in self.codes],
            "signs": {
                "new_developers": self.newcomers.as_json(),
                "consistency": [s.as_json() for s in self.consistency],
                "rework": self.trend.as_json(),
                "referencing_the_document": self.doc.as_json(),
            },
            "suggestions": [s.as_json() for s in self.suggestions],
        }


def build_agenda(
    *,
    records: Sequence[Record],
    workflow: Workflow,
    stats_all: Stats,
    stats_period: Stats,
    firing: Mapping[str, int],
    cap_tasks: Mapping[str, int],
    tasks_total: int,
    tier_hits: Mapping[str, int],
    doc_state: str,
    today: dt.date,
) -> Agenda:
    """The agenda from the records and what the caller measured in the work tree.

    `stats_all` covers all history (a developer's first weeks may predate the period),
    `stats_period` the period. `firing`: findings by code in the work tree now; `cap_tasks`:
    per cap code, how many tasks hit it; `tier_hits`: blocks per risk tier name.
    """
    period = review_period(records, workflow)
    notes = sorted(
        (r for r in records if isinstance(r, Note) and period.covers(r.at)), key=lambda r: r.id
    )
    marks: dict[str, BlockMarked] = {}
    for r in sorted(records, key=lambda r: r.id):
        if isinstance(r, BlockMarked):
            marks.setdefault(r.block_id, r)

    # Which checks fire, are overridden, block merges, and what people said about them.
    overrides = {
        code: name
        for code, name in workflow.severity.items()
        if name == "off" or (code in CODES and name != CODES[code].severity.value)
    }
    gate_codes = dict(stats_period.gate.failing_codes)
    wanted = set(firing) | set(gate_codes) | set(overrides) | {n.code for n in notes if n.code}
    lines = []
    for code in sorted(c for c in wanted if c):
        lines.append(
            CodeLine(
                code=code,
                firing_now=firing.get(code, 0),
                failed_gates=gate_codes.get(code, 0),
                in_the_way=sum(1 for n in notes if n.code == code and n.verdict == "in_the_way"),
                helped=sum(1 for n in notes if n.code == code and n.verdict == "helped"),
                setting=overrides.get(code),
            )
        )
    lines.sort(key=lambda c: (-(c.firing_now + c.failed_gates + c.in_the_way), c.code))

    team = stats_period.total
    newcomers = new_developers(stats_all.blocks, period, team)
    agents = _by_agent(stats_period.blocks, marks)
    consistency = [
        spread("author", stats_period.per_author),
        spread("agent:model", agents, recorded=bool(agents)),
    ]
    trend = rework_trend(stats_period.per_week)
    said = [n for n in notes if n.answered_by is not None]
    doc = DocReference(Rate(sum(1 for n in said if n.answered_by == "docs"), len(said)), doc_state)

    suggestions = _suggest(
        workflow=workflow,
        lines=lines,
        cap_tasks=cap_tasks,
        tasks_total=tasks_total,
        tier_hits=tier_hits,
        blocks=team.blocks,
        team=team,
        trend=trend,
        consistency=consistency,
        doc=doc,
    )
    return Agenda(
        period=period,
        generated=today,
        owner=workflow.workflow.owner,
        notes=notes,
        codes=lines,
        stats=stats_period,
        newcomers=newcomers,
        consistency=consistency,
        trend=trend,
        doc=doc,
        suggestions=suggestions,
        tasks_total=tasks_total,
    )


def _suggest(
    *,
    workflow: Workflow,
    lines: list[CodeLine],
    cap_tasks: Mapping[str, int],
    tasks_total: int,
    tier_hits: Mapping[str, int],
    blocks: int,
    team: GroupStats,
    trend: Trend,
    consistency: list[Spread],
    doc: DocReference,
) -> list[Suggestion]:
    found: list[Suggestion] = []
    for code, hit in sorted(cap_tasks.items()):
        if tasks_total >= 2 and hit * 2 > tasks_total:
            found.append(
                Suggestion(
                    f"Revisit {CAP_KEYS[code]}: {hit} of {tasks_total} tasks hit it ({code}).",
                    "A cap most tasks hit is no longer a limit on the unusual task; either it is "
                    "too tight for this codebase, or tasks are drawn too wide.",
                )
            )
    if blocks >= SMALL_SAMPLE:
        for tier in workflow.risk_tiers:
            if not tier_hits.get(tier.name):
                found.append(
                    Suggestion(
                        f"Check risk tier {tier.name!r}: it matched none of the {blocks} blocks "
                        "of the period.",
                        "A tier that never finds anything is either aimed at the wrong paths "
                        "and keywords, or no longer needed.",
                    )
                )
    for line in lines:
        if line.in_the_way >= 2 and line.in_the_way > line.helped:
            found.append(
                Suggestion(
                    f"Discuss {line.code} ({CODES[line.code].title}): {line.in_the_way} notes say "
                    f"it got in the way, {line.helped} that it helped.",
                    "Read the notes out; change its rule, its cap or its severity, or say why "
                    "it stays.",
                )
            )
        if line.setting == "off" and line.helped:
            found.append(
                Suggestion(
                    f"{line.code} is switched off, yet {line.helped} "
                    f"{'notes say' if line.helped != 1 else 'note says'} it helped.",
                    "Perhaps turn it back on at a lower severity.",
                )
            )
    rate = first_pass(team)
    if not rate.small and rate.value is not None and rate.value < 0.5:
        found.append(
            Suggestion(
                f"Fewer than half the first attempts passed ({rate.text()}).",
                "Look at the spec template and the context rules: a first attempt fails when "
                "the spec or the context was not good enough.",
            )
        )
    if trend.direction == "up":
        found.append(
            Suggestion(
                f"Rework is going up ({trend.earlier.text()} → {trend.later.text()}).",
                "Bring the reworked blocks' tasks: what did the spec or the context miss?",
            )
        )
    authors = consistency[0]
    if authors.points is not None and authors.points >= 0.3:
        found.append(
            Suggestion(
                f"First-attempt pass rates differ by {authors.points * 100:.0f} points between "
                "developers.",
                "Pair the developers at both ends on a task; what one does that the other "
                "does not belongs in the workflow.",
            )
        )
    if doc.doc_state != "current":
        found.append(
            Suggestion(
                f"WORKFLOW.md is {doc.doc_state}: run `handrail doc` and commit it.",
                "People can only reference a document that says what the rules say.",
            )
        )
    return found


def stage_label(code: str | None) -> str:
    stage = stage_of(code) if code else None
    return STAGE_NAMES.get(stage or "", "no stage")


# -- from a workspace ----------------------------------------------------------------------------

_TASK_CAPS = ("HR101", "HR200", "HR201", "HR202")


def collect_agenda(ws: Workspace, *, today: dt.date) -> Agenda:
    """The agenda of `ws` now: its ledger, its gate notes, and a check of its work tree."""
    from handrail.analysis import Snapshot
    from handrail.gate.run import run_check
    from handrail.ledger.risk import tier_for
    from handrail.review._tree import files_with_blocks
    from handrail.review.doc import DocError, check_doc
    from handrail.review.gate_log import read_gate_log
    from handrail.review.stats import compute_stats, record_authors_from_git

    snapshot = Snapshot.load(ws)
    records = snapshot.ledger.records
    workflow = snapshot.workflow.workflow
    period = review_period(records, workflow)
    authors = record_authors_from_git(ws)
    gate = read_gate_log(ws)
    since = period.since.date() if period.since else None
    stats_all = compute_stats(records, record_authors=authors, gate_log=gate)
    stats_period = compute_stats(records, since=since, record_authors=authors, gate_log=gate)

    findings = run_check(ws, today=today).findings
    firing: dict[str, int] = {}
    capped: dict[str, set[str]] = {}
    for f in findings:
        firing[f.code] = firing.get(f.code, 0) + 1
        if f.code in _TASK_CAPS:
            capped.setdefault(f.code, set()).add(f.path)

    marks: dict[str, BlockMarked] = {}
    for r in records:
        if isinstance(r, BlockMarked):
            marks.setdefault(r.block_id, r)
    tier_hits: dict[str, int] = {}
    for b in stats_period.blocks:
        mark = marks.get(b.block_id)
        # By path only: a keyword tier is matched below, on the blocks whose content is here.
        tier = tier_for(mark.path, "", workflow) if mark is not None else None
        if tier is not None:
            tier_hits[tier.name] = tier_hits.get(tier.name, 0) + 1
    for source in files_with_blocks(snapshot):
        for block in source.analysis.parsed.blocks:
            tier = source.analysis.evidence[block.id].tier
            if tier is not None:
                tier_hits[tier.name] = tier_hits.get(tier.name, 0) + 1
    doc_state: str
    try:
        doc_state = check_doc(ws, workflow).state
    except DocError:
        doc_state = "unreadable"
    agenda = build_agenda(
        records=records,
        workflow=workflow,
        stats_all=stats_all,
        stats_period=stats_period,
        firing=firing,
        cap_tasks={code: len(paths) for code, paths in capped.items()},
        tasks_total=len(snapshot.tasks.tasks),
        tier_hits=tier_hits,
        doc_state=doc_state,
        today=today,
    )
    agenda.warnings.extend(f"{p.path}:{p.line}: {p.message}" for p in snapshot.ledger.problems)
    return agenda
