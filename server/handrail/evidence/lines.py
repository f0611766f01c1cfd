"""Line coverage in one shape, whatever tool measured it.

Every source (coverage.py's data, an LCOV, Cobertura, Go or JaCoCo report) is read into a
`LineCoverage`: per workspace-relative, `/`-separated path, the lines the tool considers
executable and the lines that ran, each optionally with the tests that ran it. A file the
source never mentions is absent, which callers report as "not measured", never "not executed".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FunctionLines:
    """A function the tool reported on its own (LCOV `FN`/`FNDA`, coverage.py `def` bodies).

    Declaration lines execute when a module loads; a function whose `hits` is 0 never ran,
    whatever its `def` line says.
    """

    name: str
    first_line: int
    last_line: int | None
    hits: int


@dataclass(frozen=True, slots=True)
class FileLines:
    """One file's coverage: 1-based line numbers of the file as measured."""

    executable: frozenset[int]
    executed: frozenset[int]
    tests_by_line: Mapping[int, frozenset[str]] = field(default_factory=dict)
    """Which tests (runner node ids) executed each line, where the source records it."""
    functions: tuple[FunctionLines, ...] = ()


LineCoverage = Mapping[str, FileLines]
"""Workspace-relative `/`-separated path -> that file's coverage."""
