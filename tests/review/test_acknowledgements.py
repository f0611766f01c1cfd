"""Trace and explanation records: one engine use case (`handrail.review.acknowledgements`)
behind `handrail trace|explain` and the server's ``handrail.recordTrace|explain``."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from handrail.ledger.records import Explanation, Trace
from handrail.ledger.store import Ledger
from handrail.review.acknowledgements import (
    MAX_BLOCK_FILE_BYTES,
    BlockFileError,
    block_in_file,
    content_of,
    record_acknowledgement,
)
from handrail.tasks.files import save_task
from handrail.tasks.model import Task
from handrail.workspace import Workspace

BLOCK = "# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"
SPEC = (
    "Given a CSV line, return its fields as a list of strings. "
    "It must handle quoted commas and follow the parser style of src/ini.py."
)


def _write(ws: Workspace, rel: str, text: str) -> Path:
    path = ws.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_block_in_a_regular_file_is_found(workspace: Workspace) -> None:
    _write(workspace, "src/a.py", "print(1)\n" + BLOCK)
    found = block_in_file(workspace, "src/a.py", "k3f7qa.1")
    assert found is not None
    assert content_of(*found) == "x = 1\n"
    assert block_in_file(workspace, "src/a.py", "k3f7qa.2") is None
    assert block_in_file(workspace, "src/gone.py", "k3f7qa.1") is None


def test_a_file_over_the_limit_is_refused_without_reading_it(workspace: Workspace) -> None:
    path = _write(workspace, "src/big.py", BLOCK)
    with open(path, "r+b") as handle:  # sparse: the test does not write the bytes
        handle.truncate(MAX_BLOCK_FILE_BYTES + 1)
    with pytest.raises(BlockFileError, match="over the 33,554,432 bytes"):
        block_in_file(workspace, "src/big.py", "k3f7qa.1")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_without_waiting_for_a_writer(workspace: Workspace) -> None:
    (workspace.root / "src").mkdir()
    os.mkfifo(workspace.root / "src" / "a.py")
    outcome: list[object] = []

    def look() -> None:
        try:
            outcome.append(block_in_file(workspace, "src/a.py", "k3f7qa.1"))
        except BlockFileError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=look, daemon=True)
    reader.start()
    reader.join(timeout=30)  # generous: a blocking open never returns at all
    if reader.is_alive():  # unblock the reader before failing, so the run can end
        os.close(os.open(workspace.root / "src" / "a.py", os.O_WRONLY | os.O_NONBLOCK))
    assert len(outcome) == 1 and isinstance(outcome[0], BlockFileError)
    assert "src/a.py is not a regular file" in str(outcome[0])


@pytest.mark.parametrize(("kind", "record_type"), [("trace", Trace), ("explain", Explanation)])
def test_the_record_and_the_answer_name_the_same_content(
    workspace: Workspace, kind: str, record_type: type
) -> None:
    save_task(workspace, Task(id="k3f7qa", spec=SPEC, context=[]))
    _write(workspace, "src/a.py", BLOCK)
    done = record_acknowledgement(
        workspace,
        kind,
        "k3f7qa.1",
        "src/a.py",
        "x = 1\n",
        author="Ada <ada@example.com>",  # type: ignore[arg-type]
    )
    (record,) = Ledger(workspace).read().records
    assert isinstance(record, record_type)
    answer = done.to_json()
    assert answer["record"] == record.id
    assert answer["content_hash"] == record.content_hash
    assert answer["kind"] == kind and answer["author"] == "Ada <ada@example.com>"
    assert answer["status"] == "unverified" and answer["verified"] is False
    assert answer["still_needed"][0].startswith("a passing verification run")
