"""Probe records for tests that need one in the ledger without running the probe."""

from __future__ import annotations

from collections.abc import Sequence

from handrail.ledger.records import MutantOutcome, ProbedMutant, ProbeRun


def mutant(
    outcome: MutantOutcome,
    *,
    id: str = "0a1b2c3d",
    line: int = 2,
    original: str = "3",
    replacement: str = "4",
) -> ProbedMutant:
    """One mutant as the probe records it: a constant changed on `line`, with `outcome`."""
    return ProbedMutant(
        id=id,
        operator="constant",
        line=line,
        column=1,
        block_line=1,
        original=original,
        replacement=replacement,
        outcome=outcome,
    )


def probe_run(
    block_id: str, path: str, content_hash: str, mutants: Sequence[ProbedMutant]
) -> ProbeRun:
    """A complete probe of `content_hash` that tried `mutants` (whole command, no test list)."""
    return ProbeRun.create(
        block_id=block_id,
        task_id=block_id.split(".")[0],
        path=path,
        content_hash=content_hash,
        command=["python", "-m", "pytest"],
        clean_duration_s=1.0,
        duration_s=2.0,
        complete=True,
        mutants=list(mutants),
    )
