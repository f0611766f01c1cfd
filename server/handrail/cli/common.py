"""What every subcommand shares: the workspace, exit codes and output helpers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import click

# Re-exported: the click-free part every command shares (`handrail check` runs without click).
from handrail.cli.base import EXIT_FINDINGS as EXIT_FINDINGS
from handrail.cli.base import EXIT_OK as EXIT_OK
from handrail.cli.base import EXIT_USAGE as EXIT_USAGE
from handrail.cli.base import Context as Context
from handrail.cli.base import exit_for as exit_for
from handrail.findings import Finding

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
