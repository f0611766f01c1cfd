"""The workflow's own records: `note` and `review_meeting` (docs/review.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from handrail.ledger.evidence import EvidenceIndex
from handrail.ledger.records import (
    BlockMarked,
    Note,
    ReviewMeeting,
    dump_record,
    parse_record_json,
)
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

T0 = dt.datetime(2026, 9, 7, 9, 0, tzinfo=dt.UTC)


def test_a_note_round_trips_and_keeps_one_line_of_text() -> None:
    note = Note.create(
        at=T0,
        verdict="in_the_way",
        text="the cap\n```\nprint(secret)\n```\nwas too tight",
        code="HR201",
        path="src/a.py",
        line=3,
        stage="assemble",
        author="Ada",
    )
    # A note is one sentence: line breaks cannot make it pose as a code listing.
    assert note.text == "the cap ``` print(secret) ``` was too tight"
    assert parse_record_json(dump_record(note)) == note
    meeting = ReviewMeeting.create(at=T0, reviewed=T0.date(), attendees=["Ada"], changes=["x"])
    assert parse_record_json(dump_record(meeting)) == meeting


@pytest.mark.parametrize(
    "fields",
    [
        {"verdict": "meh"},
        {"verdict": "helped", "code": "E501"},
        {"verdict": "helped", "path": "/etc/passwd"},
        {"verdict": "helped", "path": "../x.py"},
        {"verdict": "helped", "text": "x" * 501},
        {"verdict": "helped", "line": 0},
        {"verdict": "helped", "content": "def f(): ..."},
    ],
)
def test_a_bad_note_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Note.create(at=T0, **fields)


def test_the_evidence_index_leaves_the_workflow_records_out() -> None:
    """Before Note, every record that was not a run, mark, trace, explanation or review was
    taken for an acceptance: a note would have broken every check (it has no block id)."""
    mark = BlockMarked.create(
        at=T0,
        block_id="k3f7qa.1",
        task_id="k3f7qa",
        path="a.py",
        content_hash="h",
        begin_line=1,
        end_line=3,
    )
    note = Note.create(at=T0, verdict="helped", code="HR300")
    meeting = ReviewMeeting.create(at=T0, reviewed=T0.date())
    index = EvidenceIndex.build([mark, note, meeting])
    assert index.block_ids() == ["k3f7qa.1"]
    assert index.accepted_for("k3f7qa.1") == []


def test_notes_are_read_back_from_the_ledger(workspace: Workspace) -> None:
    ledger = Ledger(workspace)
    ledger.append(Note.create(verdict="helped", text="a"))
    ledger.append(ReviewMeeting.create(reviewed=dt.date.today()))
    read = ledger.read()
    assert read.problems == []
    assert sorted(type(r).__name__ for r in read.records) == ["Note", "ReviewMeeting"]
