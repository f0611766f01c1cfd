#!/bin/sh
# Mark what a coding agent just wrote as generated blocks of the active Handrail task.
#
# Called by an agent's hook (Claude Code, Cursor) or test command (aider). It reads:
#   HANDRAIL_TASK  the task id the agent works on (required; without it nothing is marked)
#   HANDRAIL_BASE  the revision the agent started from (default HEAD: uncommitted edits)
# It never fails the agent's turn for Handrail's sake: problems are reported on stderr and
# the script exits 0, except when the markers were written but could not be recorded.
set -u

if [ -z "${HANDRAIL_TASK:-}" ]; then
    echo "handrail: HANDRAIL_TASK is not set; the agent's edits were not marked" >&2
    exit 0
fi

# Hooks may start in a subfolder; Handrail finds the workspace from the current folder.
if [ -n "${CLAUDE_PROJECT_DIR:-}" ]; then
    cd "$CLAUDE_PROJECT_DIR" || exit 0
fi

# Handrail's report goes to stderr: Cursor reads a hook's stdout as JSON.
handrail mark --diff --base "${HANDRAIL_BASE:-HEAD}" --task "$HANDRAIL_TASK" >&2
status=$?
if [ "$status" -eq 2 ]; then
    # A usage problem (unknown task, not a git repository): tell, but do not block the agent.
    exit 0
fi
exit "$status"
