"""`handrail verify --probe` and `--dismiss`: the probe's part of the verify command.

Kept out of `verify_cmd` so that the command's own flow stays readable: verify runs first,
then the blocks that passed (all with `--probe`, else those whose risk tier asks for it) are
probed, with a live line per mutant on stderr and "caught K of N" per block on stdout.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import click

from handrail.cli.common import EXIT_FINDINGS, emit_json, fail
from handrail.evidence.probe import BlockProbe, ProbeEvent, ProbeReport
from handrail.workspace import Workspace


def _err(message: str) -> None:
    click.echo(message, err=True)


class ProbeDisplay:
    """Progress on stderr: the clean run's time, then one line per mutant as it finishes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, event: ProbeEvent) -> None:
        with self._lock:
            if event.kind == "clean":
                took = f"{event.duration_s:.1f} s"
                _err(
                    f"probe {event.block_id}: the tests pass unchanged in {took}; "
                    f"trying {event.total} mutants"
                )
            elif event.kind == "mutant" and event.result is not None:
                result = event.result
                label = {"timed_out": "timed out (caught)", "not_run": "not run (budget)"}.get(
                    result.outcome, result.outcome
                )
                _err(
                    f"  [{event.index}/{event.total}] line {result.mutant.line}: "
                    f"{result.mutant.change()}: {label}"
                )
            elif event.kind == "sentinel":
                _err(f"probe {event.block_id}: checked that the tests load the mutated copy")


@dataclass(slots=True)
class ProbeOutput:
    report: ProbeReport
    lines: list[str] = field(default_factory=list)
    failed: bool = False
    """A block whose risk tier asks for the probe had none of its mutants caught."""

    def as_json(self) -> list[dict[str, Any]]:
        return [_block_json(b) for b in self.report.blocks]


def _block_json(item: BlockProbe) -> dict[str, Any]:
    data: dict[str, Any] = {
        "block": item.block_id,
        "path": item.path,
        "skipped": item.skipped or None,
        "record": item.record.id if item.record else None,
        "write_error": item.write_error,
        "whole_command": item.whole_command,
    }
    result = item.result
    if result is not None:
        data |= {
            "status": result.status,
            "message": result.message or None,
            "summary": result.summary(),
            "caught": result.caught,
            "tried": result.tried,
            "command": list(result.argv),
            "tests": result.tests,
            "clean_duration_s": round(result.clean_duration_s, 3),
            "duration_s": round(result.duration_s, 3),
            "mutants": [
                {
                    "id": r.mutant.id,
                    "operator": r.mutant.operator,
                    "line": r.mutant.line,
                    "column": r.mutant.column,
                    "original": r.mutant.original,
                    "replacement": r.mutant.replacement,
                    "outcome": r.outcome,
                }
                for r in result.results
            ],
        }
    return data


def run_probes(ws: Workspace, target: Any, *, force: bool, budget_s: float) -> ProbeOutput:
    """Probe `target`'s verified blocks (Ctrl-C stops the running mutants cleanly)."""
    from handrail.cli.interrupts import run_interruptibly
    from handrail.evidence.probe import probe

    # The same signal handling as the verification runs: Ctrl-C, SIGTERM and SIGHUP stop the
    # running mutants' process groups, record nothing, and exit 128+N with one line.
    report: ProbeReport
    report, interruption = run_interruptibly(
        lambda cancel: probe(
            ws, target, force=force, budget_s=budget_s, progress=ProbeDisplay(), cancel=cancel
        )
    )
    if interruption.interrupted:
        interruption.exit("the probe was stopped: its mutants were killed, nothing recorded")
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
            text += f" (running the {len(result.tests)} tests that executed the block)"
        out.lines.append(text)
        for survivor in result.survivors:
            mutant = survivor.mutant
            out.lines.append(
                f"    {mutant.change()} on line {mutant.line} still passes every test [{mutant.id}]"
            )
        if item.write_error:
            out.lines.append(f"    not recorded: {item.write_error}")
        if result.tried and result.caught == 0 and item.required:
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
    from handrail.evidence.probe import dismiss
    from handrail.ledger.store import LedgerWriteError

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
