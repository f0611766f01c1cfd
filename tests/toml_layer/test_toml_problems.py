"""The one vocabulary of TOML problems: syntax errors and validation errors as sentences."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handrail.tasks.files import parse_task
from handrail.tasks.model import TaskFileError
from handrail.toml.problems import TomlSyntaxError, parse

_NOISE = st.text(alphabet=st.sampled_from(list("ab=.[]{}\"',#\n\r \t\\1é\x00")), max_size=120)


@settings(max_examples=500)
@given(st.one_of(_NOISE, st.text(max_size=120)))
def test_parse_reads_what_tomllib_reads_and_places_every_failure(text: str) -> None:
    try:
        expected = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        expected = None
    try:
        got = parse(text)
    except TomlSyntaxError as exc:
        assert expected is None
        span = exc.problem.span
        lines = text.split("\n")
        assert 1 <= span.line <= len(lines) and 1 <= span.column <= len(lines[span.line - 1]) + 1
        assert exc.problem.message and "(at line" not in exc.problem.message
    else:
        assert got == expected


def test_an_array_left_open_at_the_end_is_reported_where_it_opens() -> None:
    with pytest.raises(TomlSyntaxError) as raised:
        parse('spec = "x"\n\ncontext = [\n "a",\n')
    problem = raised.value.problem
    assert (problem.span.line, problem.span.column) == (3, 11)
    assert problem.message.startswith("an array is missing its closing `]`")


def _task_problem(text: str) -> str:
    with pytest.raises(TaskFileError) as raised:
        parse_task(text, path=Path("abcdef.toml"), rel="abcdef.toml")
    return raised.value.message


def test_task_files_speak_the_workflow_s_words() -> None:
    assert _task_problem('spec = "x"\ncontext = [\n  "a",\n  42,\n]\n') == (
        "item 2 of `context` must be text in quotes, got 42"
    )
    assert _task_problem('spec = "x"\nstatus = "dne"\n') == (
        '`status` must be "open", "done" or "abandoned", got "dne"; did you mean "done"?'
    )
    assert _task_problem('spec = "x"\ncontxt = ["a"]\n') == (
        "unknown key `contxt`; did you mean `context`?"
    )
    assert _task_problem('spec = "x\n').startswith('this is not valid TOML: a "..." string')
