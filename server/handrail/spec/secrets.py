"""Secrets typed into a spec (HR204): the spec leaves the machine with every prompt.

The spec is the first thing `handrail prompt` and `handrail generate` send, so it gets the
same scan as each context entry (`handrail.context.secrets`): format detectors are errors,
which refuse the prompt as any failing check does; heuristics warn. Findings carry the kind and
line only, never the value. A scan that fails is not "clean": it is an error too.
"""

from __future__ import annotations

from handrail.context.secrets import (
    SecretHit,
    SecretScanError,
    default_scanner,
    describe_hits,
    hits_data,
)
from handrail.findings import Finding, Severity
from handrail.workflow.model import Workflow

__all__ = ["spec_secret_findings"]

_FIX = (
    "a secret must never be sent to a model. Take it out of the spec (say where the code reads "
    "it from instead); if it was ever committed or sent, rotate it. If it is not a secret, "
    "rephrase that line"
)


def spec_secret_findings(
    spec: str,
    workflow: Workflow,
    *,
    path: str,
    line: int,
    column: int = 1,
    verbatim: bool = True,
) -> list[Finding]:
    """HR204 for what looks like a secret in `spec`, which starts at (`line`, `column`) of `path`.

    With `verbatim` (the file holds the spec unescaped) each finding sits on the file line of
    its first hit; otherwise on the spec's first line, and the message counts spec lines.
    """
    severity = workflow.severity_of("HR204")
    if severity is None or not workflow.context.scan_secrets or not spec.strip():
        return []
    first = line if verbatim else 1
    try:
        hits = default_scanner().scan(spec, filename=path, first_line=first)
    except SecretScanError as exc:
        return [
            Finding(
                "HR204",
                severity,
                f"The spec could not be scanned for secrets (the scanner failed: {exc}), so it "
                "is never treated as clean and no prompt is built from it. Report this to the "
                "Handrail maintainers.",
                path,
                line,
                column,
                data={"spec": True, "reason": "scan-failed", "blocking": True},
            )
        ]
    blocking = [h for h in hits if h.blocking]
    blocked_lines = {h.line for h in blocking}
    # A line that holds a recognised key also trips the entropy heuristics: say it once.
    heuristic = [h for h in hits if not h.blocking and h.line not in blocked_lines]
    where = "" if verbatim else " of the spec"
    findings: list[Finding] = []
    if blocking:
        findings.append(
            _at(
                blocking,
                severity,
                f"The spec holds what looks like {describe_hits(blocking)}{where}; {_FIX}.",
                path=path,
                line=line,
                column=column,
                verbatim=verbatim,
                blocking=True,
            )
        )
    if heuristic:
        findings.append(
            _at(
                heuristic,
                # Heuristics ask you to look, not to stop: never above a warning.
                severity if severity.rank > Severity.WARNING.rank else Severity.WARNING,
                f"The spec may hold a secret: {describe_hits(heuristic)}{where}. Check that it "
                "is not a credential before it goes into a prompt.",
                path=path,
                line=line,
                column=column,
                verbatim=verbatim,
                blocking=False,
            )
        )
    return findings


def _at(
    hits: list[SecretHit],
    severity: Severity,
    message: str,
    *,
    path: str,
    line: int,
    column: int,
    verbatim: bool,
    blocking: bool,
) -> Finding:
    at_line = hits[0].line if verbatim else line
    at_column = column if at_line == line else 1
    return Finding(
        "HR204",
        severity,
        message,
        path,
        at_line,
        at_column,
        data={"spec": True, "secrets": hits_data(hits), "blocking": blocking},
    )
