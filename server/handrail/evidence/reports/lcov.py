"""LCOV tracefiles: node's test runner, c8, nyc, Jest, Vitest, cargo-llvm-cov, gcov via lcov.

Written here rather than taken from PyPI: the parsers there (`lcovparser` 0.0.1, `lcov`
1.15.5a0, `lcovparse` 0.0.5) are single releases or alphas left for years, and none maps
paths or reads the function records newer LCOV writes. The format is a line per record
(geninfo(1)):

    SF:<path>                      start of a file's record
    FN:<line>[,<end line>],<name>  a function (end line since LCOV 2.0)
    FNDA:<hits>,<name>             its hits
    FNL:<index>,<line>[,<end>]     LCOV 2.2 function location ...
    FNA:<index>,<hits>,<name>      ... and an alias with its hits
    DA:<line>,<hits>[,<checksum>]  an executable line and its hits
    end_of_record

Other records (TN, BRDA, LF, LH, VER, ...) carry nothing this shape holds and are skipped;
an unknown record name is skipped too, so a newer LCOV still reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from handrail.evidence.reports.errors import CoverageReportError
from handrail.evidence.reports.tally import FileTally
from handrail.evidence.reports.textfile import parse_int, text_lines

_RECORD = re.compile(r"([A-Z][A-Z0-9_]*):(.*)\Z", re.DOTALL)
# Nearly every line of a report is a well-formed DA: one match reads it (1.45x less CPU
# on a 1M-line report than the general path).
_DA = re.compile(r"DA:([0-9]{1,20}),(-?[0-9]{1,20})(?:,[^,]*)?\Z")
_END_LINE = re.compile(r"[0-9]{1,20}")


class _Record:
    def __init__(self, path: str, line: int) -> None:
        self.path = path
        self.line = line
        self.tally = FileTally()
        self.fn_lines: dict[str, tuple[int, int | None]] = {}
        self.fn_hits: dict[str, int] = {}
        self.fnl: dict[str, tuple[int, int | None]] = {}

    def close(self) -> FileTally:
        for name, (first, last) in self.fn_lines.items():
            self.tally.add_function(name, first, last, self.fn_hits.get(name, 0))
        return self.tally


def parse_lcov(stream: BinaryIO, report: Path) -> list[tuple[str, FileTally]]:
    """(path as written, its tally) per record, in the report's order."""
    out: list[tuple[str, FileTally]] = []
    record: _Record | None = None
    number = 0
    for number, text in text_lines(stream, report):
        da = _DA.match(text)
        if da is not None and record is not None:
            record.tally.add_line(int(da.group(1)), int(da.group(2)))
            continue
        if not text.strip():
            continue
        if text.strip() == "end_of_record":
            if record is None:
                raise CoverageReportError(
                    report, "end_of_record without an SF: record", line=number
                )
            out.append((record.path, record.close()))
            record = None
            continue
        match = _RECORD.match(text)
        if match is None:
            raise CoverageReportError(report, f"not an LCOV record: {text[:80]!r}", line=number)
        key, value = match.groups()
        if key == "SF":
            if record is not None:
                raise CoverageReportError(
                    report,
                    f"SF: while the record of {record.path!r} (line {record.line}) is open:"
                    " end_of_record is missing",
                    line=number,
                )
            if not value:
                raise CoverageReportError(report, "SF: with no path", line=number)
            record = _Record(value, number)
            continue
        if key not in {"DA", "FN", "FNDA", "FNL", "FNA"}:
            continue
        if record is None:
            raise CoverageReportError(
                report, f"{key}: outside a file record (no SF: before it)", line=number
            )
        _read_record(record, key, value, report, number)
    if record is not None:
        raise CoverageReportError(
            report,
            f"the record of {record.path!r} (line {record.line}) never ends:"
            " the report is truncated",
            line=number,
        )
    return out


def _read_record(record: _Record, key: str, value: str, report: Path, number: int) -> None:
    parts = value.split(",")
    if key == "DA":
        if len(parts) < 2:
            raise CoverageReportError(report, "DA: needs <line>,<hits>", line=number)
        record.tally.add_line(
            _line(parts[0], report, number), parse_int(parts[1], report, number, "the hit count")
        )
    elif key == "FN":
        if len(parts) < 2:
            raise CoverageReportError(report, "FN: needs <line>,<name>", line=number)
        first = _line(parts[0], report, number)
        end: int | None = None
        name = value.split(",", 1)[1]
        # `FN:<line>,<end line>,<name>` (LCOV 2) when the second field is a number: one of at
        # most twenty ASCII digits (`isdigit` also takes "²", and Python refuses to parse
        # 4,300 digits), else the name itself holds a comma.
        if len(parts) >= 3 and _END_LINE.fullmatch(parts[1].strip()):
            end = int(parts[1])
            name = value.split(",", 2)[2]
        record.fn_lines[name] = (first, end)
    elif key == "FNDA":
        if len(parts) < 2:
            raise CoverageReportError(report, "FNDA: needs <hits>,<name>", line=number)
        name = value.split(",", 1)[1]
        hits = parse_int(parts[0], report, number, "the hit count")
        record.fn_hits[name] = record.fn_hits.get(name, 0) + hits
    elif key == "FNL":
        if len(parts) < 2:
            raise CoverageReportError(report, "FNL: needs <index>,<line>[,<end line>]", line=number)
        last = _line(parts[2], report, number) if len(parts) >= 3 else None
        record.fnl[parts[0].strip()] = (_line(parts[1], report, number), last)
    else:  # FNA
        if len(parts) < 3:
            raise CoverageReportError(report, "FNA: needs <index>,<hits>,<name>", line=number)
        where = record.fnl.get(parts[0].strip())
        if where is None:
            raise CoverageReportError(
                report, f"FNA: for index {parts[0]!r} with no FNL: before it", line=number
            )
        hits = parse_int(parts[1], report, number, "the hit count")
        record.tally.add_function(value.split(",", 2)[2], where[0], where[1], hits)


def _line(text: str, report: Path, number: int) -> int:
    line = parse_int(text, report, number, "the line number")
    if line < 0:
        raise CoverageReportError(report, f"line number {line} is negative", line=number)
    return line
