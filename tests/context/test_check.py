from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tiktoken
from ctxdata import ALL_VALUES, AWS_KEY, GITHUB_TOKEN, PEM, FakeIgnore, make_workflow

import handrail.context.resolve as resolve_mod
from handrail.context.cache import ContextCache
from handrail.context.check import ContextReport, check_context
from handrail.context.secrets import SecretScanner
from handrail.context.tokens import TokenCounter
from handrail.findings import Finding, Severity
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

TASK = ".handrail/tasks/k3f9qa.toml"


def write(ws: Workspace, rel: str, data: bytes | str) -> Path:
    path = ws.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


def task_file(ws: Workspace, entries: list[str]) -> list[int]:
    """Write the task file; return the line of each entry (the first is on line 3)."""
    lines = ['spec = "Given a list, return it sorted."', "context = ["]
    lines += [f"  {json.dumps(e)}," for e in entries]
    lines += ["]", ""]
    write(ws, TASK, "\n".join(lines))
    return [3 + i for i in range(len(entries))]


def run(
    ws: Workspace,
    entries: list[str],
    workflow: Workflow | None = None,
    *,
    ignore: Any = None,
    **kwargs: Any,
) -> ContextReport:
    lines = task_file(ws, entries)
    return check_context(
        ws,
        workflow or make_workflow(),
        entries,
        task_rel=TASK,
        entry_lines=lines,
        ignore=ignore if ignore is not None else FakeIgnore([]),
        counter=kwargs.pop("counter", None) or TokenCounter(cache=ContextCache(ws.root / ".cache")),
        **kwargs,
    )


def codes(report: ContextReport) -> list[str]:
    return [f.code for f in report.findings]


def only(report: ContextReport, code: str) -> Finding:
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, report.findings
    return found[0]


def cl100k(text: str) -> int:
    from handrail.context.tokens import load_encoding

    return len(load_encoding("cl100k_base").main.encode_ordinary(text))


class OpenSpy:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real = os.open

        def spy(path: Any, *args: Any, **kwargs: Any) -> int:
            self.paths.append(os.fspath(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(resolve_mod.os, "open", spy)


# -- a clean context -----------------------------------------------------------------------


def test_clean_context(workspace: Workspace) -> None:
    write(workspace, "src/a.py", "def a():\n    return 1\n")
    write(workspace, "src/b.py", "".join(f"line_{i} = {i}\n" for i in range(1, 21)))
    report = run(workspace, ["src/a.py", "./src/b.py#L2-L4"])
    assert report.findings == []
    assert report.ok
    assert [e.status for e in report.entries] == ["ok", "ok"]
    assert report.text_of("./src/b.py#L2-L4") == "line_2 = 2\nline_3 = 3\nline_4 = 4\n"
    a_tokens = cl100k("def a():\n    return 1\n")
    range_tokens = cl100k("line_2 = 2\nline_3 = 3\nline_4 = 4\n")
    assert [e.tokens for e in report.entries] == [a_tokens, range_tokens]
    assert report.total_tokens == a_tokens + range_tokens
    assert (report.encoding_used, report.encoding_note, report.drop) == ("cl100k_base", None, [])
    assert report.entries[1].path == "src/b.py"
    assert (report.entries[1].start_line, report.entries[1].end_line) == (2, 4)


def test_no_entries(workspace: Workspace) -> None:
    report = run(workspace, [])
    assert (report.entries, report.findings, report.total_tokens) == ([], [], 0)


# -- HR200 ---------------------------------------------------------------------------------


def test_hr200_over_budget(workspace: Workspace) -> None:
    write(workspace, "big.txt", "word " * 300)
    write(workspace, "small.txt", "word " * 50)
    write(workspace, "tiny.txt", "word")
    wf = make_workflow(max_tokens=200, max_file_tokens=10_000)
    report = run(workspace, ["small.txt", "big.txt", "tiny.txt"], wf)
    f = only(report, "HR200")
    assert f.severity is Severity.ERROR
    assert (f.path, f.line) == (TASK, 3)
    assert f.data["drop"] == ["big.txt"] == report.drop
    assert f.data["over_by"] == report.total_tokens - 200
    assert f"{report.total_tokens - 200:,} over the budget of 200" in f.message
    assert "loses the constraint" in f.message


def test_hr200_exactly_at_budget_is_fine(workspace: Workspace) -> None:
    write(workspace, "a.txt", "word " * 40)
    total = cl100k("word " * 40)
    report = run(workspace, ["a.txt"], make_workflow(max_tokens=total))
    assert "HR200" not in codes(report)
    assert report.drop == []


def test_hr200_on_context_line_when_given(workspace: Workspace) -> None:
    write(workspace, "a.txt", "word " * 40)
    report = run(workspace, ["a.txt"], make_workflow(max_tokens=5), context_line=2)
    assert only(report, "HR200").line == 2


# -- HR201 ---------------------------------------------------------------------------------


def test_hr201_too_many_files(workspace: Workspace) -> None:
    names = [f"f{i}.txt" for i in range(4)]
    for i, name in enumerate(names):
        write(workspace, name, "x " * (i + 1))
    report = run(workspace, names, make_workflow(max_files=3))
    f = only(report, "HR201")
    assert f.data["drop"] == ["f3.txt"]
    assert "4 context files, 1 over the cap of 3" in f.message
    assert f.line == 3


def test_hr201_at_the_cap_is_fine(workspace: Workspace) -> None:
    names = [f"f{i}.txt" for i in range(3)]
    for name in names:
        write(workspace, name, "x")
    assert "HR201" not in codes(run(workspace, names, make_workflow(max_files=3)))


# -- HR202 ---------------------------------------------------------------------------------


def test_hr202_one_file_over_its_cap(workspace: Workspace) -> None:
    write(workspace, "long.py", "".join(f"value_{i} = {i}\n" for i in range(400)))
    report = run(workspace, ["long.py"], make_workflow(max_file_tokens=500))
    f = only(report, "HR202")
    entry = report.entries[0]
    assert entry.status == "over-cap"
    assert entry.tokens is not None and entry.tokens > 500
    assert "per-file cap of 500" in f.message
    assert f.data["suggest"].startswith("long.py#L1-L")
    # The suggested range itself fits under the cap.
    fix = run(workspace, [f.data["suggest"]], make_workflow(max_file_tokens=500))
    assert "HR202" not in codes(fix)


def test_hr202_line_range_counts_only_its_lines(workspace: Workspace) -> None:
    write(workspace, "long.py", "".join(f"value_{i} = {i}\n" for i in range(400)))
    report = run(workspace, ["long.py#L1-L10"], make_workflow(max_file_tokens=500))
    assert report.findings == []
    expected = cl100k("".join(f"value_{i} = {i}\n" for i in range(10)))
    assert report.entries[0].tokens == expected


# -- HR203 ---------------------------------------------------------------------------------


def test_hr203_ignored_entry_is_never_read(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(workspace, ".env", f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    spy = OpenSpy(monkeypatch)
    report = run(workspace, [".env"], ignore=FakeIgnore([".env", "*.pem"]))
    f = only(report, "HR203")
    assert report.entries[0].status == "ignored"
    assert report.entries[0].tokens is None
    assert report.text_of(".env") is None
    assert "'.env' from [context].ignore" in f.message
    assert f.data == {
        "entry": ".env",
        "pattern": ".env",
        "source": "[context].ignore",
        "matched": ".env",
    }
    assert spy.paths == []
    assert "HR204" not in codes(report)


def test_hr203_folder_pattern(workspace: Workspace) -> None:
    write(workspace, "secrets/prod/db.txt", "password")
    report = run(workspace, ["secrets/prod/db.txt"], ignore=FakeIgnore(["secrets/"]))
    f = only(report, "HR203")
    assert "is inside secrets/" in f.message
    assert f.data["matched"] == "secrets/"


def test_hr203_gitignore_source_is_named(workspace: Workspace) -> None:
    write(workspace, "build/out.js", "x")
    report = run(workspace, ["build/out.js"], ignore=FakeIgnore(["build/"], ".gitignore:3"))
    assert "from .gitignore:3" in only(report, "HR203").message


def test_hr203_through_a_symlink(workspace: Workspace) -> None:
    write(workspace, "keys/server.pem", PEM)
    (workspace.root / "notes.txt").symlink_to(workspace.root / "keys" / "server.pem")
    report = run(workspace, ["notes.txt"], ignore=FakeIgnore(["*.pem"]))
    f = only(report, "HR203")
    assert "symlink to keys/server.pem" in f.message


def test_hr203_not_matching(workspace: Workspace) -> None:
    write(workspace, "src/env.py", "x = 1\n")
    report = run(workspace, ["src/env.py"], ignore=FakeIgnore([".env", "secrets/"]))
    assert report.findings == []


def test_hr203_turned_off_reads_the_file(workspace: Workspace) -> None:
    write(workspace, ".env", "DEBUG=1\n")
    wf = make_workflow(severity={"HR203": "off"})
    report = run(workspace, [".env"], wf, ignore=FakeIgnore([".env"]))
    assert report.findings == []
    assert report.entries[0].status == "ok"


def test_default_pack_ignores(workspace: Workspace) -> None:
    pack = Path(__file__).resolve().parents[2] / "rules" / "default.toml"
    rules = tomllib.loads(pack.read_text())["context"]
    wf = make_workflow(**{k: v for k, v in rules.items() if k != "rules"})
    ignore = FakeIgnore(wf.context.ignore)
    paths = [".env", "node_modules/x/index.js", "package-lock.json", "id_rsa", "src/ok.py"]
    for p in paths:
        write(workspace, p, "x\n")
    report = run(workspace, paths, wf, ignore=ignore)
    assert [e.status for e in report.entries] == ["ignored"] * 4 + ["ok"]


def test_real_ignore_matcher_when_none_is_given(workspace: Workspace) -> None:
    pytest.importorskip("handrail.ignore")
    write(workspace, ".gitignore", "generated/\n")
    write(workspace, "generated/api.py", "x = 1\n")
    write(workspace, ".env", "x\n")
    entries = ["generated/api.py", ".env"]
    lines = task_file(workspace, entries)
    report = check_context(
        workspace,
        make_workflow(ignore=[".env"]),
        entries,
        task_rel=TASK,
        entry_lines=lines,
    )
    assert [e.status for e in report.entries] == ["ignored", "ignored"]


# -- HR204 ---------------------------------------------------------------------------------


def test_hr204_secrets_block_and_values_never_leak(workspace: Workspace) -> None:
    write(
        workspace,
        "src/settings.py",
        f'DEBUG = True\nAWS_KEY = "{AWS_KEY}"\nGH = "{GITHUB_TOKEN}"\n{PEM}',
    )
    report = run(workspace, ["src/settings.py"])
    blocking = [f for f in report.findings if f.code == "HR204" and f.data["blocking"]]
    assert len(blocking) == 1
    f = blocking[0]
    assert f.severity is Severity.ERROR
    assert report.entries[0].status == "secret"
    assert report.text_of("src/settings.py") is None
    assert {(s["type"], s["line"]) for s in f.data["secrets"]} >= {
        ("AWS Access Key", 2),
        ("GitHub Token", 3),
        ("Private Key", 4),
    }
    assert "an AWS Access Key on line 2" in f.message
    everything = json.dumps([[x.message, x.data] for x in report.findings]) + repr(report)
    for value in ALL_VALUES:
        assert value not in everything


def test_hr204_in_a_line_range_reports_file_lines(workspace: Workspace) -> None:
    write(workspace, "cfg.py", "a = 1\n" * 9 + f'key = "{AWS_KEY}"\n')
    report = run(workspace, ["cfg.py#L8-L10"])
    f = only(report, "HR204")
    assert f.data["secrets"] == [{"type": "AWS Access Key", "line": 10}]


def test_hr204_outside_the_range_is_not_reported(workspace: Workspace) -> None:
    write(workspace, "cfg.py", "a = 1\n" * 9 + f'key = "{AWS_KEY}"\n')
    report = run(workspace, ["cfg.py#L1-L9"])
    assert report.findings == []


def test_hr204_heuristic_hits_only_warn(workspace: Workspace) -> None:
    write(
        workspace,
        "h.py",
        'blob = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\n',
    )
    report = run(workspace, ["h.py"])
    f = only(report, "HR204")
    assert f.severity is Severity.WARNING
    assert f.data["blocking"] is False
    assert report.entries[0].status == "ok"
    assert report.text_of("h.py") is not None
    assert report.ok


def test_hr204_severity_can_be_lowered(workspace: Workspace) -> None:
    write(workspace, "s.py", f'k = "{AWS_KEY}"\n')
    report = run(workspace, ["s.py"], make_workflow(severity={"HR204": "info"}))
    assert only(report, "HR204").severity is Severity.INFO
    # A lower severity does not send a secret to a model.
    assert report.text_of("s.py") is None


def test_scan_secrets_off_never_scans(workspace: Workspace) -> None:
    write(workspace, "s.py", f'k = "{AWS_KEY}"\n')

    class Refuse(SecretScanner):
        def scan(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("scanned although scan_secrets is false")

    report = run(workspace, ["s.py"], make_workflow(scan_secrets=False), scanner=Refuse())
    assert report.findings == []
    assert report.entries[0].status == "ok"


# -- HR205 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "status"),
    [
        ("missing.py", "missing"),
        ("../../etc/passwd", "outside"),
        ("/etc/passwd", "outside"),
        ("src", "not-a-file"),
        ("src/a.py#L5-L9", "missing"),
        ("src/a.py#L9-L5", "invalid"),
        ("src/a.py#bad", "invalid"),
    ],
)
def test_hr205(workspace: Workspace, entry: str, status: str) -> None:
    write(workspace, "src/a.py", "one\ntwo\n")
    report = run(workspace, [entry])
    f = only(report, "HR205")
    assert report.entries[0].status == status
    assert report.entries[0].tokens is None
    assert report.text_of(entry) is None
    assert (f.path, f.line, f.severity) == (TASK, 3, Severity.ERROR)
    assert f.data["entry"] == entry


def test_hr205_symlinked_folder_out(workspace: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "home-ssh"
    outside.mkdir()
    (outside / "id_ed25519").write_text("secret")
    (workspace.root / "config").symlink_to(outside, target_is_directory=True)
    report = run(workspace, ["config/id_ed25519"])
    assert report.entries[0].status == "outside"
    assert "outside the workspace" in only(report, "HR205").message


@pytest.mark.timeout(60)
def test_hr205_fifo(workspace: Workspace) -> None:
    os.mkfifo(workspace.root / "fifo")
    report = run(workspace, ["fifo"])
    assert report.entries[0].status == "not-a-file"


def test_hr205_dev_zero_symlink(workspace: Workspace) -> None:
    (workspace.root / "zeros").symlink_to("/dev/zero")
    report = run(workspace, ["zeros"])
    assert report.entries[0].status == "outside"


def test_hr205_turned_off_keeps_the_status(workspace: Workspace) -> None:
    report = run(workspace, ["missing.py"], make_workflow(severity={"HR205": "off"}))
    assert report.findings == []
    assert report.entries[0].status == "missing"


# -- HR206 ---------------------------------------------------------------------------------


def test_hr206_latin1_with_a_key_is_never_clean(workspace: Workspace) -> None:
    write(
        workspace, "legacy.env", f"# r\xe9sum\xe9\nAWS_ACCESS_KEY_ID={AWS_KEY}\n".encode("latin-1")
    )
    report = run(workspace, ["legacy.env"])
    f = only(report, "HR206")
    assert f.severity is Severity.ERROR
    assert report.entries[0].status == "unscannable"
    assert report.text_of("legacy.env") is None
    assert not report.ok
    assert AWS_KEY not in f.message


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("text\n".encode("utf-16"), "utf-16"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    ],
)
def test_hr206_not_text(workspace: Workspace, data: bytes, reason: str) -> None:
    write(workspace, "file.dat", data)
    report = run(workspace, ["file.dat"])
    assert only(report, "HR206").data["reason"] == reason


def test_hr206_too_large_sparse_file(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with open(workspace.root / "huge.sql", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    spy = OpenSpy(monkeypatch)
    report = run(workspace, ["huge.sql"])
    f = only(report, "HR206")
    assert report.entries[0].status == "too-large"
    assert f.data["max_file_bytes"] == 2_000_000
    assert str(workspace.root / "huge.sql") not in spy.paths


# -- placement and the rest ------------------------------------------------------------------


def test_findings_point_at_the_entry_string(workspace: Workspace) -> None:
    report = run(workspace, ["a.py", "gone/b.py"])
    f = next(x for x in report.findings if x.line == 4)
    # Line 4 is `  "gone/b.py",`: the string starts at column 4 (after two spaces and a quote).
    assert (f.line, f.column, f.end_line, f.end_column) == (4, 4, 4, 4 + len("gone/b.py"))


def test_unsaved_task_text_is_used_for_columns(workspace: Workspace) -> None:
    lines = task_file(workspace, ["x.py"])
    report = check_context(
        workspace,
        make_workflow(),
        ["x.py"],
        task_rel=TASK,
        entry_lines=lines,
        ignore=FakeIgnore([]),
        task_text='a = 1\nb = 2\ncontext = [        "x.py"]\n',
    )
    assert report.findings[0].column == 21


def test_missing_entry_lines_fall_back_to_the_first(workspace: Workspace) -> None:
    write(workspace, "a.py", "x\n")
    report = check_context(
        workspace,
        make_workflow(),
        ["a.py", "b.py"],
        task_rel=TASK,
        entry_lines=[7],
        ignore=FakeIgnore([]),
    )
    assert [e.line for e in report.entries] == [7, 7]
    assert only(report, "HR205").line == 7


def test_encoding_fallback_is_reported(workspace: Workspace, tmp_path: Path) -> None:
    write(workspace, "a.py", "print('hi')\n")
    counter = TokenCounter("no_such_encoding", "cl100k_base", cache=ContextCache(tmp_path / "c"))
    report = run(workspace, ["a.py"], counter=counter)
    assert report.encoding_used == "cl100k_base"
    assert report.encoding_note is not None and "no_such_encoding" in report.encoding_note


def test_finding_paths_and_data_are_json(workspace: Workspace) -> None:
    write(workspace, "big.txt", "word " * 300)
    write(workspace, "s.py", f'k = "{AWS_KEY}"\n')
    write(workspace, "u.txt", b"\xff\xfe\x00")
    wf = make_workflow(max_tokens=10, max_files=2)
    report = run(
        workspace, ["big.txt", "s.py", "u.txt", "../x", ".env"], wf, ignore=FakeIgnore([".env"])
    )
    assert set(codes(report)) == {"HR200", "HR201", "HR203", "HR204", "HR205", "HR206"}
    for f in report.findings:
        assert f.path == TASK
        json.dumps(f.data)
        json.dumps(f.as_json())


def test_warm_check_does_not_encode_or_scan(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        write(workspace, f"m{i}.py", f"def f{i}():\n    return {i}\n")
    entries = [f"m{i}.py" for i in range(5)]
    counter = TokenCounter(cache=ContextCache(workspace.root / ".cache"))
    scanner = SecretScanner(use_cache=False)
    first = run(workspace, entries, counter=counter, scanner=scanner)
    calls: list[str] = []
    real = tiktoken.Encoding.encode_ordinary
    monkeypatch.setattr(
        tiktoken.Encoding, "encode_ordinary", lambda enc, t: calls.append(t) or real(enc, t)
    )
    second = run(workspace, entries, counter=counter, scanner=scanner)
    assert [e.tokens for e in second.entries] == [e.tokens for e in first.entries]
    assert calls == []
    assert scanner.scanned == 5


def test_scanner_failure_fails_closed(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handrail.context.secrets as secrets_mod

    write(workspace, "odd.py", f'k = "{AWS_KEY}"\n')

    def broken(text: str, filename: str, **kwargs: Any) -> Any:
        raise ValueError(f"choked on {text}")

    monkeypatch.setattr(secrets_mod, "_raw_hits", broken)
    report = run(workspace, ["odd.py"], scanner=SecretScanner(use_cache=False))
    f = only(report, "HR206")
    assert report.entries[0].status == "unscannable"
    assert report.text_of("odd.py") is None
    assert "ValueError" in f.message
    assert AWS_KEY not in f.message
