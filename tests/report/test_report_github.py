"""`--format github`: one workflow command per finding, escaped so the runner reads back
exactly what was meant, then a plain summary line."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from report_helpers import (
    MIXED,
    SUMMARY,
    any_text,
    finding_lists,
    parse_command,
    unescape_data,
    unescape_property,
)

from handrail.codes import CODES, doc_url
from handrail.findings import Finding, Severity
from handrail.report import ordered, render_github, span
from handrail.report.github import HELP_PREFIX, escape_data, escape_property

COMMAND = {"error": "error", "warning": "warning", "info": "notice", "hint": "notice"}
DOCS = doc_url("HR300").removesuffix("/HR300.md")


def _text_of(message: str) -> tuple[str, str]:
    """An annotation's message without its last line, and that line's link."""
    text, _, last = message.rpartition("\n")
    assert last.startswith(HELP_PREFIX), message
    return text, last.removeprefix(HELP_PREFIX)


def test_no_findings_is_only_the_summary() -> None:
    assert render_github([], SUMMARY) == "handrail: No findings in 12 files.\n"


def test_mixed_findings() -> None:
    assert render_github(MIXED, SUMMARY).split("\n") == [
        "::warning file=.handrail/tasks/k3f9qa.toml,line=1,col=8,endLine=1,endColumn=40,"
        "title=HR101 spec too long::"
        "Spec has 4 sentences: 100%25 over the limit of 2, decompose it."
        f"%0AWhy and how to fix: {DOCS}/HR101.md",
        "::notice file=.handrail/workflow.toml,line=1,col=1,endLine=1,"
        "title=HR403 verification commands not trusted::"
        "Verification commands are not trusted on this machine.%0D%0ARun `handrail trust`."
        f"%0AWhy and how to fix: {DOCS}/HR403.md",
        "::error file=src/my parser/naïve%2C v2.py,line=2,col=1,endLine=2,"
        "title=HR305 malformed block markers::Marker k3f9qa.2 has no end."
        f"%0AWhy and how to fix: {DOCS}/HR305.md",
        "::error file=src/my parser/naïve%2C v2.py,line=12,col=5,endLine=30,endColumn=1,"
        "title=HR300 generated block not verified::"
        "Block k3f9qa.1 is not verified.%0ARun `handrail verify k3f9qa.1`."
        f"%0AWhy and how to fix: {DOCS}/HR300.md",
        "::notice file=src/数据.py,line=3,col=1,endLine=3,"
        "title=HR308 large unmarked insertion::Large insertion::was it generated?"
        f"%0AWhy and how to fix: {DOCS}/HR308.md",
        "handrail: 2 errors, 1 warning, 1 info, 1 hint in 4 files (12 files checked). "
        "The gate fails (exit code 1).",
        "",
    ]


def test_the_runner_reads_back_every_field() -> None:
    lines = render_github(MIXED, SUMMARY).splitlines()
    by_code = {f.code: f for f in MIXED}
    for line in lines[:-1]:
        name, props, message = parse_command(line)
        code = props["title"].split(" ", 1)[0]
        finding = by_code[code]
        assert name == COMMAND[finding.severity.value]
        assert props["file"] == finding.path
        assert props["line"] == str(finding.line)
        assert props["title"] == f"{code} {CODES[code].title}"
        assert _text_of(message) == (finding.message, doc_url(code))


def test_summary_line_is_not_a_command_and_says_when_the_gate_fails() -> None:
    warning_only = [Finding("HR101", Severity.WARNING, "long", "t.toml")]
    assert render_github(warning_only, SUMMARY).splitlines()[-1] == (
        "handrail: 1 warning in 1 file (12 files checked)."
    )
    last = render_github(MIXED, SUMMARY).splitlines()[-1]
    assert not last.startswith("::") and last.endswith("The gate fails (exit code 1).")


def test_a_finding_without_a_file_has_no_location() -> None:
    workspace_wide = Finding("HR402", Severity.WARNING, "The workflow has no owner.", "")
    first = render_github([workspace_wide], SUMMARY).splitlines()[0]
    assert first == (
        "::warning title=HR402 workflow has no owner::The workflow has no owner."
        f"%0AWhy and how to fix: {DOCS}/HR402.md"
    )


def test_impossible_positions_are_repaired() -> None:
    broken = Finding("HR300", Severity.ERROR, "m", "a.py", 0, 0, -1, -1)
    _, props, _ = parse_command(render_github([broken], SUMMARY).splitlines()[0])
    assert (props["line"], props["col"], props["endLine"]) == ("1", "1", "1")
    assert "endColumn" not in props


def test_escaping_examples() -> None:
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_data("a: b, c") == "a: b, c"
    assert escape_property("a: b, c%\n") == "a%3A b%2C c%25%0A"
    # An escape sequence already in the text is data, not an escape.
    assert escape_property("%0A%3A") == "%250A%253A"


@given(any_text)
def test_data_escaping_round_trips(text: str) -> None:
    escaped = escape_data(text)
    assert "\r" not in escaped and "\n" not in escaped
    assert unescape_data(escaped) == text


@given(any_text)
def test_property_escaping_round_trips(text: str) -> None:
    escaped = escape_property(text)
    assert not set("\r\n:,") & set(escaped)
    assert unescape_property(escaped) == text


@given(finding_lists)
def test_any_findings_one_command_each_read_back_exactly(found: list[Finding]) -> None:
    out = render_github(found, SUMMARY)
    out.encode("utf-8")
    lines = out.split("\n")
    assert lines[-1] == ""
    commands, summary_line = lines[:-2], lines[-2]
    assert len(commands) == len(found)
    assert summary_line.startswith("handrail: ")
    for line, finding in zip(commands, ordered(found), strict=True):
        name, props, message = parse_command(line)
        assert name == COMMAND[finding.severity.value]
        assert _text_of(message)[0] == _encodable(finding.message)
        if finding.path:
            where = span(finding)
            assert props["file"] == _encodable(finding.path)
            assert int(props["line"]) == where.line >= 1
            assert int(props["endLine"]) == where.end_line >= where.line
        else:
            assert set(props) == {"title"}


@given(st.text(st.sampled_from("%:,\r\n0ADCA23"), max_size=30))
def test_escape_sequences_in_paths_and_messages_survive(text: str) -> None:
    finding = Finding("HR300", Severity.ERROR, text, f"dir/{text}/x.py", 2)
    _, props, message = parse_command(render_github([finding], SUMMARY).split("\n")[0])
    assert props["file"] == f"dir/{text}/x.py"
    assert _text_of(message)[0] == text


def _encodable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def test_every_annotation_links_the_web_page_of_its_code() -> None:
    """Issue 12.7: an annotation is read on GitHub, never on the machine that ran the check,
    so its link is the published page (or the configured one), not a file: path."""
    for line in render_github(MIXED, SUMMARY).splitlines()[:-1]:
        _, props, message = parse_command(line)
        link = _text_of(message)[1]
        assert link.startswith("https://") and link.endswith(f"/codes/{props['title'][:5]}.md")
    configured = replace(SUMMARY, docs_base_url="https://docs.example.org/handrail")
    _, _, message = parse_command(render_github(MIXED[:1], configured).splitlines()[0])
    assert _text_of(message)[1] == "https://docs.example.org/handrail/codes/HR300.md"
