"""End to end: "This got in the way…" / "This helped…" on a finding, through a real client."""

from __future__ import annotations

import pytest
from features_harness import make_task, running
from lsprotocol import types

from handrail.ledger.records import Note
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

NOTE_KIND = "quickfix.handrail.note"


async def test_a_code_action_on_a_finding_records_a_note(workspace: Workspace) -> None:
    make_task(workspace)
    path = workspace.root / "a.py"
    text = "import os\n# handrail:begin k3f7qa.1\nsecret_value = 42\n"
    path.write_text(text)
    async with running([workspace.root]) as client:
        uri = client.open(path, text)
        (hr305,) = [d for d in await client.diagnostics_of(uri, 1) if d.code == "HR305"]
        actions = await client.code_actions(uri, (1, 0), (1, 0), [hr305], notes=True)
        notes = [a for a in actions if a.kind == NOTE_KIND]
        assert [a.title for a in notes] == [
            "This got in the way… (note HR305 for the workflow review)",
            "This helped… (note HR305 for the workflow review)",
        ]
        # The fixes come first; the notes never carry an edit.
        assert actions[-2:] == notes and all(a.edit is None for a in notes)
        in_the_way = notes[0].command
        assert in_the_way is not None
        # An editor that can ask for a sentence adds it to the arguments (VS Code does).
        argument = {**in_the_way.arguments[0], "text": "the end marker fix was one keystroke"}
        answer = await client.run(in_the_way.command, argument)
        assert "got in the way (HR305 at a.py:2)" in answer["message"]
        # Without a sentence (every other editor), the note is recorded all the same.
        helped = notes[1].command
        assert helped is not None
        await client.run(helped)
    recorded = sorted(
        (r for r in Ledger(workspace).read().records if isinstance(r, Note)), key=lambda r: r.id
    )
    assert [(n.verdict, n.code, n.path, n.line, n.stage, n.source) for n in recorded] == [
        ("in_the_way", "HR305", "a.py", 2, "generate", "editor"),
        ("helped", "HR305", "a.py", 2, "generate", "editor"),
    ]
    assert recorded[0].text == "the end marker fix was one keystroke" and recorded[1].text == ""
    assert all("secret_value" not in n.model_dump_json() for n in recorded)


async def test_a_bad_note_request_is_refused_with_a_message(workspace: Workspace) -> None:
    async with running([workspace.root]) as client:
        with pytest.raises(Exception, match="helped"):
            await client.run("handrail.note", {"verdict": "meh", "code": "HR101"})
        with pytest.raises(Exception, match="not a Handrail code"):
            await client.run("handrail.note", {"verdict": "helped", "code": "HR999"})
    assert not [r for r in Ledger(workspace).read().records if isinstance(r, Note)]


async def test_only_handrail_findings_get_notes(workspace: Workspace) -> None:
    path = workspace.root / "b.py"
    path.write_text("x = 1\n")
    other = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=0, character=0), end=types.Position(line=0, character=1)
        ),
        message="from another linter",
        source="ruff",
        code="F401",
    )
    async with running([workspace.root]) as client:
        uri = client.open(path, "x = 1\n")
        actions = await client.code_actions(uri, (0, 0), (0, 0), [other], notes=True)
        assert not [a for a in actions if a.kind == NOTE_KIND]
