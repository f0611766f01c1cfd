"""[attribution]: the AI trailer on commits that add generated code, and the gate's lint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from review_helpers import (
    ADA,
    SPECS,
    T0,
    block_text,
    commit_all,
    git,
    mark,
    new_repo,
    new_task,
    run,
)

from handrail.review.attribution import MarkedBy, machine_credits, trailer_value
from handrail.workflow.model import AttributionRules
from handrail.workspace import Workspace

BODY = "def top(words):\n    return words[:3]\n"


def _policy(ws: Workspace, lines: str) -> None:
    text = ws.workflow_path.read_text()
    ws.workflow_path.write_text(text + f"\n[attribution]\n{lines}\n")


def _add_block(ws: Workspace) -> str:
    task = new_task(ws, SPECS[0])
    block = f"{task}.1"
    (ws.root / "src" / "top.py").write_text(block_text(block, BODY))
    mark(ws, block, "src/top.py", BODY, at=T0, author=ADA)
    return block


def _message(ws: Workspace, text: str = "Add top()\n") -> Path:
    path = ws.root.parent / "COMMIT_EDITMSG"
    path.write_text(text)
    return path


def test_the_hook_adds_the_trailer_to_a_commit_that_adds_blocks(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    _policy(ws, 'policy = "assisted-by"\nvalue = "aider:gpt-5"')
    commit_all(ws.root, "base")
    _add_block(ws)
    git(ws.root, "add", "-A")
    message = _message(ws)
    result = run(ws.root, "attribute", str(message))
    assert result.exit_code == 0, result.output
    assert message.read_text() == "Add top()\n\nAssisted-by: aider:gpt-5\n"
    # Once is enough.
    assert run(ws.root, "attribute", str(message)).exit_code == 0
    assert message.read_text().count("Assisted-by:") == 1


def test_no_blocks_or_no_policy_adds_nothing(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    commit_all(ws.root, "base")
    _add_block(ws)
    git(ws.root, "add", "-A")
    message = _message(ws)
    assert run(ws.root, "attribute", str(message)).exit_code == 0  # policy "none"
    assert message.read_text() == "Add top()\n"
    _policy(ws, 'policy = "generated-by"')
    commit_all(ws.root, "blocks and policy")
    (ws.root / "README.md").write_text("docs\n")
    git(ws.root, "add", "-A")
    assert run(ws.root, "attribute", str(message)).exit_code == 0
    assert message.read_text() == "Add top()\n"


def test_a_real_commit_msg_hook_sees_what_commit_a_stages(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    _policy(ws, 'policy = "custom"\ntrailer = "AI-assisted"\nvalue = "Cursor:auto"')
    commit_all(ws.root, "base")
    block = _add_block(ws)
    # Track the ledger record first, so that `git commit -a` (a temporary index) adds it.
    git(ws.root, "add", "-N", ".")
    hook = ws.root / ".git" / "hooks" / "commit-msg"
    hook.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m handrail attribute "$1"\n')
    hook.chmod(0o755)
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com"}
    env |= {"GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    subprocess.run(
        ["git", "commit", "-q", "-a", "-m", "Add top()"], cwd=ws.root, env=env, check=True
    )
    message = git(ws.root, "show", "-s", "--format=%B", "HEAD")
    assert "AI-assisted: Cursor:auto" in message, message
    assert block.split(".")[0] in git(ws.root, "show", "--stat", "HEAD")


def test_the_gate_lints_the_branch_commits(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    _policy(ws, 'policy = "assisted-by"')
    commit_all(ws.root, "base")
    git(ws.root, "checkout", "-q", "-b", "feature")
    block = _add_block(ws)
    commit_all(ws.root, "Add top() without a trailer")
    (ws.root / "README.md").write_text("docs\n")
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-q", "-m", "Docs\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    (ws.root / "NOTES.md").write_text("fine\n")
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-q", "-m", "Notes\n\nCo-authored-by: Bob Builder <bob@example.com>")

    result = run(ws.root, "check", "--commits", "main..HEAD", "--format", "json")
    import json

    found = [f for f in json.loads(result.output)["findings"] if f["code"] == "HR404"]
    assert len(found) == 2, found
    missing, credit = sorted(found, key=lambda f: "credits" in f["message"])
    assert block in missing["message"] and "Assisted-by: unknown" in missing["message"]
    assert "Co-authored-by: Claude" in credit["message"]
    assert result.exit_code == 1

    plain = run(ws.root, "check", "--format", "json")
    assert "HR404" not in plain.output


def test_a_bad_range_is_a_usage_error(tmp_path: Path) -> None:
    ws = new_repo(tmp_path)
    commit_all(ws.root, "base")
    result = run(ws.root, "check", "--commits", "nope..HEAD")
    assert result.exit_code == 2


@pytest.mark.parametrize("trailer", ["Co-authored-by", "signed-off-by"])
def test_a_people_trailer_cannot_be_the_policy(tmp_path: Path, trailer: str) -> None:
    ws = new_repo(tmp_path)
    _policy(ws, f'policy = "custom"\ntrailer = "{trailer}"')
    result = run(ws.root, "check", "--format", "json")
    assert result.exit_code == 2
    assert "HR400" in result.output and "for people" in result.output


def test_the_value_names_agents_and_models() -> None:
    rules = AttributionRules(policy="assisted-by", value="team-default")
    assert trailer_value(rules, []) == "team-default"
    assert trailer_value(AttributionRules(policy="assisted-by"), []) == "unknown"
    marked = [
        MarkedBy("a.1", "Claude Code", "claude-opus-4-6"),
        MarkedBy("a.2", "Claude Code", "claude-opus-4-6"),
        MarkedBy("a.3", "aider", None),
    ]
    assert trailer_value(rules, marked) == "Claude Code:claude-opus-4-6, aider:unknown"


def test_people_are_not_machines() -> None:
    pairs = [
        ("Co-authored-by", "Claude <noreply@anthropic.com>"),
        ("Signed-off-by", "Ada Lovelace <ada@example.com>"),
        ("Co-authored-by", "GitHub Copilot <copilot@github.com>"),
        ("Reviewed-by", "GPT-5"),
    ]
    assert machine_credits(pairs) == [
        "Co-authored-by: Claude <noreply@anthropic.com>",
        "Co-authored-by: GitHub Copilot <copilot@github.com>",
    ]
