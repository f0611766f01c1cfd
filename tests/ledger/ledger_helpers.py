"""Shared helpers for the ledger tests (imported by name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from handrail.ledger.records import BlockCoverage, VerificationRun
from handrail.workflow.model import Workflow

REPO = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def default_workflow(**overrides: Any) -> Workflow:
    """The shipped default pack, with top-level sections replaced by `overrides`."""
    with (REPO / "rules" / "default.toml").open("rb") as fh:
        data = tomllib.load(fh)
    data.update(overrides)
    return Workflow.model_validate(data)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def run(
    minute: float,
    blocks: dict[str, str],
    *,
    passed: bool = True,
    exit_code: int | None = None,
    timed_out: bool = False,
    first: list[str] | None = None,
    command: list[str] | None = None,
    measured: bool = True,
    executed: str = "1-2",
    could_not_run: str | None = None,
) -> VerificationRun:
    """A verification run finished at T0 + `minute` over `blocks` (block id -> hash).

    `measured` runs carry line evidence: each block has executable lines 1-2 of which
    `executed` ran under one test (a record made before line evidence has none)."""
    code = exit_code if exit_code is not None else (0 if passed else 1)
    coverage = (
        {
            b: BlockCoverage(
                outcome="passed" if passed else "failed",
                executable="1-2",
                executed=executed,
                tests={"test_x.py::test_a": executed} if executed else {},
            )
            for b in blocks
        }
        if measured and could_not_run is None
        else None
    )
    return VerificationRun(
        at=at(minute),
        task_id="k3f9qa",
        command=command or ["python", "-m", "pytest", "-q"],
        exit_code=None if timed_out else code,
        passed=passed,
        timed_out=timed_out,
        started_at=at(minute - 0.5),
        finished_at=at(minute),
        blocks=blocks,
        output_tail="",
        first_attempt=first or [],
        coverage=coverage,
        could_not_run=could_not_run,
    )
