"""The whole context check of one task: every entry, then the caps (HR200-HR206).

Per entry, cheapest and safest first: parse it, match it against the ignore patterns (no
disk access), confine it to the workspace, stat it, read it, scan it for secrets, count its
tokens. An entry that fails a step is not taken further, so an ignored `.env` is never read
and a FIFO is never opened. Every finding sits on the task file, at the line of the entry
it concerns; the caps on the whole context sit on the first entry's line (or the line of
``context =`` when the caller knows it).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict

from handrail.context import budget
from handrail.context.entries import ContextEntry, EntryError, parse_entry
from handrail.context.resolve import (
    EntryProblem,
    EntryText,
    Located,
    Locator,
    count_lines,
    read_located,
    split_lines,
)
from handrail.context.secrets import (
    SecretHit,
    SecretScanError,
    SecretScanner,
    default_scanner,
    describe_hits,
    hits_data,
)
from handrail.context.tokens import TokenCounter, shared_counter
from handrail.findings import Finding, FindingJson, Severity, findings_json
from handrail.workflow.model import ContextRules, Workflow
from handrail.workspace import Workspace

Status = Literal[
    "ok",
    "ignored",
    "secret",
    "missing",
    "outside",
    "not-a-file",
    "unscannable",
    "too-large",
    "over-cap",
    "invalid",
]


class IgnoreMatchLike(Protocol):
    @property
    def source(self) -> str: ...

    @property
    def pattern(self) -> str: ...


class IgnoreLike(Protocol):
    """What check_context needs of `handrail.ignore.IgnoreMatcher`."""

    def match(self, rel_path: str, *, is_dir: bool = False) -> IgnoreMatchLike | None: ...


@dataclass
class EntryReport:
    """What the check found for one entry, in task-file order."""

    raw: str
    path: str
    tokens: int | None
    status: Status
    findings: list[Finding] = field(default_factory=list)
    line: int = 1
    """The line of the entry in the task file."""
    start_line: int | None = None
    end_line: int | None = None


class ContextEntryJson(TypedDict):
    entry: str
    path: str
    tokens: int | None
    status: Status
    line: int


class ContextReportJson(TypedDict):
    """`ContextReport.as_json`: `handrail context check --json` and ``handrail.checkContext``."""

    task: str
    encoding: str
    encoding_note: str | None
    total_tokens: int
    max_tokens: int
    max_files: int
    entries: list[ContextEntryJson]
    drop: list[str]
    findings: list[FindingJson]


@dataclass
class ContextReport:
    entries: list[EntryReport]
    total_tokens: int
    max_tokens: int
    max_files: int
    encoding_used: str
    encoding_note: str | None
    drop: list[str]
    """Entries whose removal brings the total within `max_tokens` (empty when it fits)."""
    findings: list[Finding]
    _texts: dict[str, str] = field(default_factory=dict, repr=False)

    def text_of(self, raw: str) -> str | None:
        """The checked text of entry `raw` (its line range applied), or None when unusable.

        None for entries that are ignored, unreadable or hold a blocking secret: such text
        must never reach a prompt.
        """
        return self._texts.get(raw)

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def as_json(self, task_id: str) -> ContextReportJson:
        """One JSON shape for `handrail context check --json` and `handrail.checkContext`."""
        return {
            "task": task_id,
            "encoding": self.encoding_used,
            "encoding_note": self.encoding_note,
            "total_tokens": self.total_tokens,
            "max_tokens": self.max_tokens,
            "max_files": self.max_files,
            "entries": [
                {
                    "entry": e.raw,
                    "path": e.path,
                    "tokens": e.tokens,
                    "status": e.status,
                    "line": e.line,
                }
                for e in self.entries
            ],
            "drop": list(self.drop),
            "findings": findings_json(self.findings),
        }


class _Locator:
    """Columns of each entry's string in the task file, for precise editor ranges."""

    def __init__(self, text: str | None) -> None:
        self.lines = [ln.rstrip("\r\n") for ln in split_lines(text)] if text else []

    def span(self, line: int, raw: str) -> tuple[int, int | None]:
        if 1 <= line <= len(self.lines) and raw:
            at = self.lines[line - 1].find(raw)
            if at >= 0:
                return at + 1, at + 1 + len(raw)
        return 1, None


def _read_task(ws: Workspace, task_rel: str) -> str | None:
    try:
        path = ws.resolve_inside(task_rel)
        if not path.is_file():
            return None
        return path.read_text(encoding="utf-8-sig")
    except (OSError, ValueError, RuntimeError):
        return None


def _lexical(path: str) -> str | None:
    """`path` normalised without touching the disk, or None when it leaves the root."""
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return None
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../") or norm == ".":
        return None
    return norm


def ignored_path(ignore: IgnoreLike, rel: str) -> tuple[IgnoreMatchLike, str] | None:
    """The first ignore match for `rel` or one of its folders (git ignores a folder's files)."""
    parts = rel.split("/")
    try:
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            hit = ignore.match(folder, is_dir=True)
            if hit is not None:
                return hit, folder + "/"
        hit = ignore.match(rel, is_dir=False)
    except ValueError:
        # The matcher refuses paths that leave the root; resolving reports those (HR205).
        return None
    if hit is not None:
        return hit, rel
    return None


class _Builder:
    def __init__(
        self, ws: Workspace, workflow: Workflow, task_rel: str, task_text: str | None
    ) -> None:
        self.ws = ws
        self.workflow = workflow
        self.task_rel = task_rel
        self.locator = _Locator(task_text if task_text is not None else _read_task(ws, task_rel))
        self.paths = Locator(ws)

    def finding(
        self,
        code: str,
        message: str,
        line: int,
        raw: str | None,
        data: dict[str, Any],
        *,
        at_most: Severity | None = None,
    ) -> Finding | None:
        severity = self.workflow.severity_of(code)
        if severity is None:
            return None
        if at_most is not None and severity.rank < at_most.rank:
            severity = at_most
        column, end = self.locator.span(line, raw) if raw is not None else (1, None)
        return Finding(
            code=code,
            severity=severity,
            message=message,
            path=self.task_rel,
            line=line,
            column=column,
            end_line=line if end is not None else None,
            end_column=end,
            data=data,
        )


def check_context(
    ws: Workspace,
    workflow: Workflow,
    entries: Sequence[str],
    *,
    task_rel: str,
    entry_lines: Sequence[int],
    ignore: IgnoreLike | None = None,
    counter: TokenCounter | None = None,
    scanner: SecretScanner | None = None,
    context_line: int | None = None,
    task_text: str | None = None,
    pins: Mapping[str, str] | None = None,
) -> ContextReport:
    """Check the context `entries` of the task file `task_rel` against `workflow`.

    `entry_lines` gives each entry's line in the task file. `task_text` is the task file's
    text when the caller has it (an editor buffer); otherwise it is read from disk, only to
    place findings on the exact entry string. `pins` holds the hash of each line-range
    entry's lines when it was attached (the task's ``context_hashes``): lines that changed
    or moved since are HR207.
    """
    rules = workflow.context
    b = _Builder(ws, workflow, task_rel, task_text)
    lines = list(entry_lines)
    fallback_line = context_line or (lines[0] if lines else 1)
    while len(lines) < len(entries):
        lines.append(fallback_line)

    check_ignore = workflow.severity_of("HR203") is not None
    if ignore is None and check_ignore:
        from handrail.ignore import IgnoreMatcher as _Matcher

        ignore = _Matcher.for_workspace(ws, rules.ignore, use_gitignore=rules.use_gitignore)
    scan = rules.scan_secrets and workflow.severity_of("HR204") is not None
    scanner = scanner if scanner is not None else (default_scanner() if scan else None)

    reports: list[EntryReport] = []
    readable: list[tuple[EntryReport, EntryText]] = []
    for raw, line in zip(entries, lines, strict=False):
        report, text = _check_entry(b, raw, line, ignore if check_ignore else None, rules)
        reports.append(report)
        if text is None:
            continue
        if pins:
            _report_drift(b, report, text, pins, rules)
        if scan and scanner is not None:
            try:
                hits = scanner.scan(
                    text.text, filename=text.rel, first_line=text.first_line, digest=text.digest
                )
            except SecretScanError as exc:
                # Fail closed: text the scanner could not get through is not clean.
                _report_problem(
                    b,
                    report,
                    EntryProblem(
                        text.entry,
                        "unscannable",
                        "HR206",
                        f"{text.entry.path} could not be scanned for secrets (the scanner "
                        f"failed: {exc}), so it is never treated as clean. Report this to "
                        f"the Handrail maintainers; meanwhile remove the entry.",
                        {"entry": report.raw, "reason": "scan-failed"},
                    ),
                )
                continue
            if _secret_findings(b, report, text, hits):
                report.status = "secret"
        readable.append((report, text))

    counter = counter if counter is not None else shared_counter(rules)
    counts = (
        counter.count_many([t.text for _, t in readable], digests=[t.digest for _, t in readable])
        if readable
        else []
    )
    texts: dict[str, str] = {}
    for (report, text), tokens in zip(readable, counts, strict=True):
        report.tokens = tokens
        issue = budget.over_file_cap(
            text.entry,
            tokens,
            rules.max_file_tokens,
            first_line=text.first_line,
            lines=text.file_lines if not text.entry.has_range else count_lines(text.text),
        )
        if issue is not None:
            f = b.finding(issue.code, issue.message, report.line, report.raw, issue.data)
            if f is not None:
                report.findings.append(f)
                if report.status == "ok":
                    report.status = "over-cap"
        if report.status in ("ok", "over-cap"):
            texts.setdefault(report.raw, text.text)

    findings = [f for r in reports for f in r.findings]
    sizes = [budget.Sized(r.raw, r.tokens) for r in reports if r.tokens is not None]
    total = sum(s.tokens for s in sizes)
    drop: list[str] = []
    total_issue = budget.over_total(sizes, rules.max_tokens)
    if total_issue is not None:
        drop = list(total_issue.data["drop"])
        f = b.finding(total_issue.code, total_issue.message, fallback_line, None, total_issue.data)
        if f is not None:
            findings.append(f)
    unusable = [r.raw for r in reports if r.status not in ("ok", "over-cap")]
    files_issue = budget.too_many_files(
        [r.raw for r in reports], sizes, rules.max_files, unusable=unusable
    )
    if files_issue is not None:
        f = b.finding(files_issue.code, files_issue.message, fallback_line, None, files_issue.data)
        if f is not None:
            findings.append(f)

    return ContextReport(
        entries=reports,
        total_tokens=total,
        max_tokens=rules.max_tokens,
        max_files=rules.max_files,
        encoding_used=counter.encoding_used,
        encoding_note=counter.encoding_note,
        drop=drop,
        findings=sorted(findings, key=Finding.sort_key),
        _texts=texts,
    )


def _check_entry(
    b: _Builder, raw: str, line: int, ignore: IgnoreLike | None, rules: ContextRules
) -> tuple[EntryReport, EntryText | None]:
    try:
        entry = parse_entry(raw)
    except EntryError as exc:
        shown = raw.strip() if isinstance(raw, str) else repr(raw)
        report = EntryReport(str(raw), shown, None, "invalid", line=line)
        f = b.finding(
            "HR205",
            f"The context entry {shown!r} cannot be read: {exc.message}.",
            line,
            raw if isinstance(raw, str) else None,
            {"entry": raw if isinstance(raw, str) else repr(raw), "reason": "invalid"},
        )
        if f is not None:
            report.findings.append(f)
        return report, None

    report = EntryReport(
        raw,
        entry.path,
        None,
        "ok",
        line=line,
        start_line=entry.start_line,
        end_line=entry.end_line,
    )
    lexical = _lexical(entry.path)
    if (
        ignore is not None
        and lexical is not None
        and _report_ignored(b, report, entry, ignore, lexical, None)
    ):
        return report, None

    located = b.paths.locate(entry)
    if isinstance(located, EntryProblem):
        _report_problem(b, report, located)
        return report, None
    if (
        ignore is not None
        and located.rel != lexical
        and _report_ignored(b, report, entry, ignore, located.rel, lexical)
    ):
        return report, None
    return _read(b, report, located, rules)


def _read(
    b: _Builder, report: EntryReport, located: Located, rules: ContextRules
) -> tuple[EntryReport, EntryText | None]:
    result = read_located(located, max_file_bytes=rules.max_file_bytes)
    if isinstance(result, EntryProblem):
        _report_problem(b, report, result)
        return report, None
    return report, result


def _report_drift(
    b: _Builder,
    report: EntryReport,
    text: EntryText,
    pins: Mapping[str, str],
    rules: ContextRules,
) -> None:
    """HR207 when a line-range entry's lines are not the ones it took (see `context.pins`)."""
    from handrail.context.pins import drift_of

    drift = drift_of(b.ws, text.entry, text, pins, max_file_bytes=rules.max_file_bytes)
    if drift is None:
        return
    shown = report.raw.strip()
    if drift.suggest is not None:
        message = (
            f"The lines {shown} took have moved: they are now {drift.suggest}. Use the new "
            "range, or the model sees other code than the task was written against."
        )
    else:
        message = (
            f"The lines {shown} took have changed since they were attached. Read them again "
            "and set the context anew (handrail task edit --context …), so the spec and the "
            "context agree."
        )
    f = b.finding(
        "HR207",
        message,
        report.line,
        report.raw,
        {
            "entry": report.raw,
            "suggest": drift.suggest,
            "reason": "moved" if drift.suggest else "changed",
        },
    )
    if f is not None:
        report.findings.append(f)


def _report_problem(b: _Builder, report: EntryReport, problem: EntryProblem) -> None:
    report.status = problem.status
    f = b.finding(problem.code, problem.message, report.line, report.raw, dict(problem.data))
    if f is not None:
        report.findings.append(f)


def _report_ignored(
    b: _Builder,
    report: EntryReport,
    entry: ContextEntry,
    ignore: IgnoreLike,
    rel: str,
    written: str | None,
) -> bool:
    hit = ignored_path(ignore, rel)
    if hit is None:
        return False
    match, what = hit
    via = f" (it is a symlink to {rel})" if written is not None else ""
    subject = (
        f"{entry.path}{via} matches"
        if what == rel
        else f"{entry.path}{via} is inside {what}, which matches"
    )
    report.status = "ignored"
    f = b.finding(
        "HR203",
        f"{subject} the ignore pattern {match.pattern!r} from {match.source}: files matched "
        f"by it must never be sent to a model. Remove the entry.",
        report.line,
        report.raw,
        {
            "entry": report.raw,
            "pattern": match.pattern,
            "source": match.source,
            "matched": what,
        },
    )
    if f is not None:
        report.findings.append(f)
    return True


def _secret_findings(
    b: _Builder, report: EntryReport, text: EntryText, hits: Sequence[SecretHit]
) -> bool:
    """Add HR204 findings for `hits`; True when one of them blocks the entry."""
    blocking = [h for h in hits if h.blocking]
    blocked_lines = {h.line for h in blocking}
    # A line that holds a recognised key also trips the entropy heuristics: say it once.
    heuristic = [h for h in hits if not h.blocking and h.line not in blocked_lines]
    name = text.entry.path
    fix = (
        "a secret must never be sent to a model. Move it out of the file (read it from the "
        "environment) or remove the entry; if it is not a secret, add "
        "'# pragma: allowlist secret' to that line"
    )
    blocked = False
    if blocking:
        f = b.finding(
            "HR204",
            f"{name} holds what looks like {describe_hits(blocking)}; {fix}.",
            report.line,
            report.raw,
            {
                "entry": report.raw,
                "file": text.rel,
                "secrets": hits_data(blocking),
                "blocking": True,
            },
        )
        if f is not None:
            report.findings.append(f)
            blocked = True
    if heuristic:
        f = b.finding(
            "HR204",
            f"{name} may hold a secret: {describe_hits(heuristic)}. Check that it is not a "
            f"credential; if it is not, add '# pragma: allowlist secret' to that line.",
            report.line,
            report.raw,
            {
                "entry": report.raw,
                "file": text.rel,
                "secrets": hits_data(heuristic),
                "blocking": False,
            },
            at_most=Severity.WARNING,
        )
        if f is not None:
            report.findings.append(f)
    return blocked
