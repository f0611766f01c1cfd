"""`handrail verify --probe` and `--dismiss`: the probe's part of the verify command.

Kept out of `verify_cmd` so that the command's own flow stays readable. The engine
(`handrail.verify.with_probe`) verifies first, then probes the blocks that passed (all with
`--probe`, else those whose risk tier asks for it); this module shows a live line per mutant
on stderr (`ProbeDisplay`, also used by `check --rerun`) and "caught K of N" per block on
stdout.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import click

from handrail.cli.common import EXIT_FINDINGS, emit_json, fail
from handrail.evidence.probe import BlockProbeJson, ProbeEvent, ProbeReport, probe_event_text
from handrail.wording import plural
from handrail.workspace import Workspace


def _err(message: str) -> None:
    click.echo(message, err=True)


class ProbeDisplay:
    """Progress on stderr: the clean run's time, then one line per mutant as it finishes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, event: ProbeEvent) -> None:
        with self._lock:
            text = probe_event_text(event, name_block_on_mutants=False)
            if text is not None:
                _err(text)


@dataclass(slots=True)
class ProbeOutput:
    report: ProbeReport
    lines: list[str] = field(default_factory=list)
    failed: bool = False
    """A block whose risk tier asks for the probe had none of its mutants caught."""

    def as_json(self) -> list[BlockProbeJson]:
        return self.report.as_json()


def summarize_probes(report: ProbeReport) -> ProbeOutput:
    """The probe's lines for stdout: "caught K of N" per block, then each survivor."""
    out = ProbeOutput(report)
    for item in report.blocks:
        where = f"{item.block_id}  {item.path}:{item.line}  probe"
        result = item.result
        if result is None:
            out.lines.append(f"{where}: {item.skipped}")
            continue
        if result.status != "probed":
            out.lines.append(f"{where}: {result.message}")
            continue
        text = f"{where}: {result.summary()} in {result.duration_s:.1f} s"
        if item.whole_command:
            text += (
                " (no covering tests were recorded for the block, so every mutant ran the "
                "whole verification command: slower)"
            )
        elif result.tests is not None:
            tests = plural(len(result.tests), "test")
            text += f" (running the {tests} that executed the block)"
        out.lines.append(text)
        for survivor in result.survivors:
            mutant = survivor.mutant
            out.lines.append(
                f"    {mutant.change()} on line {mutant.line} still passes every test [{mutant.id}]"
            )
        if item.write_error:
            out.lines.append(f"    not recorded: {item.write_error}")
        if item.required and item.caught_nothing:
            out.failed = True
    if report.cancelled:
        out.lines.append("handrail: the probe was cancelled: nothing was recorded for it.")
    return out


def print_probes(out: ProbeOutput) -> None:
    from handrail.cli.common import echo_findings

    if out.report.untrusted:
        echo_findings(out.report.findings, err=True)
        return
    for line in out.lines:
        click.echo(line)
    if any(b.result is not None and b.result.survivors for b in out.report.blocks):
        click.echo(
            "Add a test that fails on each surviving change; if one makes no difference, "
            'dismiss it: handrail verify BLOCK --dismiss MUTANT --reason "..."'
        )


def dismiss_mutant(
    ws: Workspace, target: str | None, mutant_id: str, reason: str | None, as_json: bool
) -> None:
    """`handrail verify BLOCK --dismiss MUTANT --reason "..."`: one ledger record."""
    from handrail.ledger.store import LedgerWriteError
    from handrail.verify.probe_run import dismiss

    if target is None:
        fail("--dismiss needs the BLOCK whose mutant it is: handrail verify BLOCK --dismiss ID")
    if reason is None or not reason.strip():
        fail('--dismiss needs --reason "why the change makes no difference"')
    try:
        record = dismiss(ws, target, mutant_id, reason)
    except ValueError as exc:
        fail(str(exc))
    except LedgerWriteError as exc:
        fail(f"the dismissal was not recorded: {exc}", EXIT_FINDINGS)
    if as_json:
        emit_json(
            {"block": target, "mutant": mutant_id, "record": record.id, "reason": record.reason}
        )
        return
    click.echo(
        f"Dismissed mutant {mutant_id} of {target} for its current content: {record.reason}. "
        "Editing the block voids the dismissal."
    )
