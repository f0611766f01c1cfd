"""`handrail note`, `workflow review` and `workflow reviewed` on a repository with a history."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from review_helpers import ADA, BOB, SPECS, T0, commit_all, git, mark, new_repo, new_task, verify
from review_helpers import write_blocks as put_blocks

from handrail.cli.main import cli
from handrail.ledger.records import Note, ReviewMeeting
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

D = dt.timedelta(days=1)
H = dt.timedelta(hours=1)
CAROL = "Carol New <carol@example.com>"


def handrail(ws: Workspace, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args], catch_exceptions=False)


def notes(ws: Workspace) -> list[Note]:
    return [r for r in Ledger(ws).read().records if isinstance(r, Note)]


@pytest.fixture
def team(tmp_path: Path) -> Workspace:
    """Three authors over four weeks, with notes from the command line."""
    ws = new_repo(tmp_path, today=dt.date(2026, 3, 1))
    tasks = [new_task(ws, spec) for spec in SPECS]
    commit_all(ws.root, "tasks")
    n = 0
    for week, author in enumerate((ADA, BOB, ADA, CAROL)):
        blocks = []
        for i in range(3):
            n += 1
            task = tasks[n % 3]
            bid, body = f"{task}.{n}", f"def f{n}():\n    return {n}\n"
            blocks.append((bid, body))
            at = T0 + week * 7 * D + i * H
            mark(ws, bid, f"src/w{week}.py", body, at=at, author=author)
            passed = not (author == CAROL and i > 0)
            verify(ws, {bid: body}, at=at + H, passed=passed, first=[bid], author=author)
            if not passed:
                verify(ws, {bid: body + "# fixed\n"}, at=at + 2 * H, passed=True, author=author)
        put_blocks(ws, f"src/w{week}.py", *blocks)
        commit_all(ws.root, f"week {week}", author=author)
    return ws


def test_a_note_from_the_command_line_is_a_ledger_record_without_content(
    team: Workspace,
) -> None:
    secret = "def f1():"  # a line of code in src/w0.py: a note never copies it
    out = handrail(
        team, "note", "--in-the-way", "--code", "hr201", "--file", "src/w0.py:2",
        "The three-file cap made me split a one-line fix",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "got in the way (HR201 at src/w0.py:2)" in out.stdout
    (note,) = notes(team)
    assert (note.verdict, note.code, note.path, note.line) == (
        "in_the_way",
        "HR201",
        "src/w0.py",
        2,
    )
    assert note.stage == "assemble" and note.author == "Ada Tester <ada@example.com>"
    assert note.source == "cli"
    raw = next((team.root / ".handrail" / "ledger").glob(f"{note.id}.json")).read_text()
    assert secret not in raw and json.loads(raw)["kind"] == "note"
    helped = json.loads(handrail(team, "note", "--helped", "--json", "Caught a stale test").stdout)
    assert helped["verdict"] == "helped" and helped["code"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code", "HR999", "x"], "not a Handrail code"),
        (["--file", "../outside.py", "x"], "outside the workspace"),
        (["x" * 501], "at most 500 characters"),
    ],
)
def test_a_bad_note_is_refused_and_nothing_is_written(
    team: Workspace, args: list[str], message: str
) -> None:
    out = handrail(team, "note", *args)
    assert out.exit_code == 2 and message in out.stderr
    assert "Traceback" not in out.output
    assert notes(team) == []


def test_notes_from_two_branches_merge_without_conflict(team: Workspace) -> None:
    root = team.root
    git(root, "checkout", "-q", "-b", "other")
    assert handrail(team, "note", "--helped", "--code", "HR300", "on the branch").exit_code == 0
    commit_all(root, "note on other")
    git(root, "checkout", "-q", "main")
    assert handrail(team, "note", "--code", "HR101", "on main").exit_code == 0
    commit_all(root, "note on main")
    git(root, "merge", "-q", "--no-edit", "other")  # check=True: a conflict raises
    assert sorted(n.text for n in notes(team)) == ["on main", "on the branch"]


def test_the_agenda_in_text_markdown_and_json(team: Workspace) -> None:
    handrail(team, "note", "--code", "HR201", "--answered-by", "colleague", "cap too tight")
    handrail(team, "note", "--code", "HR201", "three files is not enough for a migration")
    handrail(team, "note", "--helped", "--code", "HR302", "--answered-by", "docs", "caught it")
    handrail(team, "note", "--helped", "| <b>injected</b> [x](http://evil)")
    text = handrail(team, "workflow", "review")
    assert text.exit_code == 0, text.output
    out = text.stdout
    # The period: the workflow's `reviewed` date (init set it to 2026-03-01), no meeting yet.
    assert "since the workflow was last reviewed (2026-03-01" in out
    assert "2 Context assembly" in out and "4 Verification" in out and "Not tied to a stage" in out
    assert "HR201 (too many context files): 2 in the way, 0 helped" in out
    assert "Carol New" in out  # a new developer this period
    assert "Discuss HR201" in out
    md = handrail(team, "workflow", "review", "--format", "markdown").stdout
    assert md.startswith("# Workflow review")
    assert "| HR201 |" in md and "\n\n## 3. The four signs" in md
    # A line right after a table would render as one of its rows: a blank line ends it.
    assert " |\n\n(No gate runs are recorded" in md
    assert "<b>" not in md and "\\[x\\]" in md and "\\|" in md  # repository text made inert
    data = json.loads(handrail(team, "workflow", "review", "--format", "json").stdout)
    carol = next(n for n in data["signs"]["new_developers"]["newcomers"] if n["author"] == CAROL)
    assert carol["first_pass"] == {"hits": 1, "total": 3, "rate": 0.3333, "small_sample": True}
    assert data["signs"]["referencing_the_document"]["answered_by_docs"]["hits"] == 1
    # Weeks 1-2: none of 6 verified blocks reworked; weeks 3-4: Carol changed 2 of her 3.
    trend = data["signs"]["rework"]
    assert trend["direction"] == "up"
    assert (trend["earlier"]["hits"], trend["earlier"]["total"]) == (0, 6)
    assert (trend["later"]["hits"], trend["later"]["total"]) == (2, 6)


def test_workflow_reviewed_records_the_meeting_and_the_next_agenda_starts_there(
    team: Workspace,
) -> None:
    handrail(team, "note", "--code", "HR201", "before the meeting")
    out = handrail(
        team, "workflow", "reviewed", "--by", "Ada", "--attendee", BOB, "--attendee", CAROL,
        "--changed", "raised [context] max_files to 16", "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["attendees"] == ["Ada", BOB, CAROL]
    assert data["changes"] == ["raised [context] max_files to 16"]
    (meeting,) = [r for r in Ledger(team).read().records if isinstance(r, ReviewMeeting)]
    assert meeting.reviewed == dt.date.today() and meeting.author == "Ada"
    assert f"reviewed = {dt.date.today().isoformat()} # reviewed by Ada" in (
        team.workflow_path.read_text()
    )
    agenda = handrail(team, "workflow", "review").stdout
    assert "since the last review meeting" in agenda
    assert "before the meeting" not in agenda and "No notes in this period" in agenda


def test_the_html_agenda_renders_in_a_headless_browser(team: Workspace, tmp_path: Path) -> None:
    from handrail.findings import Finding, Severity
    from handrail.review.gate_log import record_gate

    handrail(team, "note", "--code", "HR201", "--answered-by", "docs", "cap too tight")
    handrail(team, "note", "--helped", "--code", "HR302", "caught a wrong total")
    # The gate in CI failed twice on unverified blocks (HR300), then passed.
    unverified = [Finding("HR300", Severity.ERROR, "m", "src/w3.py")]
    for at, passed in ((T0 + 22 * D, False), (T0 + 22 * D + H, False), (T0 + 23 * D, True)):
        record_gate(team, [] if passed else unverified, 0 if passed else 1, at=at)
    text = handrail(team, "workflow", "review").stdout
    # HR300 fires nowhere now, but it failed two gate runs in the period: it blocked merges.
    assert re.search(r"^  HR300 +0 +2 +0 +0  -$", text, re.MULTILINE), text
    page = tmp_path / "agenda.html"
    out = handrail(team, "workflow", "review", "--format", "html", "-o", str(page))
    assert out.exit_code == 0, out.output
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert "Carol New" in html and "cap too tight" in html
    chromium = next(
        (p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if p and
         os.path.exists(p)),
        None,
    )  # fmt: skip
    if chromium is None:
        pytest.skip("no headless Chromium on this machine")
    shot = Path(os.environ.get("HANDRAIL_AGENDA_SHOT", tmp_path / "agenda.png"))
    done = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,2600",
            f"--screenshot={shot}", page.as_uri(),
        ],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert shot.is_file() and shot.stat().st_size > 10_000, done.stderr[-2000:]


def test_notes_from_the_pull_request_template(team: Workspace, tmp_path: Path) -> None:
    from handrail.review.tooling import template_text  # what `init --with-tooling` ships

    template = template_text("pull_request_template.md")
    assert "## Workflow notes" in template
    # The template's own examples sit in a comment: an untouched description records nothing.
    body = tmp_path / "pr.md"
    body.write_text(template)
    out = handrail(team, "note", "--from-pr", str(body))
    assert out.exit_code == 0 and "No new workflow notes" in out.stdout and notes(team) == []
    body.write_text(
        template
        + "- in-the-way HR201: the three-file cap made me split a one-line fix\n"
        + "helped: the spec check caught a missing constraint\n"
        + "not a note line\n"
    )
    data = json.loads(handrail(team, "note", "--from-pr", str(body), "--json").stdout)
    got = [(n["verdict"], n["code"], n["stage"], n["source"]) for n in data["recorded"]]
    assert got == [("in_the_way", "HR201", "assemble", "pr"), ("helped", None, None, "pr")]
    # CI running it again on the same description adds nothing.
    again = json.loads(handrail(team, "note", "--from-pr", str(body), "--json").stdout)
    assert again == {"recorded": [], "already_recorded": 2}
    assert len(notes(team)) == 2
