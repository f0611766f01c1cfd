"""The output formats of `handrail check`: text for people, JSON, SARIF and GitHub annotations.

Every renderer is a pure function of the findings and a `CheckSummary` (`report.summary`): it
reads no file, no clock and no environment, so the same check gives byte-identical output (CI
diffs, code-scanning fingerprints and golden tests depend on that). Each returns the complete
output, ending with one newline; the CLI writes it as is (``click.echo(out, nl=False)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from handrail.findings import Finding
from handrail.report.github import render_github
from handrail.report.json_format import render_json
from handrail.report.sarif import render_sarif
from handrail.report.summary import (
    FORMATS,
    SEVERITY_ORDER,
    CheckSummary,
    ReportFormat,
    Span,
    code_url,
    files_with_findings,
    ordered,
    severity_counts,
    span,
    summary_sentence,
)
from handrail.report.text import render_text


def render(
    fmt: str,
    findings: Sequence[Finding],
    summary: CheckSummary,
    *,
    color: bool = False,
) -> str:
    """The report in format `fmt` (one of `FORMATS`); `color` only affects ``text``.

    `fmt` is a plain string because it comes straight from the command line; an unknown
    one is a ValueError naming the formats there are.
    """
    if fmt == "text":
        return render_text(findings, summary, color=color)
    renderers: dict[str, Callable[[Sequence[Finding], CheckSummary], str]] = {
        "json": render_json,
        "sarif": render_sarif,
        "github": render_github,
    }
    try:
        renderer = renderers[fmt]
    except KeyError:
        raise ValueError(
            f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}"
        ) from None
    return renderer(findings, summary)


__all__ = [
    "FORMATS",
    "SEVERITY_ORDER",
    "CheckSummary",
    "ReportFormat",
    "Span",
    "code_url",
    "files_with_findings",
    "ordered",
    "render",
    "render_github",
    "render_json",
    "render_sarif",
    "render_text",
    "severity_counts",
    "span",
    "summary_sentence",
]
