"""Bad reports: a clear CoverageReportError naming the file and the place, never a hang."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from handrail.evidence.reports import CoverageReportError, detect_format, read_report


def _report(tmp_path: Path, text: str | bytes, name: str = "report") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, root: Path, fmt: str | None = None) -> CoverageReportError:
    with pytest.raises(CoverageReportError) as caught:
        read_report(path, root, fmt)
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("SF:a.js\nDA:x,1\nend_of_record\n", 2, "the line number is 'x'"),
        ("SF:a.js\nDA:3\nend_of_record\n", 2, "DA: needs"),
        ("TN:\nDA:3,1\n", 2, "outside a file record"),
        ("SF:a.js\nDA:3,1\n", 2, "truncated"),
        ("SF:a.js\nSF:b.js\n", 2, "end_of_record is missing"),
        ("SF:a.js\nthis is not lcov\n", 2, "not an LCOV record"),
        ("SF:a.js\nFNA:0,1,f\nend_of_record\n", 2, "no FNL"),
        ("SF:a.js\nDA:1,99999999999999999999999\nend_of_record\n", 2, "not a whole number"),
    ],
)
def test_malformed_lcov_names_the_line(tmp_path: Path, text: str, line: int, says: str) -> None:
    report = _report(tmp_path, text)
    error = _error(report, tmp_path, "lcov")
    assert error.line == line
    assert says in error.message
    assert str(error).startswith(f"{report}:{line}: ")


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("p/a.go:1.1,2.2 1 1\n", 1, "starts with `mode:"),
        ("mode: weird\n", 1, "unknown mode"),
        ("mode: set\np/a.go:1.1,2.2 1\n", 2, "not a coverprofile block"),
        ("mode: set\np/a.go:5.1,2.2 1 1\n", 2, "from line 5 to line 2"),
        ("mode: set\np/a.go:1.1,999999999.2 1 1\n", 2, "from line 1 to line 999999999"),
        (f"mode: set\np/a.go:1.1,2.2 1 {'9' * 5000}\n", 2, "not a coverprofile block"),
    ],
)
def test_malformed_go_profile_names_the_line(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    error = _error(_report(tmp_path, text), tmp_path, "go")
    assert (error.line, says in error.message) == (line, True)


def test_malformed_xml_names_line_and_column(tmp_path: Path) -> None:
    report = _report(tmp_path, '<?xml version="1.0"?>\n<coverage>\n  <sources>\n</coverage>\n')
    error = _error(report, tmp_path)
    assert (error.line, error.column) == (4, 3)
    assert "not well-formed XML" in error.message


def test_a_bad_attribute_names_its_element_and_position(tmp_path: Path) -> None:
    report = _report(
        tmp_path,
        '<coverage><packages><package><classes><class filename="a.py"><lines>\n'
        '   <line number="seven" hits="1"/>\n'
        "</lines></class></classes></package></packages></coverage>\n",
    )
    error = _error(report, tmp_path)
    assert (error.line, error.column) == (2, 4)
    assert "<line number='seven'>" in error.message


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE coverage [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<coverage><sources><source>&lol9;</source></sources></coverage>\n"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE coverage [\n <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
    "<coverage><sources><source>&xxe;</source></sources></coverage>\n"
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE report [\n <!ENTITY % dtd SYSTEM "http://example.com/x.dtd">\n'
    " %dtd;\n]>\n<report/>\n"
)


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY])
def test_xml_entity_declarations_are_refused_before_anything_expands(
    tmp_path: Path, text: str
) -> None:
    report = _report(tmp_path, text, "bomb.xml")
    outcome: list[BaseException | None] = []

    def parse() -> None:
        try:
            read_report(report, tmp_path)
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    # A bomb that expanded would take minutes and gigabytes; refused, it takes milliseconds.
    # The generous timeout only keeps a regression from hanging the suite.
    worker = threading.Thread(target=parse, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert outcome, "the XML bomb was expanded instead of refused"
    error = outcome[0]
    assert isinstance(error, CoverageReportError)
    assert "declares an XML entity" in error.message
    assert error.line == 3


def test_a_doctype_naming_an_external_dtd_is_read_without_fetching_it(tmp_path: Path) -> None:
    (tmp_path / "A.java").write_text("class A {}\n")
    report = _report(
        tmp_path,
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "/nonexistent/report.dtd">\n'
        '<report name="x"><package name=""><sourcefile name="A.java">'
        '<line nr="1" mi="0" ci="1"/></sourcefile></package></report>\n',
    )
    assert read_report(report, tmp_path).coverage["A.java"].executed == {1}


def test_an_oversized_report_is_refused_before_it_is_read(tmp_path: Path) -> None:
    report = _report(tmp_path, "TN:\n" + "SF:a.js\nend_of_record\n" * 100)
    with pytest.raises(CoverageReportError) as caught:
        read_report(report, tmp_path, max_bytes=1000)
    assert f"is {report.stat().st_size} bytes" in caught.value.message
    assert "larger than 1000 bytes are refused" in caught.value.message


def test_an_endless_line_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    report = _report(tmp_path, "TN:\nSF:" + "a" * (2 * 1024 * 1024) + "\nend_of_record\n")
    error = _error(report, tmp_path)
    assert (error.line, "a line longer than 1048576 bytes" in error.message) == (2, True)


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    report = _report(tmp_path, b"\x7fELF\x02\x01\x01\0\0\0" + bytes(range(256)) * 4)
    for fmt in (None, "lcov", "go", "cobertura"):
        assert "binary" in _error(report, tmp_path, fmt).message


def test_text_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    report = _report(tmp_path, b"TN:\nSF:caf\xe9.js\nend_of_record\n")
    error = _error(report, tmp_path)
    assert (error.line, "not UTF-8" in error.message) == (2, True)
    utf16 = _report(tmp_path, "TN:\nSF:a.js\nend_of_record\n".encode("utf-16"), "u16.info")
    assert "UTF-16 text: save the report as UTF-8" in _error(utf16, tmp_path).message


def test_unknown_content_and_unknown_xml_say_what_was_expected(tmp_path: Path) -> None:
    assert (
        "not a coverage report in a known format"
        in _error(_report(tmp_path, "hello\n"), tmp_path).message
    )
    assert (
        "root element is <html>"
        in _error(_report(tmp_path, "<!-- x --><html></html>"), tmp_path).message
    )
    assert "unknown format 'xml'" in _error(_report(tmp_path, "x"), tmp_path, "xml").message


def test_a_missing_file_a_folder_and_a_fifo_are_errors_not_hangs(tmp_path: Path) -> None:
    assert "cannot be read" in _error(tmp_path / "absent.info", tmp_path).message
    assert "not a regular file" in _error(tmp_path, tmp_path).message
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        assert "not a regular file" in _error(fifo, tmp_path).message


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"TN:\nSF:a\n", "lcov"),
        (b"\xef\xbb\xbfSF:a\n", "lcov"),
        (b"VER:2.0\nSF:a\n", "lcov"),
        (b"mode: atomic\n", "go"),
        (b'<?xml version="1.0" ?>\n<!-- generated -->\n<coverage version="7">', "cobertura"),
        (
            b'<?xml version="1.0"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD" "r.dtd"><report',
            "jacoco",
        ),
    ],
)
def test_the_format_is_detected_from_the_content(head: bytes, fmt: str) -> None:
    assert detect_format(head, Path("r")) == fmt


def test_a_jacoco_file_read_as_cobertura_says_so(tmp_path: Path) -> None:
    report = _report(tmp_path, "<report></report>")
    assert "not Cobertura's <coverage>" in _error(report, tmp_path, "cobertura").message


def test_an_xml_encoding_python_lacks_is_a_report_error(tmp_path: Path) -> None:
    report = _report(tmp_path, '<?xml version="1.0" encoding="TF-8"?>\n<coverage></coverage>\n')
    error = _error(report, tmp_path)
    assert "unknown XML encoding" in error.message
    assert error.line == 1
