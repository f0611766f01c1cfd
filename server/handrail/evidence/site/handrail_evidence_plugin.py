"""A pytest plugin handrail loads through PYTEST_PLUGINS while it verifies.

It switches coverage.py's dynamic context to each test's node id, so the data says which test
ran which line, and writes each test's outcome (and collection errors) to a file, so a failure
can be laid on the code it executed. Standard library and pytest only; it never raises.
"""

import json
import os
import sys

_ORDER = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def _write(entry):
    folder = os.environ.get("HANDRAIL_EVIDENCE_DIR")
    if not folder:
        return
    try:
        path = os.path.join(folder, "outcomes", "%d.jsonl" % os.getpid())
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
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


def _rearm():
    """Under coverage's sys.monitoring core (Python 3.12+) each line reports its first run
    only: the core disables it afterwards. Re-enable the disabled events so the lines this
    test runs are recorded again, in its own context. Only when coverage.py holds a tool id:
    under the C tracer nothing needs re-arming."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return
    try:
        for tool in range(6):
            if monitoring.get_tool(tool) == "coverage.py":
                monitoring.restart_events()
                return
    except Exception:
        pass


def pytest_runtest_logstart(nodeid, location):
    _switch(nodeid)
    _rearm()


def pytest_runtest_logfinish(nodeid, location):
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
