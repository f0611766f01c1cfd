"""Lines of a text report (LCOV, Go), decoded strictly so a wrong file fails at its line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from handrail.evidence.reports.errors import CoverageReportError

_INT = re.compile(r"-?[0-9]{1,20}")
MAX_LINE_BYTES = 1024 * 1024
"""Report lines are short (a path, a mangled C++ name); a longer one is garbage, and reading
it whole would hold all of it in memory."""


def text_lines(stream: BinaryIO, report: Path) -> Iterator[tuple[int, str]]:
    """(1-based number, line without its end) for each line; a BOM on the first is dropped."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise CoverageReportError(
                report, f"a line longer than {MAX_LINE_BYTES} bytes: not a report", line=number
            )
        if number == 1 and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            # PowerShell's `>` writes UTF-16; the tools themselves write UTF-8.
            raise CoverageReportError(report, "UTF-16 text: save the report as UTF-8", line=1)
        if b"\0" in raw:
            raise CoverageReportError(report, "a NUL byte: this is not a text report", line=number)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CoverageReportError(
                report, f"not UTF-8 text (byte {exc.start + 1} of the line)", line=number
            ) from None
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield number, text.rstrip("\r\n")


def parse_int(text: str, report: Path, line: int, what: str) -> int:
    """A decimal integer field, or an error naming the field and the line."""
    value = text.strip()
    # Twenty digits hold any 64-bit count; more is garbage, not a reason to build a huge int.
    if _INT.fullmatch(value) is None:
        raise CoverageReportError(report, f"{what} is {text[:40]!r}, not a whole number", line=line)
    return int(value)
