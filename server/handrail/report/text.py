"""`handrail check --format text`: findings for people, grouped by file like ruff or eslint.

```
src/parser.py
  12:5  error    HR300  Generated block k3f9qa.1 has no passing verification run.

1 error in 1 file (12 files checked)
The gate fails (exit code 1). What each code means and how to fix it: HR300 https://…/codes/HR300.md
Offline, the pages installed with Handrail: file:///…/handrail/docs/codes/
```
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from handrail.findings import Finding, Severity
from handrail.report.summary import (
    CheckSummary,
    code_url,
    ordered,
    severity_counts,
    summary_sentence,
)

_SEVERITY_WIDTH = max(len(s.value) for s in Severity)

# (colour, bold) per severity: errors and warnings must stand out in a long listing.
_SEVERITY_STYLE: dict[Severity, tuple[str, bool]] = {
    Severity.ERROR: ("red", True),
    Severity.WARNING: ("yellow", True),
    Severity.INFO: ("blue", False),
    Severity.HINT: ("cyan", False),
}

# Characters that would let a file name or message rewrite the terminal (escape sequences,
# carriage returns) or reorder what the reader sees (Unicode bidi controls, "Trojan Source",
# CVE-2021-42574). They are shown as visible escapes instead.
_UNSAFE = {
    **{c: f"\\x{c:02x}" for c in itertools.chain(range(0x00, 0x20), range(0x7F, 0xA0))},
    **{c: f"\\u{c:04x}" for c in (0x200E, 0x200F, 0x2028, 0x2029, 0x061C)},
    **{c: f"\\u{c:04x}" for c in itertools.chain(range(0x202A, 0x202F), range(0x2066, 0x206A))},
}
_UNSAFE[ord("\t")] = "\t"


def render_text(findings: Sequence[Finding], summary: CheckSummary, *, color: bool) -> str:
    """Findings grouped by file (files sorted, findings by line), a summary line, and when
    any error exists a line saying the gate fails and where each code is explained."""

    def style(
        text: str,
        fg: str | None = None,
        *,
        bold: bool = False,
        dim: bool = False,
        underline: bool = False,
    ) -> str:
        if not color:
            return text
        import click  # only for colour: `handrail check` runs without click (issue 17)

        return click.style(
            text, fg=fg, bold=bold or None, dim=dim or None, underline=underline or None
        )

    lines: list[str] = []
    for path, group in itertools.groupby(ordered(findings), key=lambda f: f.path):
        rows = list(group)
        locations = [f"{f.line}:{f.column}" for f in rows]
        width = max(len(loc) for loc in locations)
        lines.append(style(printable(path) or ".", bold=True, underline=True))
        for finding, location in zip(rows, locations, strict=True):
            # Pad before styling: ANSI codes have no width but count in len().
            fg, bold = _SEVERITY_STYLE[finding.severity]
            severity = style(finding.severity.value.ljust(_SEVERITY_WIDTH), fg, bold=bold)
            prefix = f"  {location.ljust(width)}  "
            head = f"{prefix}{severity}  {style(finding.code, dim=True)}  "
            indent = " " * (len(prefix) + _SEVERITY_WIDTH + 2 + len(finding.code) + 2)
            message = finding.message.replace("\r\n", "\n").split("\n")
            lines.append(head + printable(message[0]))
            lines.extend(indent + printable(more) for more in message[1:])
        lines.append("")

    counts = severity_counts(findings)
    sentence = summary_sentence(findings, summary)
    if counts[Severity.ERROR]:
        lines.append(style(sentence, "red", bold=True))
        codes = sorted({f.code for f in findings})
        links = ", ".join(f"{printable(code)} {code_url(code, summary)}" for code in codes)
        lines.append(
            style("The gate fails (exit code 1).", "red", bold=True)
            + f" What each code means and how to fix it: {links}"
        )
        if summary.offline_docs:
            # The web pages need a network; the copy installed with the package does not.
            lines.append(f"Offline, the pages installed with Handrail: {summary.offline_docs}")
    elif findings:
        lines.append(style(sentence, bold=True))
    else:
        lines.append(style(sentence, "green", bold=True))
    return "\n".join(lines) + "\n"


def printable(text: str) -> str:
    """`text` safe to print: control and bidi characters escaped, lone surrogates (from file
    names that are not UTF-8) escaped too, so writing the report can never fail."""
    safe = text.translate(_UNSAFE)
    return safe.encode("utf-8", "backslashreplace").decode("utf-8")
