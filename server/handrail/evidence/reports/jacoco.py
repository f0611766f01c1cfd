"""JaCoCo XML (`jacoco:report`, Gradle's `jacocoTestReport`).

    <report><package name="com/example">
      <class name="com/example/Calc" sourcefilename="Calc.java">
        <method name="add" desc="(II)I" line="5"><counter type="METHOD" missed="0" covered="1"/>
      <sourcefile name="Calc.java"><line nr="5" mi="0" ci="3" mb="0" cb="0"/>

A `<line>` is executable; it ran when any of its instructions was covered (`ci` > 0). A
method's `line` is its first line and `METHOD` says whether it ran (hits 0 or 1: JaCoCo
counts no calls); its last line is not reported, and a class without `sourcefilename`
gives no function records. The path is the package folder and the file
name with no source root, found under the usual roots or by a unique path suffix.
No Python library reads JaCoCo XML as a parser (PyPI has badge generators and MCP servers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from handrail.evidence.reports.safexml import Position, int_attr, parse_xml
from handrail.evidence.reports.tally import FileTally


@dataclass(slots=True)
class _Method:
    name: str
    line: int
    covered: int = 0


class _Events:
    def __init__(self) -> None:
        self.files: dict[str, FileTally] = {}
        self.started = False
        self.package = ""
        self.class_source: str | None = None
        self.method: _Method | None = None
        self.sourcefile: FileTally | None = None

    def _file(self, name: str) -> FileTally:
        path = f"{self.package}/{name}" if self.package else name
        return self.files.setdefault(path, FileTally())

    def start(self, tag: str, attrs: dict[str, str], at: Position) -> None:
        if not self.started:
            if tag != "report":
                raise at.error(f"the root element is <{tag}>, not JaCoCo's <report>")
            self.started = True
        if tag == "package":
            self.package = attrs.get("name", "").strip("/")
        elif tag == "class":
            self.class_source = attrs.get("sourcefilename")
        elif tag == "method" and self.class_source and "line" in attrs:
            self.method = _Method(attrs.get("name", "?"), int_attr(attrs, "line", tag, at))
        elif tag == "counter" and self.method is not None and attrs.get("type") == "METHOD":
            self.method.covered = int_attr(attrs, "covered", tag, at)
        elif tag == "sourcefile":
            name = attrs.get("name")
            if not name:
                raise at.error("<sourcefile> has no name= attribute")
            self.sourcefile = self._file(name)
        elif tag == "line" and self.sourcefile is not None:
            self.sourcefile.add_line(
                int_attr(attrs, "nr", tag, at), int_attr(attrs, "ci", tag, at, default=0)
            )

    def end(self, tag: str) -> None:
        if tag == "package":
            self.package = ""
        elif tag == "class":
            self.class_source = None
        elif tag == "method" and self.method is not None:
            if self.class_source:
                self._file(self.class_source).add_function(
                    self.method.name, self.method.line, None, min(self.method.covered, 1)
                )
            self.method = None
        elif tag == "sourcefile":
            self.sourcefile = None

    def text(self, data: str) -> None:
        pass


def parse_jacoco(stream: BinaryIO, report: Path) -> dict[str, FileTally]:
    """Tallies keyed by `package/File.java` as the report names them."""
    events = _Events()
    parse_xml(stream, report, events)
    return events.files
