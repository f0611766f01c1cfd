"""Gate outcomes as git notes: `check --record-gate` writes them, `stats` counts them.

Real temporary repositories with commits by two authors; concurrent writers merged the way the
CI template merges them (its own shell script, run against a bare "origin").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from review_helpers import ADA, BOB, commit_all, git, new_repo, run

from handrail.findings import Finding, Severity
from handrail.review.gate_log import (
    NOTES_REF,
    GateLogError,
    GateRecord,
    MalformedGateLine,
    outcome,
    parse_line,
    parse_note,
    read_gate_log,
    record_gate,
    source_from_env,
)
from handrail.review.stats import NO_GATE_RUNS, collect_stats, render_text
from handrail.review.stats_html import render_html
from handrail.workspace import Workspace

REF = "handrail-gate"
MON = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # ISO week 2026-W10
D = dt.timedelta(days=1)
BROKEN = "# handrail:begin abcdef.1\nx = 1\n"  # HR305: no end marker, an error


def _note(root: Path, rev: str = "HEAD") -> list[dict[str, object]]:
    text = git(root, "notes", f"--ref={REF}", "show", rev)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _err(result: object) -> str:
    return str(getattr(result, "stderr", ""))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Ada's first commit, then Bob's."""
    monkeypatch.delenv("CI", raising=False)
    ws = new_repo(tmp_path)
    commit_all(ws.root, "init", author=ADA)
    (ws.root / "src" / "bob.py").write_text("x = 1\n")
    commit_all(ws.root, "bob's file", author=BOB)
    return ws


# -- recording -----------------------------------------------------------------------------------


def test_a_pass_and_a_fail_are_recorded_and_the_exit_codes_stay(
    repo: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = run(repo.root, "check", "--record-gate")
    assert clean.exit_code == 0, clean.output
    assert "not recorded" not in _err(clean)
    head = git(repo.root, "rev-parse", "HEAD").strip()
    (line,) = _note(repo.root)
    assert line["v"] == 1 and line["commit"] == head and line["result"] == "pass"
    assert (line["errors"], line["codes"], line["source"]) == (0, {}, "local")
    assert line["author"] == BOB  # HEAD is Bob's commit
    at = dt.datetime.fromisoformat(str(line["at"]))
    assert at.tzinfo is not None and abs(dt.datetime.now(dt.UTC) - at) < dt.timedelta(minutes=5)

    (repo.root / "src" / "gen.py").write_text(BROKEN)
    monkeypatch.setenv("CI", "true")
    failed = run(repo.root, "check", "--record-gate", "--format", "json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["summary"]["error"] == 1  # the report is untouched
    first, second = _note(repo.root)
    assert first == line
    assert second["result"] == "fail" and second["errors"] == 1
    assert second["codes"] == {"HR305": 1} and second["source"] == "ci"
    assert first["run"] != second["run"]


def test_the_gate_commit_names_where_the_outcome_goes(repo: Workspace) -> None:
    first = git(repo.root, "rev-list", "--max-parents=0", "HEAD").strip()
    result = run(repo.root, "check", "--record-gate", "--gate-commit", first)
    assert result.exit_code == 0
    (line,) = _note(repo.root, first)
    assert line["commit"] == first and line["author"] == ADA
    assert run(repo.root, "check", "--gate-commit", first).exit_code == 2  # needs --record-gate
    unknown = run(repo.root, "check", "--record-gate", "--gate-commit", "no-such-branch")
    assert unknown.exit_code == 0
    assert "not recorded" in _err(unknown) and "no-such-branch" in _err(unknown)


def test_an_invalid_workflow_is_recorded_as_a_failure_and_still_exits_2(repo: Workspace) -> None:
    (repo.root / ".handrail" / "workflow.toml").write_text('extends = "default"\n[spec]\nx = 1\n')
    result = run(repo.root, "check", "--record-gate")
    assert result.exit_code == 2
    (line,) = _note(repo.root)
    assert line["result"] == "fail" and "HR400" in line["codes"]  # type: ignore[operator]


def test_outside_a_repository_it_warns_and_keeps_the_exit_code(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    assert run(root, "init").exit_code == 0
    clean = run(root, "check", "--record-gate")
    assert clean.exit_code == 0
    assert "warning: the gate outcome was not recorded" in _err(clean)
    assert "not a git repository" in _err(clean)
    (root / "a.py").write_text(BROKEN)
    failed = run(root, "check", "--record-gate")
    assert failed.exit_code == 1 and "not recorded" in _err(failed)


def test_a_repository_without_commits_warns_and_keeps_the_exit_code(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q")
    assert run(root, "init").exit_code == 0
    result = run(root, "check", "--record-gate")
    assert result.exit_code == 0
    assert "no commit yet" in _err(result)


def test_a_failing_notes_write_warns_and_keeps_the_exit_code(repo: Workspace) -> None:
    # A directory where the notes ref's lock file goes: git cannot update the ref.
    lock = repo.root / ".git" / "refs" / "notes" / "handrail-gate.lock"
    lock.mkdir(parents=True)
    (repo.root / "src" / "gen.py").write_text(BROKEN)
    result = run(repo.root, "check", "--record-gate")
    assert result.exit_code == 1
    assert "not recorded: git notes failed" in _err(result)


def test_without_a_git_identity_a_fallback_committer_writes_the_note(
    repo: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "no-identity"
    empty.write_text("[user]\n\tuseConfigOnly = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    record_gate(repo, [], 0, at=MON)
    (line,) = _note(repo.root)
    assert line["result"] == "pass"
    committer = git(repo.root, "log", "-1", "--format=%cn", f"refs/notes/{REF}")
    assert committer.strip() == "Handrail gate"


def test_outcome_counts_errors_by_code() -> None:
    findings = [
        Finding("HR300", Severity.ERROR, "m", "a.py"),
        Finding("HR300", Severity.ERROR, "m", "b.py"),
        Finding("HR304", Severity.ERROR, "m", "b.py"),
        Finding("HR401", Severity.WARNING, "m", ".handrail/workflow.toml"),
        Finding("HR308", Severity.HINT, "m", "c.py"),
    ]
    assert outcome(findings, 1) == ("fail", 3, 1, {"HR300": 2, "HR304": 1})
    assert outcome(findings[3:], 0) == ("pass", 0, 1, {})
    assert source_from_env({"CI": "true"}) == "ci" and source_from_env({"CI": "1"}) == "ci"
    assert source_from_env({}) == "local" and source_from_env({"CI": "false"}) == "local"


def test_a_record_on_a_missing_commit_is_refused(repo: Workspace) -> None:
    with pytest.raises(GateLogError, match="not a commit"):
        record_gate(repo, [], 0, rev="0" * 40)
    with pytest.raises(GateLogError, match="not a revision"):
        record_gate(repo, [], 0, rev="--all")


# -- reading and stats ---------------------------------------------------------------------------


@pytest.fixture
def gated(repo: Workspace) -> Workspace:
    """Three weeks of gate runs on Ada's and Bob's commits.

    Week 2026-W10: Ada's commit fails twice, then passes. Week 2026-W11: Bob's commit fails
    once (HR300 ×2), then passes. Week 2026-W12: Ada's commit passes (in CI).
    """
    ada, bob = git(repo.root, "rev-list", "--reverse", "HEAD").split()
    bad = [Finding("HR300", Severity.ERROR, "m", "a.py")]
    record_gate(repo, bad, 1, rev=ada, at=MON, source="local")
    record_gate(repo, bad, 1, rev=ada, at=MON + 1 * D, source="local")
    record_gate(repo, [], 0, rev=ada, at=MON + 2 * D, source="ci")
    record_gate(repo, bad * 2, 1, rev=bob, at=MON + 7 * D, source="ci")
    record_gate(repo, [], 0, rev=bob, at=MON + 8 * D, source="ci")
    record_gate(repo, [], 0, rev=ada, at=MON + 14 * D, source="ci")
    return repo


def test_stats_count_gate_runs_per_author_and_per_week(gated: Workspace) -> None:
    stats, _ = collect_stats(gated)
    gate = stats.gate.as_json()
    assert gate["recorded"] is True
    assert (gate["runs"], gate["failures"], gate["failure_rate"]) == (6, 3, 0.5)
    assert gate["per_author"] == [
        {"key": ADA, "runs": 4, "failures": 2, "failure_rate": 0.5},
        {"key": BOB, "runs": 2, "failures": 1, "failure_rate": 0.5},
    ]
    assert [(w["key"], w["runs"], w["failures"]) for w in gate["per_week"]] == [
        ("2026-W10", 3, 2),
        ("2026-W11", 2, 1),
        ("2026-W12", 1, 0),
    ]
    assert gate["failing_codes"] == {"HR300": 4}
    assert gate["by_source"] == {"ci": 4, "local": 2}
    assert gate["malformed"] == []


def test_since_keeps_the_later_gate_runs(gated: Workspace) -> None:
    stats, _ = collect_stats(gated, since=dt.date(2026, 3, 9))
    assert (stats.gate.total.runs, stats.gate.total.failures) == (3, 1)
    assert [w.key for w in stats.gate.per_week] == ["2026-W11", "2026-W12"]
    none, _ = collect_stats(gated, since=dt.date(2027, 1, 1))
    assert none.gate.recorded and none.gate.total.failure_rate is None
    assert "Gate runs: none since 2027-01-01" in render_text(none)


def test_the_author_comes_from_the_commit_when_the_line_names_none(gated: Workspace) -> None:
    bob = git(gated.root, "rev-parse", "HEAD").strip()
    line = {
        "v": 1,
        "at": "2026-03-20T10:00:00+02:00",
        "commit": bob,
        "result": "fail",
        "errors": 1,
        "warnings": 0,
        "codes": {"HR304": 1},
        "source": "ci",
    }
    git(gated.root, "notes", f"--ref={REF}", "append", "-m", json.dumps(line), bob)
    stats, _ = collect_stats(gated)
    by_author = {g.key: (g.runs, g.failures) for g in stats.gate.per_author}
    assert by_author == {ADA: (4, 2), BOB: (3, 2)}
    # A commit this clone does not have: the run still counts, its author is unknown.
    line["commit"] = "ab" * 20
    git(gated.root, "notes", f"--ref={REF}", "append", "-m", json.dumps(line), bob)
    stats, _ = collect_stats(gated)
    assert {g.key: g.runs for g in stats.gate.per_author}["unknown"] == 1


def test_cli_text_json_and_html(gated: Workspace, tmp_path: Path) -> None:
    text = run(gated.root, "stats")
    assert text.exit_code == 0
    assert "Gate runs: 6, failed: 3 (50%)" in text.stdout
    assert "errors that failed the gate most: HR300 ×4" in text.stdout
    assert "Gate runs per author (of the checked commit)" in text.stdout
    data = json.loads(run(gated.root, "stats", "--format", "json").stdout)
    assert data["gate"]["failures"] == 3
    out = tmp_path / "stats.html"
    assert run(gated.root, "stats", "--format", "html", "-o", str(out)).exit_code == 0
    html = out.read_text()
    assert "Gate failures" in html and "3/6" in html
    assert html.count("<svg") == 3 and "<script" not in html
    assert "Bob Builder &lt;bob@example.com&gt;" in html


def test_no_notes_say_so_instead_of_zero(repo: Workspace) -> None:
    stats, _ = collect_stats(repo)
    assert not stats.gate.recorded and stats.gate.total.failure_rate is None
    assert f"Gate runs: {NO_GATE_RUNS}" in render_text(stats)
    assert stats.as_json()["gate"]["failure_rate"] is None
    html = render_html(stats)
    assert "No gate runs recorded (see docs/stats.md)" in html and html.count("<svg") == 2


def test_a_malformed_line_is_skipped_named_and_the_rest_counted(gated: Workspace) -> None:
    ada = git(gated.root, "rev-list", "--max-parents=0", "HEAD").strip()
    git(gated.root, "notes", f"--ref={REF}", "append", "-m", '{"v":1,"result":"pass"}', ada)
    git(gated.root, "notes", f"--ref={REF}", "append", "-m", "not json at all", ada)
    result = run(gated.root, "stats", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["gate"]["runs"] == 6  # every good line on the same note still counts
    reasons = [(m["commit"], m["reason"]) for m in data["gate"]["malformed"]]
    assert reasons == [(ada, "'at' is not a time"), (ada, "not a JSON object")]
    assert f"malformed gate record on commit {ada[:12]}" in _err(result)
    text = run(gated.root, "stats")
    assert "2 malformed gate records skipped" in text.stdout
    stats, _ = collect_stats(gated)
    assert "Skipped malformed gate records" in render_html(stats)


def test_notes_git_cannot_read_are_a_warning_not_a_crash(
    gated: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handrail.git import GitError
    from handrail.review import gate_log

    real = gate_log.git

    def failing_archive(root: Path, *args: str, **kw: tuple[int, ...]) -> bytes:
        if args[0] == "archive":
            raise GitError("fatal: bad object")
        return real(root, *args, **kw)

    monkeypatch.setattr(gate_log, "git", failing_archive)
    result = run(gated.root, "stats", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["gate"]["problem"].endswith("fatal: bad object")
    assert "handrail: gate runs not counted: cannot read refs/notes/handrail-gate" in result.stderr


def test_a_note_copied_to_a_rewritten_commit_counts_once(gated: Workspace) -> None:
    ada = git(gated.root, "rev-list", "--max-parents=0", "HEAD").strip()
    bob = git(gated.root, "rev-parse", "HEAD").strip()
    copied = git(gated.root, "notes", f"--ref={REF}", "show", ada)
    # notes.rewriteRef copies a note as it is; here onto Bob's commit.
    git(gated.root, "notes", f"--ref={REF}", "append", "-m", copied, bob)
    assert len(read_gate_log(gated).records) == 6


def _push_script() -> str:
    yaml = pytest.importorskip("yaml")
    from handrail.review.tooling import template_text

    ci = yaml.safe_load(template_text("handrail-ci.yml"))
    (step,) = [s for s in ci["jobs"]["check"]["steps"] if s.get("name") == "Push the gate record"]
    assert "!cancelled()" in step["if"] and "head.repo.full_name" in step["if"]
    script = step["run"]
    assert isinstance(script, str)
    return script


def _clone(origin: Path, where: Path, author: str) -> Workspace:
    git(where.parent, "clone", "-q", str(origin), where.name)
    name, email = author[:-1].split(" <")
    git(where, "config", "user.name", name)
    git(where, "config", "user.email", email)
    return Workspace.at(where)


@pytest.mark.skipif(shutil.which("bash") is None, reason="the CI script is bash")
def test_concurrent_writers_merge_through_the_ci_script(repo: Workspace, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo.root), str(origin))
    a = _clone(origin, tmp_path / "a", ADA)
    b = _clone(origin, tmp_path / "b", BOB)
    head = git(a.root, "rev-parse", "HEAD").strip()
    first = git(a.root, "rev-list", "--max-parents=0", "HEAD").strip()
    # Two CI jobs record on the same commit (and B also on another) before either pushes.
    record_gate(a, [Finding("HR300", Severity.ERROR, "m", "a.py")], 1, at=MON, source="ci")
    record_gate(b, [], 0, at=MON + D, source="ci")
    record_gate(b, [], 0, rev=first, at=MON + D, source="ci")
    script = _push_script()
    for clone in (a, b, a):  # A pushes first; B must merge A's lines; A again: up to date
        done = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=clone.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "::warning::" not in done.stdout
    c = _clone(origin, tmp_path / "c", ADA)
    git(c.root, "fetch", "-q", "origin", f"{NOTES_REF}:{NOTES_REF}")  # as docs/stats.md says
    log = read_gate_log(c)
    assert log.malformed == []
    assert sorted((r.commit, r.result) for r in log.records) == sorted(
        [(head, "fail"), (head, "pass"), (first, "pass")]
    )
    on_head = git(c.root, "notes", f"--ref={REF}", "show", head)
    assert len([ln for ln in on_head.splitlines() if ln.strip()]) == 2


def test_cat_sort_uniq_merges_two_writers_and_reads_back_whole(
    repo: Workspace, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(repo.root), str(other))
    theirs = Workspace.at(other)
    for i in range(3):
        record_gate(repo, [], 0, at=MON + i * D, source="local")
        record_gate(theirs, [], 0, at=MON + i * D, source="ci")  # same second: still two runs
    git(repo.root, "fetch", "-q", str(other), f"{NOTES_REF}:refs/notes/theirs")
    git(repo.root, "notes", f"--ref={REF}", "merge", "-q", "-s", "cat_sort_uniq", "theirs")
    log = read_gate_log(repo)
    assert len(log.records) == 6 and log.malformed == []
    assert sorted(r.source for r in log.records) == ["ci"] * 3 + ["local"] * 3


# -- the line parser -----------------------------------------------------------------------------


def _good(**changes: object) -> dict[str, object]:
    line: dict[str, object] = {
        "v": 1,
        "at": "2026-03-02T09:00:00Z",
        "commit": "a" * 40,
        "result": "fail",
        "errors": 2,
        "warnings": 1,
        "codes": {"HR300": 2},
        "source": "ci",
    }
    line.update(changes)
    return {k: v for k, v in line.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"v": 2}, "version 2"),
        ({"v": True}, "no version"),
        ({"at": "2026-03-02T09:00:00"}, "no time zone"),
        ({"at": "yesterday"}, "not an ISO 8601 time"),
        ({"commit": "abc123"}, "full commit id"),
        ({"result": "ok"}, "'result'"),
        ({"errors": -1}, "'errors' is not a count"),
        ({"errors": 2.0}, "'errors' is not a count"),
        ({"warnings": True}, "'warnings' is not a count"),
        ({"codes": {"HR300": 1}}, "add up"),
        ({"codes": {"hr300": 2}}, "no diagnostic code"),
        ({"result": "pass"}, "passing run with errors"),
        ({"source": "cloud"}, "'source'"),
        ({"author": "Eve \x1b[2J"}, "'author'"),
        ({"run": "not hex"}, "'run'"),
    ],
)
def test_ill_formed_lines_are_refused_saying_why(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(MalformedGateLine, match=reason.replace("(", r"\(")):
        parse_line(json.dumps(_good(**changes)))


def test_well_formed_lines_round_trip_and_keys_added_later_are_ignored() -> None:
    record = parse_line(json.dumps(_good(later="kept for v1", author="Ada <a@b>")))
    assert record.at == dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC) and record.week == "2026-W10"
    assert parse_line(record.to_line()) == record
    with pytest.raises(MalformedGateLine, match="twice"):
        parse_line('{"v":1,"v":1}')
    with pytest.raises(MalformedGateLine, match="not a number"):
        parse_line(json.dumps(_good()).replace('"warnings": 1', '"warnings": NaN'))
    records, malformed = parse_note("b" * 40, b"\n" + record.to_line().encode() + b"\n\n[]\n")
    assert records == [record]
    assert [(m.line, m.reason) for m in malformed] == [(4, "not a JSON object")]


_sha = st.text("0123456789abcdef", min_size=40, max_size=40)
_codes = st.dictionaries(st.from_regex(r"HR[1-4][0-9]{2}", fullmatch=True), st.integers(1, 50))


@st.composite
def _records(draw: st.DrawFn) -> GateRecord:
    codes = draw(_codes)
    errors = sum(codes.values())
    return GateRecord(
        at=draw(
            st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
                lambda d: d.replace(tzinfo=dt.UTC)
            )
        ),
        commit=draw(_sha),
        result="fail" if errors else draw(st.sampled_from(["pass", "fail"])),
        errors=errors,
        warnings=draw(st.integers(0, 1000)),
        codes=codes,
        source=draw(st.sampled_from(["ci", "local"])),
        author=draw(
            st.none() | st.text(st.characters(blacklist_categories=("C",)), min_size=1, max_size=40)
        ),
        run=draw(st.none() | st.text("0123456789abcdef", min_size=12, max_size=12)),
    )


def _assert_well_formed(record: GateRecord) -> None:
    assert record.at.utcoffset() == dt.timedelta(0)
    assert record.result in ("pass", "fail") and record.source in ("ci", "local")
    assert len(record.commit) in (40, 64) and int(record.commit, 16) >= 0
    assert record.errors >= 0 and record.warnings >= 0
    assert sum(record.codes.values()) == record.errors
    assert record.result == "fail" or record.errors == 0


@given(st.binary(max_size=400))
def test_any_bytes_give_a_record_or_a_refusal(raw: bytes) -> None:
    try:
        record = parse_line(raw)
    except MalformedGateLine:
        return
    _assert_well_formed(record)


@given(_records(), st.data())
def test_written_records_read_back_and_damaged_ones_never_crash(
    record: GateRecord, data: st.DataObject
) -> None:
    line = record.to_line()
    assert "\n" not in line and line.isascii()
    assert parse_line(line) == record
    assert parse_line(line.encode()) == record
    cut = data.draw(st.integers(0, len(line) - 1))
    flipped = data.draw(st.integers(0, 255))
    damaged = line.encode()[:cut] + bytes([flipped]) + line.encode()[cut + 1 :]
    for raw in (line[:cut].encode(), damaged):
        with contextlib.suppress(MalformedGateLine):
            _assert_well_formed(parse_line(raw))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_KEYS = ["v", "at", "commit", "result", "errors", "warnings", "codes", "source", "author", "run"]


@given(
    st.dictionaries(st.sampled_from(_KEYS), _json),
    _records(),
    st.sampled_from(_KEYS),
)
def test_json_objects_with_the_right_keys_and_any_values(
    values: dict[str, object], record: GateRecord, key: str
) -> None:
    """Any values under the record's keys, and one key of a good record replaced by junk."""
    for data in (values, {**record.as_json(), **{k: v for k, v in values.items() if k == key}}):
        try:
            raw = json.dumps(data)
        except ValueError:
            continue
        with contextlib.suppress(MalformedGateLine):
            _assert_well_formed(parse_line(raw))


@pytest.mark.skipif(os.name == "nt", reason="POSIX shell")
def test_the_ci_template_records_on_the_pull_request_head() -> None:
    yaml = pytest.importorskip("yaml")
    from handrail.review.tooling import template_text

    ci = yaml.safe_load(template_text("handrail-ci.yml"))
    assert ci["permissions"] == {"contents": "write", "pull-requests": "read"}
    (gate,) = [s for s in ci["jobs"]["check"]["steps"] if s.get("name") == "Gate"]
    assert "--record-gate" in gate["run"]
    assert "github.event.pull_request.head.sha || github.sha" in gate["run"]
    assert "cat_sort_uniq" in _push_script()
