"""Coverage reports other languages' tools write, read into Handrail's one shape.

`[verification] coverage = "<path>"` names the report the verification command writes:
LCOV (node's test runner, c8, nyc, Jest, Vitest, cargo-llvm-cov, gcov), Cobertura XML
(coverage.py, coverlet, gcovr), a Go coverprofile, or JaCoCo XML. `read_report` detects the
format from the content, parses it with the small reader for that format, and maps every
path once (`paths.SourceLocator`) to a workspace-relative `/` path. Files the report names
that are not workspace files are dropped and listed, never guessed; a file the report never
names is absent from the result ("not measured", which callers must not call "not executed").

Every failure to read is a `CoverageReportError` naming the file and the line (or XML
position): a missing, non-regular, oversized or binary file, malformed content, or an XML
entity declaration.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from handrail.evidence.lines import FileLines, LineCoverage
from handrail.evidence.reports.cobertura import parse_cobertura
from handrail.evidence.reports.errors import CoverageReportError
from handrail.evidence.reports.gomod import go_modules, module_file
from handrail.evidence.reports.goprofile import parse_go
from handrail.evidence.reports.jacoco import parse_jacoco
from handrail.evidence.reports.lcov import parse_lcov
from handrail.evidence.reports.paths import (
    OUTSIDE,
    DroppedPath,
    SourceLocator,
    is_absolute,
    to_slashes,
)
from handrail.evidence.reports.tally import FileTally
from handrail.workspace import is_regular_file

__all__ = [
    "FORMATS",
    "MAX_REPORT_BYTES",
    "CoverageReportError",
    "DroppedPath",
    "ReportCoverage",
    "detect_format",
    "parse_report",
    "read_report",
]

log = logging.getLogger(__name__)

FORMATS = ("lcov", "cobertura", "jacoco", "go")
MAX_REPORT_BYTES = 128 * 1024 * 1024
"""A larger file is refused. Measured: reading costs about 100 bytes of memory per executable
line, and a 9 MB LCOV of a million lines grew the process by 98 MB; 128 MiB of the densest
LCOV would hold about 13 million lines, more than a workspace we check has."""

JAVA_SOURCE_ROOTS = (
    "src/main/java",
    "src/main/kotlin",
    "src/main/scala",
    "src/main/groovy",
    "src/test/java",
    "src/test/kotlin",
    "src",
    "",
)
"""Where Maven and Gradle keep sources, tried under each folder from the report up."""

_SNIFF_BYTES = 64 * 1024
_XML_PROLOGUE = re.compile(
    r"\s*(<\?.*?\?>|<!--.*?-->|<!DOCTYPE\s[^\[>]*(?:\[.*?\]\s*)?>)", re.DOTALL
)
_XML_ROOT = re.compile(r"\s*<([A-Za-z_][\w.:-]*)")


@dataclass(frozen=True, slots=True)
class ReportCoverage:
    """What a report says, mapped to workspace files, and what could not be mapped."""

    format: str
    coverage: LineCoverage
    dropped: tuple[DroppedPath, ...]


def parse_report(path: Path, root: Path, fmt: str | None = None) -> LineCoverage:
    """The report at `path` as line coverage of workspace `root`; dropped paths are logged."""
    result = read_report(path, root, fmt)
    for dropped in result.dropped:
        log.info("%s: %s is not counted: %s", path, dropped.raw, dropped.reason)
    return result.coverage


def read_report(
    path: Path, root: Path, fmt: str | None = None, *, max_bytes: int = MAX_REPORT_BYTES
) -> ReportCoverage:
    """Read the report at `path` (format detected when `fmt` is None) against `root`.

    `path` is opened as given (relative to the current directory when relative). Whoever runs
    the command should delete the report before the run: a report left by an earlier run
    reads as well as a fresh one.
    """
    if fmt is not None and fmt not in FORMATS:
        raise CoverageReportError(path, f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CoverageReportError(path, f"cannot be read: {exc.strerror or exc}") from None
    if not is_regular_file(path):
        raise CoverageReportError(path, "is not a regular file")
    if size > max_bytes:
        raise CoverageReportError(
            path, f"is {size} bytes; reports larger than {max_bytes} bytes are refused"
        )
    locator = SourceLocator(root, path)
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
            if b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise CoverageReportError(path, "is a binary file, not a coverage report")
            found = fmt or detect_format(head, path)
            stream.seek(0)
            if found == "lcov":
                files = _map(locator, parse_lcov(stream, path), locator.locate)
            elif found == "go":
                files = _map_go(locator, parse_go(stream, path), root)
            elif found == "cobertura":
                report = parse_cobertura(stream, path)
                bases = [b for source in report.sources for b in locator.folder(source)]
                bases += [b for b in locator.bases if b not in bases]
                files = _map(locator, report.files.items(), lambda raw: locator.locate(raw, bases))
            else:
                files = _map(locator, parse_jacoco(stream, path).items(), _java_finder(locator))
    except OSError as exc:
        raise CoverageReportError(path, f"cannot be read: {exc.strerror or exc}") from None
    coverage, dropped = files
    return ReportCoverage(found, coverage, dropped)


def detect_format(head: bytes, report: Path) -> str:
    """The format of a report from its first bytes."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if stripped.startswith("<"):
        rest = stripped
        while (prologue := _XML_PROLOGUE.match(rest)) is not None:
            rest = rest[prologue.end() :]
        root = _XML_ROOT.match(rest)
        tag = root.group(1) if root else None
        if tag == "coverage":
            return "cobertura"
        if tag == "report":
            return "jacoco"
        raise CoverageReportError(
            report,
            f"XML whose root element is <{tag or '?'}>, not Cobertura's <coverage>"
            " or JaCoCo's <report>",
        )
    first = stripped.split("\n", 1)[0].strip()
    if first.startswith("mode:"):
        return "go"
    if first.startswith(("TN:", "SF:", "VER:")):
        return "lcov"
    raise CoverageReportError(
        report, "not a coverage report in a known format (LCOV, Cobertura, JaCoCo, Go coverprofile)"
    )


def _map(
    locator: SourceLocator,
    tallies: Iterable[tuple[str, FileTally]],
    find: Callable[[str], str | DroppedPath],
) -> tuple[dict[str, FileLines], tuple[DroppedPath, ...]]:
    merged: dict[str, FileTally] = {}
    dropped: dict[str, DroppedPath] = {}
    cache: dict[str, str | DroppedPath] = {}
    for raw, tally in tallies:
        where = cache.get(raw)
        if where is None:
            where = cache[raw] = find(raw)
        if isinstance(where, DroppedPath):
            dropped.setdefault(raw, where)
        elif where in merged:
            merged[where].merge(tally)
        else:
            merged[where] = tally
    return {rel: tally.freeze() for rel, tally in merged.items()}, tuple(dropped.values())


def _map_go(
    locator: SourceLocator, tallies: list[tuple[str, FileTally]], root: Path
) -> tuple[dict[str, FileLines], tuple[DroppedPath, ...]]:
    modules = go_modules(root, locator.bases)

    def find(raw: str) -> str | DroppedPath:
        path = to_slashes(raw)
        # `go test` outside a module names files `_/abs/path/file.go`.
        if path.startswith("_/") or (path.startswith("_") and is_absolute(path[1:])):
            path = path[1:]
        if is_absolute(path):
            return locator.locate(path)
        rel = module_file(path, modules)
        if rel is None:
            known = ", ".join(sorted(modules)) or "none: no go.mod found"
            return DroppedPath(raw, f"in no module of the workspace (modules: {known})")
        return locator.locate(rel, [""])

    return _map(locator, tallies, find)


def _java_finder(locator: SourceLocator) -> Callable[[str], str | DroppedPath]:
    bases = [f"{base}/{root}".strip("/") for base in locator.bases for root in JAVA_SOURCE_ROOTS]

    def find(raw: str) -> str | DroppedPath:
        found = locator.locate(raw, list(dict.fromkeys(bases)))
        if isinstance(found, DroppedPath) and found.reason != OUTSIDE:
            return locator.by_suffix(raw, raw)
        return found

    return find
