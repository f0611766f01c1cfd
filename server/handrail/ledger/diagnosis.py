"""Why a verification run failed: the environment (the command could not do its job) or the code.

"`npm test --silent` exited with code 254" came with "fix the spec and generate again", but the
repository had no package.json: no change to the block could have made it pass. A failure is
put down to the environment only on clear signs (the command did not start, the shell could not
find or run it, or its output says a file, module or program is missing); everything else is
the code's, as before. Shared by the diagnostics (HR302) and the editor's verification answer.
"""

from __future__ import annotations

import re
from typing import Literal

Cause = Literal["environment", "timeout", "code"]

# Shell: 126 "found but cannot run", 127 "not found"; npm: 254 when it cannot read package.json.
_ENVIRONMENT_EXIT_CODES = frozenset({126, 127})
_ENVIRONMENT_OUTPUT = re.compile(
    r"command not found"
    r"|is not recognized as an internal or external command"
    r"|no such file or directory"
    r"|could not read package\.json|enoent"
    r"|no module named|modulenotfounderror"
    r"|cannot find module"
    r"|go: cannot find main module|go\.mod file not found"
    r"|could not find `cargo\.toml`"
    r"|permission denied",
    re.IGNORECASE,
)
_FAILURE_LINE = re.compile(
    r"\b(FAILED|FAIL|Error|ERROR|error|AssertionError|assert|panicked|failed)\b"
)

ENVIRONMENT_ADVICE = (
    "This looks like the environment, not the block: the command could not run here "
    "(a missing program, file or package). Fix the verification command or install what it "
    "needs, then verify again; changing the block will not help."
)
TIMEOUT_ADVICE = (
    "The command ran out of time: make the test faster or raise the task's timeout, then "
    "verify again."
)


def failure_cause(
    exit_code: int | None, timed_out: bool, output: str, *, started: bool = True
) -> Cause:
    """What a failed run points at (see the module docstring)."""
    if timed_out:
        return "timeout"
    if not started or exit_code is None or exit_code in _ENVIRONMENT_EXIT_CODES:
        return "environment"
    if _ENVIRONMENT_OUTPUT.search(output):
        return "environment"
    return "code"


def first_failure(output: str) -> str | None:
    """The first line of `output` that reads like a failure, for a one-line summary."""
    for line in output.splitlines():
        if _FAILURE_LINE.search(line) or _ENVIRONMENT_OUTPUT.search(line):
            return line.strip()
    return None
