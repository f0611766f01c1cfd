"""`handrail stats`: the signs that the workflow works, from the ledger and git history.

Per generated block (from its first "marked" record):

- **first attempt**: whether its first verification run passed (the "first attempt"
  checkpoint: a failure means the spec or the context was not good enough);
- **rework**: whether the content its first passing run verified differs from the content it
  was marked with, i.e. someone changed the generated code before it worked;
- **time to verified**: from marking to the end of its first passing run;
- **failed runs**: verification runs of the block that failed.

These are grouped over all blocks, per author (is quality consistent across developers?) and
per ISO week of marking (is rework trending down?). The backlog is the blocks in the work
tree now that are not verified. Everything here is a pure function of the records, so the
numbers are the same on every machine.

Gate runs (`handrail check --record-gate`) come from the git notes under
`refs/notes/handrail-gate` (`handrail.review.gate_log`), not from the ledger: how often the
gate failed, overall, per author of the checked commit and per ISO week of the run.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handrail.git import GitError, git
from handrail.ledger.evidence import meets_min_executed
from handrail.ledger.records import BlockMarked, ProbeRun, Record, VerificationRun
from handrail.review.gate_log import GateLog, GateRecord, MalformedLine, read_gate_log
from handrail.workspace import HANDRAIL_DIR, LEDGER_DIR, Workspace

UNKNOWN_AUTHOR = "unknown"
NO_AGENT = "no agent recorded"


@dataclass(frozen=True, slots=True)
class BlockStats:
    block_id: str
    task_id: str
    author: str
    marked_at: dt.datetime
    first_attempt_passed: bool | None
    """None: never run."""
    reworked: bool | None
    """None: no passing run yet, so whether it needed rework is not known."""
    verified_at: dt.datetime | None
    """End of the first passing run."""
    failed_runs: int
    model: str = UNKNOWN_AUTHOR
    """The model (else the endpoint) that generated it; "unknown" for hand-marked blocks."""
    agent: str | None = None
    """The coding agent that marked the block (and its model), e.g. "claude-code (opus)"."""
    discarded: bool = False
    """Replaced by a new attempt (`generate --replace`)."""

    @property
    def week(self) -> str:
        year, week, _ = self.marked_at.astimezone(dt.UTC).isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def hours_to_verified(self) -> float | None:
        if self.verified_at is None:
            return None
        return max(0.0, (self.verified_at - self.marked_at).total_seconds() / 3600)


@dataclass(frozen=True, slots=True)
class GroupStats:
    key: str
    blocks: int
    first_attempts: int
    first_attempt_passed: int
    verified: int
    reworked: int
    median_hours_to_verified: float | None
    failed_runs: int

    @property
    def first_attempt_pass_rate(self) -> float | None:
        return self.first_attempt_passed / self.first_attempts if self.first_attempts else None

    @property
    def rework_rate(self) -> float | None:
        return self.reworked / self.verified if self.verified else None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "blocks": self.blocks,
            "first_attempts": self.first_attempts,
            "first_attempt_passed": self.first_attempt_passed,
            "first_attempt_pass_rate": _round(self.first_attempt_pass_rate),
            "verified": self.verified,
            "reworked": self.reworked,
            "rework_rate": _round(self.rework_rate),
            "median_hours_to_verified": _round(self.median_hours_to_verified),
            "failed_runs": self.failed_runs,
        }


@dataclass(frozen=True, slots=True)
class BacklogItem:
    block_id: str
    path: str
    line: int
    status: str
    missing: list[str]
    marked_at: dt.datetime | None
    author: str

    def as_json(self) -> dict[str, Any]:
        return {
            "block": self.block_id,
            "path": self.path,
            "line": self.line,
            "status": self.status,
            "missing": self.missing,
            "marked_at": self.marked_at.isoformat() if self.marked_at else None,
            "author": self.author,
        }


@dataclass(frozen=True, slots=True)
class GateGroup:
    """Gate runs and how many failed, for one author, one week or all."""

    key: str
    runs: int
    failures: int

    @property
    def failure_rate(self) -> float | None:
        return self.failures / self.runs if self.runs else None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "runs": self.runs,
            "failures": self.failures,
            "failure_rate": _round(self.failure_rate),
        }


@dataclass(frozen=True, slots=True)
class GateStats:
    """The outcomes of `handrail check --record-gate` in the period."""

    recorded: bool
    """The notes ref holds at least one readable gate record (in any period)."""
    total: GateGroup
    per_author: list[GateGroup]
    per_week: list[GateGroup]
    failing_codes: list[tuple[str, int]]
    """Error codes summed over the failed runs, most frequent first."""
    by_source: dict[str, int]
    malformed: list[MalformedLine] = field(default_factory=list)
    problem: str | None = None
    """Why the notes could not be read at all (git failed)."""

    @classmethod
    def empty(cls) -> GateStats:
        return gate_stats(GateLog())

    def as_json(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            **{k: v for k, v in self.total.as_json().items() if k != "key"},
            "per_author": [g.as_json() for g in self.per_author],
            "per_week": [g.as_json() for g in self.per_week],
            "failing_codes": dict(self.failing_codes),
            "by_source": self.by_source,
            "malformed": [m.as_json() for m in self.malformed],
            "problem": self.problem,
        }


def _gate_group(key: str, records: Sequence[GateRecord]) -> GateGroup:
    return GateGroup(key, len(records), sum(1 for r in records if not r.passed))


def gate_stats(log: GateLog, *, since: dt.date | None = None) -> GateStats:
    """Gate runs on or after `since` (UTC day of the run), overall, per author, per week."""
    runs = [r for r in log.records if since is None or r.at.date() >= since]
    by_author: dict[str, list[GateRecord]] = {}
    by_week: dict[str, list[GateRecord]] = {}
    codes: dict[str, int] = {}
    sources = {"ci": 0, "local": 0}
    for r in runs:
        by_author.setdefault(r.author or UNKNOWN_AUTHOR, []).append(r)
        by_week.setdefault(r.week, []).append(r)
        sources[r.source] += 1
        if not r.passed:
            for code, count in r.codes.items():
                codes[code] = codes.get(code, 0) + count
    return GateStats(
        recorded=bool(log.records),
        total=_gate_group("all", runs),
        per_author=[_gate_group(k, v) for k, v in sorted(by_author.items())],
        per_week=[_gate_group(k, v) for k, v in sorted(by_week.items())],
        failing_codes=sorted(codes.items(), key=lambda kv: (-kv[1], kv[0])),
        by_source=sources,
        malformed=list(log.malformed),
        problem=log.problem,
    )


@dataclass(frozen=True, slots=True)
class Stats:
    since: dt.date | None
    total: GroupStats
    per_author: list[GroupStats]
    per_week: list[GroupStats]
    blocks: list[BlockStats]
    runs: int
    """Verification runs in the period."""
    failed_runs: int
    """Runs that ran and failed; a run that could not run (HR311) is no failure."""
    backlog: list[BacklogItem] = field(default_factory=list)
    gate: GateStats = field(default_factory=GateStats.empty)
    per_model: list[GroupStats] = field(default_factory=list)
    """First attempt and rework by the model (or endpoint) that generated the block."""
    per_agent: list[GroupStats] = field(default_factory=list)
    """Blocks by the coding agent (and model) that marked them; `NO_AGENT` for the rest.
    Empty when no block was marked by an agent."""
    per_parent: list[GroupStats] = field(default_factory=list)
    """The same by parent task (`task decompose`): the blocks of all its sub-tasks."""
    could_not_run: int = 0
    """Runs that could not run (a missing tool or module: the environment, not the code)."""
    probed_blocks: int = 0
    """Blocks (of the period) whose newest probe is counted in `probe_caught`/`probe_tried`."""
    probe_caught: int = 0
    probe_tried: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "total": self.total.as_json(),
            "per_author": [g.as_json() for g in self.per_author],
            "per_agent": [g.as_json() for g in self.per_agent],
            "per_week": [g.as_json() for g in self.per_week],
            "per_model": [g.as_json() for g in self.per_model],
            "per_parent": [g.as_json() for g in self.per_parent],
            "runs": self.runs,
            "failed_runs": self.failed_runs,
            "could_not_run_runs": self.could_not_run,
            "probe": {
                "blocks": self.probed_blocks,
                "caught": self.probe_caught,
                "tried": self.probe_tried,
            },
            "backlog": [b.as_json() for b in self.backlog],
            "gate": self.gate.as_json(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def block_stats(
    records: Iterable[Record], *, record_authors: Mapping[str, str] | None = None
) -> list[BlockStats]:
    """One `BlockStats` per block that was ever marked, oldest marking first.

    `record_authors` maps record ids to the git author who committed them: the fallback for
    records made without a known author.
    """
    authors = record_authors or {}
    marks: dict[str, BlockMarked] = {}
    runs: dict[str, list[VerificationRun]] = {}
    for record in sorted(records, key=lambda r: r.id):
        if isinstance(record, BlockMarked):
            marks.setdefault(record.block_id, record)
        elif isinstance(record, VerificationRun):
            for block_id in record.blocks:
                runs.setdefault(block_id, []).append(record)
    # A block replaced by a new attempt (`generate --replace`) was discarded: its first
    # attempt failed, whether or not a run ever said so, and its successor is rework.
    discarded = {m.replaces for m in marks.values() if m.replaces is not None}
    found: list[BlockStats] = []
    for block_id, mark in marks.items():
        # Runs that could not run give no verdict; a failure counts where a failing test
        # executed the block (the attributed outcome), not wherever the command failed.
        history = sorted(
            (r for r in runs.get(block_id, []) if r.could_not_run is None),
            key=lambda r: (r.finished_at, r.id),
        )
        first = next((r for r in history if block_id in r.first_attempt), None)
        if first is None:
            # Records made before line evidence: the earliest run was the first attempt.
            first = next((r for r in history if r.coverage is None), None)
        first_pass = next((r for r in history if _proved(r, block_id)), None)
        first_passed = first.block_outcome(block_id) == "passed" if first is not None else None
        if block_id in discarded and not first_passed:
            first_passed = False
        model = getattr(mark, "model", None) or mark.endpoint or UNKNOWN_AUTHOR
        found.append(
            BlockStats(
                block_id=block_id,
                task_id=mark.task_id,
                author=mark.author or authors.get(mark.id) or UNKNOWN_AUTHOR,
                marked_at=mark.at,
                first_attempt_passed=first_passed,
                reworked=(
                    mark.replaces is not None or first_pass.blocks[block_id] != mark.content_hash
                    if first_pass is not None
                    else None
                ),
                verified_at=first_pass.finished_at if first_pass is not None else None,
                failed_runs=sum(1 for r in history if r.block_outcome(block_id) == "failed"),
                model=str(model),
                agent=_agent_key(mark),
                discarded=block_id in discarded,
            )
        )
    found.sort(key=lambda b: (b.marked_at, b.block_id))
    return found


def _agent_key(mark: BlockMarked) -> str | None:
    """The agent and model of a marking, without the session (one group per agent+model)."""
    if not mark.agent:
        return None
    return f"{mark.agent} ({mark.model})" if mark.model else mark.agent


def _proved(run: VerificationRun, block_id: str) -> bool:
    """A passing run that executed at least one line of the block (older records: passed)."""
    if run.block_outcome(block_id) != "passed":
        return False
    coverage = run.coverage.get(block_id) if run.coverage is not None else None
    return coverage is None or meets_min_executed(coverage, "one")


def group(key: str, blocks: Sequence[BlockStats]) -> GroupStats:
    hours = [h for b in blocks if (h := b.hours_to_verified) is not None]
    tried = [b for b in blocks if b.first_attempt_passed is not None]
    verified = [b for b in blocks if b.verified_at is not None]
    return GroupStats(
        key=key,
        blocks=len(blocks),
        first_attempts=len(tried),
        first_attempt_passed=sum(1 for b in tried if b.first_attempt_passed),
        verified=len(verified),
        reworked=sum(1 for b in verified if b.reworked),
        median_hours_to_verified=statistics.median(hours) if hours else None,
        failed_runs=sum(b.failed_runs for b in blocks),
    )


def _probe_totals(records: Sequence[Record], block_ids: set[str]) -> dict[str, int]:
    """The newest probe of each block: how many mutants its tests caught, of those tried."""
    newest: dict[str, ProbeRun] = {}
    for record in sorted((r for r in records if isinstance(r, ProbeRun)), key=lambda r: r.id):
        if record.block_id in block_ids:
            newest[record.block_id] = record
    return {
        "probed_blocks": len(newest),
        "probe_caught": sum(p.caught for p in newest.values()),
        "probe_tried": sum(p.tried for p in newest.values()),
    }


def compute_stats(
    records: Sequence[Record],
    *,
    since: dt.date | None = None,
    record_authors: Mapping[str, str] | None = None,
    backlog: Sequence[BacklogItem] = (),
    gate_log: GateLog | None = None,
    parents: Mapping[str, str] | None = None,
) -> Stats:
    """The metrics of blocks marked on or after `since` (UTC day), and of runs since then.

    `gate_log` holds the recorded gate runs (`read_gate_log`); none when omitted.
    """
    blocks = block_stats(records, record_authors=record_authors)
    if since is not None:
        blocks = [b for b in blocks if b.marked_at.astimezone(dt.UTC).date() >= since]
    by_author: dict[str, list[BlockStats]] = {}
    by_week: dict[str, list[BlockStats]] = {}
    by_model: dict[str, list[BlockStats]] = {}
    by_agent: dict[str, list[BlockStats]] = {}
    by_parent: dict[str, list[BlockStats]] = {}
    for b in blocks:
        by_author.setdefault(b.author, []).append(b)
        by_week.setdefault(b.week, []).append(b)
        by_model.setdefault(b.model, []).append(b)
        by_agent.setdefault(b.agent or NO_AGENT, []).append(b)
        parent = (parents or {}).get(b.task_id)
        if parent is not None:
            by_parent.setdefault(parent, []).append(b)
    if set(by_agent) == {NO_AGENT}:
        by_agent = {}
    runs = [
        r
        for r in records
        if isinstance(r, VerificationRun)
        and (since is None or r.finished_at.astimezone(dt.UTC).date() >= since)
    ]
    return Stats(
        since=since,
        total=group("all", blocks),
        per_author=[group(k, v) for k, v in sorted(by_author.items())],
        per_week=[group(k, v) for k, v in sorted(by_week.items())],
        blocks=blocks,
        runs=len(runs),
        failed_runs=sum(1 for r in runs if not r.passed and r.could_not_run is None),
        could_not_run=sum(1 for r in runs if r.could_not_run is not None),
        **_probe_totals(records, {b.block_id for b in blocks}),
        backlog=list(backlog),
        gate=gate_stats(gate_log or GateLog(), since=since),
        per_model=[group(k, v) for k, v in sorted(by_model.items())],
        per_agent=[group(k, v) for k, v in sorted(by_agent.items())],
        per_parent=[group(k, v) for k, v in sorted(by_parent.items())],
    )


# -- git history ---------------------------------------------------------------------------------


def parse_added_files_log(raw: bytes) -> dict[str, str]:
    """Path -> author from `git log --diff-filter=A --format=%x1e<author> --name-only -z`.

    Each commit is a 0x1E byte, the author, a NUL, a newline, then NUL-terminated paths. git
    lists newest first, and a path added twice (deleted, then added back) keeps the oldest
    author: the one who first committed the record.
    """
    found: dict[str, str] = {}
    for chunk in raw.split(b"\x1e"):
        if not chunk:
            continue
        author_raw, _, rest = chunk.partition(b"\0")
        author = " ".join(author_raw.decode("utf-8", errors="replace").split())
        for path in rest.lstrip(b"\n").split(b"\0"):
            if path:
                found[path.decode("utf-8", errors="surrogateescape")] = author
    return found


def record_authors_from_git(ws: Workspace) -> dict[str, str]:
    """Record id -> "Name <email>" of the commit that added its ledger file ({} outside git)."""
    folder = f"{HANDRAIL_DIR}/{LEDGER_DIR}"
    try:
        raw = git(
            ws.root,
            "log",
            "--diff-filter=A",
            "--no-renames",
            "--format=%x1e%an <%ae>",
            "--name-only",
            "-z",
            "--",
            folder,
        )
    except GitError:
        return {}
    authors: dict[str, str] = {}
    for path, author in parse_added_files_log(raw).items():
        name = path.rsplit("/", 1)[-1]
        if path.startswith(folder + "/") and name.endswith(".json"):
            authors[name.removesuffix(".json")] = author
    return authors


def collect_stats(ws: Workspace, *, since: dt.date | None = None) -> tuple[Stats, list[str]]:
    """The stats of the workspace, and warnings (unreadable ledger records) to show with them.

    Malformed gate records are in `Stats.gate.malformed` (and `gate_warnings` words them).
    """
    from handrail.analysis import Snapshot
    from handrail.ledger.evidence import status_summary
    from handrail.review._tree import files_with_blocks

    snapshot = Snapshot.load(ws)
    records = snapshot.ledger.records
    authors = record_authors_from_git(ws)
    backlog: list[BacklogItem] = []
    for source in files_with_blocks(snapshot):
        for block in source.analysis.parsed.blocks:
            evidence = source.analysis.evidence[block.id]
            if evidence.is_verified:
                continue
            mark = evidence.marked
            who = (mark.author or authors.get(mark.id)) if mark else None
            missing = list(evidence.needs)
            if evidence.status != "verified":
                missing.insert(0, "passing run")
            backlog.append(
                BacklogItem(
                    block_id=block.id,
                    path=source.rel,
                    line=block.begin_line,
                    status=status_summary(evidence),
                    missing=missing,
                    marked_at=mark.at if mark else None,
                    author=who or UNKNOWN_AUTHOR,
                )
            )
    warnings = [f"{p.path}:{p.line}: {p.message}" for p in snapshot.ledger.problems]
    stats = compute_stats(
        records,
        since=since,
        record_authors=authors,
        backlog=backlog,
        gate_log=read_gate_log(ws),
        parents={
            t.task.id: t.task.parent
            for t in snapshot.tasks.tasks.values()
            if t.task.parent is not None
        },
    )
    return stats, warnings


def gate_warnings(stats: Stats) -> list[str]:
    """One sentence per skipped gate record (naming its commit and line), or why none was read."""
    found = [f"skipped a malformed {m.message()}" for m in stats.gate.malformed]
    if stats.gate.problem:
        found.insert(0, f"gate runs not counted: {stats.gate.problem}")
    return found


# -- text ----------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _hours(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} d"


NO_GATE_RUNS = "no gate runs recorded (see docs/stats.md)"


def _gate_line(stats: Stats) -> str:
    gate = stats.gate
    if not gate.recorded:
        return f"Gate runs: {NO_GATE_RUNS}"
    if not gate.total.runs:
        return f"Gate runs: none since {stats.since.isoformat() if stats.since else 'then'}"
    t = gate.total
    return f"Gate runs: {t.runs}, failed: {t.failures} ({_pct(t.failure_rate)})"


def render_text(stats: Stats) -> str:
    t = stats.total
    since = f" since {stats.since.isoformat()}" if stats.since else ""
    out = [
        f"Generated blocks{since}: {t.blocks} ({t.verified} verified at least once)",
        f"First-attempt pass rate: {_pct(t.first_attempt_pass_rate)} "
        f"({t.first_attempt_passed} of {t.first_attempts} first runs passed)",
        f"Rework: {_pct(t.rework_rate)} ({t.reworked} of {t.verified} verified blocks were "
        "changed between marking and their first passing run)",
        f"Median time from marking to verified: {_hours(t.median_hours_to_verified)}",
        f"Verification runs: {stats.runs}, failed: {stats.failed_runs}"
        + (f", could not run: {stats.could_not_run}" if stats.could_not_run else ""),
        *(
            [
                f"Probe: the tests caught {stats.probe_caught} of {stats.probe_tried} mutants "
                f"({stats.probed_blocks} block{'s' if stats.probed_blocks != 1 else ''} probed)"
            ]
            if stats.probed_blocks
            else []
        ),
        f"Unverified backlog: {len(stats.backlog)} block{'s' if len(stats.backlog) != 1 else ''}",
        _gate_line(stats),
    ]
    if stats.gate.failing_codes:
        top = ", ".join(f"{code} ×{n}" for code, n in stats.gate.failing_codes[:5])
        out.append(f"  errors that failed the gate most: {top}")
    if stats.gate.malformed:
        n = len(stats.gate.malformed)
        out.append(
            f"  {n} malformed gate record{'s' if n != 1 else ''} skipped (named on standard error)"
        )

    def rows(title: str, groups: list[GroupStats], width: int = 24) -> None:
        if not groups:
            return
        header = (
            f"{'':{width}} {'blocks':>6} {'first-pass':>10} {'rework':>7} {'median':>8} "
            f"{'failed':>6}"
        )
        out.extend(["", title, header])
        for g in groups:
            key = g.key if len(g.key) <= width else g.key[: width - 1] + "…"
            out.append(
                f"{key:{width}} {g.blocks:>6} {_pct(g.first_attempt_pass_rate):>10} "
                f"{_pct(g.rework_rate):>7} {_hours(g.median_hours_to_verified):>8} "
                f"{g.failed_runs:>6}"
            )

    rows("Per author", stats.per_author)
    # Model names are long ("claude-code (claude-sonnet-4-5)"): a wider first column.
    rows("Per coding agent (and model)", stats.per_agent, width=40)
    rows("Per week (of marking)", stats.per_week)
    if any(g.key != UNKNOWN_AUTHOR for g in stats.per_model):
        rows("Per model (or endpoint)", stats.per_model)
    rows("Per agent", stats.per_agent)
    rows("Per parent task (decomposed)", stats.per_parent)

    def gate_rows(title: str, groups: list[GateGroup]) -> None:
        if not groups:
            return
        out.extend(["", title, f"{'':24} {'runs':>6} {'failed':>6} {'rate':>5}"])
        for g in groups:
            key = g.key if len(g.key) <= 24 else g.key[:23] + "…"
            out.append(f"{key:24} {g.runs:>6} {g.failures:>6} {_pct(g.failure_rate):>5}")

    gate_rows("Gate runs per author (of the checked commit)", stats.gate.per_author)
    gate_rows("Gate runs per week (of the run)", stats.gate.per_week)
    if stats.backlog:
        out.extend(["", "Backlog"])
        for item in stats.backlog:
            out.append(f"  {item.path}:{item.line} {item.block_id}: {item.status}")
    return "\n".join(out) + "\n"
