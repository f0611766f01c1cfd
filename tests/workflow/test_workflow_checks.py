"""HR401 (review overdue) and HR402 (no owner), with an injected `today`."""

from __future__ import annotations

import datetime as dt

from handrail.findings import Finding, Severity
from handrail.workflow.checks import check_workflow
from handrail.workflow.load import load_workflow
from handrail.workspace import Workspace

TODAY = dt.date(2026, 6, 15)
OWNED = '[workflow]\nowner = "Ada <ada@example.com>"\n'


def run(ws: Workspace, text: str, today: dt.date = TODAY) -> list[Finding]:
    ws.workflow_path.write_text(text, encoding="utf-8")
    return check_workflow(load_workflow(ws), ws, today=today)


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def test_no_workflow_file_is_never_nagged(workspace: Workspace) -> None:
    assert check_workflow(load_workflow(workspace), workspace, today=TODAY) == []


def test_owned_and_recently_reviewed_is_clean(workspace: Workspace) -> None:
    assert run(workspace, OWNED + "reviewed = 2026-05-01\n") == []


def test_empty_owner_is_reported_on_the_owner_value(workspace: Workspace) -> None:
    findings = run(workspace, '[workflow]\nreviewed = 2026-06-01\nowner = "  "\n')
    (finding,) = findings
    assert finding.code == "HR402"
    assert finding.severity is Severity.WARNING
    assert (finding.path, finding.line, finding.column) == (".handrail/workflow.toml", 3, 9)
    assert "no owner" in finding.message and "owner =" in finding.message
    assert finding.data == {"table": "workflow", "key": "owner"}


def test_missing_owner_is_reported_on_the_workflow_header(workspace: Workspace) -> None:
    (finding,) = run(workspace, 'extends = "default"\n\n[workflow]\nreviewed = 2026-06-01\n')
    assert (finding.code, finding.line) == ("HR402", 3)


def test_missing_workflow_table_is_reported_on_line_one(workspace: Workspace) -> None:
    findings = run(workspace, "\n\n[context]\nmax_files = 3\n")
    assert codes(findings) == ["HR402", "HR401"]
    assert [f.line for f in findings] == [1, 1]


def test_never_reviewed(workspace: Workspace) -> None:
    (finding,) = run(workspace, OWNED)
    assert finding.code == "HR401"
    assert "never been reviewed" in finding.message
    assert "reviewed = 2026-06-15" in finding.message
    assert finding.data["due"] == "2026-06-15"


def test_the_fix_names_the_command_that_records_the_review(workspace: Workspace) -> None:
    for text in (OWNED, OWNED + "reviewed = 2026-03-01\n"):
        (finding,) = run(workspace, text)
        assert "run `handrail workflow reviewed`" in finding.message
        assert "`handrail workflow review`" in finding.message


def test_review_overdue_says_by_how_much_and_when_it_was_due(workspace: Workspace) -> None:
    (finding,) = run(workspace, OWNED + "reviewed = 2026-03-01\nreview_every_days = 90\n")
    # Due 2026-05-30; 16 days before 2026-06-15.
    assert finding.code == "HR401"
    assert finding.line == 3
    assert finding.column == 12
    assert "16 days overdue" in finding.message
    assert "due on 2026-05-30" in finding.message
    assert finding.data["due"] == "2026-05-30"


def test_review_due_today_is_not_overdue(workspace: Workspace) -> None:
    text = OWNED + "reviewed = 2026-05-16\nreview_every_days = 30\n"
    assert run(workspace, text) == []
    (finding,) = run(workspace, text, today=TODAY + dt.timedelta(days=1))
    assert "1 day overdue" in finding.message


def test_review_date_in_the_future_is_reported(workspace: Workspace) -> None:
    (finding,) = run(workspace, OWNED + "reviewed = 2062-06-15\n")
    assert finding.code == "HR401"
    assert "in the future" in finding.message
    assert run(workspace, OWNED + "reviewed = 2026-06-16\n") == []  # a time zone ahead


def test_strict_pack_makes_both_errors(workspace: Workspace) -> None:
    findings = run(workspace, 'extends = "strict"\n')
    assert codes(findings) == ["HR402", "HR401"]
    assert {f.severity for f in findings} == {Severity.ERROR}


def test_strict_cadence_applies(workspace: Workspace) -> None:
    text = 'extends = "strict"\n' + OWNED + "reviewed = 2026-05-01\n"
    (finding,) = run(workspace, text)
    assert "due on 2026-05-31" in finding.message


def test_codes_turned_off_are_silent(workspace: Workspace) -> None:
    assert run(workspace, '[severity]\nHR401 = "off"\nHR402 = "off"\n') == []


def test_broken_file_gets_hr400_only(workspace: Workspace) -> None:
    assert run(workspace, "[workflow\n") == []


def test_bad_owner_or_date_is_left_to_hr400(workspace: Workspace) -> None:
    text = '[workflow]\nowner = 5\nreviewed = "last week"\n'
    workspace.workflow_path.write_text(text, encoding="utf-8")
    loaded = load_workflow(workspace)
    assert codes(loaded.findings) == ["HR400", "HR400"]
    assert check_workflow(loaded, workspace, today=TODAY) == []


def test_owner_inherited_from_an_extended_file_counts(workspace: Workspace) -> None:
    (workspace.root / "team.toml").write_text(
        '[workflow]\nowner = "Platform team"\nreviewed = 2026-06-01\n', encoding="utf-8"
    )
    assert run(workspace, 'extends = "team.toml"\n') == []
