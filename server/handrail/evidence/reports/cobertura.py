"""Cobertura XML: coverage.py's `coverage xml`, coverlet and other .NET tools, gcovr, many
Java tools.

    <coverage><sources><source>/abs/or/relative</source></sources>
      <packages><package><classes><class filename="pkg/mod.py">
        <methods><method name="f"><lines><line number="3" hits="1"/></lines></method></methods>
        <lines><line number="3" hits="1"/>...</lines>

`filename` is relative to one of the `<source>` folders (or absolute). A class's own
`<lines>` hold every line, so method lines only make function records: a method spans its
lowest to its highest line and its hits are those of its first line. `pycobertura` (4.1.0,
maintained) reads this too, but requires lxml, jinja2, click, tabulate and ruamel.yaml for
its diffing and HTML output, and parses with lxml's defaults (entities resolved); this
reader is the few dozen lines we need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from handrail.evidence.reports.safexml import Position, int_attr, parse_xml
from handrail.evidence.reports.tally import FileTally


@dataclass(slots=True)
class CoberturaReport:
    sources: list[str] = field(default_factory=list)
    files: dict[str, FileTally] = field(default_factory=dict)


class _Events:
    def __init__(self) -> None:
        self.report = CoberturaReport()
        self.stack: list[str] = []
        self.source_text: list[str] | None = None
        self.tally: FileTally | None = None
        self.method: tuple[str, dict[int, int]] | None = None

    def start(self, tag: str, attrs: dict[str, str], at: Position) -> None:
        if not self.stack and tag != "coverage":
            raise at.error(f"the root element is <{tag}>, not Cobertura's <coverage>")
        parent = self.stack[-1] if self.stack else ""
        self.stack.append(tag)
        if tag == "source" and parent == "sources":
            self.source_text = []
        elif tag == "class":
            filename = attrs.get("filename")
            if not filename:
                raise at.error("<class> has no filename= attribute")
            self.tally = self.report.files.setdefault(filename, FileTally())
        elif tag == "method" and self.tally is not None:
            self.method = (attrs.get("name", "?"), {})
        elif tag == "line" and parent == "lines" and self.tally is not None:
            number = int_attr(attrs, "number", tag, at)
            hits = int_attr(attrs, "hits", tag, at, default=0)
            if self.method is not None:
                self.method[1][number] = self.method[1].get(number, 0) + hits
            else:
                self.tally.add_line(number, hits)

    def end(self, tag: str) -> None:
        self.stack.pop()
        if tag == "source" and self.source_text is not None:
            text = "".join(self.source_text).strip()
            if text:
                self.report.sources.append(text)
            self.source_text = None
        elif tag == "class":
            self.tally = None
        elif tag == "method" and self.method is not None and self.tally is not None:
            name, lines = self.method
            if lines:
                first = min(lines)
                self.tally.add_function(name, first, max(lines), lines[first])
            self.method = None

    def text(self, data: str) -> None:
        if self.source_text is not None:
            self.source_text.append(data)


def parse_cobertura(stream: BinaryIO, report: Path) -> CoberturaReport:
    events = _Events()
    parse_xml(stream, report, events)
    return events.report
