"""What the MCP server's tools do, as plain functions over a workspace (no MCP types here).

Each tool mirrors a stage and calls the engine function the command line and the language
server call, so an agent gets the same findings as a person; `client-vscode/src/lmTools.ts`
(VS Code's language-model tools) has the same semantics: a short `summary` sentence for the
model plus the facts as JSON.

The trust rules hold here as everywhere: `verify` runs only commands approved with
`handrail trust` and otherwise runs nothing; every path must stay inside the workspace; no
file content leaves except through the prompt pack, which is refused while the context's
secret scan finds anything (HR204), and verification output, whose lines with a secret are
withheld.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handrail.agents.identity import AgentIdentity
from handrail.analysis import Snapshot
from handrail.findings import Finding, Severity, findings_json, has_errors
from handrail.tasks.model import LoadedTask, is_task_id
from handrail.wording import plural
from handrail.workspace import HANDRAIL_DIR, PathEscapesWorkspace, Workspace, is_regular_file

OUTPUT_TAIL_LINES = 20
"""Lines of a failed run's output returned to the agent (secret lines withheld)."""


class ToolRefused(Exception):
    """The tool cannot do what was asked; the message says why and what to do instead."""


def _snapshot(ws: Workspace) -> Snapshot:
    snapshot = Snapshot.load(ws)
    if has_errors(snapshot.workflow.findings):
        first = next(f for f in snapshot.workflow.findings if f.severity is Severity.ERROR)
        raise ToolRefused(
            f"the workflow file is invalid ({first.path}:{first.line}: {first.code} "
            f"{first.message}): a person must fix it first"
        )
    return snapshot


def _task(snapshot: Snapshot, task_id: str) -> LoadedTask:
    if not isinstance(task_id, str) or not is_task_id(task_id):
        raise ToolRefused(
            f"{task_id!r} is not a task id (6 characters from a-z and 2-7, the file name in "
            ".handrail/tasks/)"
        )
    loaded = snapshot.tasks.tasks.get(task_id)
    if loaded is None:
        known = ", ".join(sorted(snapshot.tasks.tasks)) or "none yet"
        raise ToolRefused(
            f"there is no task {task_id} (tasks: {known}); create one with check_spec"
        )
    return loaded


def workspace_path(ws: Workspace, path: str) -> tuple[str, Path]:
    """`path` (workspace-relative, or absolute inside the workspace) as (rel, real path).

    Refuses anything outside the workspace, through `..` or a symlink, and Handrail's own
    folder: an agent never marks or reads files elsewhere.
    """
    if not isinstance(path, str) or not path.strip():
        raise ToolRefused('"path" must name a file of the workspace, e.g. "src/a.py"')
    try:
        rel = ws.relative(path) if Path(path).is_absolute() else path.replace("\\", "/")
        real = ws.resolve_inside(rel)
        rel = ws.relative(real)
    except PathEscapesWorkspace:
        raise ToolRefused(
            f"{path} is outside the workspace {ws.root}: Handrail works only on its files"
        ) from None
    if rel == HANDRAIL_DIR or rel.startswith(HANDRAIL_DIR + "/"):
        raise ToolRefused(f"{rel} is Handrail's own record: it is written by the tools only")
    if rel == ".git" or rel.startswith(".git/"):
        raise ToolRefused(f"{rel} is inside git's own folder, not a file of the workspace")
    return rel, real


# -- stage 1 ---------------------------------------------------------------------------------


def check_spec(
    ws: Workspace,
    spec: str,
    *,
    context: list[str] | None = None,
    verify: str | None = None,
    create: bool = True,
    author: str | None = None,
) -> dict[str, Any]:
    """Check a draft spec; when it passes (and `create`), write the task and make it active."""
    from handrail.agents.state import set_active_task
    from handrail.context.entries import EntryError, parse_entry
    from handrail.spec.check import check_spec as spec_findings
    from handrail.spec.check import describe_spec
    from handrail.tasks.files import create_task
    from handrail.tasks.model import TaskFileError

    if not isinstance(spec, str):
        raise ToolRefused('"spec" must be the spec as one string')
    entries = list(context or [])
    for raw in entries:
        try:
            parse_entry(raw)
            workspace_path(ws, raw.split("#", 1)[0])
        except EntryError as exc:
            raise ToolRefused(f"context entry {raw!r}: {exc}") from None
    snapshot = _snapshot(ws)
    workflow = snapshot.workflow.workflow
    summary = describe_spec(spec, workflow)
    findings = spec_findings(spec, workflow, path="<spec>")
    ok = not has_errors(findings)
    count = len(summary.sentences)
    result: dict[str, Any] = {
        "ok": ok,
        "task": None,
        "path": None,
        "sentences": count,
        "max_sentences": summary.max_sentences,
        "hard_max_sentences": summary.hard_max_sentences,
        "missing": list(summary.missing),
        "findings": findings_json(findings),
    }
    if not ok:
        if count > summary.hard_max_sentences:
            result["summary"] = (
                f"The spec does not pass: {count} sentences, past the hard limit of "
                f"{summary.hard_max_sentences}. Decompose the work into smaller tasks, each "
                "with its own short spec; do not generate code for this one."
            )
        else:
            result["summary"] = (
                "The spec does not pass: fix the error findings and check again before "
                "generating code."
            )
        return result
    if not create:
        result["summary"] = f"The spec passes ({count} sentences; limit {summary.max_sentences})."
        return result
    try:
        created = create_task(ws, workflow, spec, entries, verify=verify, author=author)
    except TaskFileError as exc:
        raise ToolRefused(str(exc)) from None
    if created.task is None:  # the file's own checks refused it (same rules, other anchors)
        result.update(ok=False, findings=findings_json(created.findings))
        result["summary"] = "The spec does not pass: fix the error findings and check again."
        return result
    task_id = created.task.task.id
    set_active_task(ws, task_id)
    result.update(task=task_id, path=created.task.rel, findings=findings_json(created.findings))
    result["summary"] = (
        f"The spec passes ({count} sentences; limit {summary.max_sentences}). Created task "
        f"{task_id} ({created.task.rel}); it is now the active task. Next: check_context."
    )
    return result


# -- stage 2 and 3 ---------------------------------------------------------------------------


def check_context(ws: Workspace, task: str) -> dict[str, Any]:
    """The context report of a task: tokens per entry and in total, the caps, what to drop."""
    from handrail.agents.state import set_active_task
    from handrail.analysis import context_report

    snapshot = _snapshot(ws)
    loaded = _task(snapshot, task)
    report = context_report(snapshot, loaded)
    result: dict[str, Any] = dict(report.as_json(task))
    passed = not has_errors(report.findings)
    drop = f" Dropping {', '.join(report.drop)} would fit the budget." if report.drop else ""
    result["passed"] = passed
    result["summary"] = (
        f"The context of {task} {'passes' if passed else 'does not pass'}: "
        f"{report.total_tokens} of {report.max_tokens} tokens ({report.encoding_used}), "
        f"{len(report.entries)} of at most {report.max_files} files.{drop}"
    )
    set_active_task(ws, task)
    return result


def get_prompt(ws: Workspace, task: str) -> dict[str, Any]:
    """The checked prompt pack of a task, or its refusal with the findings that block it."""
    from handrail.analysis import context_report
    from handrail.prompt import build_prompt_pack

    snapshot = _snapshot(ws)
    loaded = _task(snapshot, task)
    workflow = snapshot.workflow.workflow
    pack = build_prompt_pack(loaded, workflow, context_report(snapshot, loaded))
    errors = [f for f in pack.findings if f.severity is Severity.ERROR]
    return {
        "task": task,
        "refused": pack.refused,
        "prompt": pack.text or None,
        "temperature": workflow.generation.temperature,
        "max_block_lines": workflow.generation.max_block_lines,
        "findings": findings_json(pack.findings),
        "summary": (
            f"Refused: {len(errors)} error finding(s) in the spec or context of {task}; fix "
            "them (check_spec, check_context) before generating code."
            if pack.refused
            else f"The prompt pack of {task}: follow it, keep each block to at most "
            f"{workflow.generation.max_block_lines} lines, then mark what you wrote with "
            "mark_generated."
        ),
    }


# -- stage 3: marking ------------------------------------------------------------------------


def mark_generated(
    ws: Workspace,
    path: str,
    start_line: int,
    end_line: int,
    task: str,
    *,
    identity: AgentIdentity,
    author: str | None = None,
) -> dict[str, Any]:
    """Wrap lines `start_line`..`end_line` of a workspace file in markers and record the
    block, with the agent's identity."""
    from handrail.agents.state import set_active_task
    from handrail.blocks.mark import MarkError
    from handrail.ledger.store import LedgerWriteError
    from handrail.marking.write import mark_file_recorded

    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (start_line, end_line)):
        raise ToolRefused('"start_line" and "end_line" must be 1-based line numbers')
    if start_line < 1 or end_line < start_line:
        raise ToolRefused('"start_line" and "end_line" must be 1-based, start_line <= end_line')
    rel, real = workspace_path(ws, path)
    if not is_regular_file(real):
        raise ToolRefused(f"{rel} is not a regular file of the workspace")
    snapshot = _snapshot(ws)
    _task(snapshot, task)
    try:
        block = mark_file_recorded(
            ws, real, rel, start_line, end_line, task, author=author, identity=identity
        )
    except MarkError as exc:
        raise ToolRefused(f"{rel}: {exc}; nothing was marked") from None
    except LedgerWriteError as exc:
        raise ToolRefused(f"{rel} was not marked: {exc}") from None
    set_active_task(ws, task)
    return {
        "block": block.id,
        "path": rel,
        "begin_line": block.begin_line,
        "end_line": block.end_line,
        "content_hash": block.content_hash,
        "agent": identity.agent,
        "summary": (
            f"Marked {rel} lines {start_line}-{end_line} as block {block.id} of task {task} "
            f"(markers on lines {block.begin_line} and {block.end_line}: later line numbers "
            "moved by one after the start and by two after the end). It is unverified "
            f"(HR300) until verify runs green: next, verify {task}."
        ),
    }


# -- stage 4 ---------------------------------------------------------------------------------


def verify(ws: Workspace, target: str) -> dict[str, Any]:
    """Run the verification of a task or block, if (and only if) its commands are trusted."""
    from handrail.verify.run import Target, VerifyError
    from handrail.verify.run import verify as run_verify

    _snapshot(ws)
    try:
        chosen = Target.parse(target)
        report = run_verify(ws, chosen)
    except VerifyError as exc:
        raise ToolRefused(str(exc)) from None
    if report.untrusted:
        commands = list(dict.fromkeys(inv.source.text for inv, _ in report.untrusted))
        return {
            "ran": False,
            "trusted": False,
            "ok": False,
            "commands": commands,
            "findings": findings_json(report.findings),
            "summary": (
                "Nothing was run: the verification commands are not trusted on this machine "
                "(HR403). Ask the user to read them and run `handrail trust`; you cannot "
                "approve them, and the work is not done until they run green."
            ),
        }
    answer = report.as_json(output_tail_lines=OUTPUT_TAIL_LINES)
    for run in answer["runs"]:
        run["output_tail"] = _withhold_secrets(run.get("output_tail", []))
    result: dict[str, Any] = dict(answer)
    if not report.blocks:
        result["summary"] = f"No generated blocks in {target}: nothing to verify."
    elif report.ok:
        result["summary"] = f"Verified: every block of {target} passed on its current content."
    else:
        failing = [b["block"] for b in result["blocks"] if b["status"] != "verified"]
        result["summary"] = (
            f"Not verified: {', '.join(failing)}. Read the output tail, fix the code or the "
            f"tests, and verify {target} again."
        )
    return result


def _withhold_secrets(lines: list[str]) -> list[str]:
    """The lines, with every line the context's secret scanner flags replaced by a notice."""
    from handrail.context.secrets import SecretScanError, scan_text

    if not lines:
        return lines
    try:
        hits = scan_text("\n".join(lines) + "\n", filename="verification-output.txt")
    except SecretScanError:
        return ["(output withheld: it could not be scanned for secrets)"]
    flagged = {hit.line for hit in hits}
    return [
        f"(line withheld: it looks like a secret, {next(h.type for h in hits if h.line == n)})"
        if n in flagged
        else line
        for n, line in enumerate(lines, start=1)
    ]


# -- block states ----------------------------------------------------------------------------


def block_states(
    ws: Workspace, *, path: str | None = None, task: str | None = None
) -> dict[str, Any]:
    """The state of every generated block of a file, a task, or the workspace."""
    from handrail.analysis import analyze_source
    from handrail.review._tree import SourceFile, files_with_blocks
    from handrail.verify.run import read_blocks

    snapshot = _snapshot(ws)
    if task is not None:
        _task(snapshot, task)
    if path is not None:
        rel, real = workspace_path(ws, path)
        if not is_regular_file(real):
            raise ToolRefused(f"{rel} is not a regular file of the workspace")
        read = read_blocks(ws, rel)
        sources = (
            []
            if read is None
            else [SourceFile(rel, read[0], analyze_source(snapshot, rel, read[0]))]
        )
    else:
        sources = files_with_blocks(snapshot)
    blocks: list[dict[str, Any]] = []
    other: list[Finding] = []
    for source in sources:
        analysis = source.analysis
        spans = []
        for block in analysis.parsed.blocks:
            spans.append((block.begin_line, block.end_line))
            if task is not None and block.task_id != task:
                continue
            evidence = analysis.evidence[block.id]
            inside = [f for f in analysis.findings if block.begin_line <= f.line <= block.end_line]
            blocks.append(
                {
                    "block": block.id,
                    "task": block.task_id,
                    "path": source.rel,
                    "begin_line": block.begin_line,
                    "end_line": block.end_line,
                    "status": evidence.status,
                    "verified": evidence.is_verified,
                    "needs": list(evidence.needs),
                    "findings": findings_json(inside),
                }
            )
        if task is None:
            other += [
                f
                for f in analysis.findings
                if not any(begin <= f.line <= end for begin, end in spans)
            ]
    open_blocks = [b for b in blocks if not b["verified"]]
    scope = f"task {task}" if task else (f"{path}" if path else "the workspace")
    return {
        "blocks": blocks,
        "findings": findings_json(other),
        "summary": (
            f"{plural(len(blocks), 'generated block')} in {scope}, {len(open_blocks)} not verified"
            + (f": {', '.join(b['block'] for b in open_blocks[:10])}." if open_blocks else ".")
        ),
    }


# -- resources -------------------------------------------------------------------------------


def workflow_document(ws: Workspace) -> str:
    """The team's workflow as a Markdown document (what `handrail doc` writes)."""
    from handrail.review.doc import render_workflow_doc

    return render_workflow_doc(_snapshot(ws).workflow.workflow)


def active_task_resource(ws: Workspace) -> dict[str, Any]:
    """The task agents work on now (docs/agents.md says how it is chosen) and its state."""
    from handrail.agents.active import active_task

    snapshot = Snapshot.load(ws)
    found = active_task(ws, snapshot.tasks, snapshot.ledger.records, allow_newest=True)
    if found is None:
        return {"task": None, "summary": "No task yet: create one with check_spec."}
    loaded = snapshot.tasks.tasks[found.task_id]
    task = loaded.task
    return {
        "task": task.id,
        "source": found.source,
        "path": loaded.rel,
        "spec": task.spec,
        "context": list(task.context),
        "verify": task.verify,
        "risk": task.risk,
        "summary": f"The active task is {task.id} ({found.describe()}).",
    }
