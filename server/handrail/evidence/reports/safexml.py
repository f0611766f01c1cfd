"""XML reports read with expat, refusing entity declarations.

Coverage reports never declare entities; an entity declaration is how XML bombs (billion
laughs, quadratic blow-up) and external-entity reads start. So the parser raises at the
first declaration, before anything expands, and never reads an external DTD (JaCoCo's
`<!DOCTYPE report ... "report.dtd">` names one; it is not fetched). This is the check
`defusedxml` makes (`forbid_entities`), in a few lines on the stdlib's expat instead of a
dependency whose last release is from 2021. Events are streamed to a handler, so memory
grows with what the report says, not with its element tree.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, NoReturn, Protocol
from xml.parsers import expat

from handrail.evidence.reports.errors import CoverageReportError


class XmlEvents(Protocol):
    def start(self, tag: str, attrs: dict[str, str], at: Position) -> None: ...
    def end(self, tag: str) -> None: ...
    def text(self, data: str) -> None: ...


class Position:
    """Where the parser is, for errors a handler raises about an element's content."""

    def __init__(self, report: Path, parser: expat.XMLParserType) -> None:
        self.report = report
        self._parser = parser

    def error(self, message: str) -> CoverageReportError:
        return CoverageReportError(
            self.report,
            message,
            line=self._parser.CurrentLineNumber,
            column=self._parser.CurrentColumnNumber + 1,
        )


def parse_xml(stream: BinaryIO, report: Path, events: XmlEvents) -> None:
    """Stream `stream`'s elements to `events`; every failure is a CoverageReportError."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    at = Position(report, parser)

    def refuse(*_: object) -> NoReturn:
        raise at.error(
            "declares an XML entity; coverage reports never do, and entities are how XML"
            " bombs and external-file reads work, so the report is refused"
        )

    def start(tag: str, attrs: dict[str, str]) -> None:
        events.start(tag, attrs, at)

    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = events.end
    parser.CharacterDataHandler = events.text
    try:
        parser.ParseFile(stream)
    except expat.ExpatError as exc:
        raise CoverageReportError(
            report,
            f"not well-formed XML: {expat.ErrorString(exc.code)}",
            line=exc.lineno,
            column=exc.offset + 1,
        ) from None
    except LookupError as exc:  # `<?xml encoding="..."?>` naming a codec Python lacks
        raise at.error(f"an unknown XML encoding: {exc}") from None
    except RecursionError:
        raise at.error("XML nested too deeply") from None


def int_attr(
    attrs: dict[str, str], name: str, tag: str, at: Position, default: int | None = None
) -> int:
    """An integer attribute of `<tag>`, or an error at its position."""
    text = attrs.get(name)
    if text is None:
        if default is not None:
            return default
        raise at.error(f"<{tag}> has no {name}= attribute")
    try:
        return int(text.strip())
    except ValueError:
        raise at.error(f"<{tag} {name}={text!r}> is not a whole number") from None
