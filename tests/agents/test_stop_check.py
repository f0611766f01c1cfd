"""The stop hook: an agent cannot stop while its generated code is not proven."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_helpers import (
    ADDED,
    forget_active_task,
    handrail,
    hook_mark,
    make_repo,
    payload,
    stop_check,
)

from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

SESSION = "eb5b0174-0555-4601-804e-672d68069c89"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    return make_repo(tmp_path)


def test_a_clean_workspace_lets_the_agent_stop(repo: tuple[Path, str]) -> None:
    root, _ = repo
    done = stop_check(root, "claude_code_stop.json")
    assert done.exit_code == 0
    assert done.stderr == ""


def test_unmarked_code_blocks_the_stop_and_names_the_next_command(
    repo: tuple[Path, str],
) -> None:
    root, _ = repo
    forget_active_task()
    (root / "src" / "words.py").write_text(ADDED)
    done = stop_check(root, "claude_code_stop.json", "--agent", "claude-code")
    assert done.exit_code == 2
    assert "src/words.py:5-6 changed but not marked as generated" in done.stderr
    # No session task yet and no active task: the whole workspace is the scope.
    assert "handrail task new" in done.stderr
    assert "handrail mark --diff --agent claude-code --task <task>" in done.stderr


def test_unverified_block_blocks_until_verified_then_lets_go(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    (root / "src" / "words.py").write_text(ADDED)
    marked = hook_mark(root, "--task", task_id)
    assert marked.exit_code == 0, marked.output
    block = f"{task_id}.1"
    # A hook's stdout belongs to the agent (Cursor parses it): the report goes to stderr.
    assert marked.stdout == ""
    assert f"as block {block}" in marked.stderr

    blocked = stop_check(root, "claude_code_stop.json")
    assert blocked.exit_code == 2
    assert f"{block} (src/words.py:5-8) HR300" in blocked.stderr
    assert f"Next: handrail verify {task_id}" in blocked.stderr

    # `verify` runs only approved commands: before `trust`, nothing ran and the hook holds.
    refused = handrail(root, "verify", task_id)
    assert refused.exit_code == 1 and "HR403" in refused.stderr
    assert stop_check(root, "claude_code_stop_active.json").exit_code == 2

    assert handrail(root, "trust").exit_code == 0
    verified = handrail(root, "verify", task_id)
    assert verified.exit_code == 0, verified.output + verified.stderr
    done = stop_check(root, "claude_code_stop_active.json")
    assert done.exit_code == 0, done.stderr
    assert done.stderr == ""


def test_the_hook_records_the_agent_and_its_session(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    forget_active_task()
    (root / "src" / "words.py").write_text(ADDED)
    # No --task and no active task: a hook reports it and never fails the agent.
    done = hook_mark(root)
    assert done.exit_code == 0
    assert "no active task" in done.stderr
    env_marked = hook_mark(root, "--task", task_id)
    assert env_marked.exit_code == 0, env_marked.output
    (record,) = [r for r in Ledger(Workspace.at(root)).read().records if isinstance(r, BlockMarked)]
    assert (record.agent, record.session) == ("claude-code", SESSION)
    # The session's task is now the active one: the stop hook checks that task.
    blocked = stop_check(root, "claude_code_stop.json")
    assert "the generated code of task " + task_id in blocked.stderr


def test_gives_up_after_the_retry_limit(repo: tuple[Path, str]) -> None:
    root, _ = repo
    (root / "src" / "words.py").write_text(ADDED)
    first = stop_check(root, "claude_code_stop.json", "--max-attempts", "2")
    assert first.exit_code == 2
    second = stop_check(root, "claude_code_stop_active.json", "--max-attempts", "2")
    assert second.exit_code == 2
    third = stop_check(root, "claude_code_stop_active.json", "--max-attempts", "2")
    assert third.exit_code == 0
    assert "after 2 refused stops" in third.stderr
    # Claude Code shows a systemMessage to the user: the code is still not proven.
    assert "not proven" in json.loads(third.stdout)["systemMessage"]
    # A stop the agent makes on its own (a new turn) starts a fresh count.
    assert stop_check(root, "claude_code_stop.json", "--max-attempts", "2").exit_code == 2


def test_subagent_stop_is_held_the_same_way(repo: tuple[Path, str]) -> None:
    root, _ = repo
    (root / "src" / "words.py").write_text(ADDED)
    assert stop_check(root, "claude_code_subagent_stop.json").exit_code == 2


def test_cursor_gets_a_followup_message_and_loop_count_bounds_it(
    repo: tuple[Path, str],
) -> None:
    root, _ = repo
    (root / "src" / "words.py").write_text(ADDED)
    held = stop_check(root, "cursor_stop.json")
    assert held.exit_code == 0  # Cursor continues on a follow-up message, not an exit code
    assert "not marked as generated" in json.loads(held.stdout)["followup_message"]
    last = stop_check(root, "cursor_stop.json", loop_count=3)
    assert last.exit_code == 0
    assert "followup_message" not in last.stdout
    # The user pressed stop: never override them with a follow-up.
    aborted = stop_check(root, "cursor_stop.json", status="aborted")
    assert aborted.exit_code == 0 and aborted.stdout == ""


def test_outside_a_handrail_workspace_the_agent_is_never_held(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    done = stop_check(tmp_path, "claude_code_stop.json")
    assert done.exit_code == 0


def test_a_broken_payload_lets_the_agent_stop_and_says_why(repo: tuple[Path, str]) -> None:
    root, _ = repo
    from click.testing import CliRunner

    from handrail.cli.main import cli

    done = CliRunner().invoke(cli, ["--root", str(root), "agent", "stop-check"], input="{not json")
    assert done.exit_code == 0
    assert "not JSON (line 1" in done.stderr


def test_hr310_findings_block_by_code() -> None:
    from handrail.agents.outstanding import BLOCKING_CODES

    # Per-block coverage ("no test executed the block") blocks as soon as it exists.
    assert {"HR300", "HR301", "HR302", "HR310"} <= BLOCKING_CODES
    assert "HR303" not in BLOCKING_CODES and "HR304" not in BLOCKING_CODES


def test_a_failing_verification_holds_the_agent_and_says_to_fix_it(
    repo: tuple[Path, str],
) -> None:
    root, task_id = repo
    # top_words returns the wrong answer: check_words.py fails.
    (root / "src" / "words.py").write_text(ADDED.replace("[:n]", "[n:]"))
    assert handrail(root, "mark", "--diff", "--task", task_id).exit_code == 0
    assert handrail(root, "trust").exit_code == 0
    assert handrail(root, "verify", task_id).exit_code == 1
    held = stop_check(root, "claude_code_stop.json")
    assert held.exit_code == 2
    assert f"{task_id}.1 (src/words.py:5-8) HR302" in held.stderr
    assert "code or its tests need fixing" in held.stderr


def test_the_sessions_task_is_the_scope(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    other = handrail(
        root,
        "task",
        "new",
        "Given a list of words, return them joined by commas. "
        "It must keep their order and follow the style of words() in src/words.py.",
        "--json",
    )
    other_id = json.loads(other.output)["task"]
    (root / "src" / "other.py").write_text("def joined(words):\n    return ','.join(words)\n")
    assert handrail(root, "mark", "src/other.py", "1", "2", "--task", other_id).exit_code == 0
    (root / "src" / "words.py").write_text(ADDED)
    marked = hook_mark(root, "--task", task_id)
    assert marked.exit_code == 0
    assert handrail(root, "trust").exit_code == 0
    assert handrail(root, "verify", task_id).exit_code == 0
    # The other task's block is still unverified, but this session worked on task_id only.
    done = stop_check(root, "claude_code_stop.json")
    assert done.exit_code == 0, done.stderr
    # A hook without a session (run by hand) takes the task last created: the other one.
    anyone = stop_check(root, "claude_code_stop.json", session_id=None)
    assert anyone.exit_code == 2
    assert f"{other_id}.1 (src/other.py:1-4) HR300" in anyone.stderr


def test_a_task_created_in_the_terminal_is_what_the_hooks_work_on(
    repo: tuple[Path, str],
) -> None:
    root, task_id = repo  # make_repo created it with `handrail task new`
    (root / "src" / "words.py").write_text(ADDED)
    # No --task: the post-edit hook takes the task last created.
    marked = hook_mark(root)
    assert marked.exit_code == 0
    assert f"as block {task_id}.1" in marked.stderr


def test_the_installed_command_blocks_as_claude_code_runs_it(repo: tuple[Path, str]) -> None:
    import os
    import shutil
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    if shutil.which("handrail", path=str(bin_dir)) is None:
        pytest.skip("the handrail entry point is not installed next to this Python")
    root, _ = repo
    (root / "src" / "words.py").write_text(ADDED)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    # Claude Code runs the command through a shell, in the project folder, JSON on stdin.
    done = subprocess.run(
        ["sh", "-c", "handrail agent stop-check --agent claude-code"],
        cwd=root,
        env=env,
        input=payload("claude_code_stop.json", root),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "not marked as generated" in done.stderr and "Traceback" not in done.stderr
