"""What every output format of `handrail check` shares: the summary, the order, the counts, spans.

The renderers (`text`, `json_format`, `sarif`, `github`) import these and the package's
`render` picks one; keeping them here, not in `__init__`, is what lets the renderers import
them without a circle through the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from handrail.codes import doc_url
from handrail.findings import Finding, Severity
from handrail.wording import plural


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """What a report says about the run as a whole, beside its findings."""

    files_checked: int
    root: str
    """Absolute path of the workspace root (SARIF's ``%SRCROOT%``)."""
    tool_version: str
    """``handrail.__version__``."""
    docs_base_url: str | None = None
    """The documentation URL the workflow (``[docs] url``) or ``--docs-url`` configured, an
    http(s) URL; None: the published documentation (`handrail.codes.default_docs_url`). Every
    format links there, so a link works in a browser looking at a CI run on another machine."""
    offline_docs: str | None = None
    """The ``file:`` URI of the code pages installed with the package. Only the CLI's local
    text output sets it: the text report then names that copy too, which works offline."""


ReportFormat = Literal["text", "json", "sarif", "github"]
FORMATS: tuple[ReportFormat, ...] = ("text", "json", "sarif", "github")

SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.ERROR,
    Severity.WARNING,
    Severity.INFO,
    Severity.HINT,
)


class Span(NamedTuple):
    """A finding's range made safe for formats that reject impossible positions."""

    line: int
    column: int
    end_line: int
    end_column: int | None
    """None: to the end of ``end_line`` (what a finding without an end means)."""


def ordered(findings: Sequence[Finding]) -> list[Finding]:
    """Findings sorted by path, line, column and code; severity, message and end break ties
    so the order never depends on the order the checks ran in."""
    return sorted(findings, key=_order_key)


def _order_key(f: Finding) -> tuple[str, int, int, str, int, str, int, int]:
    # -1 stands for "no end": it sorts before every real (1-based) position.
    end_line = -1 if f.end_line is None else f.end_line
    end_column = -1 if f.end_column is None else f.end_column
    return (*f.sort_key(), f.severity.rank, f.message, end_line, end_column)


def severity_counts(findings: Sequence[Finding]) -> dict[Severity, int]:
    """How many findings of each severity, with every severity present (zero when none)."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def files_with_findings(findings: Sequence[Finding]) -> int:
    return len({f.path for f in findings})


def summary_sentence(findings: Sequence[Finding], summary: CheckSummary) -> str:
    """``3 errors, 1 warning, 2 hints in 2 files (12 files checked)`` or
    ``No findings in 12 files.``"""
    if not findings:
        return f"No findings in {_plural(summary.files_checked, 'file')}."
    counts = severity_counts(findings)
    parts = [_plural(counts[s], _NOUN[s]) for s in SEVERITY_ORDER if counts[s]]
    return (
        f"{', '.join(parts)} in {_plural(files_with_findings(findings), 'file')} "
        f"({_plural(summary.files_checked, 'file')} checked)"
    )


def code_url(code: str, summary: CheckSummary) -> str:
    """The web page explaining `code`: under the configured URL, else the published docs."""
    return doc_url(code, summary.docs_base_url)


def span(finding: Finding) -> Span:
    """The finding's range with every position at least 1 and the end not before the start.

    A buggy check must not make a whole SARIF upload fail schema validation or put an
    annotation on line 0; a nonsensical end is dropped (the start line is still right).
    """
    line = max(1, finding.line)
    column = max(1, finding.column)
    end_line = line if finding.end_line is None else finding.end_line
    end_column = finding.end_column
    if end_column is not None:
        end_column = max(1, end_column)
    if end_line < line or (end_line == line and end_column is not None and end_column < column):
        return Span(line, column, line, None)
    return Span(line, column, end_line, end_column)


_NOUN = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    # "infos" reads oddly; the count makes the number clear.
    Severity.INFO: "info",
    Severity.HINT: "hint",
}


def _plural(count: int, noun: str) -> str:
    return plural(count, noun, noun if noun == "info" else None)
