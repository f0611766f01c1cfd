"""`--format json`: exactly the keys PRODUCT.md §5 promises, stable order, plain ASCII."""

from __future__ import annotations

import json

from hypothesis import given
from report_helpers import MIXED, SUMMARY, finding_lists

from handrail.codes import doc_url
from handrail.findings import Finding
from handrail.report import CheckSummary, ordered, render_json

# PRODUCT.md §5, plus the link to the code's page.
FINDING_KEYS = {
    "code",
    "severity",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "url",
}


def test_no_findings() -> None:
    out = render_json([], SUMMARY)
    assert json.loads(out) == {
        "version": 1,
        "tool": "handrail",
        "summary": {
            "error": 0,
            "warning": 0,
            "info": 0,
            "hint": 0,
            "files_checked": 12,
            "files_with_findings": 0,
        },
        "findings": [],
    }


def test_mixed_findings_have_exactly_the_contract_keys_in_order() -> None:
    document = json.loads(render_json(MIXED, SUMMARY))
    assert list(document) == ["version", "tool", "summary", "findings"]
    assert document["summary"] == {
        "error": 2,
        "warning": 1,
        "info": 1,
        "hint": 1,
        "files_checked": 12,
        "files_with_findings": 4,
    }
    for entry in document["findings"]:
        assert set(entry) == FINDING_KEYS
    assert [(f["path"], f["line"], f["column"], f["code"]) for f in document["findings"]] == [
        (".handrail/tasks/k3f9qa.toml", 1, 8, "HR101"),
        (".handrail/workflow.toml", 1, 1, "HR403"),
        ("src/my parser/naïve, v2.py", 2, 1, "HR305"),
        ("src/my parser/naïve, v2.py", 12, 5, "HR300"),
        ("src/数据.py", 3, 1, "HR308"),
    ]


def test_values_survive_unchanged() -> None:
    document = json.loads(render_json(MIXED, SUMMARY))
    block = next(f for f in document["findings"] if f["code"] == "HR300")
    assert block == {
        "code": "HR300",
        "severity": "error",
        "path": "src/my parser/naïve, v2.py",
        "line": 12,
        "column": 5,
        "end_line": 30,
        "end_column": 1,
        "message": "Block k3f9qa.1 is not verified.\nRun `handrail verify k3f9qa.1`.",
        "url": doc_url("HR300"),
    }
    trust = next(f for f in document["findings"] if f["code"] == "HR403")
    assert trust["message"].endswith("machine.\r\nRun `handrail trust`.")
    assert trust["severity"] == "info"


def test_output_is_indented_ascii_ending_with_a_newline() -> None:
    out = render_json(MIXED, SUMMARY)
    assert out.isascii()
    assert out.startswith('{\n  "version": 1,\n  "tool": "handrail",\n')
    assert out.endswith("}\n")


def test_url_uses_the_published_site_when_given() -> None:
    summary = CheckSummary(3, "/w", "1", docs_base_url="https://example.org/codes")
    document = json.loads(render_json(MIXED[:1], summary))
    assert document["findings"][0]["url"] == "https://example.org/codes/HR300.md"


@given(finding_lists)
def test_any_findings_round_trip(found: list[Finding]) -> None:
    out = render_json(found, SUMMARY)
    assert out.isascii()
    document = json.loads(out)
    assert document["findings"] == [{**f.as_json(), "url": doc_url(f.code)} for f in ordered(found)]
    counts = document["summary"]
    assert sum(counts[s] for s in ("error", "warning", "info", "hint")) == len(found)
    assert counts["files_with_findings"] == len({f.path for f in found})


def test_urls_are_web_pages_without_any_configuration() -> None:
    """Issue 12.7: JSON goes to scripts and dashboards on other machines: no file: links."""
    document = json.loads(render_json(MIXED, SUMMARY))
    for finding in document["findings"]:
        assert finding["url"].startswith("https://")
        assert finding["url"].endswith(f"/codes/{finding['code']}.md")
    assert "file:" not in render_json(MIXED, SUMMARY)
