"""`handrail check --format json`: the machine-readable report (PRODUCT.md §5).

```json
{
  "version": 1,
  "tool": "handrail",
  "summary": {"error": 1, "warning": 0, "info": 0, "hint": 0,
              "files_checked": 12, "files_with_findings": 1},
  "findings": [{"code": "HR300", "severity": "error", "path": "src/a.py", "line": 3,
                "column": 1, "end_line": 9, "end_column": 1, "message": "…", "url": "…"}]
}
```
``version`` is the version of this document's shape: it changes only when a key is removed
or changes meaning, so scripts can refuse a shape they do not know.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from handrail.findings import Finding
from handrail.report.summary import (
    SEVERITY_ORDER,
    CheckSummary,
    code_url,
    files_with_findings,
    ordered,
    severity_counts,
)

JSON_REPORT_VERSION = 1


def render_json(findings: Sequence[Finding], summary: CheckSummary) -> str:
    """The report as indented JSON, findings sorted by path, line, column and code.

    Non-ASCII text is written as ``\\u`` escapes: the output is then plain ASCII, which no
    console encoding can fail to print, and a file name that is not valid UTF-8 (a lone
    surrogate in Python) still round-trips instead of crashing the write.
    """
    counts = severity_counts(findings)
    document: dict[str, Any] = {
        "version": JSON_REPORT_VERSION,
        "tool": "handrail",
        "summary": {
            **{severity.value: counts[severity] for severity in SEVERITY_ORDER},
            "files_checked": summary.files_checked,
            "files_with_findings": files_with_findings(findings),
        },
        "findings": [
            {**finding.as_json(), "url": code_url(finding.code, summary)}
            for finding in ordered(findings)
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"
