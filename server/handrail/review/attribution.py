"""Attribution the project asks for: an AI trailer on commits that add generated code.

`[attribution] policy` names the trailer (`Assisted-by:` as the Linux kernel, Fedora and
OpenSSF projects ask, `Generated-by:` as the ASF asks, or a custom key); `none` asks for
nothing. A commit "adds generated code" when it adds a `block_marked` record to the ledger,
which is what every way of marking does. The trailer's value names the agent and model the
records carry (`AGENT:MODEL`, the kernel's form), else the workflow's `value`, else
`unknown`.

Two front ends share this module: the commit-msg hook (`handrail attribute MSGFILE`) adds the
trailer to a commit that adds blocks, and the gate (`handrail check --commits RANGE`) lints the
branch's commits (HR404). Whatever the policy, a model is never credited with
`Co-authored-by:` or `Signed-off-by:`: those are for people, and only a person can certify
the Developer Certificate of Origin.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from handrail.findings import Finding
from handrail.git import GitError, git
from handrail.workflow.model import AttributionRules, Workflow
from handrail.workspace import HANDRAIL_DIR, Workspace

_LEDGER = f"{HANDRAIL_DIR}/ledger/"
_PEOPLE_ONLY = ("co-authored-by", "signed-off-by")
# Names that say a model or an agent, not a person, in a Co-authored-by/Signed-off-by value.
_MACHINE = re.compile(
    r"\b(claude|anthropic|copilot|chatgpt|openai|gpt-?\d|gemini|bard|codex|cursor(?:\s*agent)?|"
    r"aider|devin|codeium|windsurf|tabnine|amazon\s*q|codewhisperer|llama|mistral|deepseek|"
    r"qwen|grok)\b",
    re.IGNORECASE,
)


class AttributionError(Exception):
    """The commit message or the commits cannot be read."""


@dataclass(frozen=True, slots=True)
class MarkedBy:
    """Who produced a block, as its `block_marked` record says (agent and model may be absent)."""

    block_id: str
    agent: str | None
    model: str | None


def trailer_value(rules: AttributionRules, marked: Iterable[MarkedBy]) -> str:
    """`AGENT:MODEL` for each distinct agent and model recorded, comma-separated; else the
    workflow's `value`; else `unknown` (never a guess)."""
    seen: list[str] = []
    for item in marked:
        if not item.agent and not item.model:
            continue
        text = f"{item.agent or 'unknown'}:{item.model or 'unknown'}"
        if text not in seen:
            seen.append(text)
    if seen:
        return ", ".join(seen)
    return rules.value.strip() or "unknown"


def _marked_from(data: bytes) -> MarkedBy | None:
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict) or record.get("kind") != "block_marked":
        return None
    agent, model = record.get("agent"), record.get("model")
    return MarkedBy(
        str(record.get("block_id", "")),
        agent if isinstance(agent, str) and agent else None,
        model if isinstance(model, str) and model else None,
    )


def staged_blocks(ws: Workspace) -> list[MarkedBy]:
    """Blocks whose `block_marked` record the commit being made adds.

    The index is the one git's commit-msg hook sees: `git commit -a` and partial commits stage
    into a temporary index that git names in GIT_INDEX_FILE.
    """
    index = os.environ.get("GIT_INDEX_FILE")
    try:
        names = git(
            ws.root,
            "diff", "--cached", "--name-only", "--diff-filter=A", "-z", "--", _LEDGER,
            index_file=index,
        )  # fmt: skip
    except GitError as exc:
        raise AttributionError(f"cannot read the staged changes: {exc}") from exc
    found: list[MarkedBy] = []
    for name in _names(names):
        try:
            data = git(ws.root, "show", f":{name}", index_file=index)
        except GitError:
            continue
        marked = _marked_from(data)
        if marked is not None:
            found.append(marked)
    return found


def commit_blocks(ws: Workspace, commit: str) -> list[MarkedBy]:
    """Blocks whose `block_marked` record `commit` adds."""
    names = git(
        ws.root,
        "diff-tree", "--no-commit-id", "-r", "--root", "--name-only", "--diff-filter=A", "-z",
        commit, "--", _LEDGER,
    )  # fmt: skip
    found: list[MarkedBy] = []
    for name in _names(names):
        marked = _marked_from(git(ws.root, "show", f"{commit}:{name}"))
        if marked is not None:
            found.append(marked)
    return found


def _names(out: bytes) -> list[str]:
    return [n.decode("utf-8", "surrogateescape") for n in out.split(b"\0") if n]


def trailers(ws: Workspace, message: str) -> list[tuple[str, str]]:
    """The message's trailers as git reads them: (key, value) pairs."""
    out = git(ws.root, "interpret-trailers", "--parse", "--no-divider", input_text=message)
    pairs: list[tuple[str, str]] = []
    for line in out.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            pairs.append((key.strip(), value.strip()))
    return pairs


def machine_credits(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """`Co-authored-by`/`Signed-off-by` trailers that credit a model or an agent."""
    return [
        f"{key}: {value}"
        for key, value in pairs
        if key.casefold() in _PEOPLE_ONLY and _MACHINE.search(value)
    ]


def add_trailer(ws: Workspace, rules: AttributionRules, message_file: str) -> str | None:
    """The commit-msg hook: add the policy's trailer when the commit adds generated blocks.

    Returns the trailer line added, None when none was needed (no policy, no blocks, or the
    message already has the trailer). The message file is rewritten by git itself.
    """
    key = rules.key
    if key is None:
        return None
    blocks = staged_blocks(ws)
    if not blocks:
        return None
    try:
        with open(message_file, encoding="utf-8", errors="surrogateescape") as handle:
            message = handle.read()
    except OSError as exc:
        raise AttributionError(f"cannot read the commit message {message_file}: {exc}") from exc
    if any(k.casefold() == key.casefold() for k, _ in trailers(ws, message)):
        return None
    line = f"{key}: {trailer_value(rules, blocks)}"
    try:
        git(
            ws.root,
            "interpret-trailers", "--in-place", "--if-exists", "addIfDifferent",
            "--trailer", line, os.path.abspath(message_file),
        )  # fmt: skip
    except GitError as exc:
        raise AttributionError(f"cannot add {line!r} to {message_file}: {exc}") from exc
    return line


def lint_commits(ws: Workspace, workflow: Workflow, revisions: str) -> list[Finding]:
    """HR404 for each commit of `revisions` (``BASE..HEAD``) that adds generated blocks
    without the policy's trailer, or that credits a model with a trailer meant for people."""
    severity = workflow.severity_of("HR404")
    if severity is None:
        return []
    if revisions.startswith("-"):
        raise AttributionError(f"{revisions!r} is not a revision range")
    try:
        listed = git(ws.root, "rev-list", "--reverse", "--no-merges", revisions, "--")
    except GitError as exc:
        raise AttributionError(f"{revisions!r} is not a revision range here: {exc}") from exc
    key = workflow.attribution.key
    # A commit is no file: the finding points at the workflow file, where the policy lives.
    where = ws.relative(ws.workflow_path)
    findings: list[Finding] = []
    for commit in listed.decode().split():
        message = git(ws.root, "show", "-s", "--format=%B", commit).decode("utf-8", "replace")
        subject = message.split("\n", 1)[0][:60]
        pairs = trailers(ws, message)
        for credit in machine_credits(pairs):
            findings.append(
                Finding(
                    "HR404",
                    severity,
                    f"Commit {commit[:12]} ({subject!r}) credits a model or an agent with "
                    f"`{credit}`. Co-authored-by and Signed-off-by are for people; name AI "
                    f"help with `{key or 'Assisted-by'}:` instead (amend or reword the commit).",
                    where,
                    data={"commit": commit, "trailer": credit},
                )
            )
        if key is None or any(k.casefold() == key.casefold() for k, _ in pairs):
            continue
        blocks = commit_blocks(ws, commit)
        if blocks:
            names = ", ".join(sorted({b.block_id for b in blocks}))
            findings.append(
                Finding(
                    "HR404",
                    severity,
                    f"Commit {commit[:12]} ({subject!r}) adds generated code ({names}) without "
                    f"the `{key}:` trailer the workflow asks for "
                    f"(`{key}: {trailer_value(workflow.attribution, blocks)}`). Install the "
                    "commit-msg hook (`handrail attribute`), then reword the commit.",
                    where,
                    data={"commit": commit, "blocks": sorted({b.block_id for b in blocks})},
                )
            )
    return findings
