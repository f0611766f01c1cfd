"""Started by every Python process a verification command runs (handrail put this folder
first on PYTHONPATH): starts coverage.py with handrail's own rcfile, then hands over to the
`sitecustomize` that would have run without us, so the team's own start-up code still runs.

It runs in the team's interpreter, whatever its version: standard library only, and it never
raises. What went wrong is written to a marker file handrail reads after the run.
"""

import os
import sys


def _note(kind, text):
    folder = os.environ.get("HANDRAIL_EVIDENCE_DIR")
    if not folder:
        return
    try:
        path = os.path.join(folder, "markers", "%s.%d" % (kind, os.getpid()))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        pass


def _start():
    if not os.environ.get("COVERAGE_PROCESS_START"):
        return
    try:
        import coverage
    except ImportError:
        _note("no-coverage", sys.executable)
        return
    try:
        coverage.process_startup()
    except Exception as exc:  # a crash of the coverage layer must not break the tests
        _note("coverage-error", "%s: %s" % (type(exc).__name__, exc))


def _chain():
    """Import the sitecustomize module that our folder hides, if there is one."""
    here = os.path.dirname(os.path.abspath(__file__))
    saved = list(sys.path)
    module = sys.modules.pop("sitecustomize", None)
    try:
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
        import importlib

        importlib.import_module("sitecustomize")
    except ImportError:
        pass
    except Exception as exc:
        _note("chained-error", "%s: %s" % (type(exc).__name__, exc))
    finally:
        sys.path[:] = saved
        if module is not None and "sitecustomize" not in sys.modules:
            sys.modules["sitecustomize"] = module


_start()
_chain()
