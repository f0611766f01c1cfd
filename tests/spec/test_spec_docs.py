"""The spec docs say what the checks do: their examples and their shape are kept true here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handrail.codes import CODES
from handrail.spec import check_spec, split_sentences
from handrail.workflow.model import Workflow

DOCS = Path(__file__).resolve().parents[2] / "docs"

# The ```text examples of docs/specs.md, in order: (sentences, codes found).
SPECS_MD_EXAMPLES = [
    (2, ["HR103"]),  # the shape
    (2, []),
    (2, []),
    (2, []),
    (1, ["HR102"]),
    (4, ["HR101"]),
    (4, ["HR101", "HR102"]),
    (2, ["HR103"]),
]


def test_specs_md_examples_behave_as_described(default_workflow: Workflow) -> None:
    text = (DOCS / "specs.md").read_text(encoding="utf-8")
    examples = re.findall(r"```text\n(.*?)```", text, re.S)
    found = [
        (
            len(split_sentences(example)),
            [f.code for f in check_spec(example, default_workflow, path="x")],
        )
        for example in examples
    ]
    assert found == SPECS_MD_EXAMPLES


@pytest.mark.parametrize("code", ["HR100", "HR101", "HR102", "HR103"])
def test_code_page_shape(code: str) -> None:
    page = (DOCS / "codes" / f"{code}.md").read_text(encoding="utf-8")
    lines = page.splitlines()
    assert lines[0] == f"# {code}: {CODES[code].title}"
    assert lines[2] == (
        f"Default severity: **{CODES[code].severity.value}**. Stage: 1 Specification. "
        "Module: handrail.spec."
    )
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[:4] == [
        "## Why this rule exists",
        "## What triggers it",
        "## How to fix it",
        "## Configuration",
    ]
    assert "```toml" in page
