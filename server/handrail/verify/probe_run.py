"""The probe as a use case: which verified blocks of a target, trusted or not, probed, recorded.

`handrail verify --probe`, `handrail probe` and the editor's probe plan like `handrail verify`
(`verify.run`) and share its trust gate (`verify.trust`); the mutants themselves are made and
run by `handrail.evidence.probe`, which knows nothing of this package. `dismiss` records that a
surviving mutant makes no difference.
"""

from __future__ import annotations

import threading
from typing import Any

from handrail.evidence.probe import (
    DEFAULT_BUDGET_S,
    DEFAULT_WORKERS,
    BlockProbe,
    ProbeProgress,
    ProbeReport,
    covering_tests,
    probe_block,
)
from handrail.ledger.records import ProbeRun
from handrail.workspace import Workspace

__all__ = ["dismiss", "probe"]


def probe(
    ws: Workspace,
    target: Any,
    *,
    force: bool,
    trust_commands: bool = False,
    budget_s: float = DEFAULT_BUDGET_S,
    workers: int = DEFAULT_WORKERS,
    progress: ProbeProgress | None = None,
    cancel: threading.Event | None = None,
) -> ProbeReport:
    """Probe the verified blocks of `target` (a `verify.run.Target`) and record each result.

    `force` probes every verified block; otherwise only blocks whose risk tier asks for the
    probe (`requires = [..., "probe"]`). A block must have passed its verification on its
    current content: mutants are judged against passing tests. Its tests are those its latest
    passing run recorded as executing it, else its whole verification command. The same trust
    gate as `handrail verify`: when a command is not trusted nothing runs (HR403).
    """
    from handrail.blocks.markers import block_content
    from handrail.evidence.probe_findings import tier_asks_for_probe
    from handrail.git import git_owner
    from handrail.ledger.evidence import EvidenceIndex, evaluate_block
    from handrail.ledger.store import Ledger, LedgerWriteError
    from handrail.tasks.files import load_all_tasks
    from handrail.verify.run import _untrusted_findings, find_blocks, plan, read_blocks
    from handrail.verify.trust import explicit_trust, is_trusted
    from handrail.workflow.load import load_workflow

    cancel = cancel or threading.Event()
    loaded = load_workflow(ws)
    workflow = loaded.workflow
    tasks = load_all_tasks(ws, workflow)
    report = ProbeReport()
    invocations, _unrunnable = plan(workflow, tasks, find_blocks(ws, target))
    untrusted = []
    for invocation in invocations:
        decision = explicit_trust() if trust_commands else is_trusted(ws, invocation.source.text)
        if not decision.trusted:
            untrusted.append((invocation, decision))
    if untrusted:
        # The very gate `handrail verify` uses, and its HR403 wording.
        report.untrusted = True
        report.findings = _untrusted_findings(ws, loaded, tasks, untrusted)
        return report

    ledger = Ledger(ws)
    index = EvidenceIndex.build(ledger.read(workflow).records)
    author = git_owner(ws.root) if invocations else None
    for invocation in invocations:
        for block in invocation.blocks:
            if cancel.is_set():
                report.cancelled = True
                return report

            def skip(why: str, _block: Any = block, tier: Any = None) -> None:
                report.blocks.append(
                    BlockProbe(
                        _block.block_id,
                        _block.task_id,
                        _block.path,
                        _block.begin_line,
                        None,
                        why,
                        required=tier_asks_for_probe(tier),
                        tier=tier.name if tier is not None else None,
                    )
                )

            read = read_blocks(ws, block.path)
            parsed = read[1] if read else []
            found = next((b for b in parsed if b.id == block.block_id), None)
            if read is None or found is None:
                skip("the block is gone from its file")
                continue
            content = block_content(read[0], found)
            task = tasks.tasks.get(block.task_id)
            evidence = evaluate_block(
                index,
                block.block_id,
                block.path,
                content,
                workflow,
                task_risk=task.task.risk if task else None,
            )
            if not force and not tier_asks_for_probe(evidence.tier):
                continue
            if evidence.status != "verified" or evidence.deciding_run is None:
                skip(
                    "not probed: its tests have not passed on its current content",
                    tier=evidence.tier,
                )
                continue
            tests = covering_tests(evidence.deciding_run, block.block_id)
            result = probe_block(
                ws,
                block_id=block.block_id,
                path=block.path,
                argv=invocation.argv,
                tests=tests,
                timeout_s=workflow.verification.timeout_s,
                budget_s=budget_s,
                workers=workers,
                progress=progress,
                cancel=cancel,
            )
            record: ProbeRun | None = None
            write_error: str | None = None
            if result.status == "probed" and result.content_hash == evidence.content_hash:
                record = result.record(block.task_id, author)
                try:
                    ledger.append(record)
                except LedgerWriteError as exc:
                    record, write_error = None, str(exc)
            report.blocks.append(
                BlockProbe(
                    block.block_id,
                    block.task_id,
                    block.path,
                    found.begin_line,
                    result,
                    record=record,
                    write_error=write_error,
                    whole_command=result.tests is None,
                    required=tier_asks_for_probe(evidence.tier),
                    tier=evidence.tier.name if evidence.tier is not None else None,
                )
            )
            if result.status == "cancelled":
                report.cancelled = True
                return report
    return report


def dismiss(ws: Workspace, block_id: str, mutant_id: str, reason: str) -> Any:
    """Record that a surviving mutant of `block_id`'s current content is equivalent.

    Raises ValueError (a sentence for the user) when the block, its probe on the current
    content, or that surviving mutant does not exist, or the reason is empty.
    """
    from handrail.evidence.probe_findings import latest_probe
    from handrail.git import git_owner
    from handrail.ledger.evidence import EvidenceIndex
    from handrail.ledger.records import MutantDismissed
    from handrail.ledger.store import Ledger
    from handrail.verify.run import Target, find_blocks
    from handrail.workflow.load import load_workflow

    if not reason.strip():
        raise ValueError('say why the mutant makes no difference: --reason "..."')
    found = find_blocks(ws, Target("block", block_id))
    if len(found) != 1:
        raise ValueError(
            f"there is no block {block_id} in the workspace"
            if not found
            else f"block {block_id} appears more than once: fix the duplicate (HR305)"
        )
    block = found[0]
    ledger = Ledger(ws)
    index = EvidenceIndex.build(ledger.read(load_workflow(ws).workflow).records)
    run = latest_probe(index.probes_for(block_id), block.content_hash)
    if run is None:
        raise ValueError(
            f"block {block_id} has no probe of its current content: run "
            f"`handrail verify {block_id} --probe` first"
        )
    survivors = {m.id for m in run.survivors}
    if mutant_id not in survivors:
        known = ", ".join(sorted(survivors)) or "none"
        raise ValueError(
            f"{mutant_id!r} is not a surviving mutant of {block_id}'s latest probe "
            f"(survivors: {known})"
        )
    record = MutantDismissed.create(
        block_id=block_id,
        content_hash=block.content_hash,
        mutant_id=mutant_id,
        reason=reason.strip(),
        author=git_owner(ws.root),
    )
    ledger.append(record)
    return record
