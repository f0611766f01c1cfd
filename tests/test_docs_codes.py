"""Every diagnostic code has its page, and the page names the module that owns the code."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

from handrail.codes import CODES, default_docs_url, doc_url, offline_doc_url

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "codes"
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


def test_offline_urls_point_at_shipped_pages() -> None:
    for code in CODES:
        assert offline_doc_url(code).startswith("file://")
        assert Path(offline_doc_url(code).removeprefix("file://")).is_file()


def test_the_published_docs_url_is_the_one_in_pyproject() -> None:
    """One place: `[project.urls] Documentation`, read from the package metadata (or, for an
    editable install older than the entry, from this source tree's pyproject.toml)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    published = project["urls"]["Documentation"]
    assert published.startswith("https://")
    assert default_docs_url() == published.rstrip("/")


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_maps_to_a_published_page_that_exists(code: str) -> None:
    """The URL of each code is the published root plus the page's path under docs/, so the
    page the link names is the one this repository holds."""
    url = doc_url(code)
    base = default_docs_url()
    assert base is not None and url.startswith("https://")
    relative = url.removeprefix(f"{base}/")
    assert relative == f"codes/{code}.md"
    assert (ROOT / "docs" / relative).is_file()


def test_configured_urls_map_the_same_way() -> None:
    assert (
        doc_url("HR310", "https://example.com/docs/") == "https://example.com/docs/codes/HR310.md"
    )
    # A base naming the codes folder itself (the editor setting's older meaning) still works.
    assert doc_url("HR310", "https://example.com/docs/codes") == (
        "https://example.com/docs/codes/HR310.md"
    )
    assert (
        doc_url("HR310", "https://example.com/r/{code}.html") == "https://example.com/r/HR310.html"
    )


def _codes_in(cell: str) -> set[str]:
    """ "HR300-HR304, HR309" as the codes it names."""
    found: set[str] = set()
    for first, last in re.findall(r"HR(\d{3})(?:-HR(\d{3}))?", cell):
        found |= {f"HR{n}" for n in range(int(first), int(last or first) + 1)}
    return found


def test_the_architecture_page_names_the_module_of_every_code() -> None:
    """A reader who knows a code finds its module in docs/architecture.md's table, and that
    module is the one the code's own page names (the two cannot drift apart)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Where a diagnostic code lives", 1)[1].split("\n## ", 1)[0]
    where: dict[str, str] = {}
    for row in (line for line in section.splitlines() if line.startswith("| HR")):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        for code in _codes_in(cells[0]):
            where[code] = " ".join(cells[1:])
    for code in sorted(CODES):
        match = SHAPE.fullmatch((DOCS / f"{code}.md").read_text(encoding="utf-8").splitlines()[2])
        assert match is not None
        assert code in where, f"{code} has no row in docs/architecture.md"
        assert f"`{match.group(3)}" in where[code], (code, match.group(3), where[code])
