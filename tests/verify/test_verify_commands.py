"""Which command verifies a block, placeholders, and argv without a shell."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from verify_helpers import PY

from handrail.process import run_command
from handrail.tasks.model import LoadedTask, Task
from handrail.verify.commands import (
    CommandError,
    CommandSource,
    all_commands,
    command_for,
    expand,
    split_command,
)
from handrail.workflow.load import load_pack
from handrail.workflow.model import PathCommand, VerificationRules, Workflow

SPEC = "Given a, return b. It must never fail and follow x."


def _task(verify: str | None = None, task_id: str = "abcdef") -> LoadedTask:
    task = Task(id=task_id, spec=SPEC, verify=verify)
    return LoadedTask(task, Path(f"/x/{task_id}.toml"), f".handrail/tasks/{task_id}.toml", 2, [], 4)


def _workflow(
    command: str = "python -m pytest -q", by_path: dict[str, str] | None = None
) -> Workflow:
    rules = VerificationRules(
        command=command,
        by_path=[PathCommand(pattern=p, command=c) for p, c in (by_path or {}).items()],
    )
    return Workflow(verification=rules)


def _source(text: str) -> CommandSource:
    return CommandSource(text, "default", "[verification] command")


def test_the_task_verify_field_wins() -> None:
    wf = _workflow(by_path={"*.py": "ruff check"})
    found = command_for(wf, "src/a.py", _task("make test"))
    assert found is not None and found.text == "make test" and found.origin == "task"
    assert found.task_id == "abcdef"


def test_the_first_matching_by_path_pattern_comes_next() -> None:
    wf = _workflow(by_path={"web/**/*.ts": "npm test", "*.ts": "deno test", "*.py": "tox"})
    first = command_for(wf, "web/app/x.ts", _task())
    assert first is not None and first.text == "npm test" and first.origin == "by_path"
    assert first.pattern == "web/**/*.ts" and first.index == 0
    other = command_for(wf, "lib/y.ts", None)
    assert other is not None and other.text == "deno test"


def test_the_default_command_is_last_and_may_be_absent() -> None:
    wf = _workflow(by_path={"*.ts": "npm test"})
    found = command_for(wf, "src/a.py", _task())
    assert found is not None and found.origin == "default" and found.text == "python -m pytest -q"
    assert command_for(_workflow(command=""), "src/a.py", _task()) is None


def test_the_shipped_pack_routes_by_language() -> None:
    wf = load_pack("default")
    go = command_for(wf, "cmd/main.go", None)
    py = command_for(wf, "pkg/mod.py", None)
    assert go is not None and go.text == "go test ./..."
    assert py is not None and py.text == "python -m pytest -q"


def test_all_commands_lists_workflow_and_task_commands() -> None:
    wf = _workflow(by_path={"*.ts": "npm test"})
    texts = [c.text for c in all_commands(wf, [_task("make check"), _task(None, "ghijkl")])]
    assert texts == ["npm test", "python -m pytest -q", "make check"]


def test_files_become_one_argument_each_and_dash_names_are_not_options() -> None:
    argv = expand(
        _source("pytest -q {files} --junitxml=out/{task}.xml"),
        files=["b.py", "a b.py", "-rf.py", "b.py"],
        task_id="abcdef",
    )
    assert argv == ("pytest", "-q", "./-rf.py", "a b.py", "b.py", "--junitxml=out/abcdef.xml")


def test_tests_become_one_argument_each_and_option_like_ids_are_dropped() -> None:
    argv = expand(
        _source("pytest -q {tests}"),
        files=[],
        task_id="abcdef",
        tests=["t.py::test_b", "-p evil", "t.py::test_a[x y]", "t.py::test_b"],
    )
    assert argv == ("pytest", "-q", "t.py::test_a[x y]", "t.py::test_b")
    assert expand(_source("pytest -q {tests}"), files=[], task_id="abcdef") == ("pytest", "-q")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("pytest {file}", "unknown placeholder {file}"),
        ("pytest --x={files}", "argument of its own"),
        ("pytest 'unclosed", "quotes"),
        ("   ", "empty"),
        ("{files} -q", "must start with a program"),
        ("pytest -k={tests}", "argument of its own"),
        ("{tests} -q", "must start with a program"),
    ],
)
def test_bad_command_texts_are_refused_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(CommandError, match=fragment):
        split_command(_source(text))


def test_braces_that_are_not_placeholders_stay_literal() -> None:
    assert split_command(_source("find . -name {} {a,b}")) == ["find", ".", "-name", "{}", "{a,b}"]


def test_shell_metacharacters_are_literal_arguments(tmp_path: Path) -> None:
    sentinel = tmp_path / "SENTINEL"
    text = (
        f"{shlex.quote(PY)} -c 'import sys; print(sys.argv[1:])' ; touch SENTINEL "
        "| touch SENTINEL && touch SENTINEL > SENTINEL $(touch SENTINEL)"
    )
    argv = expand(_source(text), files=[], task_id="abcdef")
    assert ";" in argv and "|" in argv and "&&" in argv and ">" in argv and "$(touch" in argv
    result = run_command(argv, cwd=tmp_path, timeout_s=30, max_output_bytes=4096)
    assert result.passed
    assert "'&&'" in result.tail_text() and "'$(touch'" in result.tail_text()
    assert not sentinel.exists()


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
_ARG = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="{}\x00"), min_size=1, max_size=20
)


@given(_TEXT)
def test_any_command_text_splits_or_is_refused_cleanly(text: str) -> None:
    try:
        argv = split_command(_source(text))
    except CommandError as exc:
        assert exc.source is not None and str(exc)
    else:
        assert argv and all(isinstance(item, str) for item in argv)


@given(st.lists(_ARG, min_size=1, max_size=8), st.lists(_ARG, max_size=4))
def test_a_quoted_argv_round_trips_and_files_never_split_or_join(
    argv: list[str], files: list[str]
) -> None:
    text = shlex.join(argv)
    assert split_command(_source(text)) == argv
    expanded = expand(_source(text + " {files}"), files=files, task_id="abcdef")
    assert list(expanded[: len(argv)]) == argv
    assert len(expanded) == len(argv) + len(set(files))


def test_a_name_that_is_not_utf8_finds_its_by_path_command() -> None:
    # Its bytes kept as surrogates: re2 refused the text (a traceback in `handrail verify`).
    wf = _workflow(by_path={"web/**/*.ts": "npm test", "données/*.py": "tox"})
    odd = b"web/we\xffird.ts".decode("utf-8", "surrogateescape")
    found = command_for(wf, odd, None)
    assert found is not None and found.text == "npm test"
    accented = command_for(wf, "données/a.py", None)
    assert accented is not None and accented.text == "tox"
