"""Verification as a hard gate (stage 4): which command, trusted or not, run, recorded.

`commands` decides a block's command and its argv, `trust` keeps the user's approvals outside
the repository, `handrail.process` runs one command (no shell, captured output, timeout, killed
process group; below this package because the evidence probe runs pytest through it too) and
`run` verifies a task, a block or everything and writes the `VerificationRun`.
Nothing here runs when the workspace is only opened or checked.
"""

from handrail.process import RunResult, run_command
from handrail.verify.commands import PLACEHOLDERS, CommandError, CommandSource, command_for
from handrail.verify.run import (
    BlockResult,
    FoundBlock,
    Invocation,
    ProgressEvent,
    RunOutcome,
    Target,
    VerifyError,
    VerifyReport,
    find_blocks,
    rerun_all,
    verify,
)
from handrail.verify.trust import TrustDecision, TrustError, is_trusted

__all__ = [
    "PLACEHOLDERS",
    "BlockResult",
    "CommandError",
    "CommandSource",
    "FoundBlock",
    "Invocation",
    "ProgressEvent",
    "RunOutcome",
    "RunResult",
    "Target",
    "TrustDecision",
    "TrustError",
    "VerifyError",
    "VerifyReport",
    "command_for",
    "find_blocks",
    "is_trusted",
    "rerun_all",
    "run_command",
    "verify",
]
