"""Code actions: "Mark selection as generated", "Generate here", and quick fixes built from
diagnostic data.

Every quick fix is read off the ``data`` the engine put on its finding (HR305's ``fix``,
HR200/HR201's ``drop``, HR202's ``suggest``, HR203/HR204's ``entry``), so nothing is
analysed again here. Marking goes through the ``handrail.markSelection`` command, because
the block is recorded in the ledger only once the editor has applied the markers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from handrail.lsp.features.commands import DISMISS_INSERTION, MARK_SELECTION, NOTE
from handrail.lsp.features.common import (
    current_analysis,
    engine_position,
    first_words,
    text_edit,
    workspace_edit,
)
from handrail.lsp.features.generate import GENERATE
from handrail.lsp.features.verification import block_actions
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis
from handrail.tasks.context_array import (
    ContextEditError,
    remove_context_entries,
    replace_context_entry,
)
from handrail.text_changes import TextChange, changed_region

if TYPE_CHECKING:
    # The engine (pydantic models, the ledger) is imported after `initialize` is answered,
    # with the first request that needs it (issue 17).
    from handrail.tasks.model import LoadedTask

MAX_TASK_ACTIONS = 3
"""Tasks offered by name when marking or generating (newest first), so that with "for a new
task" the menu stays within `MAX_ACTIONS`; older tasks through the command."""

MARK_KIND = types.CodeActionKind.RefactorRewrite
GENERATE_KIND = f"{types.CodeActionKind.Refactor.value}.handrail.generate"
"""Under "refactor" so editors list it with the other actions that rewrite code at the cursor."""
NOTE_KIND = f"{types.CodeActionKind.QuickFix.value}.handrail.note"
"""Under "quickfix" so an editor lists the notes next to the finding they are about."""
_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def _newest_first(tasks: Iterable[LoadedTask]) -> list[LoadedTask]:
    """Open tasks, newest first: a closed (done or abandoned) task is offered nowhere."""
    return sorted(
        # A decomposed parent is worked on through its sub-tasks.
        (t for t in tasks if not t.task.is_closed and not t.task.decomposed),
        key=lambda t: (t.task.created or _EPOCH, t.task.id),
        reverse=True,
    )


def _markable(analysis: DocumentAnalysis, start_line: int, end_line: int) -> bool:
    """Whether wrapping these lines can succeed (checked again, exactly, by the command)."""
    from handrail.blocks.comments import comment_styles_for
    from handrail.blocks.markers import ProblemKind

    source = analysis.source
    if source is None or analysis.rel is None or not comment_styles_for(analysis.rel):
        return False
    parsed = source.parsed
    unbalanced = {
        ProblemKind.UNCLOSED,
        ProblemKind.UNOPENED,
        ProblemKind.NESTED,
        ProblemKind.MISMATCHED,
    }
    if any(p.kind in unbalanced for p in parsed.problems):
        return False
    if any(start_line <= p.line <= end_line for p in parsed.problems):
        return False
    return not any(b.begin_line <= end_line and b.end_line >= start_line for b in parsed.enclosed)


def mark_actions(
    analysis: DocumentAnalysis,
    start_line: int,
    end_line: int,
    *,
    what: str,
    kind: str,
    diagnostic: types.Diagnostic | None = None,
    first_task: str | None = None,
) -> list[types.CodeAction]:
    """One action per task (`first_task`, then newest first) and one for a new task, each
    running the command."""
    folder = analysis.folder
    if folder is None or not _markable(analysis, start_line, end_line):
        return []
    if not any(line.strip() for line in analysis.lines[start_line - 1 : end_line]):  # no code
        return []
    base = {
        "uri": analysis.uri,
        "startLine": start_line,
        "endLine": end_line,
        "version": analysis.version,
    }
    tasks = _newest_first(folder.snapshot.tasks.tasks.values())
    tasks.sort(key=lambda t: t.task.id != first_task)  # stable: the rest stay newest first
    choices: list[tuple[str, str | None]] = [
        (f"for task {t.task.id}: {first_words(t.task.spec)}", t.task.id)
        for t in tasks[:MAX_TASK_ACTIONS]
    ]
    choices.append(("for a new task", None))
    return [
        types.CodeAction(
            title=f"Mark {what} as generated {label}",
            kind=kind,
            diagnostics=[diagnostic] if diagnostic is not None else None,
            command=types.Command(
                title=f"Mark {what} as generated {label}",
                command=MARK_SELECTION,
                arguments=[{**base, "task": task_id}],
            ),
        )
        for label, task_id in choices
    ]


def generate_actions(analysis: DocumentAnalysis, line: int) -> list[types.CodeAction]:
    """ "Generate here for task …": one per task (newest first), at a cursor outside blocks.

    Each runs ``handrail.generate``, which checks the task's spec and context before anything
    is sent, so a task whose gate fails is still offered and answers with its findings.
    """
    folder = analysis.folder
    if folder is None or not _markable(analysis, line, line):
        return []
    tasks = _newest_first(folder.snapshot.tasks.tasks.values())[:MAX_TASK_ACTIONS]
    return [
        types.CodeAction(
            title=f"Generate here for task {t.task.id}: {first_words(t.task.spec)}",
            kind=GENERATE_KIND,
            command=types.Command(
                title=f"Generate here for task {t.task.id}",
                command=GENERATE,
                arguments=[{"uri": analysis.uri, "task": t.task.id, "line": line}],
            ),
        )
        for t in tasks
    ]


def regenerate_actions(
    analysis: DocumentAnalysis,
    start_line: int,
    end_line: int,
    *,
    kind: str = GENERATE_KIND,
    diagnostic: types.Diagnostic | None = None,
) -> list[types.CodeAction]:
    """ "Regenerate block …" for each block the lines touch whose task is open: a new attempt
    from the task's current spec and context replaces it (``handrail.generate`` with
    ``replace``); the old one is recorded as discarded."""
    folder, source = analysis.folder, analysis.source
    if folder is None or source is None:
        return []
    tasks = folder.snapshot.tasks.tasks
    found: list[types.CodeAction] = []
    for block in source.parsed.blocks:
        if block.end_line < start_line or block.begin_line > end_line:
            continue
        task = tasks.get(block.task_id)
        if task is None or task.task.is_closed:
            continue
        title = f"Regenerate block {block.id} (discard this attempt)"
        found.append(
            types.CodeAction(
                title=title,
                kind=kind,
                diagnostics=[diagnostic] if diagnostic is not None else None,
                command=types.Command(
                    title=title,
                    command=GENERATE,
                    arguments=[{"uri": analysis.uri, "replace": block.id}],
                ),
            )
        )
    return found


def _selected_lines(
    server: HandrailServer, analysis: DocumentAnalysis, selection: types.Range
) -> tuple[int, int] | None:
    """The 1-based lines a non-empty selection covers (a selection ending at the start of a
    line does not take that line)."""
    start = engine_position(server, analysis.lines, selection.start)
    end = engine_position(server, analysis.lines, selection.end)
    if end <= start:
        return None
    end_line = end[0] - 1 if end[1] == 1 and end[0] > start[0] else end[0]
    return start[0], end_line


# --- quick fixes ----------------------------------------------------------------------------


def _eol(text: str) -> str:
    match = re.search(r"\r\n|\r|\n", text)
    return match.group(0) if match else "\n"


def _delete_line(lines: list[str], line: int) -> TextChange | None:
    if not 1 <= line <= len(lines):
        return None
    if line < len(lines):
        return TextChange(line, 1, line + 1, 1, "")
    if line > 1:
        return TextChange(line - 1, len(lines[line - 2]) + 1, line, len(lines[line - 1]) + 1, "")
    return TextChange(1, 1, 1, len(lines[0]) + 1, "")


def marker_fix(analysis: DocumentAnalysis, data: Mapping[str, Any]) -> tuple[str, list[TextChange]]:
    """HR305: the title and the changes that `data["fix"]` describes."""
    lines = analysis.lines
    fix = data.get("fix")
    line = data.get("line")
    if fix == "add-end":
        after, new_text = data.get("insert_after_line"), data.get("new_text")
        if isinstance(after, int) and isinstance(new_text, str) and 1 <= after <= len(lines):
            end = len(lines[after - 1]) + 1
            change = TextChange(after, end, after, end, _eol(analysis.text) + new_text)
            return f"Add the missing end marker after line {after}", [change]
    elif fix == "remove-line" and isinstance(line, int):
        deletion = _delete_line(lines, line)
        if deletion is not None:
            return f"Remove the marker on line {line}", [deletion]
    elif fix == "remove-lines":
        numbers = sorted({n for n in data.get("lines") or [] if isinstance(n, int)})
        changes = [c for n in numbers if (c := _delete_line(lines, n)) is not None]
        if changes and len(changes) == len(numbers):
            shown = " and ".join(str(n) for n in numbers)
            return f"Remove the inner markers (lines {shown})", changes
    elif fix == "replace-line" and isinstance(line, int) and 1 <= line <= len(lines):
        new_text = data.get("new_text")
        if isinstance(new_text, str):
            change = TextChange(line, 1, line, len(lines[line - 1]) + 1, new_text)
            return f"Change line {line} to `{new_text.strip()}`", [change]
    elif fix == "renumber":
        old, new = data.get("block_id"), data.get("suggested_id")
        if isinstance(old, str) and isinstance(new, str):
            changes = []
            for number in data.get("lines") or []:
                if not isinstance(number, int) or not 1 <= number <= len(lines):
                    continue
                found = re.search(
                    rf"handrail:(?:begin|end)[ \t]+({re.escape(old)})(?![^ \t*>-])",
                    lines[number - 1],
                )
                if found is not None:
                    changes.append(
                        TextChange(number, found.start(1) + 1, number, found.end(1) + 1, new)
                    )
            if changes:
                return f"Renumber this block to {new}", changes
    return "", []


def _task_fix(analysis: DocumentAnalysis, code: str, data: Mapping[str, Any]) -> tuple[str, str]:
    """HR200-HR204, HR207: the title and the task file's new text (empty when there is no fix)."""
    try:
        if code in ("HR200", "HR201"):
            drop = [d for d in data.get("drop") or [] if isinstance(d, str)]
            if drop:
                shown = ", ".join(drop)
                noun = "entry" if len(drop) == 1 else "entries"
                why = "the token budget" if code == "HR200" else "the file limit"
                title = f"Drop {len(drop)} context {noun} to fit {why}: {shown}"
                return title, remove_context_entries(analysis.text, drop)
        entry = data.get("entry")
        if code in ("HR203", "HR204") and isinstance(entry, str):
            return f"Remove context entry {entry}", remove_context_entries(analysis.text, [entry])
        suggest = data.get("suggest")
        if code == "HR207" and isinstance(entry, str) and isinstance(suggest, str):
            from handrail.tasks.files import rename_pin

            moved = replace_context_entry(analysis.text, entry, suggest)
            return f"Use {suggest} (the lines moved)", rename_pin(moved, entry, suggest)
        if (
            code == "HR202"
            and isinstance(entry, str)
            and isinstance(suggest, str)
            and suggest != entry
        ):
            title = f"Attach only {suggest}"
            return title, replace_context_entry(analysis.text, entry, suggest)
    except ContextEditError:
        pass  # the buffer is not valid TOML right now: its own diagnostic says so
    return "", ""


def quick_fixes(
    server: HandrailServer, analysis: DocumentAnalysis, diagnostic: types.Diagnostic
) -> list[types.CodeAction]:
    data = diagnostic.data
    if diagnostic.source != "handrail" or not isinstance(data, Mapping):
        return []
    code = str(diagnostic.code or data.get("code") or "")
    fix = types.CodeActionKind.QuickFix

    def action(
        title: str, changes: list[TextChange], *, preferred: bool = True
    ) -> types.CodeAction:
        edits = [text_edit(server, analysis.lines, c) for c in changes]
        return types.CodeAction(
            title=title,
            kind=fix,
            diagnostics=[diagnostic],
            is_preferred=preferred,
            edit=workspace_edit(server, analysis.uri, analysis.version, edits),
        )

    if code == "HR305" and analysis.kind == "source":
        title, changes = marker_fix(analysis, data)
        return [action(title, changes)] if changes else []
    if code == "HR308" and analysis.kind == "source":
        start, end = data.get("start_line"), data.get("end_line")
        found: list[types.CodeAction] = []
        if data.get("fix") == "mark" and isinstance(start, int) and isinstance(end, int):
            task = data.get("task")
            found = mark_actions(
                analysis,
                start,
                end,
                what="changed lines" if data.get("origin") == "disk" else "inserted lines",
                kind=fix,
                diagnostic=diagnostic,
                first_task=task if isinstance(task, str) else None,
            )
        if isinstance(start, int):
            found.append(
                types.CodeAction(
                    title="Dismiss this hint (the lines were not generated)",
                    kind=fix,
                    diagnostics=[diagnostic],
                    command=types.Command(
                        title="Dismiss this hint",
                        command=DISMISS_INSERTION,
                        arguments=[{"uri": analysis.uri, "line": start}],
                    ),
                )
            )
        return found
    if code == "HR314" and analysis.kind == "source":
        line = diagnostic.range.start.line + 1
        return regenerate_actions(analysis, line, line, kind=fix, diagnostic=diagnostic)
    if analysis.kind == "task" and code in ("HR200", "HR201", "HR202", "HR203", "HR204", "HR207"):
        title, new_text = _task_fix(analysis, code, data)
        change = changed_region(analysis.text, new_text) if new_text else None
        return [action(title, [change])] if change is not None else []
    return []


def note_actions(
    analysis: DocumentAnalysis, diagnostic: types.Diagnostic
) -> list[types.CodeAction]:
    """ "This got in the way…" and "This helped…" on any Handrail finding, for the review.

    The command carries the code, the file and the line, never the text; an editor that can
    ask for a sentence (VS Code) asks before it runs, others record the note without one.
    """
    if diagnostic.source != "handrail" or not diagnostic.code or analysis.rel is None:
        return []
    code = str(diagnostic.code)
    found = []
    for verdict, title in (("in-the-way", "This got in the way…"), ("helped", "This helped…")):
        found.append(
            types.CodeAction(
                title=f"{title} (note {code} for the workflow review)",
                kind=NOTE_KIND,
                diagnostics=[diagnostic],
                is_preferred=False,
                command=types.Command(
                    title=title,
                    command=NOTE,
                    arguments=[
                        {
                            "uri": analysis.uri,
                            "verdict": verdict,
                            "code": code,
                            "line": diagnostic.range.start.line + 1,
                            "source": "editor",
                        }
                    ],
                ),
            )
        )
    return found


MAX_ACTIONS = 5
"""At most this many code actions in one answer."""


def _wanted(kind: str, only: list[str] | None) -> bool:
    return only is None or any(kind == o or kind.startswith(o + ".") for o in only)


async def code_actions(
    server: HandrailServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    analysis = await current_analysis(server, params.text_document.uri)
    if analysis is None:
        return None
    only = [str(k) for k in params.context.only] if params.context.only else None
    actions: list[types.CodeAction] = []
    if _wanted(types.CodeActionKind.QuickFix, only):
        for diagnostic in params.context.diagnostics:
            actions.extend(quick_fixes(server, analysis, diagnostic))
    if analysis.kind == "source" and _wanted(types.CodeActionKind.QuickFix, only):
        first, last = (
            engine_position(server, analysis.lines, p)[0]
            for p in (params.range.start, params.range.end)
        )
        actions.extend(block_actions(analysis, first, last, list(params.context.diagnostics)))
    if analysis.kind == "source" and _wanted(MARK_KIND, only):
        lines = _selected_lines(server, analysis, params.range)
        if lines is not None:
            actions.extend(mark_actions(analysis, *lines, what="selection", kind=MARK_KIND))
    if analysis.kind == "source" and _wanted(GENERATE_KIND, only) and _is_cursor(params.range):
        line = engine_position(server, analysis.lines, params.range.start)[0]
        actions.extend(generate_actions(analysis, line))
    if analysis.kind == "source" and _wanted(GENERATE_KIND, only):
        first, last = (
            engine_position(server, analysis.lines, p)[0]
            for p in (params.range.start, params.range.end)
        )
        actions.extend(regenerate_actions(analysis, first, last))
    # A menu of eleven entries hid the next step (issue 19.6): at most five, in order of
    # relevance (fixes for the diagnostics here, the block's next steps, then marking and
    # generating), the first one preferred.
    actions = actions[:MAX_ACTIONS]
    if actions and not any(a.is_preferred for a in actions):
        actions[0].is_preferred = True
    if _wanted(NOTE_KIND, only):
        # After the fixes and outside their cap: one pair of review notes, for the first
        # Handrail finding here ("This got in the way…" / "This helped…").
        for diagnostic in params.context.diagnostics:
            notes = note_actions(analysis, diagnostic)
            if notes:
                actions.extend(notes)
                break
    return actions


def _is_cursor(selection: types.Range) -> bool:
    return selection.start == selection.end


def register(server: HandrailServer) -> None:
    options = types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, MARK_KIND, GENERATE_KIND, NOTE_KIND]
    )

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    async def on_code_action(
        ls: HandrailServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        return await code_actions(ls, params)
