"""HR100-HR103: what triggers each code, what does not, severities, positions and data."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.findings import Finding, Severity
from handrail.spec import check_spec, describe_spec
from handrail.workflow.model import Workflow

GOOD = (
    "Given a CSV header line, return the list of column names. "
    "It must keep quoted commas and follow the pattern of parse_row in src/csv_utils.py."
)
PATH = ".handrail/tasks/k3f9qa.toml"


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> Finding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, findings
    return matching[0]


def test_a_good_spec_has_no_findings(default_workflow: Workflow) -> None:
    assert check_spec(GOOD, default_workflow, path=PATH) == []


# --- HR100 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["", "   ", "\n\t\n", "...", "- \n* ", "`` --- ``"])
def test_hr100_when_there_is_nothing_to_read(default_workflow: Workflow, spec: str) -> None:
    findings = check_spec(spec, default_workflow, path=PATH, line=4, column=8)
    assert codes(findings) == ["HR100"]
    finding = findings[0]
    assert finding.severity is Severity.ERROR
    assert (finding.line, finding.column) == (4, 8)
    assert finding.message.startswith("No usable spec")
    assert finding.data == {"problem": "empty"}


def test_hr100_not_for_one_word(default_workflow: Workflow) -> None:
    assert "HR100" not in codes(check_spec("Parse", default_workflow, path=PATH))


def test_hr100_off(make_workflow: Callable[..., Workflow]) -> None:
    assert check_spec("", make_workflow({"HR100": "off"}), path=PATH) == []


def test_hr100_severity_override(make_workflow: Callable[..., Workflow]) -> None:
    (finding,) = check_spec(" ", make_workflow({"HR100": "warning"}), path=PATH)
    assert finding.severity is Severity.WARNING


# --- HR101 ----------------------------------------------------------------------------------

THREE = GOOD + " Log each rejected line."
FOUR = THREE + " Count them."


def test_hr101_not_at_the_limit(default_workflow: Workflow) -> None:
    assert "HR101" not in codes(check_spec(GOOD, default_workflow, path=PATH))


def test_hr101_warning_over_the_limit(default_workflow: Workflow) -> None:
    finding = only(check_spec(THREE, default_workflow, path=PATH), "HR101")
    assert finding.severity is Severity.WARNING
    assert finding.data == {"sentences": 3, "max": 2, "hard_max": 3}
    assert "the limit is 2" in finding.message and "hard limit" not in finding.message
    # It spans the sentences past the limit.
    assert finding.column == THREE.index("Log") + 1
    assert finding.end_column == len(THREE) + 1


def test_hr101_error_says_decompose_past_the_hard_limit(default_workflow: Workflow) -> None:
    finding = only(check_spec(FOUR, default_workflow, path=PATH), "HR101")
    assert finding.severity is Severity.ERROR
    assert "decompose" in finding.message
    assert finding.data == {"sentences": 4, "max": 2, "hard_max": 3}


def test_hr101_hard_limit_is_an_error_whatever_the_configured_severity(
    make_workflow: Callable[..., Workflow],
) -> None:
    workflow = make_workflow({"HR101": "info"})
    assert only(check_spec(THREE, workflow, path=PATH), "HR101").severity is Severity.INFO
    assert only(check_spec(FOUR, workflow, path=PATH), "HR101").severity is Severity.ERROR


def test_hr101_off_even_past_the_hard_limit(make_workflow: Callable[..., Workflow]) -> None:
    workflow = make_workflow({"HR101": "off"})
    assert "HR101" not in codes(check_spec(FOUR + " More. Still more.", workflow, path=PATH))


def test_hr101_follows_the_configured_limits(make_workflow: Callable[..., Workflow]) -> None:
    workflow = make_workflow(max_sentences=1, hard_max_sentences=1)
    finding = only(check_spec(GOOD, workflow, path=PATH), "HR101")
    assert finding.severity is Severity.ERROR
    assert finding.data == {"sentences": 2, "max": 1, "hard_max": 1}
    assert "at most 1 sentence." in finding.message


# --- HR102 ----------------------------------------------------------------------------------


def test_hr102_lists_every_missing_part_in_one_finding(default_workflow: Workflow) -> None:
    finding = only(check_spec("Parse the header line.", default_workflow, path=PATH), "HR102")
    assert finding.severity is Severity.WARNING
    assert finding.data["missing"] == ["inputs", "outputs", "constraint", "pattern"]
    assert set(finding.data["hints"]) == {"inputs", "outputs", "constraint", "pattern"}
    for name in finding.data["missing"]:
        assert name in finding.message


def test_hr102_names_only_what_is_missing(default_workflow: Workflow) -> None:
    spec = "Given a header line, return the column names."
    finding = only(check_spec(spec, default_workflow, path=PATH), "HR102")
    assert finding.data["missing"] == ["constraint", "pattern"]
    assert "inputs" not in finding.message


def test_hr102_custom_part_hint_shows_its_pattern(make_workflow: Callable[..., Workflow]) -> None:
    workflow = make_workflow(required={"ticket": r"\b[A-Z]+-\d+\b"})
    finding = only(check_spec("Fix the parser.", workflow, path=PATH), "HR102")
    assert finding.data["missing"] == ["ticket"]
    assert r"\b[A-Z]+-\d+\b" in finding.message
    assert "HR102" not in codes(check_spec("Fix the parser for ABC-12.", workflow, path=PATH))


def test_hr102_off_and_override(make_workflow: Callable[..., Workflow]) -> None:
    assert "HR102" not in codes(check_spec("Parse.", make_workflow({"HR102": "off"}), path=PATH))
    workflow = make_workflow({"HR102": "error"})
    assert only(check_spec("Parse.", workflow, path=PATH), "HR102").severity is Severity.ERROR


def test_hr102_nothing_required(make_workflow: Callable[..., Workflow]) -> None:
    assert check_spec("Parse.", make_workflow(required={}), path=PATH) == []


# --- HR103 ----------------------------------------------------------------------------------


def test_hr103_when_the_spec_is_the_template(default_workflow: Workflow) -> None:
    template = default_workflow.spec.template
    findings = check_spec("  " + template.replace(" ", "\n", 3) + "\n", default_workflow, path=PATH)
    finding = only(findings, "HR103")
    assert finding.severity is Severity.ERROR
    assert finding.data["template"] is True
    assert "<inputs>" in finding.data["placeholders"]
    assert "template" in finding.message


def test_hr103_template_without_placeholders(make_workflow: Callable[..., Workflow]) -> None:
    workflow = make_workflow(template="Describe the change here.", placeholders=[])
    finding = only(check_spec("Describe the change here.", workflow, path=PATH), "HR103")
    assert finding.data == {"template": True, "placeholders": []}


def test_hr103_names_each_placeholder_where_it_is(default_workflow: Workflow) -> None:
    spec = "Given a path, return <outputs>. It must stream and follow parse_row (TODO)."
    findings = [f for f in check_spec(spec, default_workflow, path=PATH) if f.code == "HR103"]
    assert [f.data["placeholder"] for f in findings] == ["<outputs>", "TODO"]
    first = findings[0]
    assert '"<outputs>"' in first.message
    assert (first.line, first.column) == (1, spec.index("<outputs>") + 1)
    assert first.end_column == spec.index("<outputs>") + len("<outputs>") + 1


def test_hr103_not_for_words_that_merely_contain_a_placeholder(default_workflow: Workflow) -> None:
    spec = GOOD.replace("commas", "TODOS")
    assert "HR103" not in codes(check_spec(spec, default_workflow, path=PATH))


def test_hr103_off_and_override(make_workflow: Callable[..., Workflow]) -> None:
    spec = GOOD + " TODO"
    assert "HR103" not in codes(check_spec(spec, make_workflow({"HR103": "off"}), path=PATH))
    workflow = make_workflow({"HR103": "hint"})
    assert only(check_spec(spec, workflow, path=PATH), "HR103").severity is Severity.HINT


def test_hr103_findings_are_capped(default_workflow: Workflow) -> None:
    findings = check_spec(GOOD + " TODO" * 100, default_workflow, path=PATH)
    assert len([f for f in findings if f.code == "HR103"]) == 20


# --- positions ------------------------------------------------------------------------------


def test_positions_follow_lines_inside_the_spec(default_workflow: Workflow) -> None:
    spec = "Given a path,\r\nreturn <outputs>.\nIt must stream and follow parse_row."
    finding = only(check_spec(spec, default_workflow, path=PATH, line=5, column=9), "HR103")
    assert (finding.line, finding.column) == (6, len("return ") + 1)
    assert (finding.end_line, finding.end_column) == (6, len("return <outputs>") + 1)


def test_first_line_positions_are_shifted_by_the_column(default_workflow: Workflow) -> None:
    spec = "TODO: given a path return rows; it must stream like parse_row."
    finding = only(check_spec(spec, default_workflow, path=PATH, line=3, column=9), "HR103")
    assert (finding.line, finding.column, finding.end_column) == (3, 9, 13)


def test_not_verbatim_anchors_everything_on_the_spec_line(default_workflow: Workflow) -> None:
    spec = "Given a path,\nreturn <outputs>."
    findings = check_spec(spec, default_workflow, path=PATH, line=3, column=8, verbatim=False)
    assert findings
    for finding in findings:
        assert (finding.line, finding.column, finding.end_line) == (3, 8, None)


def test_findings_are_json_serialisable(default_workflow: Workflow) -> None:
    for spec in ["", FOUR + " TODO", "Parse."]:
        for finding in check_spec(spec, default_workflow, path=PATH):
            json.dumps(finding.as_json())
            json.dumps(finding.data)
            assert finding.path == PATH


# --- describe_spec --------------------------------------------------------------------------


def test_describe_spec(default_workflow: Workflow) -> None:
    summary = describe_spec("Given x, return <outputs>. More. Even more.", default_workflow)
    assert summary.sentence_count == 3
    assert summary.over_limit and not summary.over_hard_limit
    assert summary.missing == ["constraint", "pattern"]
    assert [hit.text for hit in summary.placeholders] == ["<outputs>"]
    assert not summary.is_template and not summary.empty


def test_describe_empty_spec(default_workflow: Workflow) -> None:
    summary = describe_spec("  ", default_workflow)
    assert summary.empty and summary.sentence_count == 0 and summary.missing == []


@given(st.text(max_size=300))
def test_check_spec_never_raises_and_stays_in_the_spec(spec: str) -> None:
    workflow = _DEFAULT
    lines = spec.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for finding in check_spec(spec, workflow, path=PATH, line=10, column=5):
        assert finding.code in {"HR100", "HR101", "HR102", "HR103"}
        assert 10 <= finding.line <= 10 + len(lines) - 1
        if finding.end_line is not None:
            assert finding.end_line >= finding.line
            assert finding.end_column is not None


def _default() -> Workflow:
    import tomllib
    from pathlib import Path

    pack = Path(__file__).resolve().parents[2] / "rules" / "default.toml"
    return Workflow.model_validate(tomllib.loads(pack.read_text(encoding="utf-8")))


_DEFAULT = _default()
