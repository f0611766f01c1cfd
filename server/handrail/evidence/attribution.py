"""From one run's line coverage to a verdict per block: which lines ran, under which tests,
and which block a failing test lays its failure on.

A failing test counts against every generated block it executed, except the block that holds
the test itself when the test also executed generated code under test: the function that was
wrong fails its attempt, not the test that caught it. With no per-test data (a non-Python
command, a timeout, a collection error) a failed run counts against every block it covered,
as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from handrail.evidence.lines import LineCoverage
from handrail.ledger.records import (
    MAX_TESTS_PER_BLOCK,
    BlockCoverage,
    BlockOutcome,
    encode_ranges,
)

FAILING = frozenset({"failed", "error"})


@dataclass(frozen=True, slots=True)
class BlockSpan:
    """A block by its file and marker lines (the content is strictly between them)."""

    block_id: str
    path: str
    begin_line: int
    end_line: int


def _test_file(node_id: str) -> str:
    return node_id.split("::", 1)[0].replace("\\", "/").removeprefix("./")


def attribute(
    blocks: Sequence[BlockSpan],
    coverage: LineCoverage,
    tests: Mapping[str, str],
    *,
    run_passed: bool,
    not_measured: Mapping[str, str] | None = None,
) -> dict[str, BlockCoverage]:
    """One `BlockCoverage` per block. `tests` maps node ids to outcomes; `not_measured` says,
    per path, why a file absent from `coverage` was not measured (a default otherwise)."""
    reasons = not_measured or {}
    found: dict[str, dict[str, set[int]]] = {}
    spans: dict[str, tuple[frozenset[int], frozenset[int]]] = {}
    for block in blocks:
        lines = coverage.get(block.path)
        if lines is None:
            continue
        inside = range(block.begin_line + 1, block.end_line)
        executable = frozenset(n - block.begin_line for n in lines.executable if n in inside)
        executed = (
            frozenset(n - block.begin_line for n in lines.executed if n in inside) & executable
        )
        per_test: dict[str, set[int]] = {}
        for line, names in lines.tests_by_line.items():
            if line in inside and line - block.begin_line in executable:
                for name in names:
                    per_test.setdefault(name, set()).add(line - block.begin_line)
        found[block.block_id] = per_test
        spans[block.block_id] = (executable, executed)

    # Where each failing test's failure lands.
    blamed: dict[str, list[str]] = {}
    caught: dict[str, list[str]] = {}
    for name, verdict in sorted(tests.items()):
        if verdict not in FAILING:
            continue
        hit = [b for b in blocks if name in found.get(b.block_id, {})]
        under_test = [b for b in hit if b.path != _test_file(name)]
        for block in under_test or hit:
            blamed.setdefault(block.block_id, []).append(name)
        for block in hit:
            if under_test and block not in under_test:
                # The test's own block: its test caught a failure in the code under test.
                caught.setdefault(block.block_id, []).append(name)
    any_failing = any(o in FAILING for o in tests.values())

    result: dict[str, BlockCoverage] = {}
    for block in blocks:
        if block.block_id not in spans:
            note = reasons.get(block.path) or (
                f"the run never loaded {block.path} under measurement"
            )
            missing: BlockOutcome = "not_measured" if run_passed else "failed"
            result[block.block_id] = BlockCoverage(outcome=missing, note=note)
            continue
        executable, executed = spans[block.block_id]
        per_test = found[block.block_id]
        ordered = sorted(per_test, key=lambda n: (-len(per_test[n]), n))
        kept = ordered[:MAX_TESTS_PER_BLOCK]
        outcome: BlockOutcome
        if run_passed:
            outcome = "passed"
        elif block.block_id in blamed:
            outcome = "failed"
        elif any_failing:
            outcome = "failed_elsewhere"
        else:
            outcome = "failed"
        result[block.block_id] = BlockCoverage(
            outcome=outcome,
            executable=encode_ranges(executable),
            executed=encode_ranges(executed),
            tests={n: encode_ranges(per_test[n]) for n in sorted(kept)},
            more_tests=len(ordered) - len(kept),
            # failed: the failing tests laid on it; failed_elsewhere: its own tests that failed
            # on the code under test.
            failed_tests=(blamed.get(block.block_id) or caught.get(block.block_id, []))[
                :MAX_TESTS_PER_BLOCK
            ],
        )
    return result
