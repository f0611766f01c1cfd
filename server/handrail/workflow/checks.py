"""The workflow's own upkeep: someone owns it (HR402) and the team reviews it on time (HR401).

A written-down process drifts from what the team actually does unless a named person keeps it
true and the team rereads it on a cadence. Only a workspace that has adopted Handrail (it has a
`.handrail/workflow.toml`) is held to this: a repository that never opted in is not nagged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handrail.findings import Finding, Severity
from handrail.toml.index import Span, locate
from handrail.workflow.load import LoadedWorkflow
from handrail.workspace import Workspace

# A clock a day ahead (another time zone) must not make today's review look like the future.
_FUTURE_SLACK = dt.timedelta(days=1)


def check_workflow(loaded: LoadedWorkflow, ws: Workspace, *, today: dt.date) -> list[Finding]:
    """HR401 and HR402 for the workspace's workflow file (none when it has no such file).

    Nothing is reported about a file that did not parse, or about a key that already has an
    HR400: the HR400 says what to fix, and a second finding on the same line would only guess.
    """
    if loaded.path is None or not loaded.parsed or loaded.source_text is None:
        return []
    rel = ws.relative(loaded.path)
    source = loaded.source_text
    meta = loaded.workflow.workflow
    invalid = _invalid_keys(loaded)
    findings: list[Finding] = []

    severity = loaded.workflow.severity_of("HR402")
    if severity is not None and not meta.owner.strip() and "owner" not in invalid:
        span = locate(source, ("workflow", "owner"), value=True)
        findings.append(
            _finding(
                "HR402",
                severity,
                rel,
                span,
                "The workflow has no owner. Set `owner` in [workflow] to the person or team who "
                'keeps it true, e.g. owner = "Ada Lovelace <ada@example.com>" (`handrail init` '
                "fills it in from git).",
                {"table": "workflow", "key": "owner"},
            )
        )

    severity = loaded.workflow.severity_of("HR401")
    if severity is not None and not invalid & {"reviewed", "review_every_days"}:
        review = _review_finding(meta.reviewed, meta.review_every_days, today)
        if review is not None:
            message, data = review
            span = locate(source, ("workflow", "reviewed"), value=True)
            findings.append(_finding("HR401", severity, rel, span, message, data))
    return findings


def _review_finding(
    reviewed: dt.date | None, every: int, today: dt.date
) -> tuple[str, dict[str, Any]] | None:
    how = (
        "Go through it with the team (`handrail workflow review` prepares the agenda), change "
        "what no longer matches how you work, then run `handrail workflow reviewed` (it sets "
        f"reviewed = {today.isoformat()} in [workflow] and records who took part)."
    )
    if reviewed is None:
        return (
            f"The workflow has never been reviewed: [workflow] has no `reviewed` date (the team "
            f"reviews it every {every} days). {how}",
            {"due": today.isoformat(), "reviewed": None, "every_days": every},
        )
    due = reviewed + dt.timedelta(days=every)
    data: dict[str, Any] = {
        "due": due.isoformat(),
        "reviewed": reviewed.isoformat(),
        "every_days": every,
    }
    if reviewed > today + _FUTURE_SLACK:
        return (
            f"`reviewed` in [workflow] is {reviewed.isoformat()}, a date in the future, so the "
            f"review could never fall due. Set it to the day the team last reviewed the workflow.",
            data,
        )
    if due >= today:
        return None
    late = (today - due).days
    days = "day" if late == 1 else "days"
    return (
        f"The workflow review is {late} {days} overdue: it was due on {due.isoformat()} "
        f"(reviewed {reviewed.isoformat()}, every {every} days). {how}",
        data,
    )


def _invalid_keys(loaded: LoadedWorkflow) -> set[str]:
    """The [workflow] keys an HR400 already reports."""
    keys: set[str] = set()
    for finding in loaded.findings:
        loc = finding.data.get("loc")
        if isinstance(loc, list) and len(loc) >= 2 and loc[0] == "workflow":
            keys.add(str(loc[1]))
        elif loc == ["workflow"]:
            keys.update(("owner", "reviewed", "review_every_days"))
    return keys


def _finding(
    code: str,
    severity: Severity,
    path: str,
    span: Span,
    message: str,
    data: dict[str, Any],
) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        message=message,
        path=path,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        data=data,
    )
