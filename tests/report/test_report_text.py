"""`--format text`: grouped by file, aligned, coloured only when asked, safe to print."""

from __future__ import annotations

import re
from dataclasses import replace

import click
from hypothesis import given
from report_helpers import MIXED, SUMMARY, finding_lists

from handrail.codes import doc_url
from handrail.findings import Finding, Severity
from handrail.report import CheckSummary, render_text
from handrail.report.text import printable

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_no_findings_is_one_line() -> None:
    assert render_text([], SUMMARY, color=False) == "No findings in 12 files.\n"


def test_mixed_findings_grouped_by_file_and_aligned() -> None:
    links = ", ".join(f"{c} {doc_url(c)}" for c in ["HR101", "HR300", "HR305", "HR308", "HR403"])
    expected = (
        ".handrail/tasks/k3f9qa.toml\n"
        "  1:8  warning  HR101  Spec has 4 sentences: 100% over the limit of 2, decompose it.\n"
        "\n"
        ".handrail/workflow.toml\n"
        "  1:1  info     HR403  Verification commands are not trusted on this machine.\n"
        "                       Run `handrail trust`.\n"
        "\n"
        "src/my parser/naïve, v2.py\n"
        "  2:1   error    HR305  Marker k3f9qa.2 has no end.\n"
        "  12:5  error    HR300  Block k3f9qa.1 is not verified.\n"
        "                        Run `handrail verify k3f9qa.1`.\n"
        "\n"
        "src/数据.py\n"
        "  3:1  hint     HR308  Large insertion::was it generated?\n"
        "\n"
        "2 errors, 1 warning, 1 info, 1 hint in 4 files (12 files checked)\n"
        f"The gate fails (exit code 1). What each code means and how to fix it: {links}\n"
    )
    assert render_text(MIXED, SUMMARY, color=False) == expected


def test_the_example_line_shape_of_the_brief() -> None:
    finding = Finding("HR300", Severity.ERROR, "message", "src/a.py", 12, 5)
    assert "  12:5  error    HR300  message\n" in render_text([finding], SUMMARY, color=False)


def test_without_errors_there_is_no_gate_line() -> None:
    warning = Finding("HR101", Severity.WARNING, "Spec too long.", "t.toml")
    out = render_text([warning], SUMMARY, color=False)
    assert out.endswith("1 warning in 1 file (12 files checked)\n")
    assert "gate fails" not in out


def test_colour_only_when_asked_and_only_as_decoration() -> None:
    plain = render_text(MIXED, SUMMARY, color=False)
    coloured = render_text(MIXED, SUMMARY, color=True)
    assert "\x1b" not in plain
    assert click.unstyle(coloured) == plain
    # The severity itself is coloured: red for errors, yellow for warnings.
    assert "\x1b[31m\x1b[1merror  \x1b[0m" in coloured
    assert "\x1b[33m\x1b[1mwarning\x1b[0m" in coloured


def test_links_follow_a_published_docs_site_when_given() -> None:
    summary = CheckSummary(12, "/w", "1", docs_base_url="https://example.org/docs/codes/")
    out = render_text(MIXED[:1], summary, color=False)
    assert "HR300 https://example.org/docs/codes/HR300.md" in out


def test_terminal_escapes_and_bidi_controls_are_shown_not_obeyed() -> None:
    hostile = Finding(
        "HR204",
        Severity.ERROR,
        "secret\x1b[2J found\rover\u202etxt.exe",
        "evil\x1b]0;title\x07/\u2066a.py",
    )
    out = render_text([hostile], SUMMARY, color=False)
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out
    assert "\u202e" not in out and "\u2066" not in out
    assert "evil\\x1b]0;title\\x07/\\u2066a.py" in out
    assert "secret\\x1b[2J found\\x0dover\\u202etxt.exe" in out


def test_printable_keeps_tabs_and_ordinary_unicode() -> None:
    assert printable("a\tb naïve 数据 🙂") == "a\tb naïve 数据 🙂"
    assert printable("\udcff") == "\\udcff"


@given(finding_lists)
def test_any_findings_render_as_safe_text(found: list[Finding]) -> None:
    out = render_text(found, SUMMARY, color=False)
    out.encode("utf-8")
    # Only line breaks we made ourselves: every control character of the input is escaped.
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out)
    row = re.compile(r"  -?\d+:-?\d+ +(error|warning|info|hint) +\S+  ")
    rows = [line for line in out.split("\n") if row.match(line)]
    assert len(rows) == len(found)


@given(finding_lists)
def test_colour_never_changes_the_words(found: list[Finding]) -> None:
    coloured = render_text(found, SUMMARY, color=True)
    assert ANSI.sub("", coloured) == render_text(found, SUMMARY, color=False)


def test_text_links_the_web_page_and_names_the_offline_copy_only_when_asked() -> None:
    """Issue 12.7: the web page always; the installed copy (file:) only when the CLI prints
    for a person on this machine, and then as one extra line."""
    out = render_text(MIXED[:1], SUMMARY, color=False)
    assert f"HR300 {doc_url('HR300')}" in out and doc_url("HR300").startswith("https://")
    assert "file:" not in out
    local = replace(SUMMARY, offline_docs="file:///opt/handrail/docs/codes/")
    lines = render_text(MIXED[:1], local, color=False).splitlines()
    assert (
        lines[-1] == "Offline, the pages installed with Handrail: file:///opt/handrail/docs/codes/"
    )
    assert f"HR300 {doc_url('HR300')}" in lines[-2]
