"""`handrail check --format sarif`: SARIF 2.1.0 for GitHub code scanning and other viewers.

One run; ``tool.driver.rules`` lists every code Handrail has (not only those found), so a
viewer can show the rule of a result that disappeared and ``ruleIndex`` never shifts
between runs. Paths are relative to ``%SRCROOT%``, which ``originalUriBaseIds`` maps to the
workspace root: the log stays valid when the checkout moves (CI runners, containers).
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from handrail.codes import CODES, docs_home
from handrail.findings import Finding, Severity
from handrail.report.summary import CheckSummary, code_url, ordered, span

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "handrailFinding/v1"
"""Our own key: ``primaryLocationLineHash`` is GitHub's, computed by its uploader from the
line's text, and a different value under that name makes the upload warn."""

LEVELS: dict[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.HINT: "note",
}

_RULE_INDEX = {code: index for index, code in enumerate(CODES)}

# RFC 3986 pchar minus ':' (which would make a first segment read as a URI scheme).
_URI_SAFE = "/@!$&'()*+,;=~"


def render_sarif(findings: Sequence[Finding], summary: CheckSummary) -> str:
    """A SARIF 2.1.0 log of one run, results sorted like every other format."""
    driver: dict[str, Any] = {
        "name": "handrail",
        "version": summary.tool_version,
        "informationUri": _information_uri(summary),
        "rules": [_rule(code, summary) for code in CODES],
    }
    run: dict[str, Any] = {"tool": {"driver": driver}}
    root_uri = _root_uri(summary.root)
    if root_uri is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root_uri}}
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = _results(ordered(findings), summary)
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    # ASCII-only for the same reason as the JSON format: no console or file encoding can
    # fail on it, and undecodable file names survive as escapes.
    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"


def artifact_uri(path: str) -> str:
    """A workspace-relative ``/`` path as a relative URI reference (spaces, ``%``, ``#``,
    ``?`` and non-ASCII percent-encoded, UTF-8)."""
    try:
        # A lone surrogate from os.fsdecode stands for one raw byte of the file name.
        return urllib.parse.quote(path, safe=_URI_SAFE, errors="surrogateescape")
    except UnicodeEncodeError:
        # Any other lone surrogate has no byte to stand for; keep it distinct and valid.
        return urllib.parse.quote(path, safe=_URI_SAFE, errors="surrogatepass")


def fingerprint(code: str, path: str, message: str) -> str:
    """A hash that stays the same while a finding keeps its code, file and message, even
    when lines are inserted above it, so code scanning keeps one alert across runs."""
    # JSON framing keeps ("a", "bc") and ("ab", "c") apart; surrogates are escaped by it.
    framed = json.dumps([code, path, message], ensure_ascii=True)
    return hashlib.sha256(framed.encode("ascii")).hexdigest()[:32]


def _results(findings: list[Finding], summary: CheckSummary) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    # Identical findings (same code, file and message on other lines) must not share a
    # fingerprint or code scanning merges them into one alert: number them in order,
    # like GitHub's own ``hash:occurrence`` fingerprints.
    seen: dict[str, int] = {}
    for finding in findings:
        digest = fingerprint(finding.code, finding.path, finding.message)
        seen[digest] = seen.get(digest, 0) + 1
        result: dict[str, Any] = {"ruleId": finding.code}
        if finding.code in _RULE_INDEX:
            result["ruleIndex"] = _RULE_INDEX[finding.code]
        result["level"] = LEVELS[finding.severity]
        result["message"] = {"text": finding.message or _fallback_message(finding.code)}
        result["locations"] = [_location(finding)]
        result["partialFingerprints"] = {FINGERPRINT_KEY: f"{digest}:{seen[digest]}"}
        if finding.code not in _RULE_INDEX:
            # An unregistered code still links somewhere useful.
            result["properties"] = {"helpUri": code_url(finding.code, summary)}
        results.append(result)
    return results


def _location(finding: Finding) -> dict[str, Any]:
    where = span(finding)
    region: dict[str, int] = {
        "startLine": where.line,
        "startColumn": where.column,
        "endLine": where.end_line,
    }
    # Without an end column SARIF's default is the end of endLine: exactly what a finding
    # without an end means, so nothing is invented.
    if where.end_column is not None:
        region["endColumn"] = where.end_column
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": SRCROOT},
            "region": region,
        }
    }


def _rule(code: str, summary: CheckSummary) -> dict[str, Any]:
    entry = CODES[code]
    url = code_url(code, summary)
    title = entry.title[:1].upper() + entry.title[1:]
    return {
        "id": code,
        "name": _pascal(entry.title),
        "shortDescription": {"text": f"{title}."},
        "help": {
            "text": f"{title}. Why the rule exists and how to fix it: {url}",
            "markdown": f"{title}. [Why the rule exists and how to fix it]({url}).",
        },
        "helpUri": url,
        "defaultConfiguration": {"level": LEVELS[entry.severity]},
    }


def _pascal(title: str) -> str:
    """SARIF asks for a rule name readable as an identifier: "spec too long" -> SpecTooLong."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def _fallback_message(code: str) -> str:
    known = CODES.get(code)
    return f"{code}: {known.title}." if known else f"{code}."


def _root_uri(root: str) -> str | None:
    """``file:`` URI of the workspace root with the trailing slash SARIF requires of a base
    (without it ``src/a.py`` would resolve next to the root, not inside it)."""
    path = Path(root)
    if not path.is_absolute():
        return None
    uri = path.as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _information_uri(summary: CheckSummary) -> str:
    return docs_home(summary.docs_base_url)
