"""`--format sarif`: valid against the official SARIF 2.1.0 schema (vendored), every rule
listed, locations relative to %SRCROOT%, fingerprints that survive line shifts."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_helpers import (
    MIXED,
    SCHEMA_TITLE,
    SUMMARY,
    finding_lists,
    path_segment,
    sarif_errors,
    schema,
)

from handrail.codes import CODES, doc_url
from handrail.findings import Finding, Severity
from handrail.report import CheckSummary, render_sarif
from handrail.report.sarif import FINGERPRINT_KEY, artifact_uri, fingerprint

# RFC 3986: the characters a URI reference may hold, and a percent sign only as %XX.
URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*")
LEVEL = {"error": "error", "warning": "warning", "info": "note", "hint": "note"}


def _log(found: list[Finding], summary: CheckSummary = SUMMARY) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render_sarif(found, summary))
    return log


def _absolute_uri(uri: str) -> bool:
    return bool(URI_REFERENCE.fullmatch(uri)) and urllib.parse.urlsplit(uri).scheme != ""


def _results(log: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    return results


# --- the vendored schema is the real one, and it really rejects bad logs ---------------


def test_vendored_schema_is_the_oasis_sarif_2_1_0_schema() -> None:
    document = schema()
    assert document["title"] == SCHEMA_TITLE
    assert document["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert document["required"] == ["version", "runs"]
    assert document["properties"]["version"]["enum"] == ["2.1.0"]
    assert {"result", "region", "reportingDescriptor", "artifactLocation"} <= set(
        document["definitions"]
    )


@pytest.mark.parametrize(
    "breakage",
    [
        lambda log: log.pop("runs"),
        lambda log: log["runs"][0]["results"][0].pop("message"),
        lambda log: log["runs"][0]["results"][0].update(level="info"),
        lambda log: log["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
            "region"
        ].update(startLine=0),
        lambda log: log["runs"][0]["tool"]["driver"]["rules"][0].pop("id"),
        lambda log: log["runs"][0]["results"][0].update(surprise=True),
    ],
)
def test_the_schema_catches_a_broken_log(breakage: Any) -> None:
    log = _log(MIXED)
    assert sarif_errors(log) == []
    breakage(log)
    assert sarif_errors(log) != []


# --- the output --------------------------------------------------------------------------


def test_no_findings_is_a_valid_log_with_every_rule() -> None:
    log = _log([])
    assert sarif_errors(log) == []
    assert log["version"] == "2.1.0"
    assert _absolute_uri(log["$schema"])
    assert len(log["runs"]) == 1
    assert _results(log) == []
    assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == list(CODES)


def test_driver_describes_handrail_and_every_code() -> None:
    driver = _log(MIXED)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "handrail"
    assert driver["version"] == "9.8.7"
    assert _absolute_uri(driver["informationUri"])
    for rule, (code, entry) in zip(driver["rules"], CODES.items(), strict=True):
        assert rule["id"] == code
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", rule["name"])
        assert rule["shortDescription"]["text"].lower().startswith(entry.title.lower())
        assert rule["helpUri"] == doc_url(code)
        assert _absolute_uri(rule["helpUri"])
        assert rule["defaultConfiguration"]["level"] == LEVEL[entry.severity.value]
    names = [rule["name"] for rule in driver["rules"]]
    assert len(set(names)) == len(names)


def test_mixed_findings_are_valid_and_complete() -> None:
    log = _log(MIXED)
    assert sarif_errors(log) == []
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///work/ws/"}}
    assert run["columnKind"] == "unicodeCodePoints"
    rules = run["tool"]["driver"]["rules"]
    results = _results(log)
    assert [r["ruleId"] for r in results] == ["HR101", "HR403", "HR305", "HR300", "HR308"]
    by_code = {f.code: f for f in MIXED}
    for result in results:
        finding = by_code[result["ruleId"]]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == LEVEL[finding.severity.value]
        assert result["message"]["text"] == finding.message
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert URI_REFERENCE.fullmatch(artifact["uri"])
        assert urllib.parse.unquote(artifact["uri"]) == finding.path
        assert set(result["partialFingerprints"]) == {FINGERPRINT_KEY}


def test_regions() -> None:
    regions = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["region"] for r in _results(_log(MIXED))
    }
    assert regions["HR300"] == {"startLine": 12, "startColumn": 5, "endLine": 30, "endColumn": 1}
    assert regions["HR101"] == {"startLine": 1, "startColumn": 8, "endLine": 1, "endColumn": 40}
    # No end: SARIF's default (to the end of the line) says what the finding means.
    assert regions["HR308"] == {"startLine": 3, "startColumn": 1, "endLine": 3}


def test_hints_and_info_are_notes() -> None:
    levels = {r["ruleId"]: r["level"] for r in _results(_log(MIXED))}
    assert levels == {
        "HR101": "warning",
        "HR403": "note",
        "HR305": "error",
        "HR300": "error",
        "HR308": "note",
    }


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("src/a.py", "src/a.py"),
        ("src/my parser/naïve, v2.py", "src/my%20parser/na%C3%AFve,%20v2.py"),
        ("docs/100%.md", "docs/100%25.md"),
        ("a#b?c.py", "a%23b%3Fc.py"),
        ("c:/x.py", "c%3A/x.py"),
        ("node_modules/@types/x.d.ts", "node_modules/@types/x.d.ts"),
        ("bad\udcffname.py", "bad%FFname.py"),
    ],
)
def test_artifact_uri_is_a_relative_reference(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri
    assert urllib.parse.urlsplit(uri).scheme == ""


def test_root_uri_always_ends_with_a_slash() -> None:
    for root, uri in [
        ("/", "file:///"),
        ("/work/ws/", "file:///work/ws/"),
        ("/a b", "file:///a%20b/"),
    ]:
        run = _log(MIXED, CheckSummary(1, root, "1"))["runs"][0]
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == uri


def test_a_relative_root_leaves_the_base_out_rather_than_guess() -> None:
    log = _log(MIXED, CheckSummary(1, "relative/root", "1"))
    assert "originalUriBaseIds" not in log["runs"][0]
    assert sarif_errors(log) == []


def test_published_docs_site_is_used_for_help_links() -> None:
    summary = CheckSummary(1, "/w", "1", docs_base_url="https://example.org/codes")
    driver = _log([], summary)["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://example.org/codes"
    assert driver["rules"][0]["helpUri"] == "https://example.org/codes/HR100.md"


def test_an_unregistered_code_still_makes_a_valid_result() -> None:
    odd = Finding("HR999", Severity.WARNING, "", "a.py", 0, -2, None, 0)
    log = _log([odd])
    assert sarif_errors(log) == []
    (result,) = _results(log)
    assert result["ruleId"] == "HR999"
    assert "ruleIndex" not in result
    assert result["message"]["text"] == "HR999."


# --- fingerprints ---------------------------------------------------------------------------


def _fingerprints(found: list[Finding]) -> list[str]:
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in _results(_log(found))]


def test_fingerprint_survives_lines_inserted_above() -> None:
    before = Finding("HR300", Severity.ERROR, "Block k.1 is not verified.", "a.py", 10, 1, 20, 1)
    after = Finding("HR300", Severity.ERROR, "Block k.1 is not verified.", "a.py", 14, 1, 24, 1)
    assert _fingerprints([before]) == _fingerprints([after])


def test_fingerprint_changes_with_code_path_or_message() -> None:
    base = fingerprint("HR300", "a.py", "m")
    assert fingerprint("HR301", "a.py", "m") != base
    assert fingerprint("HR300", "b.py", "m") != base
    assert fingerprint("HR300", "a.py", "n") != base
    # Framing: moving text between fields must not collide.
    assert fingerprint("HR300", "a.p", "ym") != fingerprint("HR300", "a.py", "m")


def test_identical_findings_get_distinct_fingerprints_in_order() -> None:
    same = [Finding("HR305", Severity.ERROR, "Unbalanced marker.", "a.py", n) for n in (9, 3)]
    first, second = _fingerprints(same)
    digest = fingerprint("HR305", "a.py", "Unbalanced marker.")
    assert (first, second) == (f"{digest}:1", f"{digest}:2")


# --- any input ------------------------------------------------------------------------------


@given(finding_lists)
def test_any_findings_give_a_schema_valid_log(found: list[Finding]) -> None:
    out = render_sarif(found, SUMMARY)
    assert out.isascii()
    log = json.loads(out)
    assert sarif_errors(log) == []
    results = _results(log)
    assert len(results) == len(found)
    fingerprints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert URI_REFERENCE.fullmatch(uri)
        assert urllib.parse.urlsplit(uri).scheme == ""


@given(st.lists(path_segment, max_size=4))
def test_artifact_uri_percent_encodes_the_file_name_bytes(segments: list[str]) -> None:
    path = "/".join(segments)
    uri = artifact_uri(path)
    assert URI_REFERENCE.fullmatch(uri)
    try:
        # What os.fsencode gives for a name that came from os.fsdecode.
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "surrogatepass")
    assert urllib.parse.unquote_to_bytes(uri) == raw
    if not any("\ud800" <= ch <= "\udfff" for ch in path):
        assert urllib.parse.unquote(uri) == path


def _strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (key, string) of a JSON document, nested objects and arrays included."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _strings(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in _strings(v, key)]
    return [(key, value)] if isinstance(value, str) else []


def test_help_uris_are_https_without_any_configuration() -> None:
    """Issue 12.7: a SARIF log is read on GitHub, not on the machine that ran the check, so
    every help link is a web page, never a file: path of the runner."""
    odd = Finding("HR999", Severity.WARNING, "m", "a.py", 1)
    log = _log([*MIXED, odd])
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"].startswith("https://")
    for rule in driver["rules"]:
        assert rule["helpUri"] == doc_url(rule["id"])
        assert re.fullmatch(rf"https://[^\s]+/codes/{rule['id']}\.md", rule["helpUri"])
        assert rule["helpUri"] in rule["help"]["text"]
    (unregistered,) = [r for r in _results(log) if r["ruleId"] == "HR999"]
    assert unregistered["properties"]["helpUri"].startswith("https://")
    # The one file: URI left is the checkout's root, which SARIF needs to resolve paths.
    local = [key for key, text in _strings(log) if "file:" in text]
    assert local == ["uri"]
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:")


def test_a_configured_docs_url_names_the_docs_root() -> None:
    summary = CheckSummary(1, "/w", "1", docs_base_url="https://docs.example.org/handrail/")
    driver = _log([], summary)["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://docs.example.org/handrail"
    assert driver["rules"][0]["helpUri"] == "https://docs.example.org/handrail/codes/HR100.md"
    template = CheckSummary(1, "/w", "1", docs_base_url="http://intra.example/rules/{code}.html")
    driver = _log([], template)["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "http://intra.example/rules"
    assert driver["rules"][0]["helpUri"] == "http://intra.example/rules/HR100.html"
