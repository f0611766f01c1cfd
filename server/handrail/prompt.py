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
from handrail.tasks import LoadedTask, check_task
from handrail.workflow.model import Workflow

if TYPE_CHECKING:
    from handrail.context.check import ContextReport

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


def build_prompt_pack(
    loaded_task: LoadedTask, workflow: Workflow, report: ContextReport
) -> PromptPack:
    """The pack for `loaded_task`, or a refusal carrying the findings that block it."""
    task = loaded_task.task
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
