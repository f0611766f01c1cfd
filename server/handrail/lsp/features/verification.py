"""Verification from the editor: ``handrail.verify`` and ``handrail.verifyAll``.

Two gates stand between a request and a process. The editor must trust the workspace
(``initializationOptions.trusted``: VS Code passes its Workspace Trust), and the engine
(`handrail.verify.run.verify`) must find every command text approved with ``handrail trust``
in this machine's trust store. When either says no, nothing runs: the answer carries HR403's
message and the user sees it with ``window/showMessage``. A request only *names* a block or a
task; the command always comes from the workflow and task files the engine reads, so extra
fields such as ``"command"`` or ``"argv"`` are ignored (and logged).

The engine runs in a worker thread, never on the event loop. Its progress events arrive from
that thread (and from the output reader thread): they are handed to the loop, and the
command's output is reported as at most a few lines a second, so a command that prints
megabytes never crowds the protocol stream. ``$/cancelRequest`` for the executeCommand
request, or ``window/workDoneProgress/cancel`` for its progress, sets the engine's cancel
event: the running command's whole process group is killed and the cancelled run is not
recorded. After every run the open documents are analysed again at once.

Blocks whose risk tier asks for the probe are probed after their verification passes, by the
engine's one stage-4 use case (`handrail.verify.with_probe`, as on the command line): each
mutant tried is a progress report, and the answer's ``probe`` says "caught K of N" per block.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from handrail.findings import Finding, Severity
from handrail.lsp.features.common import CommandFailed, bad_params, one_mapping, text_arg
from handrail.lsp.server import HandrailServer
from handrail.lsp.state import DocumentAnalysis, FolderState
from handrail.wording import plural

if TYPE_CHECKING:
    from handrail.evidence.probe import ProbeEvent, ProbeReport
    from handrail.lsp.features.command_results import VerifyAnswerJson
    from handrail.verify.run import ProgressEvent, Target, VerifyReport

log = logging.getLogger(__name__)

VERIFY = "handrail.verify"
VERIFY_ALL = "handrail.verifyAll"

OUTPUT_TAIL_LINES = 30
"""Lines of each run's output returned in the result (the ledger keeps more)."""
_REPORT_EVERY_S = 0.25
"""At most this often a line of a running command's output becomes a progress report."""
_MAX_REPORT_CHARS = 200
_ALLOWED_KEYS = {"block", "task", "folder", "uri", "quiet"}

EDITOR_UNTRUSTED = (
    "Nothing was run: the editor does not trust this workspace, and verification runs "
    "commands the repository defines. Trust the folder in the editor (VS Code: Workspace "
    'Trust; other editors: `"trusted": true` in Handrail\'s initializationOptions), read the '
    "commands, then run `handrail trust` in a terminal."
)

_running: dict[FolderState, str] = {}
"""Folders with a verification in progress (one at a time per folder), and what it is."""


# --- arguments -----------------------------------------------------------------------------


def _folder(server: HandrailServer, values: Mapping[str, Any], command: str) -> FolderState:
    from handrail.lsp.features.commands import folder_from

    return folder_from(server, values, command)


def _ignored(server: HandrailServer, values: Mapping[str, Any], command: str) -> list[str]:
    extra = sorted(str(k) for k in values if k not in _ALLOWED_KEYS)
    if extra:
        server.log_message(
            f"{command} ignored the argument(s) {', '.join(extra)}: a request names a block or a "
            "task, and the command always comes from the workflow and task files.",
            types.MessageType.Warning,
        )
    return extra


def _target(values: Mapping[str, Any]) -> Target:
    from handrail.blocks.markers import is_block_id
    from handrail.tasks.model import is_task_id
    from handrail.verify.run import Target

    block = text_arg(values, "block", VERIFY, required=False)
    task = text_arg(values, "task", VERIFY, required=False)
    if (block is None) == (task is None):
        raise bad_params(
            f'{VERIFY} needs exactly one of "block" (like k3f7qa.1) or "task" (like k3f7qa).'
        )
    if block is not None:
        if not is_block_id(block):
            raise bad_params(f"{VERIFY}: {block!r} is not a block id (like k3f7qa.1).")
        return Target("block", block)
    assert task is not None
    if not is_task_id(task):
        raise bad_params(f"{VERIFY}: {task!r} is not a task id (6 characters from a-z and 2-7).")
    return Target("task", task)


def _describe(target: Target) -> str:
    if target.kind == "all":
        return "every block"
    return f"{target.kind} {target.value}"


# --- trust ---------------------------------------------------------------------------------


def _untrusted_answer(
    server: HandrailServer,
    folder: FolderState,
    target: Target,
    ignored: list[str],
    *,
    quiet: bool = False,
) -> VerifyAnswerJson:
    """The answer when the editor does not trust the folder: HR403, and nothing ran."""
    workflow = folder.snapshot.workflow.workflow
    severity = workflow.severity_of("HR403")
    findings: list[Finding] = []
    if severity is not None:
        findings.append(
            Finding(
                "HR403",
                severity,
                EDITOR_UNTRUSTED,
                folder.ws.relative(folder.ws.workflow_path),
                data={"reason": "editor_untrusted", "target": _describe(target)},
            )
        )
    if not quiet:
        _show(server, EDITOR_UNTRUSTED, types.MessageType.Warning)
    return _empty_answer(target, findings, EDITOR_UNTRUSTED, ignored, trusted=False)


def _empty_answer(
    target: Target, findings: list[Finding], message: str, ignored: list[str], *, trusted: bool
) -> VerifyAnswerJson:
    return {
        "target": _describe(target),
        "ok": False,
        "trusted": trusted,
        "ran": False,
        "cancelled": False,
        "runs": [],
        "blocks": [],
        "findings": [f.as_json() for f in findings],
        "message": message,
        "ignored": ignored,
    }


def _show(server: HandrailServer, message: str, kind: types.MessageType) -> None:
    server.window_show_message(types.ShowMessageParams(type=kind, message=message))


# --- progress ------------------------------------------------------------------------------


class _Progress:
    """Work-done progress for one verification, fed from worker threads.

    Cancelling the progress (``window/workDoneProgress/cancel``) sets `cancel`.
    """

    def __init__(self, server: HandrailServer, cancel: threading.Event) -> None:
        self.server = server
        self.cancel = cancel
        self.loop = asyncio.get_running_loop()
        self.token = f"handrail-verify-{uuid.uuid4()}"
        self.shown = False
        self._lock = threading.Lock()
        self._last_output = 0.0

    async def begin(self, title: str) -> None:
        window = self.server.client_capabilities.window
        if window is None or not window.work_done_progress:
            return
        try:
            await self.server.work_done_progress.create_async(self.token)
        except Exception as exc:  # the client said no: the run goes on without progress
            log.info("progress not shown (%s)", exc)
            return
        self.shown = True
        self.server.work_done_progress.begin(
            self.token,
            types.WorkDoneProgressBegin(title=title, cancellable=True, percentage=0),
        )
        future = self.server.work_done_progress.tokens.get(self.token)
        if future is not None:
            future.add_done_callback(lambda f: self.cancel.set() if f.cancelled() else None)

    def _report(self, message: str, percentage: int | None = None) -> None:
        if self.shown:
            self.server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    def on_event(self, event: ProgressEvent) -> None:
        """The engine's callback: any thread, so everything is sent from the loop."""
        message = _event_message(event)
        if message is None:
            return
        if event.kind == "output":
            now = time.monotonic()
            with self._lock:
                if now - self._last_output < _REPORT_EVERY_S:
                    return
                self._last_output = now
        done = event.index - (0 if event.kind == "finish" else 1)
        percentage = int(100 * done / event.total) if event.total else None
        try:
            self.loop.call_soon_threadsafe(self._report, message, percentage)
        except RuntimeError:  # the loop closed (the server is exiting): the run goes on
            log.info("progress not sent: the event loop is closed")

    def on_probe_event(self, event: ProbeEvent) -> None:
        """The probe's callback (any thread): one report per mutant tried."""
        message = _probe_event_message(event)
        if message is None:
            return
        try:
            self.loop.call_soon_threadsafe(self._report, message, None)
        except RuntimeError:  # the loop closed (the server is exiting): the probe goes on
            log.info("progress not sent: the event loop is closed")

    def end(self, message: str) -> None:
        if self.shown:
            self.server.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=message)
            )
        self.server.work_done_progress.tokens.pop(self.token, None)


def _event_message(event: ProgressEvent) -> str | None:
    from handrail.verify.run import describe_failure

    invocation = event.invocation
    step = f"[{event.index}/{event.total}] {invocation.task_id}"
    if event.kind == "start":
        blocks = ", ".join(invocation.block_ids)
        if event.joins is not None:
            return f"{step}: {blocks} share the run of [{event.joins}/{event.total}]"
        return f"{step}: running `{shlex.join(invocation.argv)}` for {blocks}"
    if event.kind == "output":
        lines = [x for x in event.chunk.decode("utf-8", "replace").splitlines() if x.strip()]
        if not lines:
            return None
        return f"{step}: {lines[-1][:_MAX_REPORT_CHARS]}"
    outcome = event.outcome
    if outcome is None:
        return None
    result = outcome.result
    if outcome.could_not_run is not None:
        return f"{step}: could not run: {outcome.could_not_run}"
    if result.passed:
        return f"{step}: passed in {result.duration_s:.1f} s"
    return f"{step}: {describe_failure(result)}"


def _probe_event_message(event: ProbeEvent) -> str | None:
    """The probe's progress, as `handrail verify` prints it on stderr."""
    from handrail.evidence.probe import probe_event_text

    return probe_event_text(event)


# --- the answer ----------------------------------------------------------------------------


def report_json(
    report: VerifyReport, target: Target, ignored: list[str], probed: ProbeReport | None = None
) -> VerifyAnswerJson:
    """The command's result: `VerifyReport.as_json` (what ran, with each failed run's cause,
    and what each block's status is now, HR403 findings) with the target, the sentence to show
    and (``probe``) what the probe found for the blocks whose risk tier asks for it."""
    answer = report.as_json(output_tail_lines=OUTPUT_TAIL_LINES)
    if probed is not None:
        answer["probe"] = probed.as_json()
        answer["cancelled"] = answer["cancelled"] or probed.cancelled
        if probed.untrusted:
            answer["findings"] += [f.as_json() for f in probed.findings]
    return {
        "target": _describe(target),
        **answer,
        "message": summary(report, target, probed),
        "ignored": ignored,
    }


def summary(report: VerifyReport, target: Target, probed: ProbeReport | None = None) -> str:
    """One sentence for the progress end and the pop-up."""
    what = _describe(target)
    if report.untrusted:
        return report.findings[0].message if report.findings else "Nothing was run."
    if not report.blocks:
        return f"Handrail found no generated block to verify ({what})."
    results = report.block_results()
    verified = sum(1 for r in results if r.status == "verified")
    text = f"Verified {verified} of {plural(len(results), 'block')} ({what})"
    if report.cancelled:
        return text + "; cancelled: the cancelled run was not recorded."
    problems = [
        f"{r.block.block_id}: {r.status.replace('_', ' ')}"
        for r in results
        if r.status != "verified"
    ]
    if problems:
        text += ". " + "; ".join(problems[:5]) + ("; …" if len(problems) > 5 else "")
    if probed is not None:
        if probed.untrusted:
            return text + ". The probe ran nothing: its command is not trusted."
        probes = [
            f"{b.block_id}: {b.result.summary() if b.result is not None else b.skipped}"
            for b in probed.blocks
        ]
        if probes:
            text += ". Probe: " + "; ".join(probes[:5]) + ("; …" if len(probes) > 5 else "")
        if probed.cancelled:
            return text + "; cancelled: the cancelled probe was not recorded."
    return text + "."


# --- running -------------------------------------------------------------------------------


def _request_future(server: HandrailServer) -> Future[Any] | None:
    """The future pygls keeps for the executeCommand request being handled (cancelled by
    ``$/cancelRequest``); None when the handler is not called for a request."""
    return server.protocol.current_request_future()


async def _refresh(server: HandrailServer, folder: FolderState) -> None:
    open_in = {server.folder_for(uri) for uri in server.documents.uris()}
    if folder not in open_in:  # reanalyze_open_documents reloads only folders with documents
        await asyncio.to_thread(folder.reload)
    await server.reanalyze_open_documents()


async def run_verification(
    server: HandrailServer,
    folder: FolderState,
    target: Target,
    ignored: list[str],
    *,
    quiet: bool = False,
) -> VerifyAnswerJson:
    """Verify `target` in `folder` if both gates allow it; the command's answer.

    `quiet`: the client shows the answer itself (VS Code, with its buttons), so the server's
    own pop-up would be a second, near-identical one (issue 19.4)."""
    from handrail.verify.run import VerifyError
    from handrail.verify.with_probe import verify_with_probe

    if not server.is_trusted(folder):
        return _untrusted_answer(server, folder, target, ignored, quiet=quiet)
    loaded = folder.snapshot.workflow
    if any(f.code == "HR400" and f.severity is Severity.ERROR for f in loaded.findings):
        raise CommandFailed(
            f"Handrail cannot verify: the workflow file "
            f"{folder.ws.relative(folder.ws.workflow_path)} is invalid; fix it first (its "
            "diagnostics say how)."
        )
    busy = _running.get(folder)
    if busy is not None:
        raise CommandFailed(
            f"Handrail is already verifying {busy} in {folder.root.name}: wait for it to finish "
            "or cancel it first."
        )
    _running[folder] = _describe(target)
    cancel = threading.Event()
    request = _request_future(server)
    if request is not None:
        request.add_done_callback(lambda f: cancel.set() if f.cancelled() else None)
    progress = _Progress(server, cancel)
    outcome = "failed"
    # `shutdown` and `exit` set `cancel` and wait for this task to end.
    with server.stoppable(cancel):
        try:
            await progress.begin(f"Handrail: verifying {_describe(target)}")
            # The engine's one stage-4 use case: verify, then probe the blocks whose risk
            # tier asks for it (as `handrail verify` and `check --rerun` do).
            work = asyncio.ensure_future(
                asyncio.to_thread(
                    verify_with_probe,
                    folder.ws,
                    target,
                    progress=progress.on_event,
                    probe_progress=progress.on_probe_event,
                    cancel=cancel,
                )
            )
            try:
                done = await asyncio.shield(work)
            except asyncio.CancelledError:
                # The server is shutting down (or the task was cancelled): stop the command and
                # wait for its group to be gone before giving up.
                cancel.set()
                await asyncio.wait([work])
                raise
            except VerifyError as exc:
                outcome = str(exc)
                raise CommandFailed(f"Handrail cannot verify {_describe(target)}: {exc}.") from None
            except Exception as exc:
                server.log_error(f"Handrail could not verify {_describe(target)}: {exc}", exc)
                outcome = str(exc)
                raise CommandFailed(
                    f"Handrail could not verify {_describe(target)}: {exc}"
                ) from None
            report = done.report
            answer = report_json(report, target, ignored, done.probe)
            outcome = answer["message"]
            failed = (
                (not report.ok or done.probe_failed) and bool(report.blocks) and not done.cancelled
            )
            if (report.untrusted or failed) and not quiet:
                _show(server, answer["message"], types.MessageType.Warning)
            if report.ran_anything and not server.shutting_down:
                await _refresh(server, folder)
            return answer
        finally:
            progress.end(outcome)
            _running.pop(folder, None)


async def verify_command(server: HandrailServer, *args: Any) -> VerifyAnswerJson:
    """``handrail.verify``: one block (``{"block": ...}``) or one task (``{"task": ...}``)."""
    values = one_mapping(args, VERIFY)
    target = _target(values)
    folder = _folder(server, values, VERIFY)
    ignored = _ignored(server, values, VERIFY)
    quiet = values.get("quiet") is True
    return await run_verification(server, folder, target, ignored, quiet=quiet)


async def verify_all_command(server: HandrailServer, *args: Any) -> VerifyAnswerJson:
    """``handrail.verifyAll``: every block of the workspace folder."""
    from handrail.verify.run import Target

    values = one_mapping(args, VERIFY_ALL)
    folder = _folder(server, values, VERIFY_ALL)
    ignored = _ignored(server, values, VERIFY_ALL)
    return await run_verification(server, folder, Target.everything(), ignored)


# --- lenses and code actions ---------------------------------------------------------------


def verify_lens_command(block_id: str, uri: str, title: str = "Verify block") -> types.Command:
    """The "Verify block" command of a begin marker's lens."""
    return types.Command(
        title,
        VERIFY,
        arguments=[{"block": block_id, "uri": uri}],
        tooltip=f"Verify block {block_id}: run its verification command and record the result",
    )


_VERIFY_CODES = {"HR300", "HR301", "HR302"}


def block_actions(
    analysis: DocumentAnalysis, start_line: int, end_line: int, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction]:
    """Quick fixes for the evidence diagnostics of the blocks the 1-based lines touch:
    "Verify block" and "Verify task" (HR300-HR302), "Record trace" (HR303 asking for a
    trace), "I can explain every line" (HR304)."""
    from handrail.lsp.features.commands import EXPLAIN, RECORD_TRACE

    source = analysis.source
    if source is None:
        return []
    actions: list[types.CodeAction] = []
    for block in source.parsed.blocks:
        if block.end_line < start_line or block.begin_line > end_line:
            continue
        mine = [
            (d, d.data)
            for d in diagnostics
            if d.source == "handrail"
            and isinstance(d.data, Mapping)
            and d.data.get("block_id") == block.id
        ]
        argument = {"block": block.id, "uri": analysis.uri}
        wanted: list[tuple[str, str, dict[str, Any], list[types.Diagnostic]]] = []
        # The next step first; "Verify task" (the wider run) after the block's own steps.
        unverified = [d for d, _ in mine if str(d.code) in _VERIFY_CODES]
        if unverified:
            wanted.append((f"Verify block {block.id}", VERIFY, argument, unverified))
        trace = [d for d, data in mine if str(d.code) == "HR303" and data.get("needs") == "trace"]
        if trace:
            wanted.append((f"Record trace of {block.id}", RECORD_TRACE, argument, trace))
        explain = [d for d, _ in mine if str(d.code) == "HR304"]
        if explain:
            wanted.append((f"I can explain every line of {block.id}", EXPLAIN, argument, explain))
        if unverified:
            task_argument = {"task": block.task_id, "uri": analysis.uri}
            wanted.append((f"Verify task {block.task_id}", VERIFY, task_argument, unverified))
        actions += [
            types.CodeAction(
                title=title,
                kind=types.CodeActionKind.QuickFix,
                diagnostics=fixes,
                command=types.Command(title=title, command=command, arguments=[arguments]),
            )
            for title, command, arguments, fixes in wanted
        ]
    return actions


Handler = Callable[..., Any]


def register(server: HandrailServer) -> None:
    handlers: dict[str, Handler] = {VERIFY: verify_command, VERIFY_ALL: verify_all_command}
    for name, handler in handlers.items():

        def bind(handler: Handler) -> Handler:
            async def run(ls: HandrailServer, *args: Any) -> Any:
                return await handler(ls, *args)

            return run

        server.command(name)(bind(handler))
