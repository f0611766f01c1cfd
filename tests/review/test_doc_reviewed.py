"""WORKFLOW.md rendered from the rules (`handrail doc`), and recording workflow reviews."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from review_helpers import ADA, BOB, new_repo, run

from handrail.review.doc import _cell, check_doc, render_workflow_doc
from handrail.review.meeting import ReviewedError, mark_reviewed
from handrail.workflow.checks import check_workflow
from handrail.workflow.load import load_pack, load_workflow
from handrail.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return new_repo(tmp_path)


def test_check_fails_after_a_rules_edit_and_passes_after_doc(ws: Workspace) -> None:
    missing = run(ws.root, "doc", "--check")
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert run(ws.root, "doc").exit_code == 0
    assert (ws.root / "WORKFLOW.md").is_file()
    text = (ws.root / "WORKFLOW.md").read_text()
    assert "counts only if it executed at least one line of the block" in text
    assert run(ws.root, "doc", "--check").exit_code == 0

    rules = ws.workflow_path.read_text()
    ws.workflow_path.write_text(rules + "\n[spec]\nmax_sentences = 1\n")
    stale = run(ws.root, "doc", "--check")
    assert stale.exit_code == 1
    assert "no longer matches the rules" in stale.output
    assert "at most 2 sentences" in (ws.root / "WORKFLOW.md").read_text()  # untouched by --check

    written = run(ws.root, "doc", "--json")
    assert json.loads(written.output) == {"path": "WORKFLOW.md", "changed": True}
    assert run(ws.root, "doc", "--check").exit_code == 0
    assert "at most 1 sentence;" in (ws.root / "WORKFLOW.md").read_text()
    again = run(ws.root, "doc", "--json")
    assert json.loads(again.output)["changed"] is False


def test_a_hand_edit_is_stale_but_crlf_line_endings_are_not(ws: Workspace) -> None:
    workflow = load_workflow(ws).workflow
    doc = ws.root / "WORKFLOW.md"
    doc.write_bytes(render_workflow_doc(workflow).replace("\n", "\r\n").encode())
    assert check_doc(ws, workflow).state == "current"
    doc.write_text(render_workflow_doc(workflow) + "A note by hand.\n")
    assert check_doc(ws, workflow).state == "stale"


def test_an_invalid_workflow_is_a_usage_error(ws: Workspace) -> None:
    ws.workflow_path.write_text('extends = "default"\n[spec]\nmax_sentences = "two"\n')
    result = run(ws.root, "doc", "--check")
    assert result.exit_code == 2 and "HR400" in result.output


def test_the_document_holds_every_part_of_the_rules(ws: Workspace) -> None:
    workflow = load_workflow(ws).workflow
    text = render_workflow_doc(workflow)
    for stage in workflow.stages:
        assert f"| {stage.name} |" in text
    assert "| Entry condition | Action | Exit criteria |" in text
    for checkpoint in workflow.checkpoints:
        assert checkpoint.question in text
    for tier in workflow.risk_tiers:
        assert f"| {tier.name} |" in text and tier.why in text
    for rule in workflow.context.rules:
        assert f"- {rule}" in text
    assert f"| Owner | {ADA} |" in text
    assert "| Last reviewed | 2026-03-01 |" in text
    assert "| Next review | 2026-05-30 |" in text
    assert text == render_workflow_doc(workflow)  # no clock, no machine: same rules, same bytes


def test_the_strict_pack_renders_too() -> None:
    text = render_workflow_doc(load_pack("strict"))
    assert "## Risk scaling" in text and text.endswith("\n")


@given(st.text())
def test_a_table_cell_is_one_line_with_every_pipe_escaped(text: str) -> None:
    cell = _cell(text)
    assert "\n" not in cell and "\r" not in cell
    for i, char in enumerate(cell):
        if char == "|":
            backslashes = len(cell[:i]) - len(cell[:i].rstrip("\\"))
            assert backslashes % 2 == 1


# -- workflow reviewed ---------------------------------------------------------------------------


def test_reviewed_records_who_and_when_and_keeps_comments(ws: Workspace) -> None:
    before = ws.workflow_path.read_text()
    today = dt.date(2026, 11, 25)
    loaded = load_workflow(ws)
    assert [f.code for f in check_workflow(loaded, ws, today=today)] == ["HR401"]

    result = mark_reviewed(ws, today=today, by=BOB)
    assert result.previous == dt.date(2026, 3, 1)
    assert result.next_review == dt.date(2027, 2, 23)
    after = ws.workflow_path.read_text()
    assert f"reviewed = 2026-11-25 # reviewed by {BOB}" in after
    comments = [line for line in before.splitlines() if line.startswith("#")]
    assert [line for line in after.splitlines() if line.startswith("#")] == comments
    assert before.replace("reviewed = 2026-03-01", "") == after.replace(
        f"reviewed = 2026-11-25 # reviewed by {BOB}", ""
    )
    loaded = load_workflow(ws)
    assert loaded.workflow.workflow.reviewed == today
    assert check_workflow(loaded, ws, today=today) == []


def test_reviewed_adds_the_table_when_missing(ws: Workspace) -> None:
    ws.workflow_path.write_text('extends = "default"\n\n[severity]\nHR308 = "off"\n')
    mark_reviewed(ws, today=dt.date(2026, 5, 1), by="Ada")
    meta = load_workflow(ws).workflow.workflow
    assert meta.reviewed == dt.date(2026, 5, 1)
    assert 'HR308 = "off"' in ws.workflow_path.read_text()


def test_reviewed_refuses_a_missing_or_broken_file(ws: Workspace) -> None:
    ws.workflow_path.write_text('extends = "default"\n[workflow\nowner = "x"\n')
    with pytest.raises(ReviewedError, match="not valid TOML") as info:
        mark_reviewed(ws, today=dt.date(2026, 5, 1), by="Ada")
    assert info.value.line == 2
    ws.workflow_path.unlink()
    with pytest.raises(ReviewedError, match="handrail init"):
        mark_reviewed(ws, today=dt.date(2026, 5, 1), by="Ada")


def test_reviewed_on_the_command_line(ws: Workspace) -> None:
    result = run(ws.root, "workflow", "reviewed", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["by"] == ADA and payload["previous"] == "2026-03-01"
    assert payload["reviewed"] == dt.date.today().isoformat()
    nobody = run(ws.root, "workflow", "reviewed", "--by", "  ")
    assert nobody.exit_code == 2 and "who reviewed" in nobody.output


@given(st.text(max_size=60))
def test_any_reviewer_name_leaves_a_valid_workflow(name: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".handrail").mkdir()
        ws = Workspace.at(root)
        ws.workflow_path.write_text('extends = "default"\n[workflow]\nowner = "Ada"\n')
        try:
            mark_reviewed(ws, today=dt.date(2026, 5, 1), by=name)
        except ReviewedError as exc:
            assert "who reviewed" in str(exc)
            assert not "".join(c for c in name if c.isprintable()).strip()
            return
        loaded = load_workflow(ws)
        assert loaded.findings == []
        assert loaded.workflow.workflow.reviewed == dt.date(2026, 5, 1)
        assert loaded.workflow.workflow.owner == "Ada"
