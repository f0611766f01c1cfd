"""The team's tooling that `handrail init --with-tooling` adds: PR template, pre-commit, CI.

Each piece is optional and written only where no file exists yet: an existing file is the
team's, and is reported as skipped (with what to add by hand) rather than overwritten.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

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


def template_text(name: str) -> str:
    """A template shipped with the package (InitError when the installation lacks it)."""
    try:
        return resources.files("handrail").joinpath("templates", name).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InitError(f"the template {name} is missing from this Handrail installation") from exc


def target_of(piece: Piece) -> str:
    """The workspace-relative file a piece is written to."""
    return _FILES[piece][1]


def add_tooling(ws: Workspace, pieces: Collection[Piece] = PIECES) -> ToolingResult:
    """Write each of `pieces` that does not exist yet; raises InitError when one cannot be."""
    result = ToolingResult()
    for piece in PIECES:
        if piece not in pieces:
            continue
        name, rel = _FILES[piece]
        text = template_text(name)
        if create_new_file(ws, ws.root / rel, text):
            result.created.append(rel)
        else:
            result.skipped.append(rel)
    return result
