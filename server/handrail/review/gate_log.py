"""Gate outcomes as git notes: what `handrail check --record-gate` writes and `stats` reads.

The ledger is no place for them: in CI a ledger write dies with the runner. A git note does
not: the CI job pushes `refs/notes/handrail-gate` like any other ref. Each gate run appends
one JSON object on one line to the note of the checked commit:

    {"v":1,"at":"2026-03-02T09:00:00Z","commit":"<sha>","result":"fail","errors":2,
     "warnings":1,"codes":{"HR300":2},"source":"ci","author":"Ada <ada@example.com>",
     "run":"3f9a0c1d2e4b"}

One object a line is what makes concurrent writers safe: `git notes merge -s cat_sort_uniq`
concatenates two versions of a note, sorts the lines and drops duplicates, which is a sound
merge exactly when every line is a whole record. `run` is random, so two runs that agree on
everything else are still two lines; a note copied to a rewritten commit (notes.rewriteRef)
repeats the same lines, and a reader counts each line once.

`codes` counts the findings of severity `error` by code (what failed the gate), so its values
add up to `errors`. `author` is the commit's author at recording time ("Name <email>"), so the
numbers per author need no commit object: with squash merges the checked pull request head is
often not in a local clone at all.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from handrail.findings import Finding, Severity
from handrail.git import GitError, git
from handrail.workspace import Workspace

NOTES_REF = "refs/notes/handrail-gate"
VERSION = 1
MAX_LINE_BYTES = 16 * 1024
"""A longer line is no record this module wrote: it is skipped unread."""
MAX_NOTE_BYTES = 4 * 1024 * 1024
_MAX_COUNT = 10**9
_MAX_CODES = 256
_MAX_AUTHOR = 512
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_CODE = re.compile(r"[A-Z]{2,8}[0-9]{1,6}")
_RUN = re.compile(r"[0-9a-f]{8,64}")
_FALLBACK_IDENT = ("-c", "user.name=Handrail gate", "-c", "user.email=handrail-gate@localhost")
_AUTHOR_BATCH = 500

Result = Literal["pass", "fail"]
Source = Literal["ci", "local"]


class GateLogError(Exception):
    """The outcome could not be recorded (or the notes read); the message is for the user."""


class MalformedGateLine(ValueError):
    """A note line that is not a well-formed gate record; the message says why."""


@dataclass(frozen=True, slots=True)
class GateRecord:
    """One run of the gate on one commit."""

    at: dt.datetime
    """When the gate ran (UTC)."""
    commit: str
    result: Result
    errors: int
    warnings: int
    codes: Mapping[str, int]
    """Findings of severity error, by code."""
    source: Source
    author: str | None = None
    """The checked commit's author, "Name <email>"; None when the writer did not say."""
    run: str | None = None
    """Random id of the run, so two identical outcomes stay two lines."""

    @property
    def passed(self) -> bool:
        return self.result == "pass"

    @property
    def week(self) -> str:
        year, week, _ = self.at.isocalendar()
        return f"{year}-W{week:02d}"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "v": VERSION,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "commit": self.commit,
            "result": self.result,
            "errors": self.errors,
            "warnings": self.warnings,
            "codes": dict(sorted(self.codes.items())),
            "source": self.source,
        }
        if self.author is not None:
            data["author"] = self.author
        if self.run is not None:
            data["run"] = self.run
        return data

    def to_line(self) -> str:
        """The record as one line of ASCII JSON (no newline)."""
        return json.dumps(self.as_json(), separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True, slots=True)
class MalformedLine:
    """A note line that was skipped, and where it is."""

    commit: str
    """The object the note is attached to."""
    line: int
    """1-based line of the note."""
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "line": self.line, "reason": self.reason}

    def message(self) -> str:
        return f"gate record on commit {self.commit[:12]} (line {self.line}): {self.reason}"


@dataclass(slots=True)
class GateLog:
    """Everything the notes ref holds, read."""

    present: bool = False
    """The ref exists in this repository."""
    records: list[GateRecord] = field(default_factory=list)
    malformed: list[MalformedLine] = field(default_factory=list)
    problem: str | None = None
    """Why the ref could not be read (git failed), for a warning."""


# -- the line format -----------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise MalformedGateLine(f"the key {key!r} appears twice")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise MalformedGateLine(f"{name} is not a number")


def _count(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if type(value) is not int or not 0 <= value <= _MAX_COUNT:
        raise MalformedGateLine(f"{key!r} is not a count")
    return value


def _text_ok(value: str) -> bool:
    return all(not unicodedata.category(c).startswith("C") for c in value)


def parse_line(raw: bytes | str) -> GateRecord:
    """One note line as a record; `MalformedGateLine` (saying why) for anything else.

    Well-formed: a JSON object with `v` 1, an ISO 8601 `at` with a time zone, a hex `commit`,
    `result` pass or fail, counts, `codes` adding up to `errors` (none for a pass), `source`
    ci or local, optionally an `author` without control characters and a hex `run`. Keys a
    later version adds are ignored.
    """
    if isinstance(raw, bytes):
        if len(raw) > MAX_LINE_BYTES:
            raise MalformedGateLine(f"longer than {MAX_LINE_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedGateLine("not UTF-8") from None
    else:
        text = raw
        if len(text) > MAX_LINE_BYTES:
            raise MalformedGateLine(f"longer than {MAX_LINE_BYTES} bytes")
    text = text.strip()
    if not text.startswith("{"):
        raise MalformedGateLine("not a JSON object")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except MalformedGateLine:
        raise
    except (ValueError, RecursionError):
        raise MalformedGateLine("not valid JSON") from None
    if not isinstance(data, dict):
        raise MalformedGateLine("not a JSON object")
    version = data.get("v")
    if type(version) is not int:
        raise MalformedGateLine("no version 'v'")
    if version != VERSION:
        raise MalformedGateLine(f"version {version} (this Handrail reads version {VERSION})")
    at_text = data.get("at")
    if not isinstance(at_text, str):
        raise MalformedGateLine("'at' is not a time")
    try:
        local = dt.datetime.fromisoformat(at_text)
        at = local.astimezone(dt.UTC) if local.utcoffset() is not None else None
    except (ValueError, OverflowError):
        raise MalformedGateLine("'at' is not an ISO 8601 time") from None
    if at is None:
        raise MalformedGateLine("'at' has no time zone")
    commit = data.get("commit")
    if not isinstance(commit, str) or not _SHA.fullmatch(commit):
        raise MalformedGateLine("'commit' is not a full commit id")
    result = data.get("result")
    if result not in ("pass", "fail"):
        raise MalformedGateLine("'result' is neither 'pass' nor 'fail'")
    errors = _count(data, "errors")
    warnings = _count(data, "warnings")
    codes_raw = data.get("codes")
    if not isinstance(codes_raw, dict) or len(codes_raw) > _MAX_CODES:
        raise MalformedGateLine("'codes' is not an object of counts")
    codes: dict[str, int] = {}
    for code in codes_raw:
        if not _CODE.fullmatch(code):
            raise MalformedGateLine(f"'codes' has a key that is no diagnostic code: {code!r}")
        count = _count(codes_raw, code)
        if count == 0:
            raise MalformedGateLine(f"'codes' counts {code} zero times")
        codes[code] = count
    if sum(codes.values()) != errors:
        raise MalformedGateLine("'codes' do not add up to 'errors'")
    if result == "pass" and errors:
        raise MalformedGateLine("a passing run with errors")
    source = data.get("source")
    if source not in ("ci", "local"):
        raise MalformedGateLine("'source' is neither 'ci' nor 'local'")
    author = data.get("author")
    if author is not None and (
        not isinstance(author, str) or not 0 < len(author) <= _MAX_AUTHOR or not _text_ok(author)
    ):
        raise MalformedGateLine("'author' is not a name")
    run = data.get("run")
    if run is not None and (not isinstance(run, str) or not _RUN.fullmatch(run)):
        raise MalformedGateLine("'run' is not a hex id")
    return GateRecord(
        at=at,
        commit=commit,
        result="pass" if result == "pass" else "fail",
        errors=errors,
        warnings=warnings,
        codes=codes,
        source="ci" if source == "ci" else "local",
        author=author,
        run=run,
    )


def parse_note(commit: str, note: bytes) -> tuple[list[GateRecord], list[MalformedLine]]:
    """The records of one note, and its malformed lines; blank lines are no records."""
    records: list[GateRecord] = []
    malformed: list[MalformedLine] = []
    for number, line in enumerate(note.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            records.append(parse_line(line))
        except MalformedGateLine as exc:
            malformed.append(MalformedLine(commit, number, str(exc)))
    return records, malformed


# -- writing -------------------------------------------------------------------------------------


def outcome(findings: Sequence[Finding], exit_code: int) -> tuple[Result, int, int, dict[str, int]]:
    """(result, errors, warnings, error codes) of a gate that exited with `exit_code`.

    Any exit other than 0 is a failed gate: 2 (an invalid workflow) blocks a merge as surely
    as 1 does.
    """
    codes: dict[str, int] = {}
    errors = warnings = 0
    for f in findings:
        if f.severity is Severity.ERROR:
            errors += 1
            codes[f.code] = codes.get(f.code, 0) + 1
        elif f.severity is Severity.WARNING:
            warnings += 1
    return ("pass" if exit_code == 0 else "fail"), errors, warnings, codes


def source_from_env(env: Mapping[str, str] | None = None) -> Source:
    """The source of a run: "ci" when the CI variable is set (hosted CIs set it), else "local"."""
    value = (os.environ if env is None else env).get("CI", "").strip().lower()
    return "local" if value in ("", "0", "false", "no") else "ci"


def _commit(ws: Workspace, rev: str) -> str:
    if not rev or rev.startswith("-"):
        raise GateLogError(f"{rev!r} is not a revision")
    try:
        out = git(ws.root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", ok_codes=(0, 1))
    except GitError as exc:
        raise GateLogError(f"cannot record on {rev}: {str(exc).removeprefix('fatal: ')}") from exc
    sha = out.decode("ascii", "replace").strip()
    if not sha:
        if rev == "HEAD":
            raise GateLogError("the repository has no commit yet (HEAD names none)")
        raise GateLogError(f"{rev!r} is not a commit of this repository")
    return sha


def _author(ws: Workspace, sha: str) -> str | None:
    try:
        out = git(ws.root, "show", "-s", "--format=%an <%ae>", sha)
    except GitError:
        return None
    author = " ".join(out.decode("utf-8", "replace").split())
    return author if 0 < len(author) <= _MAX_AUTHOR and _text_ok(author) else None


def _identity_args(ws: Workspace) -> tuple[str, ...]:
    """A committer for the notes commit when git has none (a fresh CI runner often has none)."""
    try:
        git(ws.root, "var", "GIT_COMMITTER_IDENT")
    except GitError:
        return _FALLBACK_IDENT
    return ()


def record_gate(
    ws: Workspace,
    findings: Sequence[Finding],
    exit_code: int,
    *,
    rev: str = "HEAD",
    at: dt.datetime | None = None,
    source: Source | None = None,
    attempts: int = 3,
) -> GateRecord:
    """Append this gate run to the note of `rev` under `NOTES_REF`; `GateLogError` on failure.

    The caller's exit code is its own business: this only ever raises `GateLogError`.
    """
    sha = _commit(ws, rev)
    result, errors, warnings, codes = outcome(findings, exit_code)
    when = at.astimezone(dt.UTC) if at else dt.datetime.now(dt.UTC).replace(microsecond=0)
    record = GateRecord(
        at=when,
        commit=sha,
        result=result,
        errors=errors,
        warnings=warnings,
        codes=codes,
        source=source or source_from_env(),
        author=_author(ws, sha),
        run=secrets.token_hex(6),
    )
    ident = _identity_args(ws)
    last: GitError | None = None
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(0.2 * attempt)  # another writer held the ref's lock
        try:
            git(
                ws.root,
                *ident,
                "notes",
                f"--ref={NOTES_REF}",
                "append",
                "-m",
                record.to_line(),
                sha,
            )
        except GitError as exc:
            last = exc
            continue
        return record
    raise GateLogError(f"git notes failed: {last}")


# -- reading -------------------------------------------------------------------------------------


def _notes_tree(raw: bytes) -> Iterable[tuple[str, bytes | None]]:
    """(annotated object, note or None when too large) from `git archive` of the notes commit."""
    import tarfile  # reading the log only: `handrail check` imports this module too (issue 17)

    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
        for member in archive:
            if not member.isfile():
                continue
            name = member.name.replace("/", "").lower()
            if not _SHA.fullmatch(name):
                continue  # not a note: git ignores such files in a notes tree too
            if member.size > MAX_NOTE_BYTES:
                yield name, None
                continue
            handle = archive.extractfile(member)
            yield name, handle.read() if handle is not None else b""


def _authors_of(ws: Workspace, commits: Sequence[str]) -> dict[str, str]:
    """Commit -> author for those of `commits` this repository has."""
    found: dict[str, str] = {}
    for start in range(0, len(commits), _AUTHOR_BATCH):
        batch = commits[start : start + _AUTHOR_BATCH]
        try:
            raw = git(
                ws.root, "log", "--no-walk=unsorted", "--ignore-missing",
                "--format=%H%x00%an <%ae>%x00", *batch,
            )  # fmt: skip
        except GitError:
            continue
        parts = raw.decode("utf-8", "replace").split("\x00")
        for sha, author in zip(parts[0::2], parts[1::2], strict=False):
            name = " ".join(author.split())
            if name and _text_ok(name):
                found[sha.strip()] = name
    return found


def read_gate_log(ws: Workspace) -> GateLog:
    """Every record under `NOTES_REF`, each run once; never raises (problems are reported)."""
    import tarfile

    log = GateLog()
    try:
        out = git(
            ws.root, "rev-parse", "--verify", "--quiet", f"{NOTES_REF}^{{commit}}", ok_codes=(0, 1)
        )
    except GitError:
        return log  # not a git repository: nothing recorded here
    head = out.decode("ascii", "replace").strip()
    if not head:
        return log
    log.present = True
    try:
        raw = git(ws.root, "archive", "--format=tar", head)
        notes = sorted(_notes_tree(raw))
    except (GitError, tarfile.TarError, OSError) as exc:
        log.problem = f"cannot read {NOTES_REF}: {exc}"
        return log
    seen: set[str] = set()
    for commit, note in notes:
        if note is None:
            log.malformed.append(MalformedLine(commit, 1, f"a note over {MAX_NOTE_BYTES} bytes"))
            continue
        records, malformed = parse_note(commit, note)
        log.malformed.extend(malformed)
        for record in records:
            key = record.to_line()
            if key not in seen:
                seen.add(key)
                log.records.append(record)
    unknown = sorted({r.commit for r in log.records if r.author is None})
    if unknown:
        authors = _authors_of(ws, unknown)
        log.records = [
            r if r.author is not None or r.commit not in authors else _with_author(r, authors)
            for r in log.records
        ]
    log.records.sort(key=lambda r: (r.at, r.commit, r.run or ""))
    return log


def _with_author(record: GateRecord, authors: Mapping[str, str]) -> GateRecord:
    return replace(record, author=authors[record.commit])
