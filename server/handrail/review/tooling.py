"""The team's tooling that `handrail init --with-tooling` adds: PR template, pre-commit, CI.

Each piece is optional and written only where no file exists yet: an existing file is the
team's, and is reported as skipped rather than overwritten. The one exception is the pull
request template: a team that already has one (in any place and letter case GitHub or GitLab
reads) gets Handrail's section appended to it, since a second template would never be shown.

The CI workflow installs exactly the Handrail that wrote it (`handrail==<version>` unless
`--install` names another spec): an unpinned name from a package index is whatever someone
published under it last.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from handrail import __version__, atomic
from handrail.workflow.init import InitError, create_new_file
from handrail.workspace import Workspace

Piece = Literal["pr-template", "pre-commit", "ci"]
PIECES: tuple[Piece, ...] = ("pr-template", "pre-commit", "ci")

# Piece -> (template shipped in handrail/templates, where it goes in the workspace).
_FILES: dict[Piece, tuple[str, str]] = {
    "pr-template": ("pull_request_template.md", ".github/pull_request_template.md"),
    "pre-commit": ("pre-commit-config.yaml", ".pre-commit-config.yaml"),
    "ci": ("handrail-ci.yml", ".github/workflows/handrail.yml"),
}


@dataclass(slots=True)
class ToolingResult:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Files that already existed and were left as they are."""
    updated: list[str] = field(default_factory=list)
    """Existing pull request templates that Handrail's section was appended to."""


INSTALL_PLACEHOLDER = "@HANDRAIL_INSTALL@"
SECTION_MARK = "<!-- handrail: AI involvement -->"
"""Opens Handrail's section in a pull request template: appended once, never twice."""

# Where GitHub and GitLab look for a pull (merge) request template, matched without regard to
# letter case as GitHub does: single files in these folders, and the template folders.
_TEMPLATE_FOLDERS = ("", ".github", "docs")
_TEMPLATE_NAME = re.compile(r"^pull_request_template(\.md|\.txt)?$", re.IGNORECASE)
_TEMPLATE_DIRS = (
    (".github", "pull_request_template"),
    ("", "pull_request_template"),
    ("docs", "pull_request_template"),
    (".gitlab", "merge_request_templates"),
)


def default_install_spec() -> str:
    """What the CI workflow installs by default: this very version of Handrail."""
    return f"handrail=={__version__}"


def template_text(name: str) -> str:
    """A template shipped with the package (InitError when the installation lacks it)."""
    try:
        return resources.files("handrail").joinpath("templates", name).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InitError(f"the template {name} is missing from this Handrail installation") from exc


def target_of(piece: Piece) -> str:
    """The workspace-relative file a piece is written to."""
    return _FILES[piece][1]


def ci_workflow_text(install: str) -> str:
    """The CI workflow with `install` (a pip requirement or path) as what it installs."""
    if not install.strip() or any(c in install for c in "\n\r'\"`$"):
        raise InitError(
            f"--install {install!r}: give one pip requirement or path "
            "(e.g. handrail==0.1.0), without quotes, `$` or line breaks"
        )
    return template_text("handrail-ci.yml").replace(INSTALL_PLACEHOLDER, f"'{install.strip()}'")


def pr_section_text() -> str:
    """Handrail's part of the pull request template (from its AI involvement heading on)."""
    text = template_text("pull_request_template.md")
    start = text.index(SECTION_MARK)
    return text[start:]


def existing_pr_templates(ws: Workspace) -> list[str]:
    """The pull/merge request templates the repository already has, workspace-relative."""
    found: list[Path] = []
    for folder in _TEMPLATE_FOLDERS:
        found.extend(_matching_files(ws.root / folder, _TEMPLATE_NAME))
    for parent, name in _TEMPLATE_DIRS:
        for child in _matching_dirs(ws.root / parent, name):
            found.extend(_matching_files(child, re.compile(r".+\.(md|txt)$", re.IGNORECASE)))
    return sorted(dict.fromkeys(ws.relative(path) for path in found))


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _matching_files(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    # Symbolic links are left alone: appending through one could write outside the workspace.
    return [
        p for p in _entries(folder) if pattern.match(p.name) and p.is_file() and not p.is_symlink()
    ]


def _matching_dirs(parent: Path, name: str) -> list[Path]:
    return [
        p for p in _entries(parent) if p.name.lower() == name and p.is_dir() and not p.is_symlink()
    ]


def _append_section(ws: Workspace, rel: str) -> bool:
    """Append Handrail's section to an existing template; False when it is there already."""
    path = ws.root / rel
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InitError(f"cannot read the pull request template {rel}: {exc}") from exc
    if SECTION_MARK in current:
        return False
    joined = current.rstrip("\n") + "\n\n" + pr_section_text() if current.strip() else ""
    text = joined or pr_section_text()
    try:
        atomic.replace(path, text.encode("utf-8"), mode=path.stat().st_mode & 0o777)
    except OSError as exc:
        raise InitError(f"cannot update {rel}: {exc.strerror or exc}") from exc
    return True


def add_tooling(
    ws: Workspace, pieces: Collection[Piece] = PIECES, *, install: str | None = None
) -> ToolingResult:
    """Write each of `pieces` that does not exist yet; raises InitError when one cannot be.

    `install` is what the CI workflow installs (default: this version of Handrail).
    """
    result = ToolingResult()
    for piece in PIECES:
        if piece not in pieces:
            continue
        name, rel = _FILES[piece]
        if piece == "pr-template":
            existing = existing_pr_templates(ws)
            if existing:
                for found in existing:
                    (result.updated if _append_section(ws, found) else result.skipped).append(found)
                continue
        if piece == "ci":
            text = ci_workflow_text(default_install_spec() if install is None else install)
        else:
            text = template_text(name)
        if create_new_file(ws, ws.root / rel, text):
            result.created.append(rel)
        else:
            result.skipped.append(rel)
    return result
