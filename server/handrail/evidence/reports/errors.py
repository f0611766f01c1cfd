"""The one error a coverage report can raise, naming the file and the place in it."""

from __future__ import annotations

from pathlib import Path


class CoverageReportError(Exception):
    """A report that cannot be read: missing, too large, binary, or malformed at a place."""

    def __init__(
        self, report: Path, message: str, *, line: int | None = None, column: int | None = None
    ) -> None:
        self.report = report
        self.message = message
        self.line = line
        self.column = column
        where = str(report)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")
