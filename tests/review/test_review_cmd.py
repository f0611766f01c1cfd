"""`handrail review`: a second reviewer that is real, and `accept` that waits for one."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from review_helpers import (
    ADA,
    BOB,
    SPECS,
    T0,
    block_text,
    explain,
    git,
    mark,
    new_repo,
    new_task,
    run,
    trace,
    verify,
)

from handrail.gate.run import run_check
from handrail.ledger.records import Review
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

H = dt.timedelta(hours=1)
LOGIN = "def login(user, password):\n    return user.check(password)\n"
PLAIN = "def plain():\n    return 1\n"


def _as(ws: Workspace, who: str) -> None:
    name, email = who[:-1].split(" <")
    git(ws.root, "config", "user.name", name)
    git(ws.root, "config", "user.email", email)


@pytest.fixture
def strict(tmp_path: Path) -> tuple[Workspace, str]:
    """The strict pack; Ada's risky `auth/` block and her plain block, both finished but for
    a second reviewer."""
    ws = new_repo(tmp_path)
    text = ws.workflow_path.read_text().replace('extends = "default"', 'extends = "strict"')
    ws.workflow_path.write_text(text)
    task = new_task(ws, SPECS[0])
    (ws.root / "auth").mkdir()
    (ws.root / "auth" / "login.py").write_text(block_text(f"{task}.1", LOGIN))
    (ws.root / "src" / "plain.py").write_text(block_text(f"{task}.2", PLAIN))
    mark(ws, f"{task}.1", "auth/login.py", LOGIN, at=T0, author=ADA)
    mark(ws, f"{task}.2", "src/plain.py", PLAIN, at=T0, author=ADA)
    verify(ws, {f"{task}.1": LOGIN, f"{task}.2": PLAIN}, at=T0 + H, passed=True)
    for block, body in ((f"{task}.1", LOGIN), (f"{task}.2", PLAIN)):
        trace(ws, block, body, at=T0 + 2 * H, author=ADA)
        explain(ws, block, body, at=T0 + 2 * H, author=ADA)
    return ws, task


def _second_reviewer_findings(ws: Workspace, approvers: tuple[str, ...] = ()) -> list[str]:
    findings = run_check(ws, host_approvers=approvers).findings
    return [
        f.message
        for f in findings
        if f.code == "HR303" and (f.data or {}).get("needs") == "second_reviewer"
    ]


def test_the_author_cannot_review_their_own_block(strict: tuple[Workspace, str]) -> None:
    ws, task = strict
    _as(ws, ADA)
    result = run(ws.root, "review", f"{task}.1", "--approve")
    assert result.exit_code == 1, result.output
    assert "you are its author" in result.output
    assert not [r for r in Ledger(ws).read().records if isinstance(r, Review)]
    (message,) = _second_reviewer_findings(ws)
    assert f"handrail review {task}.1 --approve" in message


def test_a_teammates_approval_satisfies_the_second_reviewer(strict: tuple[Workspace, str]) -> None:
    ws, task = strict
    _as(ws, BOB)
    result = run(ws.root, "review", f"{task}.1", "--approve", "--note", "walked the happy path")
    assert result.exit_code == 0, result.output
    assert "Bob Builder" in result.output
    (record,) = [r for r in Ledger(ws).read().records if isinstance(r, Review)]
    assert (record.author, record.verdict, record.note) == (BOB, "approve", "walked the happy path")
    assert _second_reviewer_findings(ws) == []


def test_editing_the_block_voids_the_review(strict: tuple[Workspace, str]) -> None:
    ws, task = strict
    _as(ws, BOB)
    assert run(ws.root, "review", f"{task}.1").exit_code == 0
    edited = LOGIN.replace("check", "verify")
    (ws.root / "auth" / "login.py").write_text(block_text(f"{task}.1", edited))
    assert run_check(ws).findings  # still findings: changed since verified
    verify(ws, {f"{task}.1": edited}, at=T0 + 3 * H, passed=True)
    trace(ws, f"{task}.1", edited, at=T0 + 3 * H, author=ADA)
    assert len(_second_reviewer_findings(ws)) == 1


def test_a_request_for_changes_outweighs_an_approval(strict: tuple[Workspace, str]) -> None:
    ws, task = strict
    _as(ws, "Carol Checker <carol@example.com>")
    assert run(ws.root, "review", f"{task}.1", "--approve").exit_code == 0
    _as(ws, BOB)
    result = run(ws.root, "review", f"{task}.1", "--request-changes", "--note", "no rate limit")
    assert result.exit_code == 0
    assert len(_second_reviewer_findings(ws)) == 1
    _as(ws, ADA)
    refused = run(ws.root, "accept", f"{task}.1")
    assert refused.exit_code == 1
    assert "Bob Builder <bob@example.com> asked for changes" in refused.output
    # Bob's newer approval replaces his own request.
    _as(ws, BOB)
    assert run(ws.root, "review", f"{task}.1", "--approve").exit_code == 0
    assert _second_reviewer_findings(ws) == []


def test_strict_accept_waits_for_a_review(strict: tuple[Workspace, str]) -> None:
    ws, task = strict
    _as(ws, ADA)
    refused = run(ws.root, "accept", f"{task}.2")
    assert refused.exit_code == 1
    assert "no one but its author has approved" in refused.output
    assert "handrail:begin" in (ws.root / "src" / "plain.py").read_text()
    _as(ws, BOB)
    assert run(ws.root, "review", f"{task}.2").exit_code == 0
    _as(ws, ADA)
    accepted = run(ws.root, "accept", f"{task}.2")
    assert accepted.exit_code == 0, accepted.output
    assert "handrail:begin" not in (ws.root / "src" / "plain.py").read_text()


def test_a_task_review_covers_each_of_its_blocks(strict: tuple[Workspace, str]) -> None:
    ws, task = strict
    _as(ws, BOB)
    result = run(ws.root, "review", task, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert sorted(r["block"] for r in data["recorded"]) == [f"{task}.1", f"{task}.2"]


def test_host_approvals_count_as_the_second_reviewer(strict: tuple[Workspace, str]) -> None:
    ws, _task = strict
    assert len(_second_reviewer_findings(ws)) == 1
    assert _second_reviewer_findings(ws, ("github:carol",)) == []
    cli = run(ws.root, "check", "--format", "json", "--approved-by", "github:carol")
    assert "second reviewer" not in cli.output
    without = run(ws.root, "check", "--format", "json")
    assert "second reviewer" in without.output


def test_a_review_without_a_git_identity_is_refused(
    strict: tuple[Workspace, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, task = strict
    monkeypatch.setattr("handrail.git.git_owner", lambda root: None)
    result = run(ws.root, "review", f"{task}.1")
    assert result.exit_code == 2
    assert "user.name" in result.output


def test_an_unknown_block_is_a_usage_error(strict: tuple[Workspace, str]) -> None:
    ws, task = strict
    _as(ws, BOB)
    result = run(ws.root, "review", f"{task}.9")
    assert result.exit_code == 2
    assert "no block" in result.output
