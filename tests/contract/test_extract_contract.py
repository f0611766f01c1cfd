"""The code extraction's shared cases: Python here, TypeScript in client-vscode's tests."""

from __future__ import annotations

import json

from make_extract_cases import CASES, compute, render


def test_the_shared_cases_are_what_python_computes() -> None:
    """A change to the extraction must regenerate the cases, so the extension's copy is
    checked against the new behaviour (its test reads the same file)."""
    assert CASES.read_text(encoding="utf-8") == render(), (
        "tests/contract/extract_cases.json is stale: "
        "run python tests/contract/make_extract_cases.py"
    )


def test_the_cases_cover_code_and_no_code() -> None:
    cases = json.loads(CASES.read_text(encoding="utf-8"))
    assert len(cases) == len(compute()) > 400
    with_code = sum(1 for c in cases if c["code"] is not None)
    assert 100 < with_code < len(cases) - 100
