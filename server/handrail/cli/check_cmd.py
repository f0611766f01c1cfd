"""`handrail check`: the gate for git hooks and CI."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from handrail import __version__
from handrail.cli.common import EXIT_USAGE, Context, exit_for, fail, pass_ctx
from handrail.findings import Finding, Severity
from handrail.workspace import PathEscapesWorkspace, Workspace


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts, sarif for code scanning, github for annotations.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the text output (default: when a terminal)."
)
@click.option(
    "--rerun",
    is_flag=True,
    help="Run every block's verification fresh (and the probe where a risk tier asks for it) "
    "and gate on those runs, not on recorded ones.",
)
@click.option(
    "--trust-commands",
    is_flag=True,
    help="With --rerun, in CI: run the workflow's verification commands without `handrail "
    "trust`. Never use it on code from an untrusted pull request with secrets in scope.",
)
@click.option(
    "--record-gate",
    is_flag=True,
    help="Record this run's outcome as a git note on the checked commit "
    "(refs/notes/handrail-gate) for `handrail stats`. Never changes the exit code.",
)
@click.option(
    "--gate-commit",
    metavar="REV",
    help="With --record-gate: the commit to record on (default HEAD; in a pull request's CI, "
    "the pull request's head rather than the merge commit CI checked out).",
)
@click.option(
    "--approved-by",
    "approved_by",
    multiple=True,
    metavar="NAME",
    help="In CI: who approved the change on the code host (repeatable or comma-separated). "
    "They count as every block's second reviewer; the generated CI workflow passes the pull "
    "request's approving reviews of its head commit.",
)
@click.option(
    "--commits",
    metavar="RANGE",
    help="Also lint these commits (e.g. origin/main..HEAD) against [attribution]: generated "
    "code without the AI trailer, or a model credited with Co-authored-by/Signed-off-by (HR404).",
)
@click.option(
    "--docs-url",
    metavar="URL",
    help="Where help links point (http or https): the documentation's root, pages at "
    "URL/codes/HR300.md, or {code} in URL replaced. Default: [docs] url in the workflow, "
    "else Handrail's published documentation.",
)
@pass_ctx
def check(
    ctx: Context,
    paths: tuple[Path, ...],
    fmt: str,
    color: bool | None,
    rerun: bool,
    trust_commands: bool,
    record_gate: bool,
    gate_commit: str | None,
    approved_by: tuple[str, ...],
    commits: str | None,
    docs_url: str | None,
) -> None:
    """Report every finding in the workspace, or under PATHS.

    Exit 0 when clean, 1 when any finding is an error, 2 for a usage or configuration error.
    """
    import gc

    # Importing the engine makes many objects and frees almost none: collecting on the way
    # is time for nothing, and so is scanning them again in every later full collection
    # while the check runs (issue 17). They are frozen: collections skip them.
    gc.disable()
    try:
        from handrail.codes import DOCS_DIR
        from handrail.gate.run import run_check
        from handrail.report import CheckSummary, render
        from handrail.review.gate_log import source_from_env
        from handrail.review.reviews import approvers_from
    finally:
        gc.freeze()
        gc.enable()

    if paths:
        ctx.use_path(paths[0])
    ws = ctx.ws
    try:
        rel_paths = [_relative(ctx, p) for p in paths]
    except PathEscapesWorkspace as exc:
        fail(f"{exc} is outside the workspace {ws.root}")
    if trust_commands and not rerun:
        fail("--trust-commands only goes with --rerun")
    if gate_commit is not None and not record_gate:
        fail("--gate-commit only goes with --record-gate")
    if docs_url is not None:
        from handrail.codes import docs_url_problem

        problem = docs_url_problem(docs_url)
        if problem is not None:
            fail(f"--docs-url {docs_url!r}: {problem}")
    result = run_check(ws, paths=rel_paths, host_approvers=approvers_from(approved_by))
    if rerun and not result.workflow_invalid:
        result.findings = _with_fresh_runs(ws, result.findings, trust_commands=trust_commands)
    if commits is not None and result.workflow is not None and not result.workflow_invalid:
        from handrail.review.attribution import AttributionError, lint_commits

        try:
            result.findings += lint_commits(ws, result.workflow.workflow, commits)
        except AttributionError as exc:
            fail(str(exc))
    if docs_url is None and result.workflow is not None:
        docs_url = result.workflow.workflow.docs.url or None
    # Local text is read by a person on this machine: it also names the copy installed with
    # the package, which works offline. In CI (the CI variable) that path is the runner's.
    local_text = fmt == "text" and source_from_env() == "local"
    summary = CheckSummary(
        files_checked=result.files_checked,
        root=str(ws.root),
        tool_version=__version__,
        docs_base_url=docs_url,
        offline_docs=DOCS_DIR.as_uri() + "/" if local_text else None,
    )
    use_color = sys.stdout.isatty() if color is None else color
    click.echo(render(fmt, result.findings, summary, color=use_color), nl=False)
    code = EXIT_USAGE if result.workflow_invalid else exit_for(result.findings)
    if result.workflow_invalid:
        click.echo(
            f"handrail: {ws.relative(ws.workflow_path)} is invalid: "
            "fix it before the gate can pass.",
            err=True,
        )
    if record_gate:
        _record(ws, result.findings, code, gate_commit or "HEAD")
    raise SystemExit(code)


def _record(ws: Workspace, findings: list[Finding], code: int, rev: str) -> None:
    """Record the gate's outcome; any failure is a warning, never a different exit code."""
    from handrail.review.gate_log import GateLogError, record_gate

    try:
        record_gate(ws, findings, code, rev=rev)
    except GateLogError as exc:
        click.echo(f"handrail: warning: the gate outcome was not recorded: {exc}", err=True)
    except Exception as exc:  # recording must never decide the gate, whatever went wrong
        click.echo(
            f"handrail: warning: the gate outcome was not recorded ({type(exc).__name__}: {exc})",
            err=True,
        )


def _with_fresh_runs(
    ws: Workspace, recorded: list[Finding], *, trust_commands: bool
) -> list[Finding]:
    """The check's findings with verification judged by fresh runs instead of the ledger.

    A fresh run replaces what the ledger says of a block (HR300-HR302), so a hand-written
    "passed" record cannot pass the gate; every other finding stays. When the commands are not
    trusted nothing runs, and HR403 becomes an error: a gate asked to rerun must not pass.
    """
    from handrail.cli.interrupts import run_interruptibly
    from handrail.cli.verify_cmd import LiveProgress
    from handrail.cli.verify_probe import ProbeDisplay
    from handrail.verify.run import rerun_gate

    progress = LiveProgress(stream_output=False)
    gate, interruption = run_interruptibly(
        lambda cancel: rerun_gate(
            ws,
            trust_commands=trust_commands,
            progress=progress,
            probe_progress=ProbeDisplay(),
            cancel=cancel,
        )
    )
    if interruption.interrupted:
        # A gate that did not finish has no verdict: no report, nothing recorded (not even
        # with --record-gate), and an exit code no one can mistake for a pass or a failure.
        stopped = "probe's mutants were" if gate.probe_cancelled else "verification command was"
        interruption.exit(
            f"the running {stopped} stopped; the gate did not finish and nothing was recorded"
        )
    fresh = gate.findings
    if any(f.code == "HR403" for f in fresh):
        # Nothing ran: the recorded evidence stands, and a gate asked to rerun must not pass.
        untrusted = [f.with_severity(Severity.ERROR) for f in fresh if f.code == "HR403"]
        return sorted(recorded + untrusted, key=Finding.sort_key)
    replaced = {"HR300", "HR301", "HR302"}
    # The probe of a tier that asks for it is judged by this run's probe alone, so a probe
    # record written by hand cannot pass the gate either.
    kept = [
        f
        for f in recorded
        if f.code not in replaced
        and not (f.code == "HR313" and f.data.get("block_id") in gate.probe_judged)
    ]
    seen = {(f.code, f.path, f.line) for f in kept}
    kept += [f for f in fresh if (f.code, f.path, f.line) not in seen]
    return sorted(kept, key=Finding.sort_key)


def _relative(ctx: Context, path: Path) -> str:
    absolute = ctx.absolute(path)
    if not absolute.exists():
        fail(f"{path}: no such file or folder")
    return ctx.ws.relative(absolute.resolve())
