"""What a task says about itself: HR100 for a file that cannot be used, HR100-HR103 and HR204
on its spec.

The gate, the editor, `task new`, `prompt` and `generate` all check a task here.
"""

from __future__ import annotations

from pathlib import Path

from handrail.codes import CODES
from handrail.findings import Finding, Severity
from handrail.spec.check import check_spec
from handrail.tasks.model import LoadedTask, TaskFileError
from handrail.workflow.model import Workflow

__all__ = [
    "check_task",
    "problem_findings",
    "spec_findings",
]


def check_task(loaded: LoadedTask, workflow: Workflow) -> list[Finding]:
    """HR100-HR103 and HR204 (a secret typed into it) on the task's spec, in its task file.

    The gate, the editor, `task new`, `prompt` and `generate` all come through here, so a
    secret in the spec fails the gate and refuses the prompt as a secret in the context does.
    A closed task's spec is not checked: it was checked while the task was open, and an
    abandoned task (a template left behind) must not fail the gate for ever.
    """
    if loaded.task.is_closed or loaded.task.decomposed:
        return []
    return spec_findings(loaded, workflow)


def spec_findings(loaded: LoadedTask, workflow: Workflow) -> list[Finding]:
    """HR100-HR103 and HR204 on the spec, whatever the task's status."""
    from handrail.spec.secrets import spec_secret_findings

    spec = loaded.task.spec
    has_context = bool(loaded.task.context)
    if loaded.spec_start is not None:
        line, column = loaded.spec_start
        return check_spec(
            spec, workflow, path=loaded.rel, line=line, column=column, has_context=has_context
        ) + spec_secret_findings(spec, workflow, path=loaded.rel, line=line, column=column)
    line = loaded.spec_line
    return check_spec(
        spec, workflow, path=loaded.rel, line=line, verbatim=False, has_context=has_context
    ) + spec_secret_findings(spec, workflow, path=loaded.rel, line=line, verbatim=False)


def problem_findings(problem: TaskFileError, workflow: Workflow | None) -> list[Finding]:
    """A task file that cannot be used as HR100 findings (the team's severity with `workflow`)."""
    severity: Severity | None = (
        workflow.severity_of("HR100") if workflow is not None else CODES["HR100"].severity
    )
    if severity is None:
        return []
    problems = [(problem.line, problem.column, problem.message)]
    problems.extend((line, 1, message) for line, message in problem.more)
    return [
        Finding(
            code="HR100",
            severity=severity,
            message=f"No usable spec: {message}" + ("" if message.endswith("?") else "."),
            path=problem.rel,
            line=line,
            column=column,
            data={"problem": problem.kind, "task": Path(problem.rel).stem},
        )
        for line, column, message in problems
    ]
