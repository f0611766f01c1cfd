"""Fixtures for the spec tests: the default pack as a Workflow, and a way to tweak it."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handrail.workflow.model import Workflow

DEFAULT_PACK = Path(__file__).resolve().parents[2] / "rules" / "default.toml"


def _pack() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_PACK.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def default_workflow() -> Workflow:
    return Workflow.model_validate(_pack())


@pytest.fixture(scope="session")
def make_workflow() -> Callable[..., Workflow]:
    """The default pack with `[spec]` fields and `[severity]` entries replaced."""

    def build(severity: dict[str, str] | None = None, **spec: Any) -> Workflow:
        data = _pack()
        data["spec"].update(spec)
        data["severity"] = severity or {}
        return Workflow.model_validate(data)

    return build
