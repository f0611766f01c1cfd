"""Every diagnostic code has its page, and the page names the module that owns the code."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from handrail.codes import CODES, doc_url

DOCS = Path(__file__).resolve().parents[1] / "docs" / "codes"
SHAPE = re.compile(
    r"Default severity: \*\*(\w+)\*\*\. Stage: (\d) [A-Z][\w ]+\. Module: (handrail\.\w+)\."
)


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_page_naming_its_module(code: str) -> None:
    page = DOCS / f"{code}.md"
    lines = page.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"# {code}: {CODES[code].title}"
    match = SHAPE.fullmatch(lines[2])
    assert match, lines[2]
    assert match.group(1) == CODES[code].severity.value
    module = importlib.import_module(match.group(3))
    assert module.__name__ == match.group(3)
    for heading in ("## Why this rule exists", "## How to fix it"):
        assert heading in lines


def test_no_page_without_a_code() -> None:
    assert sorted(p.stem for p in DOCS.glob("*.md")) == sorted(CODES)


def test_doc_urls_point_at_shipped_pages() -> None:
    for code in CODES:
        assert doc_url(code).startswith("file://")
        assert Path(doc_url(code).removeprefix("file://")).is_file()
        assert doc_url(code, "https://example.com/docs/").endswith(f"/docs/{code}.md")
