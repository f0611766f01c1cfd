"""Task ids, task files (write, load, round-trip, positions) and broken files as HR100."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handrail.findings import Severity
from handrail.tasks import files as tasks_module
from handrail.tasks.files import (
    check_task_source,
    create_task,
    create_template_task,
    load_all_tasks,
    load_task,
    parse_task,
    render_task,
    save_task,
)
from handrail.tasks.findings import check_task
from handrail.tasks.model import (
    TASK_ID_RE,
    LoadedTask,
    Task,
    TaskFileError,
    TaskNotFound,
    is_task_id,
    new_task_id,
)
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

GOOD = (
    "Given a CSV header line, return the list of column names. "
    "It must keep quoted commas and follow the pattern of parse_row in src/csv_utils.py."
)
NOW = dt.datetime(2026, 11, 25, 16, 22, 7, 123456, tzinfo=dt.UTC)


def listing(ws: Workspace) -> list[str]:
    return sorted(os.listdir(ws.tasks_dir))


def write(ws: Workspace, name: str, text: str | bytes) -> Path:
    path = ws.tasks_dir / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


# --- ids ------------------------------------------------------------------------------------


def test_task_id_shape() -> None:
    for good in ["k3fzqa", "abcdef", "234567", "a2b3c4"]:
        assert is_task_id(good) and TASK_ID_RE.match(good)
    for bad in ["", "abcde", "abcdefg", "ABCDEF", "abcde1", "abcde8", "abc-ef", "abcdef\n", ".."]:
        assert not is_task_id(bad)


@given(st.sets(st.from_regex(TASK_ID_RE, fullmatch=True), max_size=50))
def test_new_ids_are_well_formed_and_fresh(existing: set[str]) -> None:
    task_id = new_task_id(existing)
    assert is_task_id(task_id)
    assert task_id not in existing


def test_new_id_retries_on_collision(monkeypatch: pytest.MonkeyPatch) -> None:
    # The random source first yields an id that is taken, then a fresh one.
    letters = iter("aaaaaa" + "aaaaaa" + "bbbbbb")
    monkeypatch.setattr(secrets, "choice", lambda _alphabet: next(letters))
    assert new_task_id(["aaaaaa"]) == "bbbbbb"


def test_create_task_avoids_ids_already_in_the_folder(
    workspace: Workspace, default_workflow: Workflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = create_task(workspace, default_workflow, GOOD, []).task
    assert first is not None
    taken = first.task.id
    letters = iter(taken + "cccccc")
    monkeypatch.setattr(secrets, "choice", lambda _alphabet: next(letters))
    second = create_task(workspace, default_workflow, GOOD, []).task
    assert second is not None and second.task.id == "cccccc"
    assert load_task(workspace, taken).task.spec == GOOD


def test_many_ids_are_unique() -> None:
    ids: set[str] = set()
    for _ in range(2000):
        ids.add(new_task_id(ids))
    assert len(ids) == 2000


# --- create_task ----------------------------------------------------------------------------


def test_create_task_writes_a_readable_file(
    workspace: Workspace, default_workflow: Workflow
) -> None:
    created = create_task(
        workspace,
        default_workflow,
        "  " + GOOD + "\n",
        ["src/csv_utils.py", "tests/test_csv.py#L10-L40"],
        verify="python -m pytest -q tests/test_csv.py",
        author="Ada Tester",
        now=NOW,
    )
    assert created.findings == []
    loaded = created.task
    assert loaded is not None
    task = loaded.task
    assert task.spec == GOOD
    assert task.created == NOW.replace(microsecond=0)
    assert loaded.rel == f".handrail/tasks/{task.id}.toml"
    assert loaded.path == workspace.tasks_dir / f"{task.id}.toml"
    text = loaded.path.read_text(encoding="utf-8")
    assert text.startswith("# Handrail task")
    assert f'id = "{task.id}"' in text
    assert "spec = '''\n" + GOOD + "'''" in text  # long: multi-line, starting on its own line
    assert 'context = [\n    "src/csv_utils.py",\n    "tests/test_csv.py#L10-L40",\n]' in text
    assert 'verify = "python -m pytest -q tests/test_csv.py"' in text
    assert "created = 2026-11-25T16:22:07Z" in text
    assert "\r" not in text and text.endswith("\n")
    assert load_task(workspace, task.id) == loaded
    lines = text.split("\n")
    assert lines[loaded.spec_line - 1].startswith("spec = ")
    assert [lines[n - 1].strip() for n in loaded.context_lines] == [
        '"src/csv_utils.py",',
        '"tests/test_csv.py#L10-L40",',
    ]
    assert loaded.verify_line is not None
    assert lines[loaded.verify_line - 1].startswith("verify = ")


def test_short_spec_stays_on_one_line(workspace: Workspace) -> None:
    loaded = save_task(workspace, Task(id="abcdef", spec="Return 1."))
    assert 'spec = "Return 1."\n' in loaded.path.read_text(encoding="utf-8")
    assert loaded.spec_start == (loaded.spec_line, len('spec = "') + 1)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "   ",
        "Given <inputs>, return <outputs>. It must <the constraint that matters> and follow "
        "the pattern of <existing code>.",
        GOOD + " One. Two. Three.",
    ],
)
def test_create_task_refuses_and_writes_nothing(
    workspace: Workspace, default_workflow: Workflow, spec: str
) -> None:
    before = listing(workspace)
    created = create_task(workspace, default_workflow, spec, ["src/a.py"])
    assert created.task is None
    assert any(f.severity is Severity.ERROR for f in created.findings)
    assert listing(workspace) == before


def test_create_task_writes_with_warnings_and_returns_them(
    workspace: Workspace, default_workflow: Workflow
) -> None:
    created = create_task(workspace, default_workflow, GOOD + " Log each rejected line.", [])
    assert created.task is not None
    assert [f.code for f in created.findings] == ["HR101"]
    assert created.findings[0].severity is Severity.WARNING
    assert created.findings[0].path == created.task.rel
    assert created.task.path.exists()


def test_create_task_follows_severity_overrides(
    workspace: Workspace, make_workflow: Callable[..., Workflow]
) -> None:
    workflow = make_workflow({"HR103": "warning", "HR100": "off"})
    created = create_task(workspace, workflow, GOOD.replace("names", "names TODO"), [])
    assert created.task is not None
    assert [f.severity for f in created.findings] == [Severity.WARNING]
    assert create_task(workspace, workflow, "", []).task is not None  # HR100 is off


def test_create_task_refuses_text_that_is_not_unicode(
    workspace: Workspace, default_workflow: Workflow
) -> None:
    created = create_task(workspace, default_workflow, GOOD + " \udcff", [])
    assert created.task is None
    (finding,) = created.findings
    assert finding.code == "HR100" and "Unicode" in finding.message
    assert listing(workspace) == []


def test_create_task_makes_the_tasks_folder(tmp_path: Path, default_workflow: Workflow) -> None:
    ws = Workspace.at(tmp_path)
    created = create_task(ws, default_workflow, GOOD, [])
    assert created.task is not None and created.task.path.is_file()


def test_create_template_task(workspace: Workspace, default_workflow: Workflow) -> None:
    loaded = create_template_task(workspace, default_workflow, context=["src/a.py"], now=NOW)
    assert loaded.task.spec == default_workflow.spec.template
    assert load_task(workspace, loaded.task.id) == loaded
    findings = check_task(loaded, default_workflow)
    (finding,) = [f for f in findings if f.code == "HR103"]
    assert finding.data["template"] is True
    assert finding.path == loaded.rel


# --- round trip -----------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=200)
_line = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
_datetimes = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
).map(lambda moment: moment.replace(microsecond=0))

_tasks = st.builds(
    Task,
    id=st.from_regex(TASK_ID_RE, fullmatch=True),
    spec=st.one_of(
        _text,
        st.sampled_from(["'''", '"""', "a'''b\"\"\"c\\", "ends with '", 'ends with "', "\r\n"]),
    ),
    context=st.lists(_line, max_size=5),
    verify=st.none() | _line.filter(str.strip),
    risk=st.none() | _line,
    created=st.none() | _datetimes,
    author=st.none() | _line,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_tasks)
def test_write_then_load_is_equal(workspace: Workspace, task: Task) -> None:
    written = save_task(workspace, task)
    loaded = load_task(workspace, task.id)
    assert loaded.task == task
    assert loaded == written
    text = loaded.path.read_text(encoding="utf-8")
    lines = text.split("\n")
    assert len(loaded.context_lines) == len(task.context)
    for number, entry in zip(loaded.context_lines, task.context, strict=True):
        rendered = tomlkit.string(entry).as_string()
        assert rendered in lines[number - 1] or entry in lines[number - 1]
    if loaded.spec_start is not None:
        line, column = loaded.spec_start
        offset = sum(len(part) + 1 for part in lines[: line - 1]) + column - 1
        assert text[offset : offset + len(task.spec)] == task.spec
    else:
        # Only a spec that needs escapes is not stored verbatim: TOML escapes control
        # characters (U+0000-U+001F, U+007F) in a basic string, tabs included.
        assert any(ch in task.spec for ch in '\\"\r') or any(
            (ord(ch) < 32 or ord(ch) == 0x7F) and ch != "\n" for ch in task.spec
        )


def test_spec_with_line_breaks_is_multiline_and_verbatim(workspace: Workspace) -> None:
    spec = "Given a path,\nreturn rows.\nIt must stream like parse_row."
    loaded = save_task(workspace, Task(id="abcdef", spec=spec))
    assert loaded.spec_start == (loaded.spec_line + 1, 1)


# --- positions of checks in the file --------------------------------------------------------


def test_check_task_points_inside_the_file(
    workspace: Workspace, default_workflow: Workflow
) -> None:
    write(
        workspace,
        "abcdef.toml",
        '# my task\nid = "abcdef"\nspec = """\nGiven a path,\nreturn <outputs> like parse_row.\n'
        '"""\ncontext = []\n',
    )
    loaded = load_task(workspace, "abcdef")
    assert loaded.spec_line == 3 and loaded.spec_start == (4, 1)
    finding = next(f for f in check_task(loaded, default_workflow) if f.code == "HR103")
    assert (finding.line, finding.column) == (5, len("return ") + 1)
    assert finding.end_column == len("return <outputs>") + 1


def test_check_task_on_an_escaped_spec_anchors_on_the_spec_line(
    workspace: Workspace, default_workflow: Workflow
) -> None:
    write(workspace, "abcdef.toml", 'id = "abcdef"\n\nspec = "Say \\"hi\\"\\n<outputs>"\n')
    loaded = load_task(workspace, "abcdef")
    assert loaded.spec_start is None
    findings = check_task(loaded, default_workflow)
    assert findings and all(f.line == 3 and f.end_line is None for f in findings)


def test_check_task_source_on_an_editor_buffer(default_workflow: Workflow, tmp_path: Path) -> None:
    path = tmp_path / "abcdef.toml"
    rel = ".handrail/tasks/abcdef.toml"
    loaded, findings = check_task_source('spec = "TODO"\n', default_workflow, path=path, rel=rel)
    assert loaded is not None and loaded.task.id == "abcdef"
    assert "HR103" in [f.code for f in findings]
    loaded, findings = check_task_source("spec = \n", default_workflow, path=path, rel=rel)
    assert loaded is None
    assert [(f.code, f.line) for f in findings] == [("HR100", 1)]


def test_layout_of_a_hand_written_file(workspace: Workspace) -> None:
    text = (
        "# a comment with 'quotes' and [brackets] and spec = \"no\"\n"  # 1
        "id = 'abcdef'   # trailing comment\n"  # 2
        "\n"  # 3
        "\"spec\" = '''\n"  # 4
        "Given a path ] [ # not a comment,\n"  # 5
        "return rows.'''\n"  # 6
        "context = [ # entries\n"  # 7
        '  "src/a.py", "src/b.py",\n'  # 8
        "  # 'src/c.py',\n"  # 9
        "  '''src/d.py''',\n"  # 10
        '  """src/e.py""" ]\n'  # 11
        'verify = "pytest -q \\"x\\""\n'  # 12
    )
    write(workspace, "abcdef.toml", text)
    loaded = load_task(workspace, "abcdef")
    assert loaded.task.context == ["src/a.py", "src/b.py", "src/d.py", "src/e.py"]
    assert loaded.context_lines == [8, 8, 10, 11]
    assert loaded.spec_line == 4 and loaded.spec_start == (5, 1)
    assert loaded.verify_line == 12
    assert loaded.key_lines == {"id": 2, "spec": 4, "context": 7, "verify": 12}


def test_missing_id_is_taken_from_the_file_name(workspace: Workspace) -> None:
    write(workspace, "abcdef.toml", 'spec = "x"\n')
    assert load_task(workspace, "abcdef").task.id == "abcdef"


def test_byte_order_mark_and_crlf_are_accepted(workspace: Workspace) -> None:
    write(
        workspace,
        "abcdef.toml",
        b'\xef\xbb\xbfid = "abcdef"\r\nspec = "x"\r\ncontext = [\r\n"a"]\r\n',
    )
    loaded = load_task(workspace, "abcdef")
    assert loaded.spec_line == 2 and loaded.context_lines == [4]


def test_blank_verify_means_none(workspace: Workspace) -> None:
    write(workspace, "abcdef.toml", 'spec = "x"\nverify = "  "\n')
    assert load_task(workspace, "abcdef").task.verify is None


# --- broken files ---------------------------------------------------------------------------

BROKEN: list[tuple[str, str, bytes, int, str]] = [
    # (name, file name, content, expected line, expected kind)
    ("bad toml", "abcdef.toml", b'id = "abcdef"\nspec = "x\ncontext = []\n', 2, "toml"),
    # At the bracket that never closes (tomllib only says "at end of document").
    ("unclosed array", "abcdef.toml", b'spec = "x"\n\ncontext = [\n "a",\n', 3, "toml"),
    ("duplicate key", "abcdef.toml", b'spec = "x"\nspec = "y"\n', 2, "toml"),
    ("not utf-8", "abcdef.toml", b'id = "abcdef"\n\nspec = "caf\xe9"\n', 3, "encoding"),
    ("utf-16", "abcdef.toml", "spec = 'x'\n".encode("utf-16"), 1, "encoding"),
    ("spec not a string", "abcdef.toml", b'id = "abcdef"\nspec = 42\n', 2, "schema"),
    # At the [spec] header that makes it a table (the old lexer skipped headers: line 1).
    ("spec a table", "abcdef.toml", b'id = "abcdef"\n[spec]\ntext = "x"\n', 2, "schema"),
    ("context not an array", "abcdef.toml", b'spec = "x"\ncontext = "src/a.py"\n', 2, "schema"),
    (
        "context entry wrong type",
        "abcdef.toml",
        b'spec = "x"\ncontext = [\n  "src/a.py",\n  42,\n]\n',
        4,
        "schema",
    ),
    ("verify wrong type", "abcdef.toml", b'spec = "x"\n\n\nverify = ["a"]\n', 4, "schema"),
    ("created wrong type", "abcdef.toml", b'spec = "x"\ncreated = "yesterday"\n', 2, "schema"),
    ("unknown key", "abcdef.toml", b'spec = "x"\ncontext = []\nnotes = "hi"\n', 3, "schema"),
    ("misspelt key", "abcdef.toml", b'spec = "x"\ncontxt = ["a"]\n', 2, "schema"),
    ("no spec", "abcdef.toml", b'id = "abcdef"\ncontext = []\n', 1, "schema"),
    ("id mismatch", "abcdef.toml", b'# copied\n\nid = "zzzzzz"\nspec = "x"\n', 3, "id_mismatch"),
    ("id malformed", "abcdef.toml", b'spec = "x"\nid = "ABC"\n', 2, "schema"),
    ("file name not an id", "notes.toml", b'spec = "x"\n', 1, "bad_id"),
    ("empty file", "abcdef.toml", b"", 1, "schema"),
]


@pytest.mark.parametrize(
    ("name", "filename", "content", "line", "kind"), BROKEN, ids=[row[0] for row in BROKEN]
)
def test_broken_file_is_hr100_at_the_right_line(
    workspace: Workspace,
    default_workflow: Workflow,
    name: str,
    filename: str,
    content: bytes,
    line: int,
    kind: str,
) -> None:
    write(workspace, filename, content)
    write(workspace, "bbbbbb.toml", 'spec = "A healthy neighbour."\n')
    result = load_all_tasks(workspace, default_workflow)
    assert list(result.tasks) == ["bbbbbb"]
    first = result.findings[0]
    assert first.code == "HR100" and first.severity is Severity.ERROR
    assert first.path == f".handrail/tasks/{filename}"
    assert first.line == line, first.message
    assert first.message.startswith("No usable spec: ")
    assert first.data["problem"] == kind
    stem = filename.removesuffix(".toml")
    if is_task_id(stem):
        assert result.broken == {stem}
        with pytest.raises(TaskFileError) as raised:
            load_task(workspace, stem)
        assert (raised.value.line, raised.value.kind) == (line, kind)
        assert raised.value.rel == first.path
        assert str(raised.value).startswith(f"{first.path}:{line}: ")


def test_every_schema_problem_is_reported(workspace: Workspace) -> None:
    write(workspace, "abcdef.toml", "spec = 1\ncontext = [\n  2,\n]\nfoo = 3\n")
    findings = load_all_tasks(workspace).findings
    assert [f.line for f in findings] == [1, 3, 5]
    assert all(f.code == "HR100" for f in findings)


def test_toml_error_has_a_column(workspace: Workspace) -> None:
    write(workspace, "abcdef.toml", 'spec = "x"\ncontext = [ "a" "b" ]\n')
    (finding,) = load_all_tasks(workspace).findings
    assert finding.line == 2 and finding.column > 1
    assert "at line" not in finding.message


def test_hr100_off_hides_broken_files_but_never_loads_them(
    workspace: Workspace, make_workflow: Callable[..., Workflow]
) -> None:
    write(workspace, "abcdef.toml", b"spec = \n")
    result = load_all_tasks(workspace, make_workflow({"HR100": "off"}))
    assert result.findings == [] and result.tasks == {} and result.broken == {"abcdef"}
    assert result.known_ids == {"abcdef"}


def test_hr100_severity_override_for_broken_files(
    workspace: Workspace, make_workflow: Callable[..., Workflow]
) -> None:
    write(workspace, "abcdef.toml", b"spec = \n")
    (finding,) = load_all_tasks(workspace, make_workflow({"HR100": "warning"})).findings
    assert finding.severity is Severity.WARNING


def test_not_a_regular_file(workspace: Workspace) -> None:
    (workspace.tasks_dir / "abcdef.toml").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(workspace.tasks_dir / "bbbbbb.toml")
    findings = load_all_tasks(workspace).findings
    assert {f.data["problem"] for f in findings} == {"unreadable"}
    assert len(findings) == (2 if hasattr(os, "mkfifo") else 1)


def test_task_file_linking_outside_the_workspace_is_not_read(
    workspace: Workspace, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.toml"
    outside.write_text('spec = "stolen"\n')
    (workspace.tasks_dir / "abcdef.toml").symlink_to(outside)
    result = load_all_tasks(workspace)
    assert result.tasks == {}
    assert "outside the workspace" in result.findings[0].message
    with pytest.raises(TaskFileError):
        load_task(workspace, "abcdef")


def test_tasks_folder_linking_outside_is_refused(
    tmp_path: Path, default_workflow: Workflow
) -> None:
    root = tmp_path / "ws"
    (root / ".handrail").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "abcdef.toml").write_text('spec = "x"\n')
    (root / ".handrail" / "tasks").symlink_to(outside)
    ws = Workspace.at(root)
    result = load_all_tasks(ws)
    assert result.tasks == {} and "outside the workspace" in result.findings[0].message
    with pytest.raises(TaskFileError, match="outside the workspace"):
        create_task(ws, default_workflow, GOOD, [])
    assert sorted(os.listdir(outside)) == ["abcdef.toml"]


def test_oversized_file_is_not_read_whole(workspace: Workspace) -> None:
    write(workspace, "abcdef.toml", b'spec = "' + b"x" * (tasks_module.MAX_TASK_FILE_BYTES + 10))
    (finding,) = load_all_tasks(workspace).findings
    assert finding.data["problem"] == "too_large"


def test_load_task_unknown_and_malformed_ids(workspace: Workspace) -> None:
    with pytest.raises(TaskNotFound) as raised:
        load_task(workspace, "abcdef")
    assert raised.value.kind == "not_found"
    with pytest.raises(TaskNotFound) as raised:
        load_task(workspace, "../../etc/passwd")
    assert raised.value.kind == "bad_id"


def test_other_files_in_the_folder_are_ignored(workspace: Workspace) -> None:
    write(workspace, "README.md", "notes")
    write(workspace, ".abcdef.toml.0a1b2c3d.tmp", "half a file")
    write(workspace, ".hidden.toml", "not = [valid")
    result = load_all_tasks(workspace)
    assert result.tasks == {} and result.findings == []


def test_no_tasks_folder(tmp_path: Path) -> None:
    result = load_all_tasks(Workspace.at(tmp_path))
    assert result.tasks == {} and result.findings == []


@given(st.binary(max_size=300))
def test_parse_task_raises_only_task_file_errors_on_bytes(data: bytes) -> None:
    try:
        parse_task(data, path=Path("abcdef.toml"), rel=".handrail/tasks/abcdef.toml")
    except TaskFileError as problem:
        assert problem.line >= 1 and problem.message


_toml_soup = st.lists(
    st.sampled_from(
        [
            'spec = "x"\n',
            "context = [",
            '"a",',
            "]",
            "\n",
            "'''",
            '"""',
            "#",
            "=",
            "[t]",
            "id",
            '"abcdef"',
            "{",
            "}",
            "1979-05-27T07:32:00Z",
            "\\",
            "\r\n",
            "verify = ",
            "[[a]]",
            "é",
            "\x00",
        ]
    ),
    max_size=30,
).map("".join)


@given(st.one_of(_toml_soup, st.text(max_size=200)))
def test_parse_task_raises_only_task_file_errors_on_text(text: str) -> None:
    try:
        loaded = parse_task(text, path=Path("abcdef.toml"), rel=".handrail/tasks/abcdef.toml")
    except TaskFileError as problem:
        assert problem.line >= 1 and problem.message
    else:
        assert isinstance(loaded, LoadedTask)
        assert len(loaded.context_lines) == len(loaded.task.context)
        assert loaded.spec_line >= 1


# --- atomic writes --------------------------------------------------------------------------


def test_failed_replace_keeps_the_old_file_and_leaves_no_temp(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = save_task(workspace, Task(id="abcdef", spec="First version."))
    original = first.path.read_bytes()

    def refuse(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(TaskFileError, match="could not be written") as raised:
        save_task(workspace, Task(id="abcdef", spec="Second version."))
    assert raised.value.kind == "unwritable"
    assert first.path.read_bytes() == original
    assert listing(workspace) == ["abcdef.toml"]


def test_failed_write_leaves_no_temp(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", refuse)
    with pytest.raises(TaskFileError):
        save_task(workspace, Task(id="abcdef", spec="x"))
    assert listing(workspace) == []


def test_stale_temps_are_swept_and_fresh_ones_kept(workspace: Workspace) -> None:
    stale = write(workspace, ".abcdef.toml.00000000.tmp", "old")
    fresh = write(workspace, ".bbbbbb.toml.11111111.tmp", "in flight")
    os.utime(stale, (1_000_000, 1_000_000))
    save_task(workspace, Task(id="cccccc", spec="x"))
    assert not stale.exists() and fresh.exists()


def test_written_file_respects_the_umask(workspace: Workspace) -> None:
    old = os.umask(0o022)
    try:
        loaded = save_task(workspace, Task(id="abcdef", spec="x"))
    finally:
        os.umask(old)
    assert loaded.path.stat().st_mode & 0o777 == 0o644


def test_render_is_valid_toml_with_the_same_values() -> None:
    task = Task(id="abcdef", spec="a\nb", context=["x"], risk="auth", author="Ada", created=NOW)
    data = tomlkit.parse(render_task(task)).unwrap()
    assert data["spec"] == "a\nb" and data["risk"] == "auth" and data["context"] == ["x"]
    assert re.search(r"^created = ", render_task(task), re.M)


def test_the_new_keys_round_trip_and_stay_hand_editable(tmp_path: Path) -> None:
    """Status, spec history, context hashes and parent survive render -> parse unchanged,
    and a hand edit of the file (a comment, a reworded note) keeps them readable."""

    from handrail.tasks.files import parse_task, render_task
    from handrail.tasks.model import SpecRevision, Task

    when = dt.datetime(2026, 12, 5, 14, 0, 0, 123456, tzinfo=dt.UTC)
    task = Task(
        id="k3f7qa",
        spec="Given a line, return its words. It must keep quotes.",
        context=["src/a.py#L3-L9"],
        status="abandoned",
        closed_at=when.replace(microsecond=0),
        note="superseded by m2n4pq",
        spec_history=[
            SpecRevision(spec="Given a line, return words.\nIt must not fail.", replaced=when)
        ],
        context_hashes={"src/a.py#L3-L9": "sha256:" + "0" * 64},
        parent="m2n4pq",
    )
    text = render_task(task)
    loaded = parse_task(text, path=tmp_path / "k3f7qa.toml", rel=".handrail/tasks/k3f7qa.toml")
    assert loaded.task == task
    edited = text.replace("superseded by m2n4pq", "superseded by m2n4pq (see #12)") + "# ok\n"
    again = parse_task(edited, path=tmp_path / "k3f7qa.toml", rel=".handrail/tasks/k3f7qa.toml")
    assert again.task.note == "superseded by m2n4pq (see #12)"
    assert again.task.spec_history == task.spec_history
    assert again.context_lines == loaded.context_lines  # tables after the keys do not confuse it
