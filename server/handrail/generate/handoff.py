"""The generation handoff: the gate, the model, and the code of the answer.

Order matters for "no file changed on failure": the target is checked before anything is
sent (`handrail.marking.write.prepare_target`), and the file is written once, with its
markers, only after a usable answer arrived (`handrail.marking.write.write_generated`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from handrail.findings import Finding
from handrail.generate.client import Answer, GenerationError, stream_chat
from handrail.generate.extract import extract_code
from handrail.generate.settings import GenerateSettings
from handrail.ledger.records import BlockMarked
from handrail.marking.write import Target, read_target_text
from handrail.tasks.model import LoadedTask
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

if TYPE_CHECKING:
    from handrail.prompt import InsertionPoint


__all__ = [
    "Generated",
    "GenerationError",
    "GenerationRefused",
    "endpoint_name",
    "generate_code",
    "insertion_of",
]


class GenerationRefused(Exception):
    """The gate refused: the spec or the context fails an error check. Nothing was sent."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("the prompt pack is refused")
        self.findings = findings


@dataclass(slots=True)
class Generated:
    task_id: str
    code: str
    answer: Answer
    warnings: list[Finding] = field(default_factory=list)
    """Findings below error severity that the gate let through."""
    produced_by: dict[str, Any] = field(default_factory=dict)
    """What produced the code, for its "block marked" record: endpoint (the host, never a
    key), temperature, the hashes of the spec and of the prompt pack, the model."""


def generate_code(
    ws: Workspace,
    workflow: Workflow,
    loaded_task: LoadedTask,
    settings: GenerateSettings,
    *,
    target_rel: str | None = None,
    on_delta: Callable[[str], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    insertion: InsertionPoint | None = None,
) -> Generated:
    """Send the task's checked prompt pack and return the code of the answer.

    Raises `GenerationRefused` (with findings) before sending when the gate fails,
    `SettingsError` when the key's variable is unset, and `GenerationError` when the
    endpoint fails, refuses, or answers without code.
    `target_rel` picks the language among several code blocks.
    """
    from handrail.gate.run import task_context_reports
    from handrail.prompt import build_prompt_pack

    (report,) = task_context_reports(ws, workflow, [loaded_task])
    pack = build_prompt_pack(loaded_task, workflow, report, insertion=insertion, ws=ws)
    if pack.refused:
        raise GenerationRefused(pack.findings)
    answer = stream_chat(
        settings,
        pack.text,
        temperature=workflow.generation.temperature,
        on_delta=on_delta,
        transport=transport,
    )
    code = extract_code(answer.text, target_rel)
    if code is None:
        said = " ".join(answer.text.split())
        shown = f' It said: "{said[:200]}{"..." if len(said) > 200 else ""}"' if said else ""
        raise GenerationError(
            "the answer holds no code block, so nothing was written." + shown,
            kind="no_code",
        )
    produced_by: dict[str, Any] = {
        "endpoint": endpoint_name(settings.base_url),
        "temperature": workflow.generation.temperature,
        "spec_hash": loaded_task.task.spec_hash,
        "pack_hash": "sha256:" + hashlib.sha256(pack.text.encode("utf-8", "replace")).hexdigest(),
    }
    if "model" in BlockMarked.model_fields:  # the field the agents work adds to the record
        produced_by["model"] = answer.model or settings.model
    return Generated(loaded_task.task.id, code, answer, pack.findings, produced_by)


def insertion_of(target: Target) -> InsertionPoint:
    """The insertion point the prompt pack shows for `target` (read now; "" when new)."""
    from handrail.prompt import InsertionPoint

    text = read_target_text(target)[0] if target.exists else ""
    replaces = None
    if target.replaces is not None:
        replaces = (target.replaces.begin_line, target.replaces.end_line)
    return InsertionPoint(target.rel, target.line, text, replaces)


def endpoint_name(base_url: str) -> str:
    """The endpoint as a record names it: its host and port, never a user, key or path."""
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    return f"{host}:{parts.port}" if parts.port else host
