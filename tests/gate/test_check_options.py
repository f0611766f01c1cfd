"""`handrail check`'s one table of options: the click command is built from it, and the
click-free parser of the common command lines reads exactly what click reads from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click._compat import _ansi_re
from hypothesis import given, settings
from hypothesis import strategies as st

from handrail.cli.check_cmd import check
from handrail.cli.check_core import ANSI_RE, OPTIONS, CheckArgs, parse_common
from handrail.gate.early import MARKER_TEXT
from handrail.marking.ids import MARKER_NEEDLE


def _click_reads(args: list[str]) -> dict[str, Any]:
    ctx = check.make_context("check", list(args))
    return dict(ctx.params)


def _as_params(parsed: CheckArgs) -> dict[str, Any]:
    return {name: getattr(parsed, name) for name in CheckArgs.__slots__}  # type: ignore[attr-defined]


def test_the_click_command_is_the_table() -> None:
    options = [p for p in check.params if isinstance(p, click.Option)]
    assert [p.name for p in options] == [o.dest for o in OPTIONS]
    for param, option in zip(options, OPTIONS, strict=True):
        spelled = [*param.opts, *param.secondary_opts]
        assert spelled == list(option.names()), option.dest
        assert param.help == option.help
        assert param.multiple == (option.kind == "multiple")
        assert param.is_flag == (option.kind in ("flag", "switch"))
        if option.kind == "choice":
            assert isinstance(param.type, click.Choice)
            assert tuple(param.type.choices) == option.choices
            assert param.default == option.default
    assert set(CheckArgs.__slots__) == {p.name for p in check.params}  # type: ignore[attr-defined]


COMMON = [
    [],
    ["."],
    ["--format", "json"],
    ["--format=sarif", "src"],
    ["src", "--format", "github", "tests/a.py"],
    ["--no-color"],
    ["--color", "--no-color", "--color"],
    ["--approved-by", "Ada", "--approved-by=Bob,Eve"],
    ["--docs-url", "https://docs.example.com/{code}"],
    ["--docs-url=ftp://nope"],
    ["a b.py", "--format", "text"],
]


@pytest.mark.parametrize("args", COMMON)
def test_common_command_lines_read_as_click_reads_them(args: list[str]) -> None:
    parsed = parse_common(args)
    assert parsed is not None
    assert _as_params(parsed) == _click_reads(args)


DECLINED = [
    ["--help"],
    ["-h"],
    ["--rerun"],
    ["--record-gate", "--gate-commit", "HEAD"],
    ["--commits", "main..HEAD"],
    ["--format", "yaml"],
    ["--format"],
    ["--format", "--no-color"],
    ["--colour"],
    ["--color=yes"],
    ["--", "src"],
    ["-"],
    [""],
    ["--fromat", "json"],
]


@pytest.mark.parametrize("args", DECLINED)
def test_other_command_lines_are_left_to_click(args: list[str]) -> None:
    assert parse_common(args) is None


_WORDS = st.sampled_from(
    [
        "--format",
        "--format=json",
        "--format=xml",
        "json",
        "text",
        "--color",
        "--no-color",
        "--approved-by",
        "--approved-by=Ada",
        "--docs-url",
        "https://x.example",
        "--rerun",
        "--help",
        "--",
        "-",
        "src",
        "a.py",
        "",
        "--zzz",
        "=",
    ]
)


@settings(max_examples=300)
@given(st.lists(_WORDS, max_size=6))
def test_whatever_the_fast_parser_reads_click_reads_the_same(args: list[str]) -> None:
    parsed = parse_common(args)
    if parsed is None:
        return  # click answers these itself
    assert _as_params(parsed) == _click_reads(args)


def test_paths_are_paths_as_click_makes_them() -> None:
    parsed = parse_common(["src/a.py"])
    assert parsed is not None and parsed.paths == (Path("src/a.py"),)


def test_the_fast_path_strips_what_click_strips() -> None:
    assert ANSI_RE.pattern == _ansi_re.pattern


def test_the_early_grep_searches_for_the_markers() -> None:
    assert MARKER_TEXT.encode() == MARKER_NEEDLE
