"""`handrail check` without click: its options, their one parser for the common command lines,
and the command's body, which the click command runs too.

A git hook or CI runs `handrail check` on every commit, and importing click is a tenth of the
run (issue 17). `OPTIONS` is the one table of the command's options: `check_cmd` builds the
click command from it, and `parse_common` reads the options marked `fast` from it, so the two
cannot name, spell or limit an option differently (tests/gate/test_check_options.py runs both
parsers on the same command lines). Any command line `parse_common` is not sure of (help, an
unknown or misspelt option, a value that click would refuse) goes to click, which prints the
usage and the errors: there is no second set of error messages.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn, Protocol

from handrail import __version__
from handrail.cli.base import EXIT_USAGE, Context, exit_for
from handrail.findings import Finding, Severity
from handrail.workspace import PathEscapesWorkspace, Workspace

if TYPE_CHECKING:
    from handrail.gate.run import CheckResult

OptionKind = Literal["choice", "switch", "flag", "value", "multiple"]


@dataclass(frozen=True, slots=True)
class CheckOption:
    """One option of `handrail check`: its click declarations and what the fast path reads."""

    decls: tuple[str, ...]
    dest: str
    kind: OptionKind
    help: str
    choices: tuple[str, ...] = ()
    default: str | None = None
    metavar: str | None = None
    fast: bool = False
    """Read by `parse_common`: options whose command lines need nothing click-only (progress
    display, interruption handling, warnings while recording) after the check."""

    def names(self) -> dict[str, bool | None]:
        """Each spelling on the command line -> the value a switch's spelling sets (else None)."""
        if self.kind == "switch":
            on, off = self.decls[0].split("/")
            return {on: True, off: False}
        return {decl: None for decl in self.decls if decl.startswith("-")}


OPTIONS: tuple[CheckOption, ...] = (
    CheckOption(
        ("--format", "fmt"),
        "fmt",
        "choice",
        "text for people, json for scripts, sarif for code scanning, github for annotations.",
        choices=("text", "json", "sarif", "github"),
        default="text",
        fast=True,
    ),
    CheckOption(
        ("--color/--no-color",),
        "color",
        "switch",
        "Colour the text output (default: when a terminal).",
        fast=True,
    ),
    CheckOption(
        ("--rerun",),
        "rerun",
        "flag",
        "Run every block's verification fresh (and the probe where a risk tier asks for it) "
        "and gate on those runs, not on recorded ones.",
    ),
    CheckOption(
        ("--trust-commands",),
        "trust_commands",
        "flag",
        "With --rerun, in CI: run the workflow's verification commands without `handrail "
        "trust`. Never use it on code from an untrusted pull request with secrets in scope.",
    ),
    CheckOption(
        ("--record-gate",),
        "record_gate",
        "flag",
        "Record this run's outcome as a git note on the checked commit "
        "(refs/notes/handrail-gate) for `handrail stats`. Never changes the exit code.",
    ),
    CheckOption(
        ("--gate-commit",),
        "gate_commit",
        "value",
        "With --record-gate: the commit to record on (default HEAD; in a pull request's CI, "
        "the pull request's head rather than the merge commit CI checked out).",
        metavar="REV",
    ),
    CheckOption(
        ("--approved-by", "approved_by"),
        "approved_by",
        "multiple",
        "In CI: who approved the change on the code host (repeatable or comma-separated). "
        "They count as every block's second reviewer; the generated CI workflow passes the pull "
        "request's approving reviews of its head commit.",
        metavar="NAME",
        fast=True,
    ),
    CheckOption(
        ("--commits",),
        "commits",
        "value",
        "Also lint these commits (e.g. origin/main..HEAD) against [attribution]: generated "
        "code without the AI trailer, or a model credited with Co-authored-by/Signed-off-by "
        "(HR404).",
        metavar="RANGE",
    ),
    CheckOption(
        ("--docs-url",),
        "docs_url",
        "value",
        "Where help links point (http or https): the documentation's root, pages at "
        "URL/codes/HR300.md, or {code} in URL replaced. Default: [docs] url in the workflow, "
        "else Handrail's published documentation.",
        metavar="URL",
        fast=True,
    ),
)


@dataclass(frozen=True, slots=True)
class CheckArgs:
    """A parsed `handrail check` command line (click's parameter names)."""

    paths: tuple[Path, ...] = ()
    fmt: str = "text"
    color: bool | None = None
    rerun: bool = False
    trust_commands: bool = False
    record_gate: bool = False
    gate_commit: str | None = None
    approved_by: tuple[str, ...] = ()
    commits: str | None = None
    docs_url: str | None = None


def parse_common(args: Sequence[str]) -> CheckArgs | None:
    """`handrail check`'s arguments (after `check`) as click would read them; None for any
    command line that is not made of the `fast` options and paths only, or that click would
    refuse or read another way: click then runs it, and says what is wrong."""
    spellings: dict[str, tuple[CheckOption, bool | None]] = {}
    for option in OPTIONS:
        if option.fast:
            for name, value in option.names().items():
                spellings[name] = (option, value)
    values: dict[str, object] = {}
    approved: list[str] = []
    paths: list[Path] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if not arg:
            return None
        if not arg.startswith("-"):
            paths.append(Path(arg))
            continue
        name, has_value, inline = arg.partition("=")
        known = spellings.get(name)
        if known is None:
            return None  # help, `--`, a click-only option or a typo: click's to answer
        option, switched = known
        if option.kind == "switch":
            if has_value:
                return None
            values[option.dest] = switched
            continue
        if has_value:
            given = inline
        elif rest and not rest[0].startswith("-"):
            given = rest.pop(0)
        else:
            return None  # click's: a missing value, or one that looks like an option
        if option.kind == "choice" and given not in option.choices:
            return None
        if option.kind == "multiple":
            approved.append(given)
        else:
            values[option.dest] = given
    color = values.get("color")
    return CheckArgs(
        paths=tuple(paths),
        fmt=str(values.get("fmt", "text")),
        color=color if isinstance(color, bool) else None,
        approved_by=tuple(approved),
        docs_url=str(values["docs_url"]) if "docs_url" in values else None,
    )


class Output(Protocol):
    """Where the command writes: click's `echo` and `fail`, or the plain ones of the fast path."""

    def echo(self, message: str, *, err: bool = False, nl: bool = True) -> None: ...

    def fail(self, message: str) -> NoReturn: ...


def run_check_command(ctx: Context, args: CheckArgs, out: Output) -> int:
    """The command's body: check, report, and the exit code (`out.fail` for usage errors)."""
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

    if args.paths:
        ctx.use_path(args.paths[0])
    ws = ctx.ws
    try:
        rel_paths = [_relative(ctx, p, out) for p in args.paths]
    except PathEscapesWorkspace as exc:
        out.fail(f"{exc} is outside the workspace {ws.root}")
    if args.trust_commands and not args.rerun:
        out.fail("--trust-commands only goes with --rerun")
    if args.gate_commit is not None and not args.record_gate:
        out.fail("--gate-commit only goes with --record-gate")
    docs_url = args.docs_url
    if docs_url is not None:
        from handrail.codes import docs_url_problem

        problem = docs_url_problem(docs_url)
        if problem is not None:
            out.fail(f"--docs-url {docs_url!r}: {problem}")
    result = run_check(ws, paths=rel_paths, host_approvers=approvers_from(args.approved_by))
    if args.rerun and not result.workflow_invalid:
        result.findings = _with_fresh_runs(ws, result.findings, trust_commands=args.trust_commands)
    if args.commits is not None and result.workflow is not None and not result.workflow_invalid:
        from handrail.review.attribution import AttributionError, lint_commits

        try:
            result.findings += lint_commits(ws, result.workflow.workflow, args.commits)
        except AttributionError as exc:
            out.fail(str(exc))
    if docs_url is None and result.workflow is not None:
        docs_url = result.workflow.workflow.docs.url or None
    # Local text is read by a person on this machine: it also names the copy installed with
    # the package, which works offline. In CI (the CI variable) that path is the runner's.
    local_text = args.fmt == "text" and source_from_env() == "local"
    summary = CheckSummary(
        files_checked=result.files_checked,
        root=str(ws.root),
        tool_version=__version__,
        docs_base_url=docs_url,
        offline_docs=DOCS_DIR.as_uri() + "/" if local_text else None,
    )
    use_color = sys.stdout.isatty() if args.color is None else args.color
    out.echo(render(args.fmt, result.findings, summary, color=use_color), nl=False)
    code = _exit_code(result)
    if result.workflow_invalid:
        out.echo(
            f"handrail: {ws.relative(ws.workflow_path)} is invalid: "
            "fix it before the gate can pass.",
            err=True,
        )
    if args.record_gate:
        _record(ws, result.findings, code, args.gate_commit or "HEAD", out)
    return code


def _exit_code(result: CheckResult) -> int:
    return EXIT_USAGE if result.workflow_invalid else exit_for(result.findings)


def _record(ws: Workspace, findings: list[Finding], code: int, rev: str, out: Output) -> None:
    """Record the gate's outcome; any failure is a warning, never a different exit code."""
    from handrail.review.gate_log import GateLogError, record_gate

    try:
        record_gate(ws, findings, code, rev=rev)
    except GateLogError as exc:
        out.echo(f"handrail: warning: the gate outcome was not recorded: {exc}", err=True)
    except Exception as exc:  # recording must never decide the gate, whatever went wrong
        out.echo(
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


def _relative(ctx: Context, path: Path, out: Output) -> str:
    absolute = ctx.absolute(path)
    if not absolute.exists():
        out.fail(f"{path}: no such file or folder")
    return ctx.ws.relative(absolute.resolve())


# -- the fast path -----------------------------------------------------------------------------

# click's own pattern for ANSI codes (click._compat._ansi_re): it takes them out of what it
# writes to a stream that is no terminal. The fast path writes as click.echo would
# (tests/gate/test_check_options.py compares the two patterns).
ANSI_RE = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")


class Declined(Exception):
    """The fast path hands the command line to click (raised before anything is written)."""


class PlainOutput:
    """`click.echo` for plain text streams, without click; usage errors decline to click."""

    def echo(self, message: str, *, err: bool = False, nl: bool = True) -> None:
        stream = sys.stderr if err else sys.stdout
        text = message + "\n" if nl else message
        if text and not _isatty(stream):
            text = ANSI_RE.sub("", text)
        stream.write(text)
        stream.flush()

    def fail(self, message: str) -> NoReturn:
        # Nothing was written yet (every usage error comes before the report): click runs the
        # whole command line again and prints its own message.
        raise Declined(message)


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except Exception:
        return False


def _plain_stream(stream: object) -> bool:
    """True when click.echo would write to `stream` as it is (no re-encoding, no console API):
    a text stream with an encoding other than ASCII, on a system other than Windows."""
    if os.name == "nt" or not isinstance(stream, io.TextIOWrapper):
        return False
    encoding = getattr(stream, "encoding", None)
    if not encoding or getattr(stream, "errors", None) is None:
        return False
    import codecs

    try:
        return codecs.lookup(encoding).name != "ascii"
    except LookupError:
        return False


def run_common(
    args: Sequence[str], prepare: Callable[[Workspace], None] | None = None
) -> int | None:
    """Run `handrail check ARGS` without click when `parse_common` reads them; the exit code,
    or None when click must run the command line (nothing was written then).

    `prepare` is given the workspace before the engine is imported (the gate's git calls
    start there, to run while Python imports).
    """
    parsed = parse_common(args)
    if parsed is None or not (_plain_stream(sys.stdout) and _plain_stream(sys.stderr)):
        return None
    if parsed.color and not _isatty(sys.stdout):
        return None  # click would take the colours out again: leave that to click
    ctx = Context(None)
    recorder = None
    try:
        from handrail.gate import reuse

        if reuse.enabled():
            # From before the workspace is found: what decides the root is an input too.
            recorder = reuse.Recorder(args)
            recorder.start()
        ws = ctx.use_path(parsed.paths[0]) if parsed.paths else ctx.ws
        if recorder is not None:
            recorder.root = ws.root
        if prepare is not None:
            prepare(ws)
        if recorder is not None:
            recorder.capture_output()

        def body() -> int:
            code = run_check_command(ctx, parsed, PlainOutput())
            if recorder is not None:
                recorder.finish(code)
            return code

        code = _as_click_would(body)
        if recorder is not None:
            recorder.stop()
            why = recorder.save()
            if why is not None and os.environ.get(reuse.DEBUG_ENV):
                sys.stderr.write(f"handrail: not reusable: {why}\n")
        return code
    except Declined:
        # Click runs the command line from the start: nothing of this try may outlive it.
        from handrail.files import discard_early

        discard_early()
        return None
    finally:
        if recorder is not None:
            recorder.stop()


def _as_click_would(body: Callable[[], int]) -> int:
    """`body`'s exit code, with click's standalone handling of Ctrl-C and a closed pipe."""
    import errno

    try:
        return body()
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\n")
        sys.stderr.write("Aborted!\n")
        sys.stderr.flush()
        return 1
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # As click: the reader went away (`handrail check | head`); no second error when
        # Python flushes the streams on the way out.
        sys.stdout = _PacifyFlush(sys.stdout)
        sys.stderr = _PacifyFlush(sys.stderr)
        return 1


class _PacifyFlush:
    """A stream whose flush ignores a closed pipe; all else goes to the stream (click's
    `_PacifyFlushWrapper`)."""

    def __init__(self, wrapped: object) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        import errno

        try:
            self.wrapped.flush()  # type: ignore[attr-defined]
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> object:
        return getattr(self.wrapped, name)
