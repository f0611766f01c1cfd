"""A task's life after `task new` (issue 13): list, show, edit, close, reopen, and the
blocks an edited spec re-opens (HR314) or a closed task leaves behind (HR315)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from repo_helpers import GOOD_SPEC, git, init_repo, new_task, run

NEW_SPEC = (
    "Given a text and a count n, return the n most frequent words, lower-cased, with their "
    "counts. It must order ties alphabetically and follow the style of words() in src/words.py."
)
SOURCE = (
    "def words(text):\n    return text.split()\n\n\ndef top(text, n):\n    return words(text)[:n]\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "repo", {"src/words.py": SOURCE})
    (root / ".handrail" / "workflow.toml").write_text(
        'extends = "default"\n[workflow]\nowner = "A <a@example.com>"\nreviewed = 2026-11-01\n'
        f"[verification]\ncommand = {json.dumps(f'{sys.executable} -c pass')}\n"
        # These tests are about the task's lifecycle, not line evidence: a command that runs
        # no test verifies (min_executed = "none"), as it did before HR310.
        'min_executed = "none"\n'
    )
    return root


def gate_codes(root: Path) -> list[tuple[str, str]]:
    result = run(root, "check", "--format", "json")
    return [(f["code"], f["path"]) for f in json.loads(result.output)["findings"]]


@pytest.fixture
def two_tasks(repo: Path) -> tuple[str, str]:
    """Two open tasks: the first without context, the second with NEW_SPEC and src/words.py."""
    return new_task(repo), new_task(repo, "src/words.py", spec=NEW_SPEC)


def _close_first(repo: Path, first: str) -> None:
    closed = run(repo, "task", "close", first, "--reason", "done", "--note", "shipped in #12")
    assert closed.exit_code == 0, closed.output


def checked_block(repo: Path) -> tuple[str, str]:
    """A new task whose block (src/words.py lines 5-6) is marked, verified and explained,
    the gate clean: the task id and the block id."""
    task_id = new_task(repo)
    assert run(repo, "mark", "src/words.py", "5", "6", "--task", task_id).exit_code == 0
    block = f"{task_id}.1"
    assert run(repo, "trust").exit_code == 0
    assert run(repo, "verify", block).exit_code == 0
    assert run(repo, "explain", block).exit_code == 0
    assert gate_codes(repo) == []
    return task_id, block


def test_list_names_every_open_task(repo: Path, two_tasks: tuple[str, str]) -> None:
    listed = json.loads(run(repo, "task", "list", "--json").output)
    assert {t["task"] for t in listed["tasks"]} == set(two_tasks)


def test_show_gives_the_spec_context_status_and_blocks(
    repo: Path, two_tasks: tuple[str, str]
) -> None:
    shown = json.loads(run(repo, "task", "show", two_tasks[1], "--json").output)
    assert shown["spec"] == NEW_SPEC and shown["context"] == ["src/words.py"]
    assert shown["status"] == "open" and shown["blocks"] == []


def test_a_closed_task_leaves_the_list_but_not_the_full_list(
    repo: Path, two_tasks: tuple[str, str]
) -> None:
    first, second = two_tasks
    _close_first(repo, first)
    listed = json.loads(run(repo, "task", "list", "--json").output)
    assert [t["task"] for t in listed["tasks"]] == [second]
    assert listed["closed_hidden"] == 1
    text = run(repo, "task", "list").output
    assert first not in text and "1 closed task not shown" in text
    everything = json.loads(run(repo, "task", "list", "--all", "--json").output)
    statuses = {t["task"]: t["status"] for t in everything["tasks"]}
    assert statuses == {first: "done", second: "open"}


def test_close_writes_the_reason_and_note_to_the_task_file(
    repo: Path, two_tasks: tuple[str, str]
) -> None:
    first, _ = two_tasks
    _close_first(repo, first)
    file_text = (repo / ".handrail" / "tasks" / f"{first}.toml").read_text()
    assert 'status = "done"' in file_text and "shipped in #12" in file_text


def test_reopen_makes_a_closed_task_open_again(repo: Path, two_tasks: tuple[str, str]) -> None:
    first, _ = two_tasks
    _close_first(repo, first)
    assert run(repo, "task", "reopen", first).exit_code == 0
    shown = json.loads(run(repo, "task", "show", first, "--json").output)
    assert shown["status"] == "open" and shown["note"] is None and shown["closed_at"] is None


def test_close_needs_a_known_reason_and_task(repo: Path) -> None:
    task_id = new_task(repo)
    assert run(repo, "task", "close", task_id, "--reason", "finished").exit_code == 2
    assert run(repo, "task", "close", task_id).exit_code == 2
    missing = run(repo, "task", "close", "zzzzzz", "--reason", "done")
    assert missing.exit_code == 2 and "no task zzzzzz" in missing.output


def test_abandoned_template_task_no_longer_fails_the_gate(repo: Path) -> None:
    # What the editor's "Mark … for a new task" leaves when the user gives up on it.
    from handrail.tasks.files import create_template_task
    from handrail.workflow.load import load_workflow
    from handrail.workspace import Workspace

    ws = Workspace.at(repo)
    task_id = create_template_task(ws, load_workflow(ws).workflow).task.id
    assert ("HR103", f".handrail/tasks/{task_id}.toml") in gate_codes(repo)
    assert run(repo, "check").exit_code == 1
    assert run(repo, "task", "close", task_id, "--reason", "abandoned").exit_code == 0
    assert gate_codes(repo) == []
    assert run(repo, "check").exit_code == 0


@pytest.fixture
def hand_edited(repo: Path) -> tuple[str, Path]:
    """A task with context src/words.py whose file gained a comment by hand: its id and path."""
    task_id = new_task(repo, "src/words.py")
    path = repo / ".handrail" / "tasks" / f"{task_id}.toml"
    path.write_text(path.read_text() + "# ask Ada before changing the context\n")
    return task_id, path


def test_edit_refuses_a_spec_task_new_would_refuse(
    repo: Path, hand_edited: tuple[str, Path]
) -> None:
    task_id, path = hand_edited
    before = path.read_text()
    refused = run(
        repo, "task", "edit", task_id, "--spec", "Parse it. Sort it. Print it. Save it.", "--json"
    )
    assert refused.exit_code == 1
    assert json.loads(refused.output)["written"] is False
    assert path.read_text() == before


def test_edit_refuses_a_reversed_line_range(repo: Path, hand_edited: tuple[str, Path]) -> None:
    task_id, path = hand_edited
    before = path.read_text()
    bad = run(repo, "task", "edit", task_id, "--context", "src/words.py#L9-L2")
    assert bad.exit_code == 2
    assert path.read_text() == before


def test_edit_with_nothing_to_change_is_a_usage_error(
    repo: Path, hand_edited: tuple[str, Path]
) -> None:
    task_id, _ = hand_edited
    assert run(repo, "task", "edit", task_id).exit_code == 2  # nothing to change


def test_edit_keeps_hand_edits_and_writes_the_new_context_and_verify(
    repo: Path, hand_edited: tuple[str, Path]
) -> None:
    task_id, path = hand_edited
    edited = run(
        repo, "task", "edit", task_id, "--context", "src/words.py#L1-L2", "--verify", "make t"
    )
    assert edited.exit_code == 0, edited.output
    text = path.read_text()
    assert "# ask Ada before changing the context" in text
    assert '"src/words.py#L1-L2"' in text and 'verify = "make t"' in text
    assert "spec_history" not in text  # the spec did not change


def test_edit_clears_the_verify_command_and_the_context(
    repo: Path, hand_edited: tuple[str, Path]
) -> None:
    task_id, _ = hand_edited
    assert run(repo, "task", "edit", task_id, "--verify", "make t").exit_code == 0
    cleared = run(repo, "task", "edit", task_id, "--verify", "", "--no-context")
    assert cleared.exit_code == 0
    shown = json.loads(run(repo, "task", "show", task_id, "--json").output)
    assert shown["verify"] is None and shown["context"] == []


def test_editing_the_spec_reopens_blocks_until_rechecked(repo: Path) -> None:
    task_id, block = checked_block(repo)

    edited = run(repo, "task", "edit", task_id, "--spec", NEW_SPEC, "--json")
    assert edited.exit_code == 0, edited.output
    payload = json.loads(edited.output)
    assert payload["spec_changed"] is True and payload["reopened_blocks"] == [block]
    shown = json.loads(run(repo, "task", "show", task_id, "--json").output)
    assert [h["spec"] for h in shown["spec_history"]] == [GOOD_SPEC]
    assert gate_codes(repo) == [("HR314", "src/words.py")]

    # Verifying alone is not enough: the author must explain it against the new spec too.
    assert run(repo, "verify", block).exit_code == 0
    assert gate_codes(repo) == [("HR314", "src/words.py")]
    assert run(repo, "explain", block).exit_code == 0
    assert gate_codes(repo) == []


def test_a_spec_edited_by_hand_reopens_unchecked_blocks(repo: Path) -> None:
    task_id = new_task(repo)
    assert run(repo, "mark", "src/words.py", "5", "6", "--task", task_id).exit_code == 0
    path = repo / ".handrail" / "tasks" / f"{task_id}.toml"
    path.write_text(path.read_text().replace("most frequent", "least frequent"))
    assert ("HR314", "src/words.py") in gate_codes(repo)


def test_closing_with_unverified_blocks_is_hr315(repo: Path) -> None:
    task_id = new_task(repo)
    assert run(repo, "mark", "src/words.py", "5", "6", "--task", task_id).exit_code == 0
    closed = run(repo, "task", "close", task_id, "--reason", "done", "--json")
    assert closed.exit_code == 0
    assert [f["code"] for f in json.loads(closed.output)["findings"]] == ["HR315"]
    assert ("HR315", "src/words.py") in gate_codes(repo)
    assert run(repo, "trust").exit_code == 0
    assert run(repo, "verify", f"{task_id}.1").exit_code == 0
    assert run(repo, "explain", f"{task_id}.1").exit_code == 0
    assert gate_codes(repo) == []


def test_a_moved_line_range_is_found_again_and_offered(repo: Path) -> None:
    task_id = new_task(repo, "src/words.py#L5-L6")
    text = (repo / ".handrail" / "tasks" / f"{task_id}.toml").read_text()
    assert '"src/words.py#L5-L6" = "sha256:' in text
    assert run(repo, "context", "check", task_id).exit_code == 0

    source = repo / "src" / "words.py"
    source.write_text("import re\n\n" + SOURCE)  # two lines above: the function moved
    result = run(repo, "context", "check", task_id, "--json")
    (report,) = json.loads(result.output)["tasks"]
    (finding,) = [f for f in report["findings"] if f["code"] == "HR207"]
    assert "now src/words.py#L7-L8" in finding["message"]
    assert ("HR207", f".handrail/tasks/{task_id}.toml") in gate_codes(repo)

    # Taking the new range pins it again: nothing to report.
    assert run(repo, "task", "edit", task_id, "--context", "src/words.py#L7-L8").exit_code == 0
    assert gate_codes(repo) == []

    source.write_text("import re\n\n" + SOURCE.replace("[:n]", "[: n + 1]"))
    result = run(repo, "context", "check", task_id, "--json")
    (report,) = json.loads(result.output)["tasks"]
    (finding,) = [f for f in report["findings"] if f["code"] == "HR207"]
    assert "have changed since they were attached" in finding["message"]


def test_a_spec_that_says_nothing_checkable_is_refused_without_context(repo: Path) -> None:
    refused = run(repo, "task", "new", "Make it faster.", "--json")
    assert refused.exit_code == 1
    payload = json.loads(refused.output)
    assert payload["task"] is None
    (finding,) = payload["findings"]
    assert finding["code"] == "HR102" and finding["severity"] == "error"
    assert "nothing checkable" in finding["message"]


def test_a_spec_that_says_nothing_checkable_is_a_warned_start_with_context(repo: Path) -> None:
    # With the code it is about attached, the same words are a (warned) start.
    attached = run(repo, "task", "new", "Make it faster.", "--context", "src/words.py", "--json")
    assert attached.exit_code == 0
    assert [f["severity"] for f in json.loads(attached.output)["findings"]] == ["warning"]


def test_a_plain_two_sentence_spec_passes_with_no_finding(repo: Path) -> None:
    plain = json.loads(run(repo, "task", "new", GOOD_SPEC, "--json").output)
    assert plain["task"] is not None and plain["findings"] == []


LONG_SPEC = (
    "Given a text, return its words. It must split on whitespace only. "
    "Given the words, return the n most frequent with their counts. "
    "It must order ties alphabetically."
)


def test_a_long_spec_is_refused_and_decompose_drafts_one_sub_spec_a_sentence(
    repo: Path,
) -> None:
    refused = run(repo, "task", "new", LONG_SPEC)
    assert refused.exit_code == 1 and "decompose" in refused.output
    drafts = json.loads(run(repo, "task", "decompose", LONG_SPEC, "--dry-run", "--json").output)
    assert len(drafts["drafts"]) == 4
    assert drafts["drafts"][0] == "Given a text, return its words."
    assert list((repo / ".handrail" / "tasks").glob("*.toml")) == []


# The drafts are edited into two sub-tasks of two sentences each.
SUBS = [
    "Given a text, return its words. It must split on whitespace only.",
    "Given the words, return the n most frequent with counts. It must order ties alphabetically.",
]


@pytest.fixture
def decomposed(repo: Path) -> tuple[str, str, str]:
    """LONG_SPEC decomposed into SUBS with context src/words.py: parent, first, second."""
    args = ["task", "decompose", LONG_SPEC, "--sub", SUBS[0], "--sub", SUBS[1]]
    made = run(repo, *args, "--context", "src/words.py", "--json")
    assert made.exit_code == 0, made.output
    payload = json.loads(made.output)
    parent, (first, second) = payload["parent"], payload["children"]
    return parent, first, second


def test_decompose_writes_the_sub_tasks_under_a_decomposed_parent(
    repo: Path, decomposed: tuple[str, str, str]
) -> None:
    parent, first, _ = decomposed
    shown = json.loads(run(repo, "task", "show", first, "--json").output)
    assert shown["parent"] == parent and shown["spec"] == SUBS[0]
    assert json.loads(run(repo, "task", "show", parent, "--json").output)["decomposed"] is True


def test_a_decomposed_parents_long_spec_does_not_fail_the_gate(
    repo: Path, decomposed: tuple[str, str, str]
) -> None:
    # The parent's long spec does not fail the gate: its sub-tasks carry the checked specs.
    parent, _, _ = decomposed
    assert run(repo, "check").exit_code == 0
    assert not [c for c in gate_codes(repo) if c[1] == f".handrail/tasks/{parent}.toml"]


def _mark_after_a_base_commit(repo: Path, task_id: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "branch", "base")
    assert run(repo, "mark", "src/words.py", "5", "6", "--task", task_id).exit_code == 0


def test_the_pr_summary_names_a_sub_tasks_parent(
    repo: Path, decomposed: tuple[str, str, str]
) -> None:
    parent, first, _ = decomposed
    _mark_after_a_base_commit(repo, first)
    pr = json.loads(run(repo, "pr", "--base", "base", "--format", "json").output)
    assert [(b["task"], b["parent"]) for b in pr["blocks"]] == [(first, parent)]
    markdown = run(repo, "pr", "--base", "base").output
    assert f"(sub-task of `{parent}`)" in markdown


def test_closing_the_last_sub_task_finishes_the_parent(
    repo: Path, decomposed: tuple[str, str, str]
) -> None:
    parent, first, second = decomposed
    _mark_after_a_base_commit(repo, first)
    closed = json.loads(run(repo, "task", "close", first, "--reason", "done", "--json").output)
    assert closed["parent_done"] is None
    closed = json.loads(run(repo, "task", "close", second, "--reason", "done", "--json").output)
    assert closed["parent_done"] == parent
    assert json.loads(run(repo, "task", "show", parent, "--json").output)["status"] == "done"


def test_stats_group_blocks_by_parent_task(repo: Path, decomposed: tuple[str, str, str]) -> None:
    parent, first, _ = decomposed
    _mark_after_a_base_commit(repo, first)
    stats = json.loads(run(repo, "stats", "--format", "json").output)
    (group,) = stats["per_parent"]
    assert group["key"] == parent and group["blocks"] == 1


def test_decompose_writes_nothing_when_a_sub_spec_is_refused(repo: Path) -> None:
    result = run(repo, "task", "decompose", LONG_SPEC, "--sub", GOOD_SPEC, "--sub", "TODO <x>.")
    assert result.exit_code == 1
    assert list((repo / ".handrail" / "tasks").glob("*.toml")) == []


def test_a_hand_edit_after_verification_reopens_the_block_until_rechecked(repo: Path) -> None:
    # The spec history only holds edits made with `task edit`: a hand edit has no date, so a
    # run and an explanation made before it must not count for the new spec (issue 13.3).
    task_id, block = checked_block(repo)

    path = repo / ".handrail" / "tasks" / f"{task_id}.toml"
    path.write_text(path.read_text().replace("most frequent", "least frequent"))
    result = run(repo, "check", "--format", "json")
    (hr314,) = [f for f in json.loads(result.output)["findings"] if f["code"] == "HR314"]
    assert "changed by hand" in hr314["message"]
    shown = json.loads(run(repo, "task", "show", task_id, "--json").output)
    (by_hand,) = shown["spec_history"]
    assert by_hand["spec"] is None and by_hand["by_hand"] is True
    assert by_hand["first_seen"]
    text = run(repo, "task", "show", task_id).output
    assert "changed by hand (first seen " in text

    # Checked again under the new spec, the block is done with.
    assert run(repo, "verify", block).exit_code == 0
    assert gate_codes(repo) == [("HR314", "src/words.py")]
    assert run(repo, "explain", block).exit_code == 0
    assert gate_codes(repo) == []


def test_decompose_pins_a_line_range_for_the_parent_and_every_child(repo: Path) -> None:
    """One context, read once: the parent keeps the pin its children keep, so a moved range
    is reported on every task that names it (HR207)."""
    subs = [
        "Given a text, return its words. It must split on whitespace only.",
        "Given the words, return the n most frequent with counts. It must order ties "
        "alphabetically.",
    ]
    args = ["task", "decompose", LONG_SPEC, "--sub", subs[0], "--sub", subs[1]]
    made = run(repo, *args, "--context", "src/words.py#L1-L2", "--json")
    assert made.exit_code == 0, made.output
    payload = json.loads(made.output)
    for task_id in (payload["parent"], *payload["children"]):
        text = (repo / ".handrail" / "tasks" / f"{task_id}.toml").read_text(encoding="utf-8")
        assert '"src/words.py#L1-L2" = "sha256:' in text, (task_id, text)
