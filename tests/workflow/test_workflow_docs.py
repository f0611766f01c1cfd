"""The workflow reference and the HR4xx pages: complete, in shape, and their examples load."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from handrail.codes import CODES
from handrail.workflow.load import load_workflow
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

DOCS = Path(__file__).resolve().parents[2] / "docs"
SECTIONS = [
    "## Why this rule exists",
    "## What triggers it",
    "## How to fix it",
    "## Configuration",
]


def _keys(model: type[BaseModel]) -> set[str]:
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        keys.add(name)
        for candidate in (info.annotation, *get_args(info.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                keys |= _keys(candidate)
    return keys


def test_reference_names_every_key_of_the_model() -> None:
    text = (DOCS / "workflow.md").read_text(encoding="utf-8")
    # A key is named as `key`, or as a table: [key], [[key]], [spec.key], [[verification.key]].
    missing = sorted(k for k in _keys(Workflow) if not re.search(rf"`{k}`|[\[.]{k}\]", text))
    assert missing == []


@pytest.mark.parametrize("code", ["HR400", "HR401", "HR402"])
def test_code_page_has_the_shared_shape(code: str) -> None:
    lines = (DOCS / "codes" / f"{code}.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"# {code}: {CODES[code].title}"
    match = re.fullmatch(
        r"Default severity: \*\*(\w+)\*\*\. Stage: (\d) [A-Z][\w ]+\. Module: handrail\.workflow\.",
        lines[2],
    )
    assert match, lines[2]
    assert match.group(1) == CODES[code].severity.value
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[: len(SECTIONS)] == SECTIONS


def _toml_blocks(path: Path) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)


def _examples() -> list[Any]:
    pages = [DOCS / "workflow.md", *(DOCS / "codes" / f"HR40{n}.md" for n in (1, 2, 3))]
    return [
        pytest.param(block, id=f"{page.name}-{i}")
        for page in pages
        for i, block in enumerate(_toml_blocks(page))
    ]


@pytest.mark.parametrize("block", _examples())
def test_documented_examples_load_without_hr400(workspace: Workspace, block: str) -> None:
    base = workspace.root / "config" / "handrail-base.toml"
    base.parent.mkdir()
    base.write_text('extends = "strict"\n', encoding="utf-8")
    loaded = load_workflow(workspace, text=block)
    assert [f.message for f in loaded.findings] == []


def test_hr400_example_shows_the_real_messages(workspace: Workspace) -> None:
    *_, example = _toml_blocks(DOCS / "codes" / "HR400.md")
    loaded = load_workflow(workspace, text=example)
    documented = {
        number: line.split("# HR400: ", 1)[1]
        for number, line in enumerate(example.splitlines(), start=1)
        if "# HR400: " in line
    }
    assert documented
    got = {f.line: f.message for f in loaded.findings}
    assert set(got) == set(documented)
    for number, message in documented.items():
        assert got[number].startswith(message), (got[number], message)
