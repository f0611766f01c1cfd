"""`handrail check --format github`: GitHub Actions workflow commands, one per finding.

```
::error file=src/a.py,line=3,col=1,endLine=3,endColumn=9,title=HR300 …::…%0AWhy and how to fix: https://…/codes/HR300.md
handrail: 1 error in 1 file (12 files checked). The gate fails (exit code 1).
```
The runner turns each command into an annotation on the pull request's diff; its last line
("Why and how to fix: …") is the web page of the code, never a path on the runner. Paths must be
relative to the repository root, so run ``handrail check`` from there.
"""

from __future__ import annotations

from collections.abc import Sequence

from handrail.codes import CODES
from handrail.findings import Finding, Severity
from handrail.report.summary import (
    CheckSummary,
    code_url,
    ordered,
    severity_counts,
    span,
    summary_sentence,
)

COMMANDS: dict[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
    Severity.HINT: "notice",
}


def render_github(findings: Sequence[Finding], summary: CheckSummary) -> str:
    """One ``::error``/``::warning``/``::notice`` line per finding, then one plain summary."""
    lines = [_command(finding, summary) for finding in ordered(findings)]
    sentence = summary_sentence(findings, summary).rstrip(".")
    closing = f"handrail: {sentence}."
    if severity_counts(findings)[Severity.ERROR]:
        closing += " The gate fails (exit code 1)."
    lines.append(closing)
    return "\n".join(lines) + "\n"


def escape_data(text: str) -> str:
    """GitHub's escaping of a command's message: ``%``, CR and LF.

    ``%`` goes first so the escapes added after it are not escaped again; a raw newline
    would end the command and let the rest of a message start a command of its own.
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """GitHub's escaping of a property value: as data, plus ``:`` and ``,``, which would
    otherwise end the properties or split them."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


HELP_PREFIX = "Why and how to fix: "
"""Starts the last line of every annotation: the web page of the finding's code."""


def _command(finding: Finding, summary: CheckSummary) -> str:
    properties: list[tuple[str, str]] = []
    if finding.path:
        where = span(finding)
        properties += [
            ("file", finding.path),
            ("line", str(where.line)),
            ("col", str(where.column)),
            ("endLine", str(where.end_line)),
        ]
        if where.end_column is not None:
            properties.append(("endColumn", str(where.end_column)))
    properties.append(("title", _title(finding.code)))
    rendered = ",".join(f"{key}={escape_property(_encodable(value))}" for key, value in properties)
    # The annotation is read on GitHub, so its link is the web page, never a local path.
    text = f"{finding.message}\n{HELP_PREFIX}{code_url(finding.code, summary)}"
    message = escape_data(_encodable(text))
    return f"::{COMMANDS[finding.severity]} {rendered}::{message}"


def _title(code: str) -> str:
    known = CODES.get(code)
    return f"{code} {known.title}" if known else code


def _encodable(text: str) -> str:
    """Lone surrogates (file names that are not UTF-8) as visible escapes: the runner reads
    UTF-8, and writing one would otherwise fail."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
