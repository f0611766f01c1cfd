"""The command line end to end: every stage a developer walks through, with exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from repo_helpers import GOOD_SPEC, git, init_repo, new_task, run

from handrail.cli.main import cli

SOURCE = (
    "def words(text):\n    return text.split()\n\n\ndef top(text, n):\n    return words(text)[:n]\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "repo", {"src/words.py": SOURCE})


def test_init_twice_changes_nothing(repo: Path) -> None:
    before = {p: p.read_bytes() for p in (repo / ".handrail").rglob("*") if p.is_file()}
    again = run(repo, "init", "--json")
    assert again.exit_code == 0
    assert json.loads(again.output)["created"] == []
    after = {p: p.read_bytes() for p in (repo / ".handrail").rglob("*") if p.is_file()}
    assert after == before


def test_init_with_an_unknown_pack_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path, "init", "--pack", "strickt")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not (tmp_path / ".handrail" / "workflow.toml").exists()


def test_a_refused_spec_writes_nothing_and_exits_1(repo: Path) -> None:
    result = run(repo, "task", "new", "Parse it. Sort it. Print it. Then save it to disk.")
    assert result.exit_code == 1
    assert "HR101" in result.output and "decompose" in result.output
    assert list((repo / ".handrail" / "tasks").glob("*.toml")) == []


def test_a_bad_context_entry_is_a_usage_error(repo: Path) -> None:
    result = run(repo, "task", "new", GOOD_SPEC, "--context", "src/words.py#L9-L2")
    assert result.exit_code == 2
    assert list((repo / ".handrail" / "tasks").glob("*.toml")) == []


# The flow from spec to gate, one stage a test: each starts from a repository with a task
# whose context is src/words.py (the `task` fixture).


@pytest.fixture
def task(repo: Path) -> str:
    """A new task with context src/words.py, made by `handrail task new`; its id."""
    return new_task(repo, "src/words.py")


def test_task_new_writes_the_task_file(repo: Path, task: str) -> None:
    assert (repo / ".handrail" / "tasks" / f"{task}.toml").is_file()


def test_context_check_counts_the_tasks_context(repo: Path, task: str) -> None:
    context = run(repo, "context", "check", task, "--json")
    assert context.exit_code == 0, context.output
    (report,) = json.loads(context.output)["tasks"]
    assert report["encoding"] == "cl100k_base"
    assert report["entries"][0]["status"] == "ok"
    assert report["total_tokens"] == report["entries"][0]["tokens"] > 0


def test_prompt_holds_the_spec_the_context_and_the_settings(repo: Path, task: str) -> None:
    prompt = run(repo, "prompt", task)
    assert prompt.exit_code == 0
    assert GOOD_SPEC in prompt.output
    assert "def top(text, n):" in prompt.output
    assert "Temperature: 0.2" in prompt.output


def test_check_passes_before_anything_is_marked(repo: Path, task: str) -> None:
    assert run(repo, "check").exit_code == 0


def _mark_top(repo: Path, task: str) -> str:
    marked = run(repo, "mark", "src/words.py", "5", "6", "--task", task, "--json")
    assert marked.exit_code == 0, marked.output
    block = json.loads(marked.output)["block"]
    assert isinstance(block, str)
    return block


def test_mark_wraps_the_lines_in_numbered_markers(repo: Path, task: str) -> None:
    block = _mark_top(repo, task)
    assert block == f"{task}.1"
    text = (repo / "src" / "words.py").read_text()
    assert f"# handrail:begin {block}\ndef top(text, n):" in text
    assert f"    return words(text)[:n]\n# handrail:end {block}\n" in text


def test_check_fails_on_the_marked_unverified_block(repo: Path, task: str) -> None:
    _mark_top(repo, task)
    gate = run(repo, "check", "--format", "json")
    assert gate.exit_code == 1
    codes = [(f["code"], f["path"], f["line"]) for f in json.loads(gate.output)["findings"]]
    assert codes == [("HR300", "src/words.py", 5)]


def test_marking_twice_numbers_the_blocks(repo: Path) -> None:
    task_id = new_task(repo)
    assert run(repo, "mark", "src/words.py", "1", "2", "--task", task_id).exit_code == 0
    second = run(repo, "mark", "src/words.py", "7", "8", "--task", task_id, "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["block"] == f"{task_id}.2"


def test_mark_refuses_an_unknown_task_and_a_path_outside(repo: Path, tmp_path: Path) -> None:
    assert run(repo, "mark", "src/words.py", "1", "2", "--task", "zzzzzz").exit_code == 2
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    task_id = new_task(repo)
    result = run(repo, "mark", str(outside), "1", "1", "--task", task_id)
    assert result.exit_code == 2
    assert "outside the workspace" in result.output
    assert outside.read_text() == "x = 1\n"


def test_prompt_is_refused_while_the_context_fails(repo: Path) -> None:
    (repo / ".env").write_text("DATABASE_URL=postgres://localhost/dev\n")
    task_id = new_task(repo, "src/words.py", ".env")
    result = run(repo, "prompt", task_id, "--json")
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["refused"] is True and payload["prompt"] is None
    assert [f["code"] for f in payload["findings"]] == ["HR203"]


def test_context_check_names_what_to_drop_when_over_budget(repo: Path) -> None:
    (repo / ".handrail" / "workflow.toml").write_text(
        'extends = "default"\n[workflow]\nowner = "A <a@example.com>"\nreviewed = 2026-11-01\n'
        "[context]\nmax_tokens = 30\n"
    )
    (repo / "src" / "big.py").write_text("value = 1\n" * 40)
    task_id = new_task(repo, "src/words.py", "src/big.py")
    result = run(repo, "context", "check", task_id)
    assert result.exit_code == 1
    assert "to fit, drop: src/big.py" in result.output
    assert "HR200" in result.output


def test_unknown_task_is_a_usage_error(repo: Path) -> None:
    result = run(repo, "prompt", "nosuch")
    assert result.exit_code == 2
    assert "no task 'nosuch'" in result.output


def test_check_exits_2_on_an_invalid_workflow(repo: Path) -> None:
    (repo / ".handrail" / "workflow.toml").write_text(
        'extends = "default"\n[context]\nmax_token = 5\n'
    )
    result = run(repo, "check")
    assert result.exit_code == 2
    assert "HR400" in result.output
    assert ".handrail/workflow.toml" in result.output


def test_check_works_outside_git(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "node_modules" / "dep").mkdir(parents=True)
    (root / "node_modules" / "dep" / "x.js").write_text("// handrail:begin aaaaaa.1\n")
    (root / ".gitignore").write_text("node_modules/\n")
    (root / "a.py").write_text("# handrail:begin abcdef.1\nx = 1\n")
    assert run(root, "init").exit_code == 0
    result = run(root, "check", "--format", "json")
    assert result.exit_code == 1
    findings = json.loads(result.output)["findings"]
    assert {f["path"] for f in findings} == {"a.py"}
    assert [f["code"] for f in findings] == ["HR305"]


def test_check_a_sub_path_only(repo: Path) -> None:
    (repo / "other").mkdir()
    (repo / "other" / "b.py").write_text("# handrail:end abcdef.1\n")
    assert run(repo, "check", str(repo / "src")).exit_code == 0
    assert run(repo, "check", str(repo / "other")).exit_code == 1


@pytest.mark.parametrize("fmt", ["sarif", "github", "text"])
def test_every_format_reports_the_same_finding(repo: Path, fmt: str) -> None:
    (repo / "src" / "gen.py").write_text("# handrail:begin abcdef.1\nx = 1\n")
    result = run(repo, "check", "--format", fmt, "--no-color")
    assert result.exit_code == 1
    assert "HR305" in result.output


def test_console_script_and_module_entry_points(repo: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    script = Path(sys.executable).with_name("handrail")
    for argv in ([str(script)], [sys.executable, "-m", "handrail"]):
        done = subprocess.run(
            [*argv, "check", str(repo)], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "No findings" in done.stdout


def _workflow_with_command(root: Path, command: str) -> None:
    (root / ".handrail" / "workflow.toml").write_text(
        'extends = "default"\n[workflow]\nowner = "A <a@example.com>"\nreviewed = 2026-11-01\n'
        f"[verification]\ncommand = {json.dumps(command)}\n"
    )


def test_check_rerun_runs_nothing_untrusted_and_gates_on_fresh_runs(repo: Path) -> None:
    sentinel = repo / "ran.txt"
    script = f"open({str(sentinel)!r}, 'w').close()"
    _workflow_with_command(repo, f"{sys.executable} -c {json.dumps(script)}")
    task_id = new_task(repo)
    assert run(repo, "mark", "src/words.py", "1", "2", "--task", task_id).exit_code == 0

    untrusted = run(repo, "check", "--rerun", "--format", "json")
    assert untrusted.exit_code == 1
    assert not sentinel.exists()
    assert "HR403" in {f["code"] for f in json.loads(untrusted.stdout)["findings"]}

    trusted = run(repo, "check", "--rerun", "--trust-commands", "--format", "json")
    assert sentinel.exists()
    codes = {f["code"] for f in json.loads(trusted.stdout)["findings"]}
    assert not codes & {"HR300", "HR301", "HR302", "HR403"}, trusted.output


def test_check_rerun_fails_the_gate_on_a_failing_command(repo: Path) -> None:
    _workflow_with_command(repo, f"{sys.executable} -c 'raise SystemExit(3)'")
    task_id = new_task(repo)
    assert run(repo, "mark", "src/words.py", "1", "2", "--task", task_id).exit_code == 0
    result = run(repo, "check", "--rerun", "--trust-commands", "--format", "json")
    assert result.exit_code == 1
    assert "HR302" in {f["code"] for f in json.loads(result.stdout)["findings"]}


def test_trust_commands_needs_rerun(repo: Path) -> None:
    assert run(repo, "check", "--trust-commands").exit_code == 2


def test_record_gate_never_changes_the_gate(repo: Path, tmp_path: Path) -> None:
    # The fixture's repository has no commit yet: nothing to record on, the gate still answers.
    (repo / "src" / "gen.py").write_text("# handrail:begin abcdef.1\nx = 1\n")
    failed = run(repo, "check", "--record-gate", "--format", "json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["summary"]["error"] == 1
    assert "the gate outcome was not recorded" in failed.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    assert run(plain, "init").exit_code == 0
    clean = run(plain, "check", "--record-gate")
    assert clean.exit_code == 0 and "not a git repository" in clean.stderr
    assert run(repo, "check", "--gate-commit", "HEAD").exit_code == 2  # needs --record-gate
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=repo, check=True)
    again = run(repo, "check", "--record-gate")
    assert again.exit_code == 1 and "not recorded" not in again.stderr
    note = subprocess.run(
        ["git", "notes", "--ref=handrail-gate", "show"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(note)["result"] == "fail"


def test_init_in_a_nested_repository_initialises_it_not_the_ancestor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 19.9: under a folder with `.handrail/`, `handrail init` in a nested git repository
    # printed "unchanged" and initialised nothing.
    outer = tmp_path / "outer"
    outer.mkdir()
    assert run(outer, "init").exit_code == 0
    inner = outer / "projects" / "app"
    (inner / "src").mkdir(parents=True)
    git(inner, "init", "-q")
    monkeypatch.chdir(inner / "src")
    result = CliRunner().invoke(cli, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (inner / ".handrail" / "workflow.toml").is_file()
    assert f"Handrail in {inner}" in result.output
    assert "created   .handrail/workflow.toml" in result.output
    # Two candidate roots: the output names the other one and how to choose it.
    assert f"{outer} above it has its own .handrail/" in result.output
    assert f"handrail --root {outer} init" in result.output
    # Inside a repository that has its own `.handrail/`, init still finds that one.
    monkeypatch.chdir(inner / "src")
    again = CliRunner().invoke(cli, ["init", "--json"], catch_exceptions=False)
    assert json.loads(again.output)["root"] == str(inner)
    assert json.loads(again.output)["created"] == []
    # --root takes the ancestor instead.
    outer_again = CliRunner().invoke(
        cli, ["--root", str(outer), "init", "--json"], catch_exceptions=False
    )
    assert json.loads(outer_again.output)["root"] == str(outer.resolve())
