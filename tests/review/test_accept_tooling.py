"""`handrail accept` keeps the records and refuses unfinished blocks; init's team tooling."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from review_helpers import (
    ADA,
    SPECS,
    T0,
    block_text,
    explain,
    mark,
    new_repo,
    new_task,
    run,
    verify,
)

from handrail.ledger.records import Accepted
from handrail.ledger.store import Ledger
from handrail.review.accept import accept_blocks
from handrail.review.tooling import PIECES, add_tooling, target_of
from handrail.workspace import Workspace

H = dt.timedelta(hours=1)
DONE = "def done():\n    return 1\n"
UNRUN = "def unrun():\n    return 2\n"
UNEXPLAINED = "def unexplained():\n    return 3\n"
HEADER = "import os\n\n"
FOOTER = "\nprint('end')\n"


@pytest.fixture
def blocks(tmp_path: Path) -> tuple[Workspace, str]:
    """One finished block, one never verified, one verified but not explained."""
    ws = new_repo(tmp_path)
    task = new_task(ws, SPECS[0])
    text = (
        HEADER
        + block_text(f"{task}.1", DONE)
        + block_text(f"{task}.2", UNRUN)
        + block_text(f"{task}.3", UNEXPLAINED)
        + FOOTER
    )
    (ws.root / "src" / "app.py").write_text(text)
    for n, body in ((1, DONE), (2, UNRUN), (3, UNEXPLAINED)):
        mark(ws, f"{task}.{n}", "src/app.py", body, at=T0, author=ADA)
    verify(ws, {f"{task}.1": DONE, f"{task}.3": UNEXPLAINED}, at=T0 + H, passed=True)
    explain(ws, f"{task}.1", DONE, at=T0 + 2 * H, author=ADA)
    return ws, task


def test_accept_removes_the_markers_and_keeps_every_record(blocks: tuple[Workspace, str]) -> None:
    ws, task = blocks
    before = {r.id for r in Ledger(ws).read().records}
    result = run(ws.root, "accept", f"{task}.1")
    assert result.exit_code == 0, result.output
    assert f"accepted {task}.1 in src/app.py" in result.output
    text = (ws.root / "src" / "app.py").read_text()
    assert f"handrail:begin {task}.1" not in text and f"handrail:end {task}.1" not in text
    assert text.startswith(HEADER + DONE + block_text(f"{task}.2", UNRUN))
    after = Ledger(ws).read().records
    assert before < {r.id for r in after}
    (accepted,) = [r for r in after if isinstance(r, Accepted)]
    assert accepted.block_id == f"{task}.1" and accepted.author == ADA
    assert run(ws.root, "check", "src/app.py", "--format", "json").exit_code == 1  # .2 and .3


def test_accept_refuses_an_unverified_or_unexplained_block_saying_why(
    blocks: tuple[Workspace, str],
) -> None:
    ws, task = blocks
    original = (ws.root / "src" / "app.py").read_bytes()
    result = run(ws.root, "accept", f"{task}.2", f"{task}.3", "--json")
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["accepted"] == []
    reasons = {r["block"]: r["reasons"] for r in payload["refused"]}
    assert reasons[f"{task}.2"] == [
        f"it has never been verified (run `handrail verify {task}.2`)",
        f"its author has not acknowledged explaining every line (`handrail explain {task}.2`)",
    ]
    assert reasons[f"{task}.3"] == [
        f"its author has not acknowledged explaining every line (`handrail explain {task}.3`)"
    ]
    assert (ws.root / "src" / "app.py").read_bytes() == original
    assert not any(isinstance(r, Accepted) for r in Ledger(ws).read().records)


def test_accept_all_takes_the_finished_and_refuses_the_rest(blocks: tuple[Workspace, str]) -> None:
    ws, task = blocks
    result = accept_blocks(ws, None, author=None)
    assert [a.block_id for a in result.accepted] == [f"{task}.1"]
    assert [r.block_id for r in result.refused] == [f"{task}.2", f"{task}.3"]
    again = run(ws.root, "accept", f"{task}.1")
    assert again.exit_code == 1 and "already accepted" in again.output


def test_a_changed_block_is_refused(blocks: tuple[Workspace, str]) -> None:
    ws, task = blocks
    path = ws.root / "src" / "app.py"
    path.write_text(path.read_text().replace("return 1", "return 10"))
    (refusal,) = accept_blocks(ws, [f"{task}.1"], author=None).refused
    assert "changed since its last passing run" in refusal.message
    assert "explaining every line" in refusal.message  # the explanation was for the old content


def test_accept_needs_blocks_or_all(blocks: tuple[Workspace, str]) -> None:
    ws, task = blocks
    assert run(ws.root, "accept").exit_code == 2
    assert run(ws.root, "accept", "--all", f"{task}.1").exit_code == 2
    unknown = run(ws.root, "accept", "zzzzzz.1")
    assert unknown.exit_code == 1 and "no such block" in unknown.output


def test_explanation_not_required_by_the_workflow(blocks: tuple[Workspace, str]) -> None:
    ws, task = blocks
    with ws.workflow_path.open("a") as handle:
        handle.write("\n[review]\nrequire_explanation = false\n")
    result = accept_blocks(ws, [f"{task}.3"], author=None)
    assert [a.block_id for a in result.accepted] == [f"{task}.3"]


# -- tooling -------------------------------------------------------------------------------------


def test_init_with_tooling_adds_each_piece_once(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    result = run(root, "init", "--with-tooling", "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)["created"]
    for piece in PIECES:
        assert target_of(piece) in created
    template = (root / ".github" / "pull_request_template.md").read_text()
    for question in ("AI-generated code", "Tasks", "I ran the code", "explain every line"):
        assert question in template
    ci = (root / ".github" / "workflows" / "handrail.yml").read_text()
    assert "handrail check" in ci and "pull_request_target" not in ci.replace(
        "(not `pull_request_target`)", ""
    )
    assert "entry: handrail check" in (root / ".pre-commit-config.yaml").read_text()

    again = run(root, "init", "--with-tooling", "--json")
    assert json.loads(again.output)["created"] == []


def test_tooling_never_overwrites(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    result = add_tooling(ws, ["pre-commit", "ci"])
    assert result.skipped == [".pre-commit-config.yaml"]
    assert result.created == [".github/workflows/handrail.yml"]
    assert (tmp_path / ".pre-commit-config.yaml").read_text() == "repos: []\n"
    assert not (tmp_path / ".github" / "pull_request_template.md").exists()


def test_this_repository_ships_its_pre_commit_hooks() -> None:
    hooks = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
    text = hooks.read_text()
    assert "- id: handrail-check" in text and "entry: handrail check" in text
    assert "- id: handrail-doc" in text and "entry: handrail doc --check" in text


def test_the_yaml_templates_parse_as_their_tools_expect() -> None:
    yaml = pytest.importorskip("yaml")
    from handrail.review.tooling import template_text

    ci = yaml.safe_load(template_text("handrail-ci.yml"))
    triggers = ci[True] if True in ci else ci["on"]  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers and "pull_request_target" not in triggers
    runs = [step.get("run", "") for step in ci["jobs"]["check"]["steps"]]
    assert any(r.startswith("handrail check") for r in runs)
    assert any("handrail pr --base" in r for r in runs)
    (repo,) = yaml.safe_load(template_text("pre-commit-config.yaml"))["repos"]
    assert repo["repo"] == "local" and repo["hooks"][0]["entry"] == "handrail check"
    shipped = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
    hooks = yaml.safe_load(shipped.read_text())
    assert {h["id"]: h["language"] for h in hooks} == {
        "handrail-check": "python",
        "handrail-doc": "python",
        "handrail-attribute": "python",
    }
    stages = {h["id"]: h.get("stages") for h in repo["hooks"]}
    assert stages == {"handrail-check": ["pre-commit"], "handrail-attribute": ["commit-msg"]}
