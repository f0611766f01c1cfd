"""Reading one ledger file: any damage becomes a Problem with file and line (D3, D4, D8)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ledger_helpers import T0, run

from handrail.ledger.records import (
    CURRENT_SCHEMA,
    RECORD_TYPES,
    Trace,
    VerificationRun,
    dump_record,
    new_record_id,
)
from handrail.ledger.store import Problem, parse_record_file

PATH = ".handrail/ledger/X.json"


def _trace() -> Trace:
    return Trace(at=T0, block_id="k3f9qa.1", content_hash="sha256:ab", note="walked the loop")


def _indented(record: Trace | VerificationRun) -> bytes:
    """A record as earlier versions wrote it (two-space indent): lines to point at."""
    data = json.loads(dump_record(record))
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def _problem(data: bytes, expected_id: str | None = None) -> Problem:
    outcome = parse_record_file(data, PATH, expected_id)
    assert isinstance(outcome, Problem), outcome
    assert outcome.path == PATH
    assert PATH in outcome.message
    return outcome


def test_a_written_record_reads_back() -> None:
    record = _trace()
    assert parse_record_file(dump_record(record), PATH, record.id) == record


def test_a_byte_order_mark_is_tolerated() -> None:
    record = _trace()
    assert parse_record_file(b"\xef\xbb\xbf" + dump_record(record), PATH, record.id) == record


def test_crlf_line_endings_are_tolerated() -> None:
    # git's autocrlf on Windows rewrites every checked-out record this way.
    record = _trace()
    data = dump_record(record).replace(b"\n", b"\r\n")
    assert parse_record_file(data, PATH, record.id) == record


def test_empty_file_is_torn() -> None:
    assert _problem(b"").reason == "torn"
    assert _problem(b"  \n").reason == "torn"


def test_truncated_record_is_torn_with_its_last_line() -> None:
    data = dump_record(_trace())
    cut = data[: len(data) // 2]
    problem = _problem(cut)
    assert problem.reason == "torn"
    assert problem.line == cut.decode().rstrip().count("\n") + 1
    assert "cut off" in problem.message


@given(st.data())
def test_every_strict_prefix_of_a_record_is_a_problem(data: st.DataObject) -> None:
    record = run(1, {"k3f9qa.1": "sha256:aa", "k3f9qa.2": "sha256:bb"}, first=["k3f9qa.1"])
    full = dump_record(record)
    size = data.draw(st.integers(0, len(full.rstrip()) - 1))
    problem = _problem(full[:size])
    assert problem.reason == "torn"


def test_garbage_is_invalid_json_with_line_and_column() -> None:
    problem = _problem(b'{\n  "kind": "trace",\n  oops\n}\n')
    assert problem.reason == "invalid_json"
    assert (problem.line, problem.column) == (3, 3)
    assert "line 3, column 3" in problem.message


def test_two_records_in_one_file_are_refused() -> None:
    one = dump_record(_trace())
    problem = _problem(one + one)
    assert problem.reason == "invalid_json"
    assert "more than one" in problem.message


def test_jsonl_shaped_file_is_refused() -> None:
    a = json.dumps(json.loads(dump_record(_trace()))).encode()
    assert _problem(a + b"\n" + a + b"\n").reason == "invalid_json"


def test_not_utf8_names_the_line() -> None:
    problem = _problem(b'{\n"kind": "trace",\n"note": "\xff"\n}')
    assert problem.reason == "not_utf8"
    assert problem.line == 3


def test_conflict_markers_are_an_unresolved_merge() -> None:
    text = (
        "{\n"
        '  "at": "2026-03-01T09:00:00Z",\n'
        "<<<<<<< HEAD\n"
        '  "note": "mine",\n'
        "=======\n"
        '  "note": "theirs",\n'
        ">>>>>>> feature\n"
        "}\n"
    )
    problem = _problem(text.encode())
    assert problem.reason == "conflict"
    assert problem.line == 3
    assert problem.message.startswith("Unresolved merge conflict in .handrail/ledger/X.json")


def test_leftover_conflict_marker_alone_is_still_a_conflict() -> None:
    data = _indented(_trace()).replace(b"{\n", b"{\n>>>>>>> feature\n", 1)
    assert _problem(data).reason == "conflict"


def test_newer_schema_says_upgrade_and_read_only() -> None:
    obj = json.loads(dump_record(_trace()))
    newer = CURRENT_SCHEMA + 1
    obj["schema"] = newer
    obj["shiny_new_field"] = True
    problem = _problem(json.dumps(obj, indent=2, sort_keys=True).encode())
    assert problem.reason == "newer_schema"
    assert problem.schema == newer
    assert "newer Handrail" in problem.message and "upgrade" in problem.message
    assert "will not write" in problem.message
    assert (
        problem.line
        == json.dumps(obj, indent=2, sort_keys=True).splitlines().index(f'  "schema": {newer},') + 1
    )


def test_invalid_field_names_the_field_and_its_line() -> None:
    obj = json.loads(dump_record(run(1, {"k3f9qa.1": "h"})))
    obj["passed"] = "yes please"
    text = json.dumps(obj, indent=2, sort_keys=True)
    problem = _problem(text.encode())
    assert problem.reason == "invalid_record"
    assert "passed" in problem.message
    assert problem.line == text.splitlines().index('  "passed": "yes please",') + 1


def test_not_an_object_is_not_a_record() -> None:
    assert _problem(b"[1, 2, 3]\n").reason == "invalid_record"
    assert _problem(b'"hello"\n').reason == "invalid_record"


def test_missing_id_or_time_is_invalid_not_invented() -> None:
    obj = json.loads(dump_record(_trace()))
    del obj["at"]
    problem = _problem(json.dumps(obj).encode())
    assert problem.reason == "invalid_record"
    assert "'at'" in problem.message
    obj = json.loads(dump_record(_trace()))
    del obj["id"]
    assert _problem(json.dumps(obj).encode()).reason == "invalid_record"


def test_duplicate_key_is_reported_when_the_record_is_otherwise_broken() -> None:
    text = (
        _indented(_trace())
        .decode()
        .replace('"kind": "trace",', '"kind": "trace",\n  "kind": "review",')
    )
    text = text.replace('"note": "walked the loop",', '"note": 5,')
    problem = _problem(text.encode())
    assert problem.reason == "duplicate_key"
    assert "'kind' twice" in problem.message


def test_duplicate_key_in_an_otherwise_valid_record_is_reported() -> None:
    # Both sides of a merge kept: a JSON parser would silently keep the last value.
    text = _indented(run(1, {"k3f9qa.1": "h"}, passed=False, measured=False)).decode()
    text = text.replace('"passed": false,', '"passed": false,\n  "passed": false,')
    problem = _problem(text.encode())
    assert problem.reason == "duplicate_key"
    assert problem.line == text.splitlines().index('  "passed": false,') + 1


def test_other_formatting_of_a_valid_record_is_accepted() -> None:
    record = run(1, {"k3f9qa.1": "h", "k3f9qa.2": "h2"})
    compact = json.dumps(json.loads(dump_record(record))).encode()
    assert parse_record_file(compact, PATH, record.id) == record
    four = json.dumps(json.loads(dump_record(record)), indent=4).encode()
    assert parse_record_file(four, PATH, record.id) == record
    without_schema = json.loads(dump_record(record))
    del without_schema["schema"]
    assert parse_record_file(json.dumps(without_schema).encode(), PATH, record.id) == record


def test_file_name_must_match_the_record_id() -> None:
    record = _trace()
    other = new_record_id(T0)
    problem = _problem(dump_record(record), other)
    assert problem.reason == "id_mismatch"
    assert record.id in problem.message and other in problem.message


def test_deep_nesting_is_just_invalid() -> None:
    problem = _problem(b"[" * 100_000 + b"]" * 100_000)
    assert problem.reason in {"invalid_json", "invalid_record"}


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    outcome = parse_record_file(data, PATH, None)
    assert isinstance(outcome, Problem)


@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    outcome = parse_record_file(text.encode("utf-8", "surrogatepass"), PATH, None)
    assert isinstance(outcome, (Problem, *RECORD_TYPES))


@given(st.data())
def test_a_mutated_record_is_a_record_or_a_problem(data: st.DataObject) -> None:
    original = dump_record(run(1, {"k3f9qa.1": "sha256:aa"}))
    position = data.draw(st.integers(0, len(original) - 1))
    byte = data.draw(st.integers(0, 255))
    mutated = original[:position] + bytes([byte]) + original[position + 1 :]
    outcome = parse_record_file(mutated, PATH, None)
    if isinstance(outcome, Problem):
        assert 1 <= outcome.line <= mutated.count(b"\n") + 1
        assert outcome.column >= 1


def test_duplicate_key_in_a_one_line_record_is_reported() -> None:
    # Records are written on one line now: a merge that repeats a key there is still found.
    line = dump_record(run(1, {"k3f9qa.1": "h"}, passed=False, measured=False)).decode()
    assert line.count("\n") == 1 and '"passed":false,' in line
    problem = _problem(line.replace('"passed":false,', '"passed":false,"passed":false,').encode())
    assert problem.reason == "duplicate_key"
    assert "'passed' twice" in problem.message


def test_a_one_line_record_as_written_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 17: every record written on one line was parsed three times (pydantic, then
    # json.loads for duplicate keys, then pydantic again). The slow path calls json.loads.
    from handrail.ledger import store

    record = run(1, {"k3f9qa.1": "h"})
    monkeypatch.setattr(store.json, "loads", None)
    assert parse_record_file(dump_record(record), PATH, record.id) == record
