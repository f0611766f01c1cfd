"""The names of the ``handrail.*`` server commands (docs/commands.md), in one place: the
command modules register them, code actions and lenses offer them, the contract tests check
their results (tests/contract/commands/)."""

from __future__ import annotations

NEW_TASK = "handrail.newTask"
VALIDATE_SPEC = "handrail.validateSpec"
CHECK_CONTEXT = "handrail.checkContext"
PROMPT = "handrail.prompt"
MARK_SELECTION = "handrail.markSelection"
RECORD_TRACE = "handrail.recordTrace"
EXPLAIN = "handrail.explain"
REVIEW = "handrail.review"
CHECK = "handrail.check"
RENUMBER = "handrail.renumber"
DISMISS_INSERTION = "handrail.dismissInsertion"
SET_ACTIVE_TASK = "handrail.setActiveTask"
CONTEXT_CANDIDATES = "handrail.contextCandidates"
NOTE = "handrail.note"
LIST_TASKS = "handrail.listTasks"
EDIT_TASK = "handrail.editTask"
CLOSE_TASK = "handrail.closeTask"
REOPEN_TASK = "handrail.reopenTask"
DECOMPOSE = "handrail.decompose"
EDIT_TASK_CONTEXT = "handrail.editTaskContext"
