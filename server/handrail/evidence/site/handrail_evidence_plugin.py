"""A pytest plugin handrail loads through PYTEST_PLUGINS while it verifies.

It switches coverage.py's dynamic context to each test's node id, so the data says which test
ran which line, and writes each test's outcome (and collection errors) to a file, so a failure
can be laid on the code it executed. Standard library and pytest only; it never raises.
"""

import contextlib
import json
import os
import sys

_ORDER = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


_out = [None, None]
"""The process id and the open outcome file of this process (a forked child opens its own)."""


def _write(entry):
    folder = os.environ.get("HANDRAIL_EVIDENCE_DIR")
    if not folder:
        return
    try:
        pid = os.getpid()
        if _out[0] != pid:
            path = os.path.join(folder, "outcomes", "%d.jsonl" % pid)
            # Kept open for the process's life: opening it per test cost more than the rest.
            _out[0], _out[1] = pid, open(path, "a", encoding="utf-8")  # noqa: SIM115
        # Flushed at once: a run that is killed keeps the outcomes written so far, and a
        # child forked later starts with nothing of ours in its buffer.
        _out[1].write(json.dumps(entry) + "\n")
        _out[1].flush()
    except OSError:
        pass


def _switch(name):
    try:
        import coverage

        current = coverage.Coverage.current()
        if current is not None:
            current.switch_context(name)
    except Exception:
        pass


def _sysmon_tracers():
    """coverage's sys.monitoring tracers in this process, or [] under any other core."""
    if getattr(sys, "monitoring", None) is None:
        return []
    try:
        import coverage

        collector = getattr(coverage.Coverage.current(), "_collector", None)
        tracers = list(getattr(collector, "tracers", None) or [])
        return [t for t in tracers if hasattr(t, "code_infos")]
    except Exception:
        return []


def _lines_pending(tracers):
    """Whether lines were recorded since coverage last saved them to its data (each switch of
    context saves): those lines are now disabled until re-armed."""
    try:
        return any(any(lines for lines in t.data.values()) for t in tracers)
    except Exception:
        return True


_seen = {}
"""id(tracer) -> [how many of its code objects were looked at, the traced ones among them]."""


def _traced_code(tracer):
    """The code objects of measured files that `tracer` has seen start. Its list holds every
    code object that ever started (tens of thousands): only the new ones are looked at."""
    seen = _seen.setdefault(id(tracer), [0, []])
    codes = tracer.code_objects
    for code in codes[seen[0] :]:
        info = tracer.code_infos.get(id(code))
        if info is not None and info.tracing:
            seen[1].append(code)
    seen[0] = len(codes)
    return seen[1]


_watched = {}
"""id(tracer) -> (our LINE callback, [coverage's own], the code objects that reported a line)."""


def _watch(tracer):
    """Put a thin wrapper around coverage's LINE callback that notes which code objects
    report a line: once per line and test (the core disables the line after it), so it costs
    little, and the next re-arm touches only those. Returns the set, or None when the
    wrapper was not in place since the last re-arm (coverage registered its callback again):
    then every traced code object must be re-armed."""
    monitoring = sys.monitoring
    entry = _watched.get(id(tracer))
    if entry is None:
        slot = [None]
        codes = set()

        def watched(code, number, _slot=slot, _note=codes.add):
            _note(code)
            original = _slot[0]
            return None if original is None else original(code, number)

        entry = _watched[id(tracer)] = (watched, slot, codes)
    watched, slot, codes = entry
    previous = monitoring.register_callback(tracer.myid, monitoring.events.LINE, watched)
    if previous is watched:
        return codes
    slot[0] = previous
    return None


def _rearm(tracers):
    """Under coverage's sys.monitoring core (Python 3.12+) each line reports its first run
    only: the core disables it afterwards. Re-enable those lines so the lines this test runs
    are recorded again, in its own context. Under the C tracer nothing needs re-arming.

    Only the code objects of the measured files that reported a line since the last re-arm
    (`_watch`) are re-armed, by setting their local events off and on again, which restores
    every line the core disabled. `sys.monitoring.restart_events()` would do it too, but for
    every function of the process (pytest's own included): each would be instrumented and
    reported again after every test, which costs more than the measuring itself. It is the
    fallback when coverage's internals are not what this expects.
    """
    monitoring = sys.monitoring
    try:
        for tracer in tracers:
            with tracer.lock:
                if not tracer.sysmon_on:
                    continue
                events = tracer.local_events()
                noted = _watch(tracer)
                todo = _traced_code(tracer) if noted is None else list(noted)
                if noted is not None:
                    noted.clear()
                for code in todo:
                    monitoring.set_local_events(tracer.myid, code, 0)
                    monitoring.set_local_events(tracer.myid, code, events)
        return
    except Exception:
        pass
    with contextlib.suppress(Exception):
        monitoring.restart_events()


_disabled = [False]
"""Lines were disabled (recorded) since the last re-arm: the next test needs one."""


def _saved_on_switch(tracers):
    """Make the coming switch of context save the lines recorded so far, and only then
    (True if there are any).

    coverage saves them when its tracer saw "activity", which its sys.monitoring core sets
    only when a function starts for the first time: a test that runs only functions seen
    before (measured on more-itertools: 2 of its 664 tests) would otherwise leave its lines
    to be saved under the next context. With no line recorded, the save would write nothing
    but still cost a database round per measured file: it is skipped."""
    pending = _lines_pending(tracers)
    for tracer in tracers:
        with contextlib.suppress(Exception):
            tracer._activity = pending
    return pending


def pytest_runtest_logstart(nodeid, location):
    tracers = _sysmon_tracers()
    if tracers and (_saved_on_switch(tracers) or _disabled[0]):
        _switch(nodeid)
        _rearm(tracers)
        _disabled[0] = False
    else:
        _switch(nodeid)


def pytest_runtest_logfinish(nodeid, location):
    tracers = _sysmon_tracers()
    if tracers and _saved_on_switch(tracers):
        _disabled[0] = True
    _switch("")


def pytest_runtest_logreport(report):
    if report.when == "call":
        outcome = report.outcome
    elif report.failed:
        outcome = "error"
    elif report.skipped:
        outcome = "skipped"
    else:
        return
    _write({"test": report.nodeid, "outcome": outcome})


def pytest_collectreport(report):
    if report.failed:
        _write({"collect_error": report.nodeid or "."})


def pytest_sessionfinish(session, exitstatus):
    _write({"exit": int(exitstatus)})
