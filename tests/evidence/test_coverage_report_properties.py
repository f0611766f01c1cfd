"""Property tests: each format round-trips; no input raises anything but CoverageReportError."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from coverage_report_writers import (
    GO_MODULE,
    write_cobertura,
    write_go,
    write_jacoco,
    write_lcov,
)
from hypothesis import given
from hypothesis import strategies as st

from handrail.evidence.lines import FileLines, FunctionLines, LineCoverage
from handrail.evidence.reports import FORMATS, CoverageReportError, read_report

POOL = (
    "a.js",
    "src/b.js",
    "src/deep/er/c.ts",
    "web/src/d.js",
    "name with space.py",
    "ünïcode/é.rs",
)
JAVA_POOL = (
    "src/main/java/A.java",
    "src/main/java/com/x/B.java",
    "src/main/java/com/x/y/C.kt",
    "src/main/java/org/D.java",
)
GO_POOL = ("main.go", "pkg/a.go", "pkg/sub/b.go", "internal/c.go")


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ws"
        for rel in POOL + JAVA_POOL + GO_POOL:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text("x\n")
        (folder / "go.mod").write_text(f"module {GO_MODULE}\n\ngo 1.19\n")
        yield folder


name_st = st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$<>(), .:]{0,15}", fullmatch=True)


@st.composite
def file_lines(draw: st.DrawFn, functions: str) -> FileLines:
    # A Go profile lists blocks only: a file without any cannot be written.
    at_least = 1 if functions == "go" else 0
    executable = draw(st.frozensets(st.integers(1, 400), min_size=at_least, max_size=25))
    executed = (
        draw(st.frozensets(st.sampled_from(sorted(executable)))) if executable else frozenset()
    )
    names = draw(st.lists(name_st, max_size=4, unique=True))
    fns = []
    for name in names:
        first = draw(st.integers(1, 400))
        if functions == "lcov":
            last = draw(st.none() | st.integers(first, first + 50))
            hits = draw(st.integers(0, 10**12))
        elif functions == "cobertura":
            last = draw(st.integers(first, first + 50))
            hits = draw(st.integers(0, 1000))
        elif functions == "jacoco":
            last, hits = None, draw(st.integers(0, 1))
        else:
            break
        fns.append(FunctionLines(name, first, last, hits))
    fns.sort(key=lambda fn: (fn.first_line, fn.name))
    return FileLines(executable, executed, functions=tuple(fns))


def coverages(pool: tuple[str, ...], functions: str) -> st.SearchStrategy[dict[str, FileLines]]:
    return st.dictionaries(st.sampled_from(pool), file_lines(functions), max_size=len(pool))


def _read(root: Path, name: str, text: str, fmt: str | None = None) -> LineCoverage:
    report = root / name
    report.write_text(text, encoding="utf-8")
    result = read_report(report, root, fmt)
    assert result.dropped == ()
    return result.coverage


SPELLINGS = st.sampled_from(["relative", "dot", "absolute", "backslash", "climb"])


def _spell(root: Path, how: str) -> object:
    def spell(rel: str) -> str:
        if how == "dot":
            return "./" + rel
        if how == "absolute":
            return f"{root}/{rel}"
        if how == "backslash":
            return rel.replace("/", "\\")
        if how == "climb":
            return f"{root}/src/../{rel}"
        return rel

    return spell


@given(coverage=coverages(POOL, "lcov"), how=SPELLINGS, fnl=st.booleans())
def test_lcov_round_trips(root: Path, coverage: dict[str, FileLines], how: str, fnl: bool) -> None:
    text = write_lcov(coverage, _spell(root, how), fnl=fnl)  # type: ignore[arg-type]
    assert _read(root, "lcov.info", text) == coverage


@given(coverage=coverages(POOL, "cobertura"), absolute_source=st.booleans(), how=SPELLINGS)
def test_cobertura_round_trips(
    root: Path, coverage: dict[str, FileLines], absolute_source: bool, how: str
) -> None:
    source = str(root) if absolute_source else "."
    spell = _spell(root, "relative" if how in {"absolute", "climb"} else how)
    text = write_cobertura(coverage, source, spell)  # type: ignore[arg-type]
    assert _read(root, "coverage.xml", text) == coverage


@given(coverage=coverages(JAVA_POOL, "jacoco"))
def test_jacoco_round_trips(root: Path, coverage: dict[str, FileLines]) -> None:
    assert _read(root, "jacoco.xml", write_jacoco(coverage)) == coverage


@given(coverage=coverages(GO_POOL, "go"), mode=st.sampled_from(["set", "count", "atomic"]))
def test_go_round_trips(root: Path, coverage: dict[str, FileLines], mode: str) -> None:
    assert _read(root, "cover.out", write_go(coverage, mode)) == coverage


@given(data=st.binary(max_size=2000), fmt=st.sampled_from([None, *FORMATS]))
def test_random_bytes_raise_only_coverage_report_errors(
    root: Path, data: bytes, fmt: str | None
) -> None:
    report = root / "garbage.bin"
    report.write_bytes(data)
    try:
        read_report(report, root, fmt)
    except CoverageReportError as exc:
        assert str(report) in str(exc)


def _valid_report(fmt: str, coverage: dict[str, FileLines], root: Path) -> str:
    if fmt == "lcov":
        return write_lcov(coverage)
    if fmt == "cobertura":
        return write_cobertura(coverage, str(root))
    if fmt == "jacoco":
        return write_jacoco(coverage)
    return write_go(coverage)


POOLS = {"lcov": (POOL, "lcov"), "cobertura": (POOL, "none"), "jacoco": (JAVA_POOL, "jacoco")}


@given(data=st.data(), fmt=st.sampled_from(FORMATS), detect=st.booleans())
def test_damaged_reports_raise_only_coverage_report_errors(
    root: Path, data: st.DataObject, fmt: str, detect: bool
) -> None:
    pool, functions = POOLS.get(fmt, (GO_POOL, "go"))
    text = _valid_report(fmt, data.draw(coverages(pool, functions)), root)
    # Cut, splice in garbage, or repeat a slice: the damage real files get (truncation,
    # concatenation, a stray edit) and the parser's corner cases.
    for _ in range(data.draw(st.integers(1, 3))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 40)))
        # A digit run longer than int() converts (4300) is a corner case of its own.
        insert = data.draw(
            st.text(max_size=12) | st.just(text[start:end] * 2) | st.just("9" * 4400)
        )
        text = text[:start] + insert + text[end:]
    report = root / "damaged"
    report.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_report(report, root, None if detect else fmt)
    except CoverageReportError as exc:
        assert str(report) in str(exc)


# Mostly plausible numbers, so that rows get past the shape check and reach the conversions.
FIELD = st.sampled_from(["small", "small", "huge", "big", "junk"]).flatmap(
    lambda kind: {
        "small": st.integers(0, 500).map(str),
        "big": st.integers(-(10**25), 10**25).map(str),
        # Built, not drawn digit by digit: Hypothesis discards examples that large.
        "huge": st.integers(4000, 4400).map(lambda n: "9" * n),
        "junk": st.text(alphabet="0123456789.,:-x \t", max_size=12),
    }[kind]
)


@st.composite
def near_lcov(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        key = draw(st.sampled_from(["SF", "DA", "FN", "FNDA", "FNL", "FNA", "TN", "BRDA", "end"]))
        if key == "end":
            lines.append("end_of_record")
        else:
            fields = draw(st.lists(FIELD, min_size=0, max_size=4))
            lines.append(f"{key}:{','.join(fields)}")
    return "\n".join(lines) + "\n"


@st.composite
def near_go(draw: st.DrawFn) -> str:
    lines = ["mode: " + draw(st.sampled_from(["set", "count", "atomic", "odd"]))]
    for _ in range(draw(st.integers(0, 10))):
        a, b, c, d, n, k = (draw(FIELD) for _ in range(6))
        lines.append(f"{GO_MODULE}/pkg/a.go:{a}.{b},{c}.{d} {n} {k}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("reports", [near_lcov(), near_go()], ids=["lcov", "go"])
@given(data=st.data())
def test_reports_with_hostile_fields_raise_only_coverage_report_errors(
    root: Path, reports: st.SearchStrategy[str], data: st.DataObject
) -> None:
    report = root / "fields"
    report.write_text(data.draw(reports), encoding="utf-8")
    try:
        read_report(report, root)
    except CoverageReportError as exc:
        assert str(report) in str(exc)


@pytest.mark.parametrize("end", ["9" * 4401, "\u00b2"])
def test_an_lcov_function_end_line_python_cannot_parse_is_a_name(root: Path, end: str) -> None:
    # `FN:<line>,<end>,<name>`: a second field of 4,401 digits (over Python's int() limit) or
    # a superscript two (`isdigit` says yes, `int` says no) raised ValueError; found by
    # test_damaged_reports_raise_only_coverage_report_errors.
    (root / "m.py").write_text("def f():\n    return 1\n")
    report = root / "lcov.info"
    report.write_text(f"SF:m.py\nFN:1,{end},f\nDA:1,1\nDA:2,0\nend_of_record\n")
    read_report(report, root, "lcov")
