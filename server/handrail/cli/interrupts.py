"""Ctrl-C, SIGTERM and SIGHUP while verification commands run: stop them, then exit 128+N.

A verification command runs in its own session (`handrail.process`), so the terminal's
Ctrl-C and a supervisor's SIGTERM reach only handrail, never the command. Python's default
reactions would leave that command's process group running: SIGTERM kills handrail outright,
and a KeyboardInterrupt raised inside `Thread.join` can make the join return before the
worker is done. So while `run_interruptibly` runs, a signal only sets the cancel event the
engine polls; the runner stops the command's whole group (SIGTERM, then SIGKILL after its
grace period), the interrupted run is not recorded, and the caller exits with the shell's
code for the signal (130, 143, 129) after one line on stderr.

The engine runs in a worker thread and the handler only sets an event the main thread never
waits on: a handler that set an event its own thread was inside of could deadlock on the
event's lock.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, NoReturn, TypeVar

import click

T = TypeVar("T")
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that stop a run: Ctrl-C, a supervisor or CI runner, a closed terminal."""


@dataclass(slots=True)
class Interruption:
    """Which stop signal arrived (the first one), and the event that cancels the engine."""

    cancel: threading.Event = field(default_factory=threading.Event)
    signum: int | None = None

    @property
    def interrupted(self) -> bool:
        return self.signum is not None

    @property
    def signal_name(self) -> str:
        assert self.signum is not None
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a command a signal ended."""
        assert self.signum is not None
        return 128 + self.signum

    def exit(self, what: str) -> NoReturn:
        """One line on stderr saying what was stopped (`what`), then exit 128+N."""
        click.echo(f"handrail: interrupted by {self.signal_name}: {what}", err=True)
        raise SystemExit(self.exit_code)


def run_interruptibly(work: Callable[[threading.Event], T]) -> tuple[T, Interruption]:
    """Run `work(cancel)` in a worker thread; a stop signal sets `cancel` instead of killing us.

    Returns what `work` returned and what interrupted it (if anything); re-raises what `work`
    raised. A signal the process was started ignoring (``nohup``, a background job of a
    non-interactive shell) stays ignored. Off the main thread no handler can be installed,
    and `work` simply runs.
    """
    interruption = Interruption()

    def on_signal(signum: int, _frame: object) -> None:
        if interruption.signum is None:
            interruption.signum = signum
        interruption.cancel.set()

    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(work(interruption.cancel))
        except BaseException as exc:  # handed to the main thread, which re-raises it
            errors.append(exc)

    previous: dict[signal.Signals, _Handler] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            current = signal.getsignal(sig)
            if current is signal.SIG_IGN:
                continue
            # None: a handler not installed from Python; the default is the closest match.
            previous[sig] = signal.SIG_DFL if current is None else current
            signal.signal(sig, on_signal)
    try:
        worker = threading.Thread(target=target, name="handrail-verify", daemon=True)
        worker.start()
        # A handler that only sets an event never interrupts this join, so it cannot return
        # before the worker (and the command's process group) is done.
        while worker.is_alive():
            worker.join(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if errors:
        raise errors[0]
    return results[0], interruption
