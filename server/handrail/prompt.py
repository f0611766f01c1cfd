"""The prompt pack: what a developer hands to whatever model they use (stage 3).

Built only from a task whose spec and context pass their error-severity checks: that refusal
is the "before generation" gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from handrail.findings import Finding, has_errors
from handrail.tasks.findings import check_task
from handrail.tasks.model import LoadedTask
from handrail.workflow.model import Workflow

if TYPE_CHECKING:
    from handrail.context.check import ContextReport
    from handrail.workspace import Workspace

_LANGUAGE_BY_SUFFIX = {
    ".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "jsx", ".ts": "typescript", ".tsx": "tsx", ".go": "go", ".rs": "rust",
    ".java": "java", ".kt": "kotlin", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
    ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php", ".sh": "bash",
    ".sql": "sql", ".lua": "lua", ".html": "html", ".css": "css", ".md": "markdown",
    ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json", ".swift": "swift",
}  # fmt: skip


@dataclass(slots=True)
class PromptPack:
    task_id: str
    text: str
    """Empty when refused."""
    findings: list[Finding] = field(default_factory=list)
    refused: bool = False


@dataclass(frozen=True, slots=True)
class InsertionPoint:
    """Where the answer will go, when it is known (`--into`, the editor's cursor, "Generate
    here", a block being regenerated): the pack names the file and shows the place, so the
    model writes code for that spot rather than a free-standing snippet."""

    rel: str
    line: int | None
    """The code goes before this 1-based line; None: at the end of the file."""
    text: str
    """The file's text now ("" for a new file)."""
    replaces: tuple[int, int] | None = None
    """Lines (markers included) of a block the answer replaces."""


_AROUND = 4
_HERE = "<<< the code goes here >>>"


def _withheld(
    point: InsertionPoint, shown: list[str], ws: Workspace, workflow: Workflow
) -> str | None:
    """Why the lines around the insertion point must not reach the model, or None.

    They come from the target file, not from the checked context: the context's own two rules
    apply to them (stage 2), the ignore patterns matched as `handrail context check` matches
    them (`[context] ignore`, and `.gitignore` where the workflow uses it), and the secret
    scan; else a pack for a `.env`-like file, or a key beside the cursor, would send what the
    context check keeps back."""
    from handrail.context.check import ignored_path
    from handrail.context.secrets import scan_text
    from handrail.ignore import IgnoreMatcher

    rules = workflow.context
    if workflow.severity_of("HR203") is not None:
        matcher = IgnoreMatcher.for_workspace(ws, rules.ignore, use_gitignore=rules.use_gitignore)
        hit = ignored_path(matcher, point.rel)
        if hit is not None:
            return f"the file matches the context's ignore patterns ({hit[0].pattern!r})"
    hits = scan_text("\n".join(shown) + "\n", filename=point.rel)
    if hits:
        kinds = ", ".join(sorted({h.type for h in hits}))
        return f"they look like they hold a secret ({kinds})"
    return None


def insertion_section(
    point: InsertionPoint, ws: Workspace, workflow: Workflow, around: int = _AROUND
) -> list[str]:
    """The pack's "Where the code goes" lines: the target file and a few lines either side,
    unless the file is one the context may not send or the lines look like a secret."""
    lines = point.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if point.replaces is not None:
        begin, end = point.replaces
        lines = lines[: begin - 1] + lines[end:]
        at = begin
    else:
        at = len(lines) + 1 if point.line is None else min(point.line, len(lines) + 1)
    language = _LANGUAGE_BY_SUFFIX.get(PurePosixPath(point.rel).suffix.lower(), "")
    if not point.text:
        where = f"The code goes into the new file `{point.rel}`."
    elif point.replaces is not None:
        where = (
            f"The code goes into `{point.rel}` at line {at}, replacing an earlier attempt "
            "that failed (not shown)."
        )
    elif point.line is None or at > len(lines):
        where = f"The code goes at the end of `{point.rel}`."
    else:
        where = f"The code goes into `{point.rel}`, before line {at}."
    before = lines[max(0, at - 1 - around) : at - 1]
    after = lines[at - 1 : at - 1 + around]
    intro = [
        "## Where the code goes",
        "",
        where,
        "Write only the code for that place, fitting what is around it. If it also needs a "
        "change elsewhere (an import, a registration, a call), say so after the code block.",
        "",
    ]
    why = _withheld(point, [*before, *after], ws, workflow) if before or after else None
    if why is not None:
        return [*intro, f"(The lines around that place are not shown: {why}.)", ""]
    shown = [*before, _HERE, *after]
    fence = _fence_for("\n".join(shown))
    return [*intro, f"{fence}{language}", *shown, fence, ""]


def build_prompt_pack(
    loaded_task: LoadedTask,
    workflow: Workflow,
    report: ContextReport,
    *,
    insertion: InsertionPoint | None = None,
    ws: Workspace | None = None,
) -> PromptPack:
    """The pack for `loaded_task`, or a refusal carrying the findings that block it.

    With `insertion`, the pack names the target file and shows the insertion point; `ws` (then
    required) is where its lines are checked as context is."""
    task = loaded_task.task
    where: list[str] = []
    if insertion is not None:
        if ws is None:
            raise ValueError("an insertion point needs the workspace its lines are checked in")
        where = insertion_section(insertion, ws, workflow)
    findings = check_task(loaded_task, workflow) + list(report.findings)
    if has_errors(findings):
        return PromptPack(task.id, "", findings, refused=True)

    gen = workflow.generation
    parts = [
        f"# Task {task.id}",
        "",
        "## Specification",
        "",
        task.spec.strip(),
        "",
        "## Rules for using the context",
        "",
        *(f"- {rule}" for rule in workflow.context.rules),
        "",
        "## Generation settings",
        "",
        f"- Temperature: {gen.temperature:g} (deterministic code: same spec, same answer).",
        f"- Keep the answer to one block of at most {gen.max_block_lines} lines.",
        *(f"- {line}" for line in gen.instructions),
        "",
        *where,
        f"## Context ({len(report.entries)} file{'s' if len(report.entries) != 1 else ''}, "
        f"{report.total_tokens:,} tokens, {report.encoding_used})",
    ]
    for entry in report.entries:
        text = report.text_of(entry.raw)
        if text is None:  # unreachable once the checks passed; never send a partial pack
            return PromptPack(task.id, "", findings, refused=True)
        fence = _fence_for(text)
        language = _LANGUAGE_BY_SUFFIX.get(PurePosixPath(entry.path).suffix.lower(), "")
        parts += ["", f"### {entry.raw}", "", f"{fence}{language}", text.rstrip("\n"), fence]
    return PromptPack(task.id, "\n".join(parts) + "\n", findings)


def _fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks inside `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)
