"""The spec checks of stage 1 (HR100-HR103).

`describe_spec` states the facts about a spec (its sentences, the required parts it lacks,
the placeholders it still holds) without judging them, for front ends that show live feedback.
`check_spec` turns those facts into findings with the team's severities.

Positions: the spec is taken to start at (`line`, `column`) of `path` and to appear there
verbatim, so an offset into the spec maps to a line and column of the file (CRLF, CR and LF
each end a line). A caller whose spec is not stored verbatim (an escaped TOML string) passes
``verbatim=False`` and every finding anchors on the spec's first line instead.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from handrail.findings import Finding, Severity
from handrail.spec.sentences import Sentence, split_sentences
from handrail.wording import plural
from handrail.workflow.model import Workflow
from handrail.workflow.patterns import Pattern, PatternError, compile_pattern

__all__ = [
    "PART_HINTS",
    "PlaceholderHit",
    "SpecSummary",
    "check_spec",
    "describe_spec",
]

PART_HINTS: dict[str, str] = {
    "inputs": 'what the code is given, e.g. "Given a CSV header line, …"',
    "outputs": 'what it returns or changes, e.g. "… return the column names"',
    "constraint": 'the constraint that matters most, e.g. "It must not read the file twice"',
    "pattern": 'the existing code to follow, e.g. "… like parse_row in src/csv_utils.py"',
}
"""What each of the default pack's required parts means, for HR102 messages."""

_MAX_PLACEHOLDER_FINDINGS = 20
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class PlaceholderHit:
    """Template text found in a spec: `text` at spec[start:end], matched by `pattern`."""

    text: str
    start: int
    end: int
    pattern: str


@dataclass(frozen=True, slots=True)
class SpecSummary:
    """What a spec holds, judged against the rules but without severities."""

    sentences: list[Sentence]
    max_sentences: int
    hard_max_sentences: int
    missing: list[str] = field(default_factory=list)
    """Names of the required parts that nothing in the spec matches, in the rules' order."""
    placeholders: list[PlaceholderHit] = field(default_factory=list)
    is_template: bool = False
    """The spec is the workflow's template, give or take whitespace."""
    empty: bool = False
    """Nothing usable: empty, whitespace only, or not a single letter or digit."""

    @property
    def sentence_count(self) -> int:
        return len(self.sentences)

    @property
    def over_limit(self) -> bool:
        return self.sentence_count > self.max_sentences

    @property
    def over_hard_limit(self) -> bool:
        return self.sentence_count > self.hard_max_sentences


def describe_spec(spec: str, workflow: Workflow) -> SpecSummary:
    """The facts about `spec` under the workflow's `[spec]` rules."""
    rules = workflow.spec
    empty = not any(ch.isalnum() for ch in spec)
    if empty:
        return SpecSummary(
            sentences=[],
            max_sentences=rules.max_sentences,
            hard_max_sentences=rules.hard_max_sentences,
            empty=True,
        )
    missing = [
        name
        for name, pattern in rules.required.items()
        if (compiled := _compiled(pattern)) is not None and compiled.search(spec) is None
    ]
    return SpecSummary(
        sentences=split_sentences(spec),
        max_sentences=rules.max_sentences,
        hard_max_sentences=rules.hard_max_sentences,
        missing=missing,
        placeholders=_placeholders(spec, rules.placeholders),
        is_template=bool(rules.template.strip()) and _squash(spec) == _squash(rules.template),
    )


def check_spec(
    spec: str,
    workflow: Workflow,
    *,
    path: str,
    line: int = 1,
    column: int = 1,
    verbatim: bool = True,
    has_context: bool | None = None,
) -> list[Finding]:
    """HR100-HR103 for `spec`, which starts at (`line`, `column`) of `path`.

    `has_context` says whether the task attaches any context (None: not known yet, a draft):
    a spec that names none of the required parts and comes with no context says nothing a
    reviewer could check the code against, so its HR102 is an error."""
    summary = describe_spec(spec, workflow)
    place = _Locator(spec, line, column, verbatim)
    findings: list[Finding] = []

    if summary.empty:
        severity = workflow.severity_of("HR100")
        if severity is not None:
            findings.append(
                Finding(
                    code="HR100",
                    severity=severity,
                    message=(
                        "No usable spec: the spec is empty. Write what the code must do in "
                        f"at most {summary.max_sentences} sentences: its inputs, its outputs, "
                        "the constraint that matters most and the existing code to follow."
                    ),
                    path=path,
                    line=line,
                    column=column,
                    data={"problem": "empty"},
                )
            )
        return findings

    text_start = summary.sentences[0].start if summary.sentences else 0
    text_end = summary.sentences[-1].end if summary.sentences else len(spec)

    findings.extend(_too_long(summary, workflow, path, place, text_end))
    findings.extend(_incomplete(summary, workflow, path, place, text_start, text_end, has_context))
    findings.extend(_template_text(summary, workflow, path, place, text_start, text_end))
    return findings


def _too_long(
    summary: SpecSummary, workflow: Workflow, path: str, place: _Locator, text_end: int
) -> list[Finding]:
    configured = workflow.severity_of("HR101")
    if configured is None or not summary.over_limit:
        return []
    count, soft, hard = summary.sentence_count, summary.max_sentences, summary.hard_max_sentences
    if summary.over_hard_limit:
        # Past the hard limit the spec describes more than one generation: always an error.
        severity = Severity.ERROR
        message = (
            f"The spec has {count} sentences, past the hard limit of {hard}: decompose the work "
            f"into smaller tasks, each with its own spec of at most "
            f"{plural(soft, 'sentence')}."
        )
    else:
        severity = configured
        message = (
            f"The spec has {count} sentences; the limit is {soft}. Shorten it to "
            f"{plural(soft, 'sentence')} (inputs, outputs, the constraint, the pattern to "
            "follow), or decompose the work into smaller tasks."
        )
    first_extra = summary.sentences[soft]
    return [
        place.finding(
            "HR101",
            severity,
            message,
            path=path,
            span=(first_extra.start, text_end),
            data={"sentences": count, "max": soft, "hard_max": hard},
        )
    ]


def _incomplete(
    summary: SpecSummary,
    workflow: Workflow,
    path: str,
    place: _Locator,
    text_start: int,
    text_end: int,
    has_context: bool | None = None,
) -> list[Finding]:
    severity = workflow.severity_of("HR102")
    if severity is None or not summary.missing:
        return []
    required = workflow.spec.required
    checkable = set(required) - set(summary.missing)
    if has_context is False and not checkable:
        # Nothing to check the code against: no part named, no code to follow attached.
        return [
            place.finding(
                "HR102",
                Severity.ERROR,
                "The spec says nothing checkable: no input, output, constraint or pattern to "
                "follow, and the task has no context. Say what the code is given and what it "
                'must return or change (e.g. "Given …, return …"), or attach the code it '
                "must work with.",
                path=path,
                span=(text_start, text_end),
                data={"missing": list(summary.missing), "nothing_checkable": True},
            )
        ]
    hints = {
        name: PART_HINTS.get(name, f"a phrase matching {required[name]}")
        for name in summary.missing
    }
    parts = "; ".join(f"{name} ({hint})" for name, hint in hints.items())
    if len(hints) == 1:
        message = f"The spec does not mention a required part: {parts}. Add it in a few words."
    else:
        message = (
            f"The spec does not mention {len(hints)} required parts: {parts}. "
            "Add each in a few words."
        )
    return [
        place.finding(
            "HR102",
            severity,
            message,
            path=path,
            span=(text_start, text_end),
            data={"missing": list(summary.missing), "hints": hints},
        )
    ]


def _template_text(
    summary: SpecSummary,
    workflow: Workflow,
    path: str,
    place: _Locator,
    text_start: int,
    text_end: int,
) -> list[Finding]:
    severity = workflow.severity_of("HR103")
    if severity is None:
        return []
    if summary.is_template:
        names = list(dict.fromkeys(hit.text for hit in summary.placeholders))
        listed = ", ".join(names) if names else "the template's wording"
        return [
            place.finding(
                "HR103",
                severity,
                "The spec is still the workflow's template: replace "
                f"{listed} with what this piece of work needs.",
                path=path,
                span=(text_start, text_end),
                data={"template": True, "placeholders": names},
            )
        ]
    return [
        place.finding(
            "HR103",
            severity,
            f'The spec still holds the placeholder "{hit.text}": replace it with your own words.',
            path=path,
            span=(hit.start, hit.end),
            data={"template": False, "placeholder": hit.text, "pattern": hit.pattern},
        )
        for hit in summary.placeholders[:_MAX_PLACEHOLDER_FINDINGS]
    ]


def _placeholders(spec: str, patterns: list[str]) -> list[PlaceholderHit]:
    hits: dict[tuple[int, int], PlaceholderHit] = {}
    for pattern in patterns:
        compiled = _compiled(pattern)
        if compiled is None:
            continue
        for match in compiled.finditer(spec):
            if match.end() > match.start():
                hits.setdefault(
                    (match.start(), match.end()),
                    PlaceholderHit(match.group(), match.start(), match.end(), pattern),
                )
    return [hits[key] for key in sorted(hits)]


def _compiled(pattern: str) -> Pattern | None:
    # RE2, never `re`: the patterns come with the repository, and a backtracking engine lets
    # one of them hang the gate and the language server. The workflow model already refuses
    # what RE2 cannot compile (HR400); a hand-built model that slipped one through loses that
    # one rule rather than crashing the editor.
    try:
        return compile_pattern(pattern)
    except PatternError:
        return None


def _squash(text: str) -> str:
    return " ".join(text.split())


class _Locator:
    """Maps offsets into the spec to 1-based (line, column) positions of the file."""

    def __init__(self, spec: str, line: int, column: int, verbatim: bool) -> None:
        self._line = line
        self._column = column
        self._verbatim = verbatim
        self._starts = [0, *(m.end() for m in _LINE_BREAK.finditer(spec))]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._starts, offset) - 1
        if index == 0:
            return self._line, self._column + offset
        return self._line + index, offset - self._starts[index] + 1

    def finding(
        self,
        code: str,
        severity: Severity,
        message: str,
        *,
        path: str,
        span: tuple[int, int],
        data: dict[str, Any],
    ) -> Finding:
        """A finding on spec[span[0]:span[1]], or on the spec's first line when not verbatim."""
        if not self._verbatim:
            return Finding(code, severity, message, path, self._line, self._column, data=data)
        line, column = self.position(span[0])
        end_line, end_column = self.position(span[1])
        return Finding(code, severity, message, path, line, column, end_line, end_column, data)
