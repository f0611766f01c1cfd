"""Pushed diagnostics are written from each document's encoded diagnostics of its last push
(issue 17, edit -> diagnostics): whatever changes between two pushes (a finding's message,
severity or data, the text of the line it is on, the position encoding, the help links, the
document), the bytes sent are those pygls writes for the same findings converted afresh."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from captured_writer import CapturedWriter
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from handrail.analysis import RuleFailure
from handrail.findings import Finding, Severity
from handrail.lsp.convert import UTF8, UTF16, UTF32, LinesWithoutBreaks, split_lines_keepends
from handrail.lsp.diagnostics import Diagnostics
from handrail.lsp.server import HandrailServer, create_server
from handrail.lsp.state import DocumentAnalysis, FolderState


@dataclass
class _Host:
    """The server as `Diagnostics` sees it, with the encoding and help links a test sets
    (as a client's capabilities and a settings change would)."""

    server: HandrailServer
    position_encoding: str = UTF16
    base_url: str | None = None
    client_pulls_diagnostics: bool = False

    @property
    def settings(self) -> Any:
        return self.server.settings

    def docs_url(self, folder: FolderState | None) -> str | None:
        return self.base_url

    def refresh_lenses(self) -> None:
        return None

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        self.server.text_document_publish_diagnostics(params)

    def encode_diagnostic(self, diagnostic: types.Diagnostic) -> str:
        return self.server.encode_diagnostic(diagnostic)

    def publish_encoded(self, uri: str, version: int | None, items: list[str]) -> None:
        self.server.publish_encoded(uri, version, items)


def _publisher() -> tuple[_Host, Diagnostics]:
    server = create_server()
    host = _Host(server)
    diagnostics = Diagnostics(
        host, server.documents, server.analyses, server.registry.place_of, server.executor
    )
    return host, diagnostics


def _pushed(host: _Host, diagnostics: Diagnostics, analysis: DocumentAnalysis) -> bytes:
    """What `publish` writes for `analysis`, with the lines an open document holds (each
    with its line break) as `Diagnostics._run` hands them over."""
    out = CapturedWriter()
    host.server.protocol.set_writer(out)
    diagnostics.publish(analysis, LinesWithoutBreaks(split_lines_keepends(analysis.text)))
    return out.data


def _pulled(host: _Host, diagnostics: Diagnostics, analysis: DocumentAnalysis) -> list[str]:
    """What `pull` answers for `analysis`, made the analysis of an open document with its
    text (as the server holds it after an edit)."""
    document = host.server.documents.open(analysis.uri, "python", analysis.version, analysis.text)
    analysis.text = document.text
    host.server.analyses.finish(analysis)
    return diagnostics.pull(analysis.uri)


def _fresh_items(host: _Host, diagnostics: Diagnostics, analysis: DocumentAnalysis) -> list[str]:
    """The diagnostics of `analysis` converted now, each encoded as pygls encodes it."""
    return [host.server.encode_diagnostic(d) for d in diagnostics.diagnostics_of(analysis)]


def _fresh(host: _Host, diagnostics: Diagnostics, analysis: DocumentAnalysis) -> bytes:
    """What pygls writes for the diagnostics of `analysis` converted now (no cache)."""
    out = CapturedWriter()
    host.server.protocol.set_writer(out)
    host.server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=analysis.uri,
            diagnostics=diagnostics.diagnostics_of(analysis),
            version=analysis.version,
        )
    )
    return out.data


def _analysis(
    uri: str, version: int | None, text: str, findings: list[Finding]
) -> DocumentAnalysis:
    return DocumentAnalysis(uri, version, "source", "a.py", None, text, None, findings)


BLOCK_TEXT = (
    "# handrail:begin abcdef.1\ns = 'a'  # handrail:end abcdef.9\n# handrail:end abcdef.1\n"
)


def _finding(message: str = "Block abcdef.1: no evidence.", **changes: Any) -> Finding:
    fields: dict[str, Any] = {
        "code": "HR300",
        "severity": Severity.WARNING,
        "message": message,
        "path": "a.py",
        "line": 1,
        "column": 1,
        "end_line": 3,
        "end_column": 24,
        "data": {"block_id": "abcdef.1"},
    }
    fields.update(changes)
    return Finding(**fields)


def test_a_changed_message_is_pushed_and_the_unchanged_findings_stay_the_same() -> None:
    host, diagnostics = _publisher()
    other = _finding(code="HR305", line=2, column=11, end_line=2, end_column=35, data={})
    first = _analysis("file:///a.py", 1, BLOCK_TEXT, [_finding("first words"), other])
    assert _pushed(host, diagnostics, first) == _fresh(host, diagnostics, first)
    second = _analysis("file:///a.py", 2, BLOCK_TEXT, [_finding("second words"), other])
    pushed = _pushed(host, diagnostics, second)
    assert b"second words" in pushed and b"first words" not in pushed
    assert pushed == _fresh(host, diagnostics, second)


def test_a_new_severity_help_link_or_encoding_is_pushed() -> None:
    """A workflow's new severity comes with the findings; the help links (docsBaseUrl) and
    the position encoding with the server: each gives new diagnostics for the same finding."""
    host, diagnostics = _publisher()
    text = "é😀 = 1  # handrail:end abcdef.9\n"
    finding = _finding(code="HR305", line=1, column=9, end_line=1, end_column=32, data={})
    versions = iter(range(1, 100))

    def push(found: Finding) -> bytes:
        analysis = _analysis("file:///a.py", next(versions), text, [found])
        pushed = _pushed(host, diagnostics, analysis)
        assert pushed == _fresh(host, diagnostics, analysis)
        return pushed

    assert b'"severity": 2' in push(finding)
    assert b'"severity": 1' in push(finding.with_severity(Severity.ERROR))
    assert b"/codes/HR305.md" in push(finding)
    host.base_url = "https://docs.example/handrail"
    assert b"https://docs.example/handrail/codes/HR305.md" in push(finding)
    assert b'"character": 9' in push(finding)  # UTF-16: the emoji is two code units
    host.position_encoding = UTF8
    assert b'"character": 12' in push(finding)
    host.position_encoding = UTF32
    assert b'"character": 8' in push(finding)


def test_a_finding_whose_lines_changed_around_it_gets_its_new_range() -> None:
    """The same finding (same code, message, columns in code points, data) on lines whose
    text changed before its start or its end: its UTF-16 range moves; one that runs to the
    end of its line follows the line's new end; one past the last line follows the count."""
    host, diagnostics = _publisher()
    same_line = _finding(code="HR305", line=1, column=10, end_line=1, end_column=33, data={})
    to_next = _finding(code="HR305", line=1, column=7, end_line=2, end_column=3, data={})
    from_previous = _finding(code="HR305", line=1, column=1, end_line=2, end_column=6, data={})
    whole_line = _finding(code="HR306", line=2, column=1, end_line=None, end_column=None)
    past_the_end = _finding(code="HR306", line=9, column=1, end_line=None, end_column=None)
    findings = [same_line, to_next, from_previous, whole_line, past_the_end]
    texts = [
        "s = 'ab'  # handrail:end abcdef.9\nx = 1\n",
        "s = '😀b'  # handrail:end abcdef.9\nx = 1\n",
        "s = '😀b'  # handrail:end abcdef.9\n😀 = 1\n",
        "s = '😀b'  # handrail:end abcdef.9\n😀 = 100\n\n",
        "s = 'ab'  # handrail:end abcdef.9\nx = 1\n",
    ]
    for version, text in enumerate(texts):
        analysis = _analysis("file:///a.py", version, text, findings)
        assert _pushed(host, diagnostics, analysis) == _fresh(host, diagnostics, analysis)


def test_findings_that_differ_in_one_field_each_get_their_own_diagnostic() -> None:
    """Findings equal but for one field (a position, the code, the path, the message, the
    severity, the data), on lines of the same text, in one push and the next: none takes
    another's diagnostic."""
    host, diagnostics = _publisher()
    text = "x = 12345\nx = 12345\n"
    first = _finding(code="HR305", line=1, column=2, end_line=1, end_column=4, data={})
    findings = [
        first,
        replace(first, line=2, end_line=2),
        replace(first, end_line=2),
        replace(first, column=3),
        replace(first, end_column=5),
        replace(first, end_line=None, end_column=None),
        replace(first, code="HR306"),
        replace(first, path="b.py"),
        replace(first, message="other words"),
        replace(first, severity=Severity.HINT),
        replace(first, data={"lines": [1, 2]}),
    ]
    for version, pushed in enumerate((findings, findings[::-1])):
        analysis = _analysis("file:///a.py", version, text, pushed)
        assert _pushed(host, diagnostics, analysis) == _fresh(host, diagnostics, analysis)


def test_a_pull_answers_the_new_message_and_the_out_of_sync_note() -> None:
    """A pull after an edit that changed one finding's message answers the new message;
    a document out of sync answers the note; a closed one nothing."""
    host, diagnostics = _publisher()
    other = _finding(code="HR305", line=2, column=11, end_line=2, end_column=35, data={})
    for version, words in ((1, "first words"), (2, "second words")):
        analysis = _analysis("file:///a.py", version, BLOCK_TEXT, [_finding(words), other])
        pulled = _pulled(host, diagnostics, analysis)
        assert pulled == _fresh_items(host, diagnostics, analysis)
        assert words in pulled[0]
    document = host.server.documents.get("file:///a.py")
    assert document is not None
    document.out_of_sync = "a change past the last line"
    (note,) = diagnostics.pull("file:///a.py")
    assert "lost track of this buffer" in note
    host.server.documents.close("file:///a.py")
    assert diagnostics.pull("file:///a.py") == []


def test_two_documents_with_the_same_findings_push_their_own() -> None:
    """Each document keeps its own encoded diagnostics: the same findings in two documents
    (one of them then closed) never give one the other's path or version."""
    host, diagnostics = _publisher()
    finding = _finding()
    a = _analysis("file:///a.py", 4, BLOCK_TEXT, [finding])
    b = _analysis("file:///b.py", 9, BLOCK_TEXT, [_finding(path="b.py")])
    assert _pushed(host, diagnostics, a) == _fresh(host, diagnostics, a)
    assert _pushed(host, diagnostics, b) == _fresh(host, diagnostics, b)
    diagnostics.forget("file:///a.py")
    again = _analysis("file:///b.py", 10, BLOCK_TEXT, [_finding(path="b.py")])
    pushed = _pushed(host, diagnostics, again)
    assert pushed == _fresh(host, diagnostics, again)
    assert b'"path": "b.py"' in pushed and b'"path": "a.py"' not in pushed


# Few values of each field, so that findings that differ in one field only, and lines that
# differ before a finding only, are frequent: every part of the conversion key is exercised.
_LINES = st.sampled_from(
    [
        "",
        "x = 1",
        "😀 = 1",
        "😀 = 1  # handrail:begin abcdef.1",
        "# handrail:begin abcdef.1",
        "\u4e2d\u6587 = 'a'",
    ]
)
_FINDINGS = st.builds(
    Finding,
    code=st.sampled_from(["HR300", "HR305"]),
    severity=st.sampled_from([Severity.ERROR, Severity.HINT]),
    message=st.sampled_from(["one", "run `handrail verify` (`handrail verify`)"]),
    path=st.sampled_from(["a.py", "b.py"]),
    line=st.integers(0, 4),
    column=st.sampled_from([1, 3]),
    end_line=st.none() | st.integers(0, 4),
    end_column=st.none() | st.sampled_from([2, 30]),
    data=st.sampled_from([{}, {"block_id": "abcdef.1"}, {"lines": [1, 2]}]),
)
_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "code": st.sampled_from(["HR300", "HR305"]),
    "severity": st.sampled_from([Severity.ERROR, Severity.HINT]),
    "message": st.sampled_from(["one", "run `handrail verify` (`handrail verify`)"]),
    "path": st.sampled_from(["a.py", "b.py"]),
    "line": st.integers(0, 5),
    "column": st.sampled_from([1, 3]),
    "end_line": st.none() | st.integers(0, 5),
    "end_column": st.none() | st.sampled_from([2, 30]),
    "data": st.sampled_from([{}, {"block_id": "abcdef.1"}, {"lines": [1, 2]}]),
}


@given(data=st.data())
def test_every_push_is_what_a_fresh_conversion_would_send(data: st.DataObject) -> None:
    """Push after push, one thing changes at a time (one field of one finding, one line of the
    text, the document, the encoding, the help links), so that a conversion key missing any
    part of what the conversion reads would push an old diagnostic."""
    host, diagnostics = _publisher()
    lines = data.draw(st.lists(_LINES, min_size=1, max_size=4))
    findings = data.draw(st.lists(_FINDINGS, min_size=1, max_size=4))
    uri, failed = "file:///a.py", False
    newline = data.draw(st.sampled_from(["\n", "\r\n", "\r"]))
    for version in range(data.draw(st.integers(1, 8))):
        change = data.draw(st.sampled_from(["finding", "line", "uri", "encoding", "base", "fail"]))
        if change == "finding":
            at = data.draw(st.integers(0, len(findings) - 1))
            field = data.draw(st.sampled_from(sorted(_FIELDS)))
            findings[at] = replace(findings[at], **{field: data.draw(_FIELDS[field])})
        elif change == "line":
            at = data.draw(st.integers(0, len(lines)))
            new = data.draw(_LINES)
            lines[at : at + data.draw(st.integers(0, 1))] = [new]
        elif change == "uri":
            uri = data.draw(st.sampled_from(["file:///a.py", "file:///b.py"]))
        elif change == "encoding":
            host.position_encoding = data.draw(st.sampled_from([UTF16, UTF8, UTF32]))
        elif change == "base":
            host.base_url = data.draw(st.sampled_from([None, "https://docs.example"]))
        else:
            failed = not failed
        analysis = _analysis(uri, version, newline.join(lines), list(findings))
        if failed:
            analysis.failures = [RuleFailure("the block checks", ValueError("boom"))]
        if data.draw(st.booleans()):  # a pull (VS Code, Neovim) instead of a push
            assert _pulled(host, diagnostics, analysis) == _fresh_items(host, diagnostics, analysis)
        else:
            assert _pushed(host, diagnostics, analysis) == _fresh(host, diagnostics, analysis)
