"""Go coverprofiles (`go test -coverprofile`): blocks of source with a count each.

    mode: set|count|atomic
    example.com/mod/pkg/file.go:12.34,15.2 3 1

A row is a block from line 12 column 34 to line 15 column 2 holding 3 statements, run once.
Every line a block spans is executable; a line ran when any block spanning it ran (Go's own
HTML report shows such a line as partly covered). Functions are not named in the profile.
Small enough that no library is worth a dependency (the format is `cmd/cover`'s
`golang.org/x/tools/cover.ParseProfiles`, Go only).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from handrail.evidence.reports.errors import CoverageReportError
from handrail.evidence.reports.tally import FileTally
from handrail.evidence.reports.textfile import text_lines

_MODE = re.compile(r"mode:\s*(\S+)\s*\Z")
_N = r"([0-9]{1,20})"  # any 64-bit number; longer digit runs are garbage, not huge ints
_ROW = re.compile(rf"(.+):{_N}\.{_N},{_N}\.{_N} {_N} {_N}\s*\Z")
MODES = frozenset({"set", "count", "atomic"})
MAX_BLOCK_LINES = 100_000
"""A block longer than any source file is garbage, not a reason to allocate its lines."""
MAX_SPANNED_LINES = 50_000_000
"""All blocks together: a small garbage file of long blocks must not exhaust memory."""


def parse_go(stream: BinaryIO, report: Path) -> list[tuple[str, FileTally]]:
    """(import path of the file, its tally) per file, in the report's order."""
    tallies: dict[str, FileTally] = {}
    seen_mode = False
    spanned = 0
    for number, text in text_lines(stream, report):
        if not text.strip():
            continue
        mode = _MODE.match(text)
        if mode is not None:
            if mode.group(1) not in MODES:
                raise CoverageReportError(
                    report, f"unknown mode {mode.group(1)!r} (set, count or atomic)", line=number
                )
            # Profiles concatenated from several runs repeat the header.
            seen_mode = True
            continue
        if not seen_mode:
            raise CoverageReportError(
                report, "a Go coverprofile starts with `mode: set|count|atomic`", line=number
            )
        row = _ROW.match(text)
        if row is None:
            raise CoverageReportError(
                report,
                "not a coverprofile block (file:line.col,line.col statements count):"
                f" {text[:80]!r}",
                line=number,
            )
        name, start, _, end, _, _, count = row.groups()
        first, last = int(start), int(end)
        if first < 1 or last < first or last - first > MAX_BLOCK_LINES:
            raise CoverageReportError(
                report, f"a block from line {first} to line {last}", line=number
            )
        spanned += last - first + 1
        if spanned > MAX_SPANNED_LINES:
            raise CoverageReportError(
                report, f"blocks span more than {MAX_SPANNED_LINES} lines in all", line=number
            )
        tally = tallies.setdefault(name, FileTally())
        for line in range(first, last + 1):
            tally.add_line(line, int(count))
    if not seen_mode:
        raise CoverageReportError(report, "empty: a Go coverprofile starts with `mode: ...`")
    return list(tallies.items())
