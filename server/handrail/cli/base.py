"""What the subcommands share that needs no click: the workspace a command works in, exit codes.

`handrail check` runs without click on its common command lines (`handrail.cli.entry`); this
is the part of `cli.common` it needs, so both ways of running it settle the workspace and the
exit code with the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from handrail.findings import Finding, has_errors
from handrail.workspace import Workspace

# Exit codes follow ruff and pre-commit: 0 clean, 1 when a finding has severity error (or an
# action was refused because of one), 2 for a usage or configuration error.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Context:
    """The workspace a command works in: `--root`, else found from a path the command names
    (like ruff finds its configuration from the file), else from the current folder."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._ws: Workspace | None = Workspace.at(root) if root else None

    @property
    def ws(self) -> Workspace:
        if self._ws is None:
            self._ws = Workspace.find(Path.cwd())
        return self._ws

    def absolute(self, path: Path) -> Path:
        """`path` made absolute: against the current folder when it exists there, else against
        `--root` (so `handrail --root repo mark src/a.py ...` works from anywhere)."""
        if path.is_absolute():
            return path
        here = Path.cwd() / path
        if here.exists() or self.root is None:
            return here
        return self.root.resolve() / path

    def use_path(self, path: Path) -> Workspace:
        """Settle the workspace from `path` unless `--root` named one."""
        if self._ws is None:
            self._ws = Workspace.find(self.absolute(path))
        return self._ws


def exit_for(findings: Sequence[Finding]) -> int:
    return EXIT_FINDINGS if has_errors(list(findings)) else EXIT_OK
