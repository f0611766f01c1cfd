"""Record models, ids and the exact bytes a record is written as."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ledger_helpers import T0, at, run
from pydantic import ValidationError

from handrail.ledger.records import (
    Accepted,
    BlockMarked,
    Explanation,
    Review,
    Trace,
    VerificationRun,
    content_hash,
    dump_record,
    id_time,
    is_record_id,
    new_record_id,
    parse_record,
    parse_record_json,
)

aware_times = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(9999, 1, 1),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30))]),
)


@given(aware_times)
def test_id_encodes_its_millisecond(moment: dt.datetime) -> None:
    record_id = new_record_id(moment)
    assert is_record_id(record_id)
    assert len(record_id) == 26
    ms = moment.astimezone(dt.UTC).replace(microsecond=moment.microsecond // 1000 * 1000)
    assert id_time(record_id) == ms


@given(aware_times, aware_times)
def test_ids_sort_like_their_times(a: dt.datetime, b: dt.datetime) -> None:
    ida, idb = new_record_id(a), new_record_id(b)
    if id_time(ida) < id_time(idb):
        assert ida < idb
    elif id_time(ida) > id_time(idb):
        assert ida > idb


def test_ids_within_one_millisecond_keep_creation_order() -> None:
    ids = [new_record_id(T0) for _ in range(500)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 500


def test_ids_differ_across_calls_without_a_time() -> None:
    ids = {new_record_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)


def test_id_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone"):
        new_record_id(dt.datetime(2026, 1, 1))


def test_a_new_record_gets_an_id_matching_its_time() -> None:
    trace = Trace(at=at(3), block_id="k3f9qa.1", content_hash="sha256:aa")
    assert id_time(trace.id) == at(3)
    assert trace.schema_version == 1  # schema 2 only for runs with line evidence


def test_times_are_normalised_to_utc() -> None:
    plus2 = dt.timezone(dt.timedelta(hours=2))
    trace = Trace(at=dt.datetime(2026, 1, 1, 12, tzinfo=plus2), block_id="a.1", content_hash="h")
    assert trace.at == dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
    assert trace.at.utcoffset() == dt.timedelta(0)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Trace(at=dt.datetime(2026, 1, 1), block_id="a.1", content_hash="h")


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        parse_record(
            {
                "kind": "trace",
                "id": new_record_id(T0),
                "at": "2026-01-01T00:00:00Z",
                "block_id": "a.1",
                "content_hash": "h",
                "colour": "red",
            }
        )


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="kind"):
        parse_record({"kind": "vibes", "id": new_record_id(T0), "at": "2026-01-01T00:00:00Z"})


def test_schema_key_is_spelled_schema_in_files() -> None:
    data = json.loads(dump_record(Explanation(at=T0, block_id="a.1", content_hash="h")))
    assert data["schema"] == 1  # schema 2 only for runs with line evidence
    assert "schema_version" not in data
    with pytest.raises(ValidationError):
        parse_record({**data, "schema_version": 1})


def test_a_passing_run_must_have_exited_zero() -> None:
    with pytest.raises(ValidationError, match="cannot have passed"):
        run(1, {"a.1": "h"}, passed=True, exit_code=1)
    with pytest.raises(ValidationError, match="cannot have passed"):
        VerificationRun(
            task_id="t",
            command=["x"],
            exit_code=None,
            passed=True,
            timed_out=True,
            started_at=T0,
            finished_at=T0,
            blocks={"a.1": "h"},
        )


def test_first_attempt_must_name_covered_blocks() -> None:
    with pytest.raises(ValidationError, match="first_attempt"):
        run(1, {"a.1": "h"}, first=["b.1"])


def test_run_cannot_finish_before_it_started() -> None:
    with pytest.raises(ValidationError, match="before started_at"):
        VerificationRun(
            task_id="t",
            command=["x"],
            exit_code=0,
            passed=True,
            started_at=at(2),
            finished_at=at(1),
            blocks={},
        )


@pytest.mark.parametrize("path", ["/etc/passwd", "../x.py", "src\\x.py", "C:/x.py", "a/../../b"])
def test_marked_path_must_be_workspace_relative(path: str) -> None:
    with pytest.raises(ValidationError, match="workspace-relative"):
        BlockMarked(
            block_id="a.1", task_id="a", path=path, content_hash="h", begin_line=1, end_line=2
        )


def test_marked_lines_are_ordered() -> None:
    with pytest.raises(ValidationError, match="before begin_line"):
        BlockMarked(
            block_id="a.1", task_id="a", path="x.py", content_hash="h", begin_line=5, end_line=2
        )


def test_dump_is_sorted_lf_and_ends_with_a_newline() -> None:
    data = dump_record(run(1, {"b.2": "h2", "a.1": "h1"}, first=["a.1"]))
    text = data.decode("utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert "\r" not in text
    keys = [m.group(1) for m in re.finditer(r'^  "(\w+)":', text, re.MULTILINE)]
    assert keys == sorted(keys)
    assert text.index('"a.1"') < text.index('"b.2"')


def test_content_hash_ignores_line_ending_style() -> None:
    assert content_hash("a\r\nb\r\n") == content_hash("a\nb\n") == content_hash("a\rb\r")
    assert content_hash("a\nb\n") != content_hash("a\nb")
    assert content_hash("x").startswith("sha256:")


texts = st.text(st.characters(codec="utf-8"), max_size=40)
block_ids = st.from_regex(r"[a-z0-9]{6}\.[0-9]{1,3}", fullmatch=True)
hashes = st.from_regex(r"sha256:[0-9a-f]{8}", fullmatch=True)
utc_times = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)


@st.composite
def records(draw: st.DrawFn) -> object:
    kind = draw(st.sampled_from(["marked", "run", "trace", "explanation", "review", "accepted"]))
    when = draw(utc_times)
    author = draw(st.none() | texts)
    block = draw(block_ids)
    digest = draw(hashes)
    if kind == "marked":
        begin = draw(st.integers(1, 10_000))
        return BlockMarked(
            at=when,
            author=author,
            block_id=block,
            task_id=block.split(".")[0],
            path=draw(st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,3}\.py", fullmatch=True)),
            content_hash=digest,
            begin_line=begin,
            end_line=begin + draw(st.integers(0, 500)),
        )
    if kind == "run":
        covered = draw(st.dictionaries(block_ids, hashes, max_size=4))
        passed = draw(st.booleans())
        timed_out = not passed and draw(st.booleans())
        exit_code = 0 if passed else (None if timed_out else draw(st.integers(1, 255)))
        return VerificationRun(
            at=when,
            author=author,
            task_id="k3f9qa",
            command=draw(st.lists(texts, min_size=1, max_size=4)),
            exit_code=exit_code,
            passed=passed,
            timed_out=timed_out,
            started_at=when - dt.timedelta(seconds=draw(st.integers(0, 600))),
            finished_at=when,
            blocks=covered,
            output_tail=draw(texts),
            first_attempt=sorted(draw(st.sets(st.sampled_from(sorted(covered)))))
            if covered
            else [],
        )
    if kind == "trace":
        return Trace(at=when, author=author, block_id=block, content_hash=digest, note=draw(texts))
    cls = {"explanation": Explanation, "review": Review, "accepted": Accepted}[kind]
    return cls(at=when, author=author, block_id=block, content_hash=digest)


@given(records())
def test_every_record_round_trips_through_its_bytes(record: object) -> None:
    data = dump_record(record)  # type: ignore[arg-type]
    assert parse_record_json(data) == record
    assert parse_record(json.loads(data)) == record
    assert dump_record(parse_record_json(data)) == data


def test_create_stamps_now_and_a_matching_id() -> None:
    before = dt.datetime.now(dt.UTC)
    marked = BlockMarked.create(
        block_id="k3f9qa.1",
        task_id="k3f9qa",
        path="src/x.py",
        content_hash="sha256:aa",
        begin_line=1,
        end_line=3,
        author="ada",
    )
    assert before <= marked.at <= dt.datetime.now(dt.UTC)
    assert id_time(marked.id) == marked.at.replace(microsecond=marked.at.microsecond // 1000 * 1000)
    assert Trace.create(at=T0, block_id="a.1", content_hash="h").at == T0


@given(st.text(max_size=200))
def test_content_hash_agrees_with_the_marker_parser(text: str) -> None:
    markers = pytest.importorskip("handrail.blocks.markers")
    assert content_hash(text) == markers.hash_content(text)
