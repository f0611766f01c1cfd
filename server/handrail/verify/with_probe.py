"""Verify, then probe the blocks whose risk tier asks for it: the one stage-4 use case.

`handrail verify` (a block, a task, `--all`), the CI gate (`handrail check --rerun`) and the
editor's Verify all call `verify_with_probe`, so a tier with ``requires = [..., "probe"]``
gets its probe wherever its verification runs, under the same trust gate (the probe checks
trust exactly as `verify` does, and nothing runs when a command is not trusted) and with one
cancel event for both phases. The probe runs only after commands actually ran and were not
cancelled: mutants are judged against the passing run just recorded.

`fresh_probe_findings` is the gate's half: HR313 judged from this run's probes, never from
probe records already in the (committed, editable) ledger.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from handrail.findings import Finding

if TYPE_CHECKING:
    from handrail.evidence.probe import ProbeProgress, ProbeReport
    from handrail.verify.run import FoundBlock, ProgressCallback, Target, VerifyReport
    from handrail.workflow.model import Workflow
    from handrail.workspace import Workspace


@dataclass(slots=True)
class VerifiedAndProbed:
    """What one stage-4 request did: the verification, then the probe (if any block got one)."""

    report: VerifyReport
    probe: ProbeReport | None = None
    """None when nothing ran, the run was cancelled, or no block asked for the probe and
    `probe_all` was not given."""

    @property
    def cancelled(self) -> bool:
        return self.report.cancelled or (self.probe is not None and self.probe.cancelled)

    @property
    def probe_failed(self) -> bool:
        """A block whose tier asks for the probe had none of its mutants caught, or the probe
        could not run its commands (not trusted)."""
        if self.probe is None:
            return False
        return self.probe.untrusted or any(
            b.required and b.caught_nothing for b in self.probe.blocks
        )


def verify_with_probe(
    ws: Workspace,
    target: Target,
    *,
    probe_all: bool = False,
    trust_commands: bool = False,
    budget_s: float | None = None,
    progress: ProgressCallback | None = None,
    probe_progress: ProbeProgress | None = None,
    cancel: threading.Event | None = None,
) -> VerifiedAndProbed:
    """Verify `target`, then probe its verified blocks whose risk tier asks for the probe
    (every verified block with `probe_all`, i.e. `--probe`).

    Raises what `verify.run.verify` raises (VerifyError); a cancelled verification probes
    nothing, a cancelled probe records nothing for the block it was probing.
    """
    from handrail.evidence.probe import DEFAULT_BUDGET_S
    from handrail.verify.probe_run import probe
    from handrail.verify.run import verify

    cancel = cancel or threading.Event()
    report = verify(ws, target, trust_commands=trust_commands, progress=progress, cancel=cancel)
    done = VerifiedAndProbed(report)
    if not report.ran_anything or report.cancelled or cancel.is_set():
        return done
    probed = probe(
        ws,
        target,
        force=probe_all,
        trust_commands=trust_commands,
        budget_s=DEFAULT_BUDGET_S if budget_s is None else budget_s,
        progress=probe_progress,
        cancel=cancel,
    )
    if probe_all or probed.blocks or probed.untrusted or probed.cancelled:
        done.probe = probed
    return done


def fresh_probe_findings(
    ws: Workspace,
    workflow: Workflow,
    report: VerifyReport,
    probed: ProbeReport,
) -> tuple[set[str], list[Finding]]:
    """HR313 from this run's probes, for the CI gate: (the blocks they judge, the findings).

    A block whose tier asks for the probe and that this run verified gets the findings of its
    fresh probe (none caught, each survivor; dismissals recorded for its content still count:
    they are a reviewer's decision, not a result), or, when it was not probed, HR313 saying
    so. A block this run did not verify is judged by its HR300-HR302 finding alone.
    """
    from handrail.evidence.probe_findings import probe_findings
    from handrail.ledger.evidence import EvidenceIndex
    from handrail.ledger.records import MutantDismissed, Record
    from handrail.ledger.store import Ledger

    judged: set[str] = set()
    findings: list[Finding] = []
    verified = {r.block.block_id for r in report.block_results() if r.status == "verified"}
    blocks: dict[str, FoundBlock] = {b.block_id: b for b in report.blocks}
    tiers = {t.name: t for t in workflow.risk_tiers}
    index: EvidenceIndex | None = None
    for item in probed.blocks:
        block = blocks.get(item.block_id)
        if not item.required or block is None:
            continue
        judged.add(item.block_id)
        if item.block_id not in verified:
            continue
        if index is None:
            index = EvidenceIndex.build(Ledger(ws).read(workflow).records)
        records: list[Record] = []
        result = item.result
        if result is not None and result.status == "probed":
            records.append(item.record or result.record(item.task_id, None))
            records += [
                r
                for r in index.probes_for(item.block_id)
                if isinstance(r, MutantDismissed) and r.content_hash == block.content_hash
            ]
        found = probe_findings(
            records,
            block_id=item.block_id,
            path=block.path,
            content_hash=block.content_hash,
            begin_line=block.begin_line,
            end_line=block.end_line,
            tier=tiers.get(item.tier or ""),
            verified=True,
            workflow=workflow,
        )
        why = item.skipped or (result.message if result is not None else "")
        for finding in found:
            message = finding.message
            if finding.data.get("kind") == "not_probed" and why:
                message += f" This run could not probe it: {why}."
            findings.append(replace(finding, message=message, data=finding.data | {"rerun": True}))
    return judged, findings
