"""Why a verification failed: the environment or the code (issue 19.5)."""

from __future__ import annotations

from handrail.ledger.diagnosis import failure_cause, first_failure


def test_clear_signs_of_the_environment() -> None:
    assert failure_cause(127, False, "") == "environment"  # the shell found no such program
    assert failure_cause(None, False, "") == "environment"  # it never started
    assert failure_cause(1, False, "", started=False) == "environment"
    npm = "npm ERR! code ENOENT\nnpm ERR! enoent Could not read package.json\n"
    assert failure_cause(254, False, npm) == "environment"
    py = "ImportError while loading conftest\nModuleNotFoundError: No module named 'pytest'\n"
    assert failure_cause(1, False, py) == "environment"


def test_everything_else_is_the_code_or_the_clock() -> None:
    out = "tests/test_a.py::test_add FAILED\nE   assert 5 == 6\n1 failed in 0.1s\n"
    assert failure_cause(1, False, out) == "code"
    assert failure_cause(None, True, "") == "timeout"
    assert first_failure(out) == "tests/test_a.py::test_add FAILED"
    assert first_failure("all good\n") is None
