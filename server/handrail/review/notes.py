"""Notes for the workflow review: where the workflow helped and where it got in the way.

The review meeting is only as good as the examples people bring, and examples are forgotten
by the time the meeting comes. So a note is taken where it happens: a code action on any
finding in the editor, `handrail note`, the `@handrail` chat, the PR template. Each note is a
`Note` ledger record (one file, so two branches' notes merge without a conflict) naming the
code, the file and line, the stage, the author and one optional sentence. It never holds any
file content: only what the developer typed, on one line and capped.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from pydantic import ValidationError

from handrail.codes import CODES, stage_of
from handrail.ledger.records import NOTE_MAX_CHARS, Note, NoteSource, NoteVerdict
from handrail.ledger.store import Ledger
from handrail.workspace import PathEscapesWorkspace, Workspace

VERDICTS: dict[str, NoteVerdict] = {
    "helped": "helped",
    "in-the-way": "in_the_way",
    "in_the_way": "in_the_way",
}
ANSWERED_BY = ("docs", "colleague")
"""Where the answer came from, when the developer says: the one sign of "people reference the
document instead of the resident expert" that needs no watching of anyone (review.md)."""


class NoteError(ValueError):
    """The note cannot be recorded; the message says why."""


@dataclass(frozen=True, slots=True)
class NoteRequest:
    """What a front end (CLI, code action, chat, PR) asks to record."""

    verdict: NoteVerdict
    text: str = ""
    code: str | None = None
    path: str | None = None
    line: int | None = None
    source: NoteSource = "cli"
    answered_by: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: NoteSource) -> NoteRequest:
        """A request from an editor or the chat (`handrail.note` command arguments)."""
        verdict = VERDICTS.get(str(data.get("verdict", "")))
        if verdict is None:
            raise NoteError('a note says whether the workflow "helped" or got "in-the-way"')
        line = data.get("line")
        code = data.get("code")
        path = data.get("path")
        text = data.get("text", "")
        answered = data.get("answeredBy", data.get("answered_by"))
        return cls(
            verdict=verdict,
            text=text if isinstance(text, str) else "",
            code=code if isinstance(code, str) and code else None,
            path=path if isinstance(path, str) and path else None,
            line=line if isinstance(line, int) and not isinstance(line, bool) else None,
            source=source,
            answered_by=answered if isinstance(answered, str) and answered else None,
        )


def record_note(ws: Workspace, request: NoteRequest, *, author: str | None) -> Note:
    """Append the note to the workspace's ledger; NoteError for bad input, LedgerWriteError
    when the ledger cannot take it."""
    code = request.code.upper().strip() if request.code else None
    if code is not None and code not in CODES:
        raise NoteError(f"{request.code} is not a Handrail code (HR100 to HR404, see docs/codes)")
    if len(request.text) > NOTE_MAX_CHARS:
        raise NoteError(
            f"a note is one sentence of at most {NOTE_MAX_CHARS} characters "
            f"(this one has {len(request.text)}): the meeting needs the example, not the code"
        )
    if request.answered_by is not None and request.answered_by not in ANSWERED_BY:
        raise NoteError(f"--answered-by is one of {', '.join(ANSWERED_BY)}")
    rel = None
    if request.path is not None:
        try:
            ws.resolve_inside(request.path)
            rel = posixpath.normpath(request.path.replace("\\", "/"))
        except (PathEscapesWorkspace, OSError) as exc:
            raise NoteError(f"{request.path} is not a file of this workspace") from exc
    try:
        note = Note.create(
            verdict=request.verdict,
            text=request.text,
            code=code,
            path=rel,
            line=request.line if rel is not None else None,
            stage=cast(Any, stage_of(code)) if code else None,
            source=request.source,
            answered_by=cast(Literal["docs", "colleague"] | None, request.answered_by),
            author=author,
        )
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise NoteError(f"the note is not valid: {problem}") from None
    Ledger(ws).append(note)
    return note


PR_SECTION = "## Workflow notes"
_PR_LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?(helped|in[-_ ]the[-_ ]way)\b\s*(HR\d{3})?\s*[:\u2014-]?\s*(.*)$",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def notes_from_pr(body: str) -> list[NoteRequest]:
    """The note lines of a pull request description's "Workflow notes" section.

    Only that section, and nothing inside an HTML comment (the template's examples are one).
    """
    text = _COMMENT.sub("", body.replace("\r\n", "\n"))
    found: list[NoteRequest] = []
    inside = False
    for line in text.split("\n"):
        if line.startswith("#"):
            inside = line.strip().casefold().startswith(PR_SECTION.casefold())
            continue
        match = _PR_LINE.match(line) if inside else None
        if match is None:
            continue
        verdict: NoteVerdict = "helped" if match[1].casefold() == "helped" else "in_the_way"
        found.append(
            NoteRequest(
                verdict=verdict,
                text=match[3].strip()[:NOTE_MAX_CHARS],
                code=match[2].upper() if match[2] else None,
                source="pr",
            )
        )
    return found


def record_pr_notes(ws: Workspace, body: str, *, author: str | None) -> tuple[list[Note], int]:
    """Record the description's notes; a note the ledger already holds (CI ran twice) is
    skipped. Returns the notes recorded and how many were already there."""
    held = {
        (r.verdict, r.code, r.text)
        for r in Ledger(ws).read().records
        if isinstance(r, Note) and r.source == "pr"
    }
    recorded: list[Note] = []
    skipped = 0
    for request in notes_from_pr(body):
        key = (request.verdict, request.code, " ".join(request.text.split()))
        if key in held:
            skipped += 1
            continue
        held.add(key)
        recorded.append(record_note(ws, request, author=author))
    return recorded, skipped


def describe(note: Note) -> str:
    """One line for the CLI and the editor: what was recorded."""
    word = "helped" if note.verdict == "helped" else "got in the way"
    where = f" at {note.path}:{note.line}" if note.path and note.line else ""
    where = f" in {note.path}" if note.path and not note.line else where
    about = f" ({note.code}{where})" if note.code else where
    said = f": {note.text}" if note.text else ""
    return f"Noted that the workflow {word}{about}{said}. `handrail workflow review` lists it."
