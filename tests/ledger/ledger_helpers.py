"""Shared helpers for the ledger tests (imported by name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from handrail.ledger.records import VerificationRun
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
) -> VerificationRun:
    """A verification run finished at T0 + `minute` over `blocks` (block id -> hash)."""
    code = exit_code if exit_code is not None else (0 if passed else 1)
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
    )
