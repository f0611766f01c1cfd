"""`handrail stats`: the expected numbers on a constructed history, and the HTML report."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from probe_records import mutant, probe_run
from review_helpers import (
    ADA,
    BOB,
    SPECS,
    T0,
    commit_all,
    mark,
    new_repo,
    new_task,
    run,
    verify,
    write_blocks,
)

from handrail.blocks.markers import hash_content
from handrail.findings import Finding, Severity
from handrail.ledger.records import MutantOutcome, ProbeRun, VerificationRun
from handrail.ledger.store import Ledger
from handrail.review.gate_log import record_gate
from handrail.review.stats import Stats, collect_stats, parse_added_files_log, render_text
from handrail.review.stats_html import render_html
from handrail.workspace import Workspace

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
A1 = "def one():\n    return 1\n"
A2_FIRST = "def two():\n    return 3\n"
A2_FIXED = "def two():\n    return 2\n"
B1 = "def three():\n    return 3\n"
B2 = "def four():\n    return 4\n"
C1 = "def five():\n    return 5\n"


@pytest.fixture
def history(tmp_path: Path) -> Workspace:
    """Three weeks, two authors. Bob's records name no author: git's history does."""
    ws = new_repo(tmp_path)
    a, b, c = (new_task(ws, spec) for spec in SPECS)
    commit_all(ws.root, "tasks")
    # Week 2026-W10, Ada: a.1 passes first time; a.2 fails, is fixed by hand, then passes.
    write_blocks(ws, "src/a.py", (f"{a}.1", A1), (f"{a}.2", A2_FIXED))
    mark(ws, f"{a}.1", "src/a.py", A1, at=T0, author=ADA)
    mark(ws, f"{a}.2", "src/a.py", A2_FIRST, at=T0, author=ADA)
    verify(ws, {f"{a}.1": A1}, at=T0 + 1 * H, passed=True, first=[f"{a}.1"])
    verify(ws, {f"{a}.2": A2_FIRST}, at=T0 + 2 * H, passed=False, first=[f"{a}.2"])
    verify(ws, {f"{a}.2": A2_FIXED}, at=T0 + 5 * H, passed=True)
    commit_all(ws.root, "a", author=ADA)
    # Week 2026-W11, Bob: b.1 passes first time after 3 h; b.2 is never run (backlog).
    write_blocks(ws, "src/b.py", (f"{b}.1", B1), (f"{b}.2", B2))
    mark(ws, f"{b}.1", "src/b.py", B1, at=T0 + 7 * D, author=None)
    mark(ws, f"{b}.2", "src/b.py", B2, at=T0 + 7 * D, author=None)
    verify(ws, {f"{b}.1": B1}, at=T0 + 7 * D + 3 * H, passed=True, first=[f"{b}.1"], author=None)
    commit_all(ws.root, "b", author=BOB)
    # Week 2026-W12, Ada: c.1 fails its first run, then passes unchanged (a flaky test).
    write_blocks(ws, "src/c.py", (f"{c}.1", C1))
    mark(ws, f"{c}.1", "src/c.py", C1, at=T0 + 14 * D, author=ADA)
    verify(ws, {f"{c}.1": C1}, at=T0 + 14 * D + 1 * H, passed=False, first=[f"{c}.1"])
    verify(ws, {f"{c}.1": C1}, at=T0 + 14 * D + 2 * H, passed=True)
    commit_all(ws.root, "c", author=ADA)
    # The gate in CI (git notes): Ada's commit fails once, Bob's twice, then each passes.
    commit_a, commit_b, commit_c = (
        subprocess.run(
            ["git", "rev-parse", f"HEAD~{n}"], cwd=ws.root, capture_output=True, text=True
        ).stdout.strip()
        for n in (2, 1, 0)
    )
    unverified = [Finding("HR300", Severity.ERROR, "m", "src/a.py")]
    for rev, at, passed in (
        (commit_a, T0 + 3 * H, False),
        (commit_a, T0 + 6 * H, True),
        (commit_b, T0 + 7 * D + 1 * H, False),
        (commit_b, T0 + 7 * D + 2 * H, False),
        (commit_b, T0 + 7 * D + 4 * H, True),
        (commit_c, T0 + 14 * D + 3 * H, True),
    ):
        record_gate(ws, [] if passed else unverified, 0 if passed else 1, rev=rev, at=at)
    return ws


def _group(stats: Stats, kind: str, key: str) -> dict[str, object]:
    groups = stats.per_author if kind == "author" else stats.per_week
    (found,) = [g.as_json() for g in groups if g.key == key]
    return found


def test_the_totals_of_a_constructed_history(history: Workspace) -> None:
    stats, warnings = collect_stats(history)
    assert warnings == []
    total = stats.total.as_json()
    assert total == {
        "key": "all",
        "blocks": 5,
        "first_attempts": 4,
        "first_attempt_passed": 2,
        "first_attempt_pass_rate": 0.5,
        "verified": 4,
        "reworked": 1,
        "rework_rate": 0.25,
        "median_hours_to_verified": 2.5,
        "failed_runs": 2,
    }
    assert (stats.runs, stats.failed_runs) == (6, 2)
    (item,) = stats.backlog
    assert item.block_id.endswith(".2") and item.path == "src/b.py"
    assert item.author == BOB and item.missing == ["passing run"]


def test_per_author_and_per_week(history: Workspace) -> None:
    stats, _ = collect_stats(history)
    assert [g.key for g in stats.per_author] == [ADA, BOB]
    ada = _group(stats, "author", ADA)
    assert (ada["blocks"], ada["first_attempt_passed"], ada["first_attempts"]) == (3, 1, 3)
    assert (ada["reworked"], ada["verified"], ada["median_hours_to_verified"]) == (1, 3, 2.0)
    bob = _group(stats, "author", BOB)  # from the git author of the commit that added them
    assert (bob["blocks"], bob["first_attempt_pass_rate"], bob["rework_rate"]) == (2, 1.0, 0.0)
    assert bob["median_hours_to_verified"] == 3.0

    assert [g.key for g in stats.per_week] == ["2026-W10", "2026-W11", "2026-W12"]
    rework = [g.rework_rate for g in stats.per_week]
    first = [g.first_attempt_pass_rate for g in stats.per_week]
    assert rework == [0.5, 0.0, 0.0] and first == [0.5, 1.0, 0.0]
    assert _group(stats, "week", "2026-W10")["median_hours_to_verified"] == 3.0


def test_since_keeps_later_blocks_and_runs(history: Workspace) -> None:
    stats, _ = collect_stats(history, since=dt.date(2026, 3, 9))
    assert stats.total.blocks == 3
    assert (stats.runs, stats.failed_runs) == (3, 1)
    assert [g.key for g in stats.per_week] == ["2026-W11", "2026-W12"]
    assert (stats.gate.total.runs, stats.gate.total.failures) == (4, 2)


def test_gate_failures_per_author_and_per_week(history: Workspace) -> None:
    stats, _ = collect_stats(history)
    gate = stats.gate
    assert (gate.total.runs, gate.total.failures, gate.total.failure_rate) == (6, 3, 0.5)
    assert [(g.key, g.runs, g.failures) for g in gate.per_author] == [(ADA, 3, 1), (BOB, 3, 2)]
    assert [(g.key, g.runs, g.failures) for g in gate.per_week] == [
        ("2026-W10", 2, 1),
        ("2026-W11", 3, 2),
        ("2026-W12", 1, 0),
    ]
    assert gate.failing_codes == [("HR300", 3)]


def test_cli_formats(history: Workspace, tmp_path: Path) -> None:
    text = run(history.root, "stats")
    assert text.exit_code == 0, text.output
    assert "First-attempt pass rate: 50% (2 of 4 first runs passed)" in text.output
    assert "Rework: 25% (1 of 4 verified blocks" in text.output
    assert "Median time from marking to verified: 2.5 h" in text.output
    assert "Unverified backlog: 1 block" in text.output
    assert "Gate runs: 6, failed: 3 (50%)" in text.output
    data = json.loads(run(history.root, "stats", "--format", "json").output)
    assert data["total"]["first_attempt_pass_rate"] == 0.5
    assert (data["gate"]["runs"], data["gate"]["failure_rate"]) == (6, 0.5)
    later = run(history.root, "stats", "--since", "2026-03-16", "--format", "json")
    assert json.loads(later.output)["total"]["blocks"] == 1
    bad = run(history.root, "stats", "--since", "last tuesday")
    assert bad.exit_code == 2
    out = tmp_path / "report.html"
    html = run(history.root, "stats", "--format", "html", "--output", str(out))
    assert html.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")


def test_an_empty_ledger_gives_no_rates(workspace: Workspace) -> None:
    stats, _ = collect_stats(workspace)
    assert stats.total.first_attempt_pass_rate is None and stats.total.rework_rate is None
    assert "First-attempt pass rate: n/a" in render_text(stats)
    assert "no blocks in this period" in render_html(stats)


def test_the_html_report_is_self_contained_and_escaped(history: Workspace) -> None:
    stats, _ = collect_stats(history)
    html = render_html(stats)
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in html and "<link" not in html and "@import" not in html
    assert html.count("<svg") == 3  # trend, authors, gate runs per week
    assert "Ada Tester &lt;ada@example.com&gt;" in html and "<ada@" not in html


@pytest.mark.timeout(120)
def test_the_html_report_renders_in_headless_chromium(history: Workspace, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: apt-get install -y chromium")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    stats, _ = collect_stats(history)
    page = tmp_path / "stats.html"
    page.write_text(render_html(stats), encoding="utf-8")
    shot = Path(os.environ.get("HANDRAIL_STATS_SCREENSHOT", tmp_path / "stats.png"))
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            # No network at view time: any fetch the page tried would fail the render.
            "--proxy-server=127.0.0.1:9",
            "--window-size=1100,1500",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=90,
        check=False,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (1100, 1500)
    assert len(data) > 20_000  # a blank page compresses to a few kilobytes


@given(
    st.lists(
        st.tuples(
            st.text(
                st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x1e"),
                min_size=1,
                max_size=20,
            ).filter(lambda s: s.split() != []),
            st.lists(
                st.text(
                    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x1e"),
                    min_size=1,
                    max_size=30,
                ).filter(lambda s: not s.startswith("\n")),
                min_size=1,
                max_size=3,
            ),
        ),
        max_size=5,
    )
)
def test_the_git_log_parser_reads_back_what_git_writes(
    commits: list[tuple[str, list[str]]],
) -> None:
    raw = b"".join(
        b"\x1e" + author.encode() + b"\0\n" + b"".join(p.encode() + b"\0" for p in paths)
        for author, paths in commits
    )
    expected: dict[str, str] = {}
    for author, paths in commits:  # newest first: the oldest commit of a path wins
        for path in paths:
            expected[path] = " ".join(author.split())
    assert parse_added_files_log(raw) == expected


def test_a_run_that_could_not_run_is_no_failed_run(history: Workspace) -> None:
    """A missing pytest or coverage is the environment, not the code (HR311)."""
    b1 = collect_stats(history)[0].backlog[0].block_id.replace(".2", ".1")
    Ledger(history).append(
        VerificationRun.create(
            at=T0 + 20 * D,
            task_id=b1.split(".")[0],
            command=["python", "-m", "pytest"],
            exit_code=1,
            passed=False,
            started_at=T0 + 20 * D,
            finished_at=T0 + 20 * D,
            blocks={b1: hash_content(B1)},
            could_not_run="No module named pytest",
        )
    )
    stats, _ = collect_stats(history)
    assert (stats.runs, stats.failed_runs, stats.could_not_run) == (7, 2, 1)
    assert stats.as_json()["could_not_run_runs"] == 1
    assert "Verification runs: 7, failed: 2, could not run: 1" in render_text(stats)


def test_the_newest_probe_of_each_block_is_summed(history: Workspace) -> None:
    """`stats` carries the probe's figure like lens, hover and `pr` (issue 11, point 6)."""
    b1 = collect_stats(history)[0].backlog[0].block_id.replace(".2", ".1")

    def probe(outcomes: list[MutantOutcome]) -> ProbeRun:
        mutants = [mutant(o, id=f"{n:08x}") for n, o in enumerate(outcomes)]
        return probe_run(b1, "src/b.py", hash_content(B1), mutants)

    Ledger(history).append(probe(["survived", "survived"]))
    Ledger(history).append(probe(["caught", "survived", "timed_out"]))
    stats, _ = collect_stats(history)
    assert (stats.probed_blocks, stats.probe_caught, stats.probe_tried) == (1, 2, 3)
    assert stats.as_json()["probe"] == {"blocks": 1, "caught": 2, "tried": 3}
    assert "Probe: the tests caught 2 of 3 mutants (1 block probed)" in render_text(stats)
