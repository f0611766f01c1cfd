"""The whole stage on a real pytest project: HR300 -> verify -> HR301 -> HR302, tiers, trust."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from verify_helpers import OTHER_TASK, PY, PYTEST_COMMAND, TASK, block_file, write_task

from handrail import process as runner_mod
from handrail.cli.main import cli
from handrail.findings import Finding
from handrail.gate.run import run_check
from handrail.ledger.records import VerificationRun
from handrail.ledger.store import Ledger
from handrail.verify import trust as trust_mod
from handrail.verify.run import ProgressEvent, Target, VerifyError, rerun_all, verify
from handrail.workspace import Workspace


def handrail(ws: Workspace, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args], catch_exceptions=False)


def codes(ws: Workspace, block_id: str | None = None) -> list[str]:
    findings: list[Finding] = run_check(ws).findings
    return sorted(
        f.code
        for f in findings
        if f.code.startswith("HR3") and (block_id is None or f.data.get("block_id") == block_id)
    )


def finding(ws: Workspace, code: str) -> Finding:
    return next(f for f in run_check(ws).findings if f.code == code)


def runs(ws: Workspace) -> list[VerificationRun]:
    return [r for r in Ledger(ws).read().records if isinstance(r, VerificationRun)]


def sentinel_command(name: str) -> str:
    return f"{shlex.quote(PY)} -c " + shlex.quote(f"open({name!r}, 'w').write('ran')")


def test_the_full_cycle_through_the_command_line(project: Workspace) -> None:
    ws = project
    assert codes(ws) == ["HR300"]

    # Untrusted: nothing runs, HR403 says so, exit 1.
    refused = handrail(ws, "verify", TASK)
    assert refused.exit_code == 1
    assert "HR403" in refused.stderr and "Nothing was run" in refused.stderr
    assert "handrail trust" in refused.stderr
    assert runs(ws) == []

    approved = handrail(ws, "trust")
    assert approved.exit_code == 0
    assert PYTEST_COMMAND in approved.stdout  # the exact command it approves

    passed = handrail(ws, "verify", TASK)
    assert passed.exit_code == 0, passed.output
    assert f"{TASK}.1  calc.py:1  verified" in passed.stdout
    assert "[1/1]" in passed.stderr and "passed in" in passed.stderr
    assert codes(ws) == ["HR304"]  # HR300 gone; only the explanation is left
    assert handrail(ws, "explain", f"{TASK}.1").exit_code == 0
    assert codes(ws) == []

    # Edit the block: its evidence no longer counts.
    calc = ws.root / "calc.py"
    calc.write_text(block_file(f"{TASK}.1", "def add(a, b):\n    return a - b\n"))
    assert codes(ws) == ["HR301"]

    failed = handrail(ws, "verify", f"{TASK}.1")
    assert failed.exit_code == 1
    assert "failed" in failed.stdout and "exited with code 1" in failed.stderr
    assert "| " in failed.stderr  # the tail of pytest's output is shown
    assert codes(ws) == ["HR302"]
    hr302 = finding(ws, "HR302")
    assert not hr302.data["first_attempt"]
    assert "Fix the block (or the test)" in hr302.message

    # Generated again as a new block: its first run fails -> the first-attempt checkpoint.
    calc.write_text(block_file(f"{TASK}.2", "def add(a, b):\n    return a * b\n"))
    again = handrail(ws, "verify", TASK, "--json")
    assert again.exit_code == 1
    payload = json.loads(again.stdout)
    assert payload["runs"][0]["first_attempt"] == [f"{TASK}.2"]
    assert payload["blocks"][0]["status"] == "failed" and payload["blocks"][0]["first_attempt"]
    hr302 = finding(ws, "HR302")
    assert hr302.data["first_attempt"]
    assert "first attempt" in hr302.message
    assert "Fix the spec or the context and generate again" in hr302.message


def test_a_block_under_auth_needs_a_trace_before_it_clears(project: Workspace) -> None:
    ws = project
    auth = ws.root / "auth"
    auth.mkdir()
    (auth / "__init__.py").write_text("")
    (auth / "check.py").write_text(
        block_file(f"{TASK}.3", "def allowed(role):\n    return role == 'admin'\n")
    )
    (ws.root / "test_auth.py").write_text(
        "from auth.check import allowed\n\n\ndef test_allowed():\n    assert allowed('admin')\n"
    )
    trust_mod.trust(ws)
    assert handrail(ws, "verify", f"{TASK}.3").exit_code == 0
    assert codes(ws, f"{TASK}.3") == ["HR303", "HR304"]
    assert "handrail trace" in finding(ws, "HR303").message

    traced = handrail(ws, "trace", f"{TASK}.3", "--note", "walked the admin and guest paths")
    assert traced.exit_code == 0
    assert "Recorded your manual trace" in traced.stdout
    assert codes(ws, f"{TASK}.3") == ["HR304"]
    assert handrail(ws, "explain", f"{TASK}.3").exit_code == 0
    assert codes(ws, f"{TASK}.3") == []

    # A trace is for one content: edit the block and it is needed again.
    (auth / "check.py").write_text(
        block_file(f"{TASK}.3", "def allowed(role):\n    return role in ('admin',)\n")
    )
    assert handrail(ws, "verify", f"{TASK}.3").exit_code == 0
    assert "HR303" in codes(ws, f"{TASK}.3")


def test_trace_json_names_what_is_still_needed(project: Workspace) -> None:
    out = handrail(project, "trace", f"{TASK}.1", "--json")
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    assert data["kind"] == "trace" and data["status"] == "unverified"
    assert any("verification" in need for need in data["still_needed"])


def test_trace_and_explain_refuse_unknown_blocks(project: Workspace) -> None:
    assert handrail(project, "trace", f"{TASK}.9").exit_code == 2
    assert handrail(project, "explain", TASK).exit_code == 2
    assert handrail(project, "explain", "nonsense").exit_code == 2


def test_verify_needs_one_target(project: Workspace) -> None:
    assert handrail(project, "verify").exit_code == 2
    assert handrail(project, "verify", TASK, "--all").exit_code == 2
    unknown = handrail(project, "verify", "zzzzzz")
    assert unknown.exit_code == 2 and "no task zzzzzz" in unknown.stderr
    assert handrail(project, "verify", f"{TASK}.7").exit_code == 2


# -- trust: nothing untrusted ever runs -------------------------------------------------------


def _sentinel_project(ws: Workspace) -> Path:
    write_task(ws, OTHER_TASK, verify=sentinel_command("SENTINEL"))
    (ws.root / "extra.py").write_text(block_file(f"{OTHER_TASK}.1", "X = 1\n"))
    return ws.root / "SENTINEL"


def test_untrusted_commands_never_run_through_the_cli(project: Workspace) -> None:
    sentinel = _sentinel_project(project)
    out = handrail(project, "verify", "--all")
    assert out.exit_code == 1 and "HR403" in out.stderr
    assert not sentinel.exists()
    assert runs(project) == []


def test_untrusted_commands_never_run_through_rerun_all(project: Workspace) -> None:
    sentinel = _sentinel_project(project)
    findings = rerun_all(project, trust_commands=False)
    assert {f.code for f in findings} == {"HR403"}
    task_finding = next(f for f in findings if f.path.endswith(f"{OTHER_TASK}.toml"))
    assert task_finding.line == 4  # the `verify` line of the task file
    assert "nothing was run" in task_finding.message.lower()
    assert not sentinel.exists()
    # The explicit CI flag is what makes it run (so the check above could fail).
    # It ran; the sentinel command executes no line of extra.py, so that block is HR310.
    assert [f.code for f in rerun_all(project, trust_commands=True)] == ["HR310"]
    assert sentinel.read_text() == "ran"


def test_a_task_command_added_after_trust_does_not_run(project: Workspace) -> None:
    trust_mod.trust(project)
    sentinel = _sentinel_project(project)
    out = handrail(project, "verify", "--all")
    assert out.exit_code == 1 and not sentinel.exists()
    assert "not one you approved" in out.stderr


def test_editing_the_workflow_after_trust_blocks_every_run(project: Workspace) -> None:
    trust_mod.trust(project)
    sentinel = project.root / "SENTINEL"
    with project.workflow_path.open("a", encoding="utf-8") as handle:
        handle.write(
            "\n[[verification.by_path]]\npattern = '*.py'\n"
            f"command = {json.dumps(sentinel_command('SENTINEL'))}\n"
        )
    out = handrail(project, "verify", "--all")
    assert out.exit_code == 1 and "changed since you trusted it" in out.stderr
    assert not sentinel.exists()


def test_opening_and_checking_never_run_a_command(
    project: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentinel = _sentinel_project(project)
    trust_mod.trust(project)

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a verification command was started by a check")

    monkeypatch.setattr(runner_mod.subprocess, "Popen", refuse)
    result = run_check(project)
    assert {f.code for f in result.findings if f.code.startswith("HR3")} == {"HR300"}
    assert handrail(project, "check").exit_code == 1
    assert handrail(project, "trust", "--show").exit_code == 0
    assert not sentinel.exists()


def test_trust_show_and_revoke(project: Workspace) -> None:
    shown = handrail(project, "trust", "--show")
    assert "Nothing is trusted" in shown.stdout and "untrusted" in shown.stdout
    assert handrail(project, "trust").exit_code == 0
    shown = json.loads(handrail(project, "trust", "--show", "--json").stdout)
    assert shown["workflow_unchanged"] and all(c["trusted"] for c in shown["commands"])
    revoked = handrail(project, "trust", "--revoke")
    assert revoked.exit_code == 0 and "Forgot" in revoked.stdout
    assert not trust_mod.is_trusted(project, PYTEST_COMMAND).trusted


def test_trust_refuses_an_invalid_workflow(project: Workspace) -> None:
    project.workflow_path.write_text('extends = "default"\n[verification]\ntimeout_s = "soon"\n')
    out = handrail(project, "trust")
    assert out.exit_code == 2 and "HR400" in out.stderr
    assert trust_mod.entry_for(project) is None


def test_trust_prints_hidden_characters_visibly(project: Workspace) -> None:
    write_task(project, OTHER_TASK, verify="true\rrm -rf ~")
    out = handrail(project, "trust")
    assert "'true\\rrm -rf ~'" in out.stdout


# -- engine: hashes at start, cancel, metacharacters --------------------------------------------


def test_a_block_edited_during_the_run_stays_unverified(project: Workspace) -> None:
    script = (
        "import pathlib\np = pathlib.Path('calc.py')\n"
        "p.write_text(p.read_text().replace('a + b', 'b + a'))\n"
    )
    write_task(project, TASK, verify=f"{shlex.quote(PY)} -c {shlex.quote(script)}")
    before = run_check(project)
    assert [f.code for f in before.findings if f.code.startswith("HR3")] == ["HR300"]
    trust_mod.trust(project)
    report = verify(project, Target.parse(TASK))
    (result,) = report.block_results()
    assert result.status == "changed_during_run" and not report.ok
    (record,) = runs(project)
    assert record.passed
    assert record.blocks[f"{TASK}.1"] == report.blocks[0].content_hash  # the hash at start
    assert codes(project) == ["HR301"]


def test_metacharacters_in_a_task_command_are_literal(project: Workspace) -> None:
    command = (
        f"{shlex.quote(PY)} -c 'import sys; print(sys.argv)' ; touch S1 | touch S2 "
        "&& touch S3 > S4 $(touch S5)"
    )
    write_task(project, TASK, verify=command)
    trust_mod.trust(project)
    report = verify(project, Target.parse(TASK))
    # It passed (the command imports no block, so the block itself stays HR310).
    assert report.runs[0].result.passed
    assert not any((project.root / f"S{i}").exists() for i in range(1, 6))
    assert "'$(touch'" in report.runs[0].result.tail_text()


def test_cancel_stops_the_run_and_records_nothing(project: Workspace) -> None:
    write_task(project, TASK, verify=f"{shlex.quote(PY)} -c 'import time; time.sleep(60)'")
    trust_mod.trust(project)
    cancel = threading.Event()
    events: list[str] = []

    def progress(event: ProgressEvent) -> None:
        events.append(event.kind)
        if event.kind == "start":
            threading.Timer(0.3, cancel.set).start()

    report = verify(project, Target.parse(TASK), progress=progress, cancel=cancel)
    assert report.cancelled and report.runs[0].result.cancelled
    assert report.block_results()[0].status == "cancelled"
    assert events == ["start", "finish"]
    assert runs(project) == []


def test_a_missing_program_could_not_run_and_is_not_a_first_attempt(
    project: Workspace,
) -> None:
    # Changed in the evidence work: "could not run" (HR311), no longer a failure (HR302).
    write_task(project, TASK, verify="handrail-no-such-tool --check")
    trust_mod.trust(project)
    report = verify(project, Target.parse(TASK))
    assert report.block_results()[0].status == "could_not_run"
    (record,) = runs(project)
    assert record.exit_code is None and not record.passed and record.first_attempt == []
    assert record.could_not_run is not None and "was not found" in record.could_not_run
    assert "could not run" in finding(project, "HR311").message


def test_files_placeholder_passes_the_blocks_files(project: Workspace) -> None:
    script = "import sys; open('ARGS', 'w').write(repr(sys.argv[1:]))"
    write_task(
        project, TASK, verify=f"{shlex.quote(PY)} -c {shlex.quote(script)} {{files}} {{task}}"
    )
    (project.root / "more.py").write_text(block_file(f"{TASK}.2", "Y = 2\n"))
    trust_mod.trust(project)
    report = verify(project, Target.parse(TASK))
    assert report.runs[0].result.passed and len(report.runs) == 1
    assert (project.root / "ARGS").read_text() == repr(["calc.py", "more.py", TASK])
    assert sorted(runs(project)[0].blocks) == [f"{TASK}.1", f"{TASK}.2"]


def test_a_timed_out_run_is_recorded_as_failed(project: Workspace) -> None:
    project.workflow_path.write_text(
        project.workflow_path.read_text().replace("timeout_s = 60", "timeout_s = 0.5")
    )
    write_task(project, TASK, verify=f"{shlex.quote(PY)} -c 'import time; time.sleep(30)'")
    trust_mod.trust(project)
    report = verify(project, Target.parse(TASK))
    assert report.runs[0].result.timed_out
    (record,) = runs(project)
    assert record.timed_out and not record.passed
    assert "timed out" in finding(project, "HR302").message


def test_rerun_all_fails_the_gate_even_against_a_forged_passing_record(
    project: Workspace,
) -> None:
    (project.root / "calc.py").write_text(
        block_file(f"{TASK}.1", "def add(a, b):\n    return a - b\n")
    )
    block_hash = run_check(project).findings[0].data["content_hash"]
    future = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    forged = VerificationRun.create(
        at=future,
        task_id=TASK,
        command=["true"],
        exit_code=0,
        passed=True,
        started_at=future,
        finished_at=future,
        blocks={f"{TASK}.1": block_hash},
    )
    Ledger(project).append(forged)
    findings = rerun_all(project, trust_commands=True)
    assert [f.code for f in findings] == ["HR302"]
    assert findings[0].data["rerun"] and findings[0].path == "calc.py" and findings[0].line == 1
    assert "exited with code 1" in findings[0].message


def test_verify_rejects_unknown_targets(project: Workspace) -> None:
    with pytest.raises(VerifyError):
        Target.parse("NOT-AN-ID")
    with pytest.raises(VerifyError, match="no block"):
        verify(project, Target.parse(f"{TASK}.5"))
    with pytest.raises(VerifyError, match="no task"):
        verify(project, Target.parse("qqqqqq"))


def test_a_workspace_without_blocks_verifies_nothing(workspace: Workspace) -> None:
    out = handrail(workspace, "verify", "--all")
    assert out.exit_code == 0 and "nothing to verify" in out.stdout
    assert rerun_all(workspace, trust_commands=False) == []


def test_no_command_configured_is_a_configuration_error(project: Workspace) -> None:
    project.workflow_path.write_text(project.workflow_path.read_text().replace(PYTEST_COMMAND, ""))
    assert 'command = ""' in project.workflow_path.read_text()
    out = handrail(project, "verify", TASK)
    assert out.exit_code == 2 and "no verification command applies" in out.stdout
    findings = rerun_all(project, trust_commands=True)
    assert [f.code for f in findings] == ["HR300"]
    assert "no verification command" in findings[0].message


def test_a_run_that_could_not_start_leaves_the_first_attempt_to_the_next(
    project: Workspace,
) -> None:
    write_task(project, TASK, verify="handrail-no-such-tool")
    trust_mod.trust(project)
    verify(project, Target.parse(TASK))
    write_task(project, TASK, verify=f"{shlex.quote(PY)} -c 'raise SystemExit(1)'")
    trust_mod.trust(project)
    report = verify(project, Target.parse(TASK))
    assert report.runs[0].first_attempt == [f"{TASK}.1"]
    assert finding(project, "HR302").data["first_attempt"]


def test_duplicate_block_ids_are_not_verified(project: Workspace) -> None:
    (project.root / "copy.py").write_text(block_file(f"{TASK}.1", "Z = 3\n"))
    trust_mod.trust(project)
    out = handrail(project, "verify", TASK)
    assert out.exit_code == 2 and "used more than once" in out.stdout
    assert runs(project) == []


def test_verify_json_when_untrusted_says_nothing_ran(project: Workspace) -> None:
    out = handrail(project, "verify", "--all", "--json")
    assert out.exit_code == 1
    data = json.loads(out.stdout)
    assert data["trusted"] is False and data["ran"] is False and data["runs"] == []
    assert [f["code"] for f in data["findings"]] == ["HR403"]
    assert data["blocks"][0]["status"] == "untrusted"


def test_verbose_streams_the_command_output(project: Workspace) -> None:
    trust_mod.trust(project)
    out = handrail(project, "verify", TASK, "-v")
    assert out.exit_code == 0
    assert "1 passed" in out.stderr  # pytest's own summary line, streamed live


def test_a_read_only_ledger_runs_nothing(project: Workspace) -> None:
    sentinel = _sentinel_project(project)
    trust_mod.trust(project)
    ledger_dir = project.ledger_dir
    ledger_dir.mkdir(parents=True, exist_ok=True)
    newer = VerificationRun.create(
        task_id=TASK,
        command=["x"],
        exit_code=0,
        passed=True,
        started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        finished_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        blocks={},
    )
    data = json.loads(newer.model_dump_json(by_alias=True))
    data["schema"] = 99
    (ledger_dir / f"{newer.id}.json").write_text(json.dumps(data))
    out = handrail(project, "verify", "--all")
    assert out.exit_code == 2 and "newer Handrail" in out.stderr
    findings = rerun_all(project, trust_commands=True)
    assert {f.code for f in findings} == {"HR300"} and len(findings) == 2
    assert not sentinel.exists()


def test_trust_lists_the_commands_that_apply_here_and_marks_the_rest(
    project: Workspace,
) -> None:
    from verify_helpers import write_workflow

    write_workflow(
        project,
        PYTEST_COMMAND,
        extra=(
            '\n[[verification.by_path]]\npattern = "*.go"\ncommand = "go test ./..."\n'
            '\n[[verification.by_path]]\npattern = "calc.py"\ncommand = "make calc"\n'
        ),
    )
    out = handrail(project, "trust")
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    marker = next(i for i, line in enumerate(lines) if "no file in this repository" in line)
    above, below = "\n".join(lines[:marker]), "\n".join(lines[marker:])
    # calc.py takes "make calc"; the other files fall through to the default; no Go file here.
    assert "make calc" in above and PYTEST_COMMAND in above and "go test" not in above
    assert "go test ./..." in below
    shown = json.loads(handrail(project, "trust", "--show", "--json").stdout)
    applies = {c["command"]: c["applies_here"] for c in shown["commands"]}
    assert applies == {"go test ./...": False, "make calc": True, PYTEST_COMMAND: True}
    # Approved all the same: the marking is for reading, a Go file added later runs it.
    assert all(c["trusted"] for c in shown["commands"])


def test_verify_json_has_the_shape_the_editor_command_declares(project: Workspace) -> None:
    """`handrail verify --json` and ``handrail.verify`` share `VerifyReportJson` down to each
    run, block, coverage record and probe: a key renamed on one side fails here."""
    from command_shapes import contract, shape_errors

    from handrail.verify.run import VerifyReportJson

    ws = project
    assert handrail(ws, "trust").exit_code == 0
    commands, objects = contract({"verify": VerifyReportJson})
    passed = handrail(ws, "verify", TASK, "--json", "--probe")
    assert passed.exit_code == 0, passed.output
    payload = json.loads(passed.stdout)
    assert shape_errors(payload, commands["verify"], objects) == []
    assert payload["blocks"][0]["lines"]["measured"] is True
    assert payload["runs"][0]["coverage"][f"{TASK}.1"]["outcome"] == "passed"
    assert payload["probe"][0]["block"] == f"{TASK}.1" and "mutants" in payload["probe"][0]

    (ws.root / "calc.py").write_text(block_file(f"{TASK}.1", "def add(a, b):\n    return a - b\n"))
    failed = handrail(ws, "verify", TASK, "--json")
    assert failed.exit_code == 1
    payload = json.loads(failed.stdout)
    assert shape_errors(payload, commands["verify"], objects) == []
    # What a failed run points at is in the CLI's JSON too, not only in the editor's answer.
    assert payload["runs"][0]["cause"] == "code"
    assert payload["runs"][0]["advice"] == "Fix the block (or the test) and verify again."
