"""The result of every ``handrail.*`` server command, as a type: the command contract.

Each command's handler is annotated with its result type here, so mypy checks every key it
returns; `COMMAND_RESULTS` names the type of each command. Two checks hold the server and its
clients together (tests/contract/, docs/commands.md):

- the example results in tests/contract/commands/<command>.json must have exactly these
  shapes (pytest), and so must every answer the real server gives in the end-to-end tests;
- client-vscode/src/logic/protocol.generated.ts is generated from these types
  (tests/contract/make_protocol.py; pytest fails when it is stale), and node's tests check the
  same example results against it.

Engine use cases own the types of what they return, which the CLI's `--json` prints too
(`FindingJson`, `CandidatesJson`, `AcknowledgementJson`, `ReviewJson`, `BlockStatesJson`,
`RenumberJson`, `TaskJson`, the task use cases' `handrail.tasks.results`, `ContextReportJson`,
`VerifyReportJson`); the answers the server composes itself are typed here, and a server
result that extends an engine's adds only what an editor alone uses (a ``uri``, ``shown``).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from handrail.context.candidates import CandidateJson, CandidatesJson
from handrail.context.check import ContextEntryJson, ContextReportJson
from handrail.findings import FindingJson
from handrail.ledger.states import BlockStateJson, BlockStatesJson
from handrail.lsp.features.command_names import (
    CHECK,
    CHECK_CONTEXT,
    CLOSE_TASK,
    CONTEXT_CANDIDATES,
    DECOMPOSE,
    DISMISS_INSERTION,
    EDIT_TASK,
    EDIT_TASK_CONTEXT,
    EXPLAIN,
    LIST_TASKS,
    MARK_SELECTION,
    NEW_TASK,
    NOTE,
    PROMPT,
    RECORD_TRACE,
    RENUMBER,
    REOPEN_TASK,
    REVIEW,
    SET_ACTIVE_TASK,
    VALIDATE_SPEC,
)
from handrail.lsp.features.generate import GENERATE, INSERT_GENERATED
from handrail.lsp.features.trust_commands import APPROVE_TRUST, TRUST_STATUS
from handrail.lsp.features.verification import VERIFY, VERIFY_ALL
from handrail.marking.renumber import KeptByJson, RenumberJson
from handrail.review.acknowledgements import AcknowledgementJson
from handrail.review.reviews import RefusedReviewJson, ReviewedBlockJson, ReviewJson
from handrail.tasks.model import EditedSpecJson, HandEditedSpecJson, TaskJson
from handrail.tasks.results import (
    DecomposeJson,
    EditTaskJson,
    NewTaskJson,
    TaskStatusJson,
)
from handrail.verify.run import VerifyReportJson


class NewTaskResult(NewTaskJson):
    """`handrail task new --json` (`handrail.tasks.results.NewTaskJson`) with what only an
    editor uses."""

    uri: str | None
    shown: NotRequired[bool]
    """Only for a template task: whether the editor opened it."""


class ValidateSpecResult(TypedDict):
    findings: list[FindingJson]
    ok: bool
    sentences: list[str]
    max_sentences: int
    hard_max_sentences: int
    missing: list[str]
    placeholders: list[str]
    is_template: bool
    empty: bool


class ListedTaskJson(TaskJson):
    """A task of `handrail task list --json` (`handrail.tasks.model.TaskJson`) with its uri."""

    uri: str


class ListTasksResult(TypedDict):
    """`handrail.tasks.results.TaskListJson`, each task with its uri (a TypedDict cannot
    narrow an inherited field, so test_command_contract.py holds the two to the same keys)."""

    tasks: list[ListedTaskJson]
    closed_hidden: int
    findings: list[FindingJson]


class EditTaskContextResult(TypedDict):
    edit: Any
    """An LSP WorkspaceEdit for the client to apply; null when nothing changes."""
    added: list[str]
    removed: list[str]
    present: list[str]


class PromptResult(TypedDict):
    task: str
    refused: bool
    prompt: str | None
    temperature: float
    findings: list[FindingJson]


class MarkResult(TypedDict):
    """A block marked in an editor's buffer (`marking_commands.apply_mark`)."""

    applied: bool
    block: str
    task: str
    path: str
    begin_line: int
    end_line: int
    reason: NotRequired[str]
    """Why the edit was not applied (only when it was not)."""


class MarkSelectionResult(MarkResult):
    task_uri: NotRequired[str]
    """Only when a template task was created for the lines."""
    shown: NotRequired[bool]


class NoteResult(TypedDict):
    note: dict[str, Any]
    """The `Note` ledger record as written."""
    message: str


class CheckResult(TypedDict):
    findings: list[FindingJson]
    blocks: BlockStatesJson
    files_checked: int
    workflow_invalid: bool
    errors: int


class DismissInsertionResult(TypedDict):
    dismissed: bool


class SetActiveTaskResult(TypedDict):
    task: str | None
    folder: str


class InsertedResult(MarkResult):
    """``handrail.insertGenerated``: code a model wrote elsewhere, placed and marked."""

    refused: Literal[False]
    replaced: str | None
    """The block this attempt replaced (``replace``), if any."""


class GeneratedResult(InsertedResult):
    model: str


class GenerateRefusedResult(TypedDict):
    """``handrail.generate`` when the gate refuses: nothing was sent to the model."""

    refused: Literal[True]
    applied: Literal[False]
    findings: list[FindingJson]


class VerifyAnswerJson(VerifyReportJson):
    """``handrail.verify`` / ``verifyAll``: `VerifyReport.as_json` (verify/run.py, also
    `handrail verify --json`) with what only the editor shows: the target, the sentence to
    show and the blocks it ignored."""

    target: str
    message: str
    ignored: list[str]


class TrustCommandJson(TypedDict):
    command: str
    where: str
    blocks: list[str]
    approved: bool


class TrustStatusResult(TypedDict):
    editor_trusted: bool
    commands: list[TrustCommandJson]
    pending: list[str]


class ApproveTrustResult(TypedDict):
    approved: list[str]


COMMAND_RESULTS: dict[str, Any] = {
    NEW_TASK: NewTaskResult,
    VALIDATE_SPEC: ValidateSpecResult,
    LIST_TASKS: ListTasksResult,
    EDIT_TASK: EditTaskJson,
    CLOSE_TASK: TaskStatusJson,
    REOPEN_TASK: TaskStatusJson,
    DECOMPOSE: DecomposeJson,
    CHECK_CONTEXT: ContextReportJson,
    CONTEXT_CANDIDATES: CandidatesJson,
    EDIT_TASK_CONTEXT: EditTaskContextResult,
    PROMPT: PromptResult,
    MARK_SELECTION: MarkSelectionResult,
    RECORD_TRACE: AcknowledgementJson,
    EXPLAIN: AcknowledgementJson,
    REVIEW: ReviewJson,
    NOTE: NoteResult,
    CHECK: CheckResult,
    DISMISS_INSERTION: DismissInsertionResult,
    SET_ACTIVE_TASK: SetActiveTaskResult,
    RENUMBER: RenumberJson,
    GENERATE: GeneratedResult | GenerateRefusedResult,
    INSERT_GENERATED: InsertedResult,
    VERIFY: VerifyAnswerJson,
    VERIFY_ALL: VerifyAnswerJson,
    TRUST_STATUS: TrustStatusResult,
    APPROVE_TRUST: ApproveTrustResult,
}
"""Each command's result type (a TypedDict), by command name."""

__all__ = [
    "COMMAND_RESULTS",
    "BlockStateJson",
    "CandidateJson",
    "ContextEntryJson",
    "EditedSpecJson",
    "HandEditedSpecJson",
    "KeptByJson",
    "RefusedReviewJson",
    "ReviewedBlockJson",
]
