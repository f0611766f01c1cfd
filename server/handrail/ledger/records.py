"""Ledger records: immutable, machine-written events, one JSON file each.

Records are never edited once written; the evidence for a block is derived from all of them.
Every record carries the content hash it speaks for, so evidence about code that has since
changed simply stops counting instead of needing to be invalidated.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar, Literal, Self, TypeAlias

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

CURRENT_SCHEMA = 2
"""The record schema this version reads and writes; a file with a higher one is never touched.

2: verification runs carry per-block line evidence (`coverage`) and `could_not_run`; such a
run is written with schema 2 so an older handrail leaves it alone instead of calling it
unreadable. Every other record is still written with schema 1."""

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_CROCKFORD)}
ID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
_ID_RE = re.compile(ID_PATTERN)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_MS = (1 << 48) - 1
_RANDOM_BITS = 80

_id_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_record_id(now: dt.datetime | None = None) -> str:
    """A ULID-like id: 48-bit milliseconds since 1970 + 80 random bits, Crockford base32.

    Ids sort by time across machines (to the millisecond) without coordination. Within one
    process, ids made in the same millisecond are strictly increasing, so the newest record
    this process wrote always sorts last.
    """
    global _last_ms, _last_random
    moment = _utcnow() if now is None else now
    if moment.tzinfo is None:
        raise ValueError("record ids need a timezone-aware time")
    ms = (moment - _EPOCH) // dt.timedelta(milliseconds=1)
    if not 0 <= ms <= _MAX_MS:
        raise ValueError(f"time {moment.isoformat()} is outside the range a record id can hold")
    with _id_lock:
        if ms == _last_ms and _last_random + 1 < (1 << _RANDOM_BITS):
            # Same millisecond: continue the sequence so this process's ids keep their order.
            rand = _last_random + 1
        else:
            # One bit of headroom keeps increments within this millisecond from overflowing.
            rand = int.from_bytes(os.urandom(10), "big") >> 1
        _last_ms, _last_random = ms, rand
    return _encode((ms << _RANDOM_BITS) | rand)


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_record_id(text: str) -> bool:
    return _ID_RE.match(text) is not None


def id_time(record_id: str) -> dt.datetime:
    """The moment (to the millisecond, UTC) encoded in a record id."""
    if not is_record_id(record_id):
        raise ValueError(f"{record_id!r} is not a ledger record id")
    value = 0
    for char in record_id[:10]:
        value = (value << 5) | _DECODE[char]
    return _EPOCH + dt.timedelta(milliseconds=value)


def content_hash(content: str) -> str:
    """The hash evidence is bound to: the marker parser's block hash (one definition)."""
    from handrail.blocks.markers import hash_content

    return hash_content(content)


NonEmpty = Annotated[str, Field(min_length=1, max_length=400)]
Hash = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S+$")]
BlockId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S+$")]


class _Record(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        # Each kind's own validator is built when that kind is first made or validated, not
        # at import: reading a ledger uses only the union below (issue 17).
        defer_build=True,
    )

    # New records say 1 unless they use a field of a later schema (see CURRENT_SCHEMA), so an
    # older handrail keeps reading everything it can.
    schema_version: int = Field(default=1, alias="schema", ge=1, le=CURRENT_SCHEMA)
    at: AwareDatetime = Field(default_factory=_utcnow)
    # Derived from `at` when not given, so the id's time and the record's time agree.
    id: str = Field(
        default_factory=lambda data: new_record_id(data["at"]),
        pattern=ID_PATTERN,
    )
    author: str | None = Field(default=None, max_length=400)

    LATER_FIELDS: ClassVar[Mapping[str, Any]] = {}
    """Fields added after schema 1, each with the value that means "not used". A record that
    uses one is written as schema 2, so an older handrail reports it as "written by a newer
    version" instead of unreadable; one that uses none is written exactly as before."""

    @model_validator(mode="before")
    @classmethod
    def _schema_for_later_fields(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and data.get("schema", 1) == 1
            and any(data.get(k, absent) != absent for k, absent in cls.LATER_FIELDS.items())
        ):
            data = {**data, "schema": 2}
        return data

    @field_validator("at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)

    @classmethod
    def create(cls, *, at: dt.datetime | None = None, **fields: Any) -> Self:
        """A new record made now (or at `at`), with a fresh id for that moment."""
        return cls(at=at if at is not None else _utcnow(), **fields)


def _workspace_relative(value: str) -> str:
    parts = value.split("/")
    if (
        "\\" in value
        or value.startswith("/")
        or ".." in parts
        or (len(value) > 1 and value[1] == ":")
    ):
        raise ValueError("must be a workspace-relative path with '/' separators")
    return value


class BlockMarked(_Record):
    """A generated block was marked in a file (``handrail mark``)."""

    kind: Literal["block_marked"] = "block_marked"
    block_id: BlockId
    task_id: NonEmpty
    path: str = Field(min_length=1, max_length=4096)
    content_hash: Hash
    begin_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    # Who generated the block when a coding agent marked it (the MCP server, an agent hook):
    # the agent's name, and the model and session id where the agent tells them. Optional
    # with defaults, so records written before these fields existed still load.
    agent: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    session: str | None = Field(default=None, max_length=400)

    # What produced the block (issue 13): optional, so records written before them still load.
    spec_hash: Hash | None = None
    """The hash of the task's spec when the block was marked (`handrail.tasks.model.spec_hash`)."""
    endpoint: str | None = Field(default=None, max_length=400)
    """The name of the generation endpoint (never its key or URL credentials)."""
    temperature: float | None = None
    pack_hash: Hash | None = None
    """The hash of the prompt pack the block was generated from."""
    replaces: BlockId | None = None
    """The block this one was generated to replace (`generate --replace`): a discarded
    attempt, so that block's first attempt failed and this one is rework."""
    replaces_hash: Hash | None = None
    """The content hash of the discarded attempt."""
    ledger_only: bool = False
    """A range in a file that cannot hold comments (JSON): recorded without markers, so it
    is attributed (stats, blame) but not gated."""

    LATER_FIELDS: ClassVar[Mapping[str, Any]] = {
        "agent": None,
        "model": None,
        "session": None,
        "spec_hash": None,
        "endpoint": None,
        "temperature": None,
        "pack_hash": None,
        "replaces": None,
        "replaces_hash": None,
        "ledger_only": False,
    }

    @field_validator("path")
    @classmethod
    def _workspace_relative(cls, value: str) -> str:
        return _workspace_relative(value)

    @model_validator(mode="after")
    def _ordered(self) -> BlockMarked:
        if self.end_line < self.begin_line:
            raise ValueError(f"end_line ({self.end_line}) is before begin_line ({self.begin_line})")
        return self


def run_outcome(*, passed: bool, timed_out: bool, exit_code: int | None) -> str:
    """A verification run's result in words: passed, timed out, could not start, failed."""
    if passed:
        return "passed"
    if timed_out:
        return "timed out"
    if exit_code is None:
        return "could not start"
    return f"failed (exit {exit_code})"


_RANGES = re.compile(r"^(\d+(-\d+)?(,\d+(-\d+)?)*)?$")
Ranges = Annotated[str, Field(max_length=20_000, pattern=_RANGES.pattern)]


def encode_ranges(numbers: Iterable[int]) -> str:
    """`{1, 2, 3, 7}` as "1-3,7": line numbers the way a record keeps them, small."""
    items = sorted(set(numbers))
    parts: list[str] = []
    start = prev = None
    for n in items:
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)


def decode_ranges(text: str) -> frozenset[int]:
    """The line numbers of "1-3,7"; the inverse of `encode_ranges`."""
    found: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return frozenset(found)


BlockOutcome = Literal["passed", "failed", "failed_elsewhere", "not_measured"]
MAX_TESTS_PER_BLOCK = 100
"""A record names at most this many tests per block (the rest are counted), so it stays small."""


class BlockCoverage(BaseModel):
    """What one run proved about one block: which of its lines ran, under which tests.

    Lines are offsets in the block's content (1 = the first line after the begin marker), so
    they stay true when lines above the block move.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    outcome: BlockOutcome
    """passed: the run passed; failed: a failing test executed the block (or the run failed
    with no per-test data to say where); failed_elsewhere: the run failed, but no failing test
    executed this block; not_measured: nothing says whether the block ran (`note` says why)."""
    executable: Ranges = ""
    executed: Ranges = ""
    tests: dict[str, Ranges] = Field(default_factory=dict)
    """Test (runner node id) -> the block's lines it executed."""
    more_tests: int = Field(default=0, ge=0)
    """How many further tests executed the block (not named, to keep the record small)."""
    failed_tests: list[str] = Field(default_factory=list, max_length=MAX_TESTS_PER_BLOCK)
    """failed: the failing tests laid on this block; failed_elsewhere: this block's own tests
    that failed on other generated code they executed."""
    note: str = Field(default="", max_length=400)

    @property
    def executable_lines(self) -> frozenset[int]:
        return decode_ranges(self.executable)

    @property
    def executed_lines(self) -> frozenset[int]:
        return decode_ranges(self.executed)

    @property
    def test_count(self) -> int:
        return len(self.tests) + self.more_tests


class VerificationRun(_Record):
    """One run of a verification command over the blocks it covered."""

    kind: Literal["verification_run"] = "verification_run"
    task_id: NonEmpty
    command: list[str] = Field(min_length=1)
    exit_code: int | None
    passed: bool
    timed_out: bool = False
    started_at: AwareDatetime
    finished_at: AwareDatetime
    blocks: dict[BlockId, Hash] = Field(
        description="Block id -> content hash taken when the run started."
    )
    output_tail: str = ""
    first_attempt: list[BlockId] = Field(
        default_factory=list, description="Blocks for which this was their first run."
    )
    could_not_run: str | None = Field(
        default=None,
        max_length=2000,
        description="Why the verification could not run (environment, not code): no verdict.",
    )
    coverage: dict[BlockId, BlockCoverage] | None = Field(
        default=None,
        description="Per block, what the run proved it executed; None in records made before "
        "line evidence existed (not measured).",
    )

    spec_hash: Hash | None = None
    """The hash of the task's spec when the run was recorded: a run made under an earlier spec
    does not re-check a block for the current one (HR314), however the spec was changed."""

    LATER_FIELDS: ClassVar[Mapping[str, Any]] = {
        "coverage": None,
        "could_not_run": None,
        "spec_hash": None,
    }

    def block_outcome(self, block_id: str) -> str:
        """This run's verdict for one block: passed, failed, failed_elsewhere, not_measured
        or could_not_run. Records without line evidence: passed or failed as a whole."""
        if self.could_not_run is not None:
            return "could_not_run"
        found = self.coverage.get(block_id) if self.coverage is not None else None
        if found is not None:
            return found.outcome
        return "passed" if self.passed else "failed"

    @property
    def outcome(self) -> str:
        """The run's result in words, as the hover and the PR summary show it."""
        return run_outcome(passed=self.passed, timed_out=self.timed_out, exit_code=self.exit_code)

    @field_validator("started_at", "finished_at")
    @classmethod
    def _utc_times(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _consistent(self) -> VerificationRun:
        if self.passed and (self.timed_out or self.exit_code != 0):
            raise ValueError("a run that timed out or exited non-zero cannot have passed")
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        unknown = sorted(set(self.first_attempt) - set(self.blocks))
        if unknown:
            raise ValueError(f"first_attempt names blocks the run did not cover: {unknown}")
        return self


class Trace(_Record):
    """The author traced this exact content by hand (risk tiers that require it)."""

    kind: Literal["trace"] = "trace"
    block_id: BlockId
    content_hash: Hash
    note: str = Field(default="", max_length=10_000)


class Explanation(_Record):
    """The author acknowledged "I can explain every line" of this exact content."""

    kind: Literal["explanation"] = "explanation"
    block_id: BlockId
    content_hash: Hash
    spec_hash: Hash | None = None
    """The hash of the block's task spec when explained (HR314, as for `VerificationRun`)."""

    LATER_FIELDS: ClassVar[Mapping[str, Any]] = {"spec_hash": None}


Verdict = Literal["approve", "request_changes"]


class Review(_Record):
    """A second reviewer (not the author) read this exact content (`handrail review`)."""

    kind: Literal["review"] = "review"
    block_id: BlockId
    content_hash: Hash
    verdict: Verdict = "approve"
    """Records written before verdicts existed were approvals."""
    note: str = Field(default="", max_length=4000)

    LATER_FIELDS: ClassVar[Mapping[str, Any]] = {"verdict": "approve", "note": ""}


class Accepted(_Record):
    """The block's markers were removed after review (``handrail accept``); its record stays.

    `path` and the line range say where the content stood once its markers were gone, so the
    block can still be found (and shown in `handrail pr`) without them. Records written before
    these fields existed have none.
    """

    kind: Literal["accepted"] = "accepted"
    block_id: BlockId
    content_hash: Hash
    path: str | None = Field(default=None, min_length=1, max_length=4096)
    begin_line: int | None = Field(default=None, ge=1)
    end_line: int | None = Field(default=None, ge=1)
    line_hashes: list[Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]] = Field(
        default_factory=list, max_length=20000
    )
    """`line_hash` of each content line, so `handrail blame` finds the lines again after they
    moved (a rebase, a squash merge, code added above) or were partly edited."""

    LATER_FIELDS: ClassVar[Mapping[str, Any]] = {
        "path": None,
        "begin_line": None,
        "end_line": None,
        "line_hashes": [],
    }


NoteVerdict = Literal["helped", "in_the_way"]
NoteSource = Literal["cli", "editor", "chat", "pr"]
NOTE_MAX_CHARS = 500


class Note(_Record):
    """A developer's note for the workflow review: where the workflow helped or got in the way.

    Made where it happens (a code action on a finding, `handrail note`, the chat, the PR
    template) and read by `handrail workflow review`. It names a code, a place and a stage,
    never any file content: a note is one sentence the developer typed, capped and on one line.
    """

    # A kind older versions do not know: the newest schema, so they report "written by a
    # newer version" rather than an unreadable record.
    schema_version: int = Field(default=CURRENT_SCHEMA, alias="schema", ge=1, le=CURRENT_SCHEMA)
    kind: Literal["note"] = "note"
    verdict: NoteVerdict
    text: str = Field(default="", max_length=NOTE_MAX_CHARS)
    code: str | None = Field(default=None, pattern=r"^HR\d{3}$")
    path: str | None = Field(default=None, min_length=1, max_length=4096)
    line: int | None = Field(default=None, ge=1)
    stage: Literal["specify", "assemble", "generate", "verify", "integrate"] | None = None
    source: NoteSource = "cli"
    answered_by: Literal["docs", "colleague"] | None = None
    """Where the developer says the answer came from, when they say (never inferred)."""

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        return None if value is None else _workspace_relative(value)

    @field_validator("text")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # One sentence: newlines and control characters would let a note pose as a code listing.
        return " ".join("".join(c if c.isprintable() else " " for c in value).split())


class ReviewMeeting(_Record):
    """The team reviewed its workflow (`handrail workflow reviewed`): who and what changed.

    The next `handrail workflow review` starts its period here. `author` is who recorded it.
    """

    # A kind older versions do not know: the newest schema, so they report "written by a
    # newer version" rather than an unreadable record.
    schema_version: int = Field(default=CURRENT_SCHEMA, alias="schema", ge=1, le=CURRENT_SCHEMA)
    kind: Literal["review_meeting"] = "review_meeting"
    reviewed: dt.date
    attendees: list[Annotated[str, Field(min_length=1, max_length=400)]] = Field(
        default_factory=list, max_length=200
    )
    changes: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list, max_length=200
    )


def line_hash(line: str) -> str:
    """A short hash of one line of code, trailing whitespace and line ending ignored."""
    import hashlib

    return hashlib.sha256(line.rstrip().encode("utf-8", "surrogateescape")).hexdigest()[:16]


MutantOutcome = Literal["caught", "survived", "timed_out", "not_run"]


class ProbedMutant(BaseModel):
    """One mutant the probe tried on a block, and what the tests made of it."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str = Field(min_length=1, max_length=40, pattern=r"^[0-9a-z]+$")
    operator: NonEmpty
    line: int = Field(ge=1, description="The file line when the probe ran.")
    column: int = Field(ge=1)
    block_line: int = Field(ge=1, description="The line counted from the block's first line.")
    original: str = Field(max_length=10_000)
    replacement: str = Field(max_length=10_000)
    outcome: MutantOutcome
    duration_s: float = Field(default=0.0, ge=0)


class ProbeRun(_Record):
    """The probe of one block's content: its mutants and which the tests caught (HR313).

    `caught` counts timed-out mutants too: a test run that never ends noticed something.
    """

    # A kind older versions do not know is written with the newest schema, so an older
    # handrail sees "written by a newer version" rather than an unreadable record.
    schema_version: int = Field(default=CURRENT_SCHEMA, alias="schema", ge=1, le=CURRENT_SCHEMA)
    kind: Literal["probe_run"] = "probe_run"
    block_id: BlockId
    task_id: NonEmpty
    path: str = Field(min_length=1, max_length=4096)
    content_hash: Hash
    command: list[str] = Field(min_length=1)
    tests: list[str] | None = Field(
        default=None,
        description="The test node ids each mutant ran; None: the whole verification command.",
    )
    clean_duration_s: float = Field(ge=0)
    duration_s: float = Field(ge=0)
    complete: bool = Field(description="False when the time budget or a cancel cut it short.")
    mutants: list[ProbedMutant] = Field(default_factory=list)

    @field_validator("path")
    @classmethod
    def _workspace_relative(cls, value: str) -> str:
        return BlockMarked._workspace_relative(value)

    @property
    def caught(self) -> int:
        return sum(1 for m in self.mutants if m.outcome in ("caught", "timed_out"))

    @property
    def tried(self) -> int:
        return sum(1 for m in self.mutants if m.outcome != "not_run")

    @property
    def survivors(self) -> list[ProbedMutant]:
        return [m for m in self.mutants if m.outcome == "survived"]


class MutantDismissed(_Record):
    """A reviewer judged a surviving mutant equivalent (no test could tell), with a reason."""

    schema_version: int = Field(default=CURRENT_SCHEMA, alias="schema", ge=1, le=CURRENT_SCHEMA)
    kind: Literal["mutant_dismissed"] = "mutant_dismissed"
    block_id: BlockId
    content_hash: Hash
    mutant_id: str = Field(min_length=1, max_length=40, pattern=r"^[0-9a-z]+$")
    reason: str = Field(min_length=1, max_length=2000)


Record: TypeAlias = Annotated[
    BlockMarked
    | VerificationRun
    | Trace
    | Explanation
    | Review
    | Accepted
    | ProbeRun
    | MutantDismissed
    | Note
    | ReviewMeeting,
    Field(discriminator="kind"),
]
RECORD_TYPES: tuple[type[_Record], ...] = (
    BlockMarked,
    VerificationRun,
    Trace,
    Explanation,
    Review,
    Accepted,
    ProbeRun,
    MutantDismissed,
    Note,
    ReviewMeeting,
)
_ADAPTER: TypeAdapter[Record] = TypeAdapter(Record, config=ConfigDict(defer_build=True))
"""Any record's validator, built on its first use: a command that reads no ledger never
builds it (issue 17)."""


def parse_record(data: Any) -> Record:
    """Validate already-decoded JSON as a record (raises pydantic's ValidationError)."""
    return _ADAPTER.validate_python(data)


def parse_record_json(data: bytes | str) -> Record:
    """Parse and validate one record's JSON in one step (raises pydantic's ValidationError).

    The fast path for reading a ledger; pydantic parses the JSON itself.
    """
    return _ADAPTER.validate_json(data)


STORED_FIELDS = frozenset({"id", "at"})
"""Fields a stored record must spell out: their defaults only make sense for a new record."""


def dump_record(record: Record) -> bytes:
    """The exact bytes written for `record`: one line of JSON with sorted keys, LF, final newline.

    One line, so a branch's ledger adds one diff line per record (indented records made up two
    thirds of a three-task branch's changed lines); sorted, so the same record always has the
    same bytes. Records written indented by earlier versions still load.
    """
    data = record.model_dump(mode="json", by_alias=True)
    for key, absent in type(record).LATER_FIELDS.items():
        # Absent, not a default: a record that uses none of them stays byte-for-byte what
        # versions before those fields wrote, so they still read it.
        if data.get(key, absent) == absent:
            data.pop(key, None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode("utf-8")
