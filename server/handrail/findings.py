"""The one result type every check returns, whatever front end shows it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypedDict


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"

    @property
    def rank(self) -> int:
        """Lower is more severe, for sorting."""
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2, Severity.HINT: 3}


class FindingJson(TypedDict):
    """A finding as every front end emits it (`handrail check --format json`, the server's
    command results); client-vscode's `FindingJson` is generated from it."""

    code: str
    severity: str
    path: str
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnostic.

    Positions are 1-based lines and 1-based columns counted in Unicode code points, with
    an exclusive end column. A check that knows no end leaves ``end_line``/``end_column``
    unset: JSON then reports an empty range at the start, the editor widens it to the word.
    ``path`` is workspace-relative and ``/``-separated. ``data`` carries what a quick fix
    needs (JSON-serialisable), so front ends never re-analyse to offer one.
    """

    code: str
    severity: Severity
    message: str
    path: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def with_severity(self, severity: Severity) -> Finding:
        return replace(self, severity=severity)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def as_json(self) -> FindingJson:
        """The JSON shape the contract promises (`handrail check --format json`)."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line if self.end_line is not None else self.line,
            "end_column": self.end_column if self.end_column is not None else self.column,
            "message": self.message,
        }


def worst(findings: list[Finding]) -> Severity | None:
    """The most severe severity among `findings`, or None when there are none."""
    if not findings:
        return None
    return min((f.severity for f in findings), key=lambda s: s.rank)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


def findings_json(findings: Iterable[Finding]) -> list[FindingJson]:
    """Findings as JSON objects, in report order (the shape every front end emits)."""
    return [f.as_json() for f in sorted(findings, key=Finding.sort_key)]
