"""What every subcommand shares: the workspace, exit codes and output helpers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import click

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


pass_ctx = click.make_pass_decorator(Context)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def require_folder(path: Path, what: str) -> None:
    """Exit 2 unless `path` is an existing folder, before anything is read or written.

    A typo in `--root` must not pass the gate on an empty "workspace", record a trust
    approval for it or create its folders.
    """
    try:
        if path.is_dir():
            return
        exists = path.exists()
    except OSError as exc:
        fail(f"{what} {path} cannot be used: {exc.strerror or exc}")
    if exists:
        fail(f"{what} {path} is not a folder")
    fail(f"{what} {path} does not exist")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"handrail: {message}", err=True)
    raise SystemExit(code)


def emit_json(payload: Mapping[str, object]) -> None:
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def echo_findings(findings: Sequence[Finding], *, err: bool = False) -> None:
    """Findings as `path:line:col: severity CODE message`, the shape problem matchers read."""
    for f in sorted(findings, key=Finding.sort_key):
        colour = {"error": "red", "warning": "yellow"}.get(f.severity.value, "cyan")
        severity = click.style(f.severity.value, fg=colour)
        click.echo(f"{f.path}:{f.line}:{f.column}: {severity} {f.code} {f.message}", err=err)


def exit_for(findings: Sequence[Finding]) -> int:
    return EXIT_FINDINGS if has_errors(list(findings)) else EXIT_OK


def write_output(text: str, output: Path | None, *, what: str | None = None) -> None:
    """`text` to standard output, or to `output` saying so on stderr (`what` names it)."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"Wrote {what} to {output}." if what else f"wrote {output}", err=True)
