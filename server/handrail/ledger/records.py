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
from typing import Annotated, Any, Literal, Self, TypeAlias

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

CURRENT_SCHEMA = 1
"""The record schema this version reads and writes; a file with a higher one is never touched."""

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
    )

    schema_version: int = Field(default=CURRENT_SCHEMA, alias="schema", ge=1, le=CURRENT_SCHEMA)
    at: AwareDatetime = Field(default_factory=_utcnow)
    # Derived from `at` when not given, so the id's time and the record's time agree.
    id: str = Field(
        default_factory=lambda data: new_record_id(data["at"]),
        pattern=ID_PATTERN,
    )
    author: str | None = Field(default=None, max_length=400)

    @field_validator("at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)

    @classmethod
    def create(cls, *, at: dt.datetime | None = None, **fields: Any) -> Self:
        """A new record made now (or at `at`), with a fresh id for that moment."""
        return cls(at=at if at is not None else _utcnow(), **fields)


class BlockMarked(_Record):
    """A generated block was marked in a file (``handrail mark``)."""

    kind: Literal["block_marked"] = "block_marked"
    block_id: BlockId
    task_id: NonEmpty
    path: str = Field(min_length=1, max_length=4096)
    content_hash: Hash
    begin_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    # What produced the block (issue 13): optional, so records written before them still load.
    spec_hash: Hash | None = None
    """The hash of the task's spec when the block was marked (`handrail.tasks.spec_hash`)."""
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

    @field_validator("path")
    @classmethod
    def _workspace_relative(cls, value: str) -> str:
        parts = value.split("/")
        if (
            "\\" in value
            or value.startswith("/")
            or ".." in parts
            or (len(value) > 1 and value[1] == ":")
        ):
            raise ValueError("must be a workspace-relative path with '/' separators")
        return value

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


Verdict = Literal["approve", "request_changes"]


class Review(_Record):
    """A second reviewer (not the author) read this exact content (`handrail review`)."""

    kind: Literal["review"] = "review"
    block_id: BlockId
    content_hash: Hash
    verdict: Verdict = "approve"
    """Records written before verdicts existed were approvals."""
    note: str = Field(default="", max_length=4000)


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


def line_hash(line: str) -> str:
    """A short hash of one line of code, trailing whitespace and line ending ignored."""
    import hashlib

    return hashlib.sha256(line.rstrip().encode("utf-8", "surrogateescape")).hexdigest()[:16]


Record: TypeAlias = Annotated[
    BlockMarked | VerificationRun | Trace | Explanation | Review | Accepted,
    Field(discriminator="kind"),
]
RECORD_TYPES: tuple[type[_Record], ...] = (
    BlockMarked,
    VerificationRun,
    Trace,
    Explanation,
    Review,
    Accepted,
)
_ADAPTER: TypeAdapter[Record] = TypeAdapter(Record)


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
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode("utf-8")
