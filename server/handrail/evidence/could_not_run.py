"""Telling "the verification could not run" apart from "the code failed".

A missing program, a missing test tool, pytest's usage/internal/no-tests exits or a crash of
the measuring layer say nothing about the generated code: such a run gets no verdict, uses up
no first attempt and counts as no rework (HR311), and the advice is about the environment.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence

from handrail.evidence.python_layer import PythonEvidence

_PYTEST_EXITS = {
    2: "pytest was interrupted before the tests finished",
    3: "pytest hit an internal error",
    4: "pytest was called with arguments it does not accept (usage error)",
    5: "pytest collected no tests",
}
# The interpreter's own message for `python -m missing` (not a test's ModuleNotFoundError).
_NO_MODULE = re.compile(r"^\S*python[\w.]*: No module named (\S+)", re.MULTILINE)
_COLLECTION = re.compile(r"errors? during collection|ERROR collecting")


def runs_pytest(argv: Sequence[str]) -> bool:
    """Whether the command is plainly pytest (`pytest …`, `python -m pytest …`)."""
    if not argv:
        return False
    if os.path.basename(argv[0]) in ("pytest", "py.test"):
        return True
    return any(a == "-m" and b in ("pytest", "py.test") for a, b in itertools.pairwise(argv))


def could_not_run(
    argv: Sequence[str],
    *,
    exit_code: int | None,
    start_error: str | None,
    output: str,
    python: PythonEvidence | None,
) -> str | None:
    """Why the run could not run (a phrase), or None when its result is about the code."""
    if start_error is not None:
        return start_error.rstrip(".")
    if python is not None and python.problem is not None:
        return python.problem
    if exit_code is None or exit_code == 0:
        return None
    missing = _NO_MODULE.search(output)
    if missing is not None:
        return (
            f"the interpreter has no module {missing.group(1)}: install it where the tests "
            "run (the virtual environment the command uses)"
        )
    if exit_code == 127:
        return f"`{argv[0]}` exited with 127: a program it runs was not found"
    if exit_code == 126:
        return f"`{argv[0]}` exited with 126: a program it runs is not executable"
    pytest_exit = python.pytest_exit if python is not None else None
    is_pytest = pytest_exit is not None or runs_pytest(argv)
    code = pytest_exit if pytest_exit is not None else exit_code
    if is_pytest and code in _PYTEST_EXITS:
        # A collection error (exit 2) is the code failing to import: a failure, not this.
        collected_badly = (python is not None and bool(python.collect_errors)) or bool(
            _COLLECTION.search(output)
        )
        if code == 2 and collected_badly:
            return None
        return f"{_PYTEST_EXITS[code]} (exit {code})"
    return None
