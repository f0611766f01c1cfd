"""Helpers for the verification tests: workflow, task and block files."""

from __future__ import annotations

import sys
from pathlib import Path

from toml_text import toml_string

from handrail.workspace import Workspace

PY = sys.executable
TASK = "abcdef"
OTHER_TASK = "ghijkl"

SPEC = "Given two integers, return their sum. It must never raise and follow the style of calc.py."


def write_task(ws: Workspace, task_id: str, verify: str | None = None) -> Path:
    lines = [f'id = "{task_id}"', f'spec = "{SPEC}"', "context = []"]
    if verify is not None:
        lines.append(f"verify = {toml_string(verify)}")
    path = ws.tasks_dir / f"{task_id}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_workflow(ws: Workspace, command: str, *, extra: str = "") -> None:
    ws.workflow_path.write_text(
        'extends = "default"\n\n[workflow]\nowner = "Ada Tester"\nreviewed = 2026-11-01\n\n'
        f"[verification]\ncommand = {toml_string(command)}\ntimeout_s = 60\n{extra}",
        encoding="utf-8",
    )


def block_file(block_id: str, body: str) -> str:
    return f"# handrail:begin {block_id}\n{body}# handrail:end {block_id}\n"


PYTEST_COMMAND = f"{PY} -m pytest -q -p no:cacheprovider"
