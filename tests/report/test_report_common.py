"""The pieces every format shares: ordering, counting, the summary sentence, safe spans, and
the one entry point the CLI calls."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_helpers import MIXED, SUMMARY, finding_lists, findings

from handrail.findings import Finding, Severity
from handrail.report import (
    FORMATS,
    CheckSummary,
    ordered,
    render,
    render_github,
    render_json,
    render_sarif,
    render_text,
    severity_counts,
    span,
    summary_sentence,
)


def _f(
    severity: Severity, path: str, line: int = 1, column: int = 1, code: str = "HR300"
) -> Finding:
    return Finding(code, severity, "m", path, line, column)


def test_summary_sentence_counts_each_severity_and_files() -> None:
    found = [
        _f(Severity.ERROR, "a.py", 1),
        _f(Severity.ERROR, "a.py", 2),
        _f(Severity.ERROR, "b.py"),
        _f(Severity.WARNING, "b.py"),
        _f(Severity.HINT, "a.py", 3),
        _f(Severity.HINT, "a.py", 4),
    ]
    assert summary_sentence(found, SUMMARY) == (
        "3 errors, 1 warning, 2 hints in 2 files (12 files checked)"
    )


def test_summary_sentence_singular_and_info() -> None:
    one = CheckSummary(files_checked=1, root="/w", tool_version="1")
    found = [_f(Severity.ERROR, "a.py"), _f(Severity.INFO, "a.py"), _f(Severity.INFO, "a.py", 2)]
    assert summary_sentence(found, one) == "1 error, 2 info in 1 file (1 file checked)"


@pytest.mark.parametrize(
    ("checked", "expected"),
    [
        (12, "No findings in 12 files."),
        (1, "No findings in 1 file."),
        (0, "No findings in 0 files."),
    ],
)
def test_summary_sentence_without_findings(checked: int, expected: str) -> None:
    summary = CheckSummary(files_checked=checked, root="/w", tool_version="1")
    assert summary_sentence([], summary) == expected


def test_ordered_sorts_by_path_line_column_code() -> None:
    a = _f(Severity.HINT, "a.py", 2, 1, "HR308")
    b = _f(Severity.ERROR, "a.py", 10, 1, "HR300")
    c = _f(Severity.ERROR, "a.py", 10, 1, "HR301")
    d = _f(Severity.ERROR, "a.py", 10, 3, "HR100")
    e = _f(Severity.ERROR, "b.py", 1, 1, "HR100")
    assert ordered([e, d, c, b, a]) == [a, b, c, d, e]


def test_severity_counts_has_every_severity() -> None:
    counts = severity_counts([_f(Severity.WARNING, "a")])
    assert counts == {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 0, Severity.HINT: 0}


def test_span_keeps_a_sane_range() -> None:
    finding = Finding("HR300", Severity.ERROR, "m", "a.py", 3, 2, 5, 7)
    assert tuple(span(finding)) == (3, 2, 5, 7)


def test_span_without_end_means_to_the_end_of_the_start_line() -> None:
    assert tuple(span(Finding("HR300", Severity.ERROR, "m", "a.py", 3, 2))) == (3, 2, 3, None)


@pytest.mark.parametrize(
    ("line", "column", "end_line", "end_column", "expected"),
    [
        (0, 0, None, None, (1, 1, 1, None)),
        (-4, 3, None, 0, (1, 3, 1, None)),
        (5, 1, 2, 9, (5, 1, 5, None)),
        (5, 8, 5, 3, (5, 8, 5, None)),
        (5, 8, 5, 8, (5, 8, 5, 8)),
    ],
)
def test_span_repairs_impossible_positions(
    line: int,
    column: int,
    end_line: int | None,
    end_column: int | None,
    expected: tuple[int, int, int, int | None],
) -> None:
    finding = Finding("HR300", Severity.ERROR, "m", "a.py", line, column, end_line, end_column)
    assert tuple(span(finding)) == expected


@given(findings())
def test_span_is_always_valid(finding: Finding) -> None:
    where = span(finding)
    assert where.line >= 1 and where.column >= 1
    assert where.end_line >= where.line
    if where.end_column is not None:
        assert where.end_column >= 1
        if where.end_line == where.line:
            assert where.end_column >= where.column


def test_render_dispatches_to_each_renderer() -> None:
    assert render("text", MIXED, SUMMARY, color=False) == render_text(MIXED, SUMMARY, color=False)
    assert render("text", MIXED, SUMMARY, color=True) == render_text(MIXED, SUMMARY, color=True)
    assert render("json", MIXED, SUMMARY) == render_json(MIXED, SUMMARY)
    assert render("sarif", MIXED, SUMMARY) == render_sarif(MIXED, SUMMARY)
    assert render("github", MIXED, SUMMARY) == render_github(MIXED, SUMMARY)


def test_render_refuses_an_unknown_format_and_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown report format 'xml'") as info:
        render("xml", MIXED, SUMMARY)
    for name in FORMATS:
        assert name in str(info.value)


@given(finding_lists, st.randoms(use_true_random=False))
def test_every_format_ignores_the_order_findings_arrive_in(
    found: list[Finding], rng: random.Random
) -> None:
    shuffled = list(found)
    rng.shuffle(shuffled)
    for fmt in FORMATS:
        assert render(fmt, shuffled, SUMMARY, color=True) == render(fmt, found, SUMMARY, color=True)


@given(finding_lists)
def test_every_format_ends_with_one_newline_and_encodes_as_utf8(found: list[Finding]) -> None:
    for fmt in FORMATS:
        out = render(fmt, found, SUMMARY, color=False)
        assert out.endswith("\n") and not out.endswith("\n\n")
        out.encode("utf-8")  # lone surrogates from undecodable file names must not survive
