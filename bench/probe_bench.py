"""Benchmark: the probe on a ~20-line block covered by 8 tests, against those tests' own time.

Goal (issue 11): the probe finishes in at most 10x the time of the covering tests run as a
process, with a progress display.

    python bench/probe_bench.py [--runs 3] [--workers 2] [--no-fork-server]

The tests' time is the median of `--runs` runs of `python -m pytest -q <the 8 node ids>` in
the workspace (a fresh process each, as a developer would run them). The probe's time is one
whole `probe_block` call: two copies of the tree, the clean run, every mutant, the sentinel.
Child pytest runs without third-party plugins (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1), in both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from handrail.evidence.probe import ProbeEvent, probe_block
from handrail.workspace import Workspace

BLOCK = """\
def price_with_discount(amount, quantity, member=False):
    if amount < 0 or quantity <= 0:
        raise ValueError("amount and quantity must be positive")
    total = amount * quantity
    if quantity >= 10:
        total = total - total // 10
    if member and total > 100:
        total -= 5
    return total


def shipping(total, express=False):
    if total >= 50 and not express:
        return 0
    fee = 5
    if express:
        fee = fee * 2
    return fee
"""

TESTS = """\
import pytest

from shop import price_with_discount, shipping


def test_plain_price():
    assert price_with_discount(10, 2) == 20


def test_bulk_discount_starts_at_ten():
    assert price_with_discount(10, 10) == 90
    assert price_with_discount(10, 9) == 90


def test_member_discount_above_100():
    assert price_with_discount(60, 2, member=True) == 115
    assert price_with_discount(50, 2, member=True) == 100


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        price_with_discount(-1, 1)
    with pytest.raises(ValueError):
        price_with_discount(1, 0)


def test_free_shipping_from_50():
    assert shipping(50) == 0
    assert shipping(49) == 5


def test_express_costs_double():
    assert shipping(20, express=True) == 10


def test_express_is_never_free():
    assert shipping(80, express=True) == 10


def test_zero_quantity_message():
    with pytest.raises(ValueError, match="positive"):
        price_with_discount(5, 0)
"""

OTHER_TESTS = "".join(
    f"def test_unrelated_{i}():\n    assert sum(range({i})) == {i * (i - 1) // 2}\n\n\n"
    for i in range(40)
)


def build(root: Path) -> tuple[Workspace, list[str]]:
    (root / ".handrail" / "tasks").mkdir(parents=True)
    (root / "shop.py").write_text(
        "import math\n\n# handrail:begin abcdef.1\n" + BLOCK + "# handrail:end abcdef.1\n"
    )
    (root / "test_shop.py").write_text(TESTS)
    (root / "test_other.py").write_text(OTHER_TESTS)
    names = [line[4:].split("(")[0] for line in TESTS.splitlines() if line.startswith("def ")]
    return Workspace.at(root), [f"test_shop.py::{name}" for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-fork-server", action="store_true", help="a new process per mutant (to compare)"
    )
    args = parser.parse_args()
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    with tempfile.TemporaryDirectory(prefix="handrail-probe-bench-") as temp:
        ws, tests = build(Path(temp))
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([*pytest, *tests], cwd=ws.root, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        tests_s = statistics.median(times)
        print(f"block: 19 lines; covering tests: {len(tests)}; their run: {tests_s:.2f} s (median)")

        def show(event: ProbeEvent) -> None:
            if event.kind == "clean":
                print(f"  clean run {event.duration_s:.2f} s; {event.total} mutants", flush=True)
            elif event.result is not None:
                r = event.result
                print(
                    f"  [{event.index}/{event.total}] line {r.mutant.line}: {r.mutant.change()}: "
                    f"{r.outcome} ({r.duration_s:.2f} s)",
                    flush=True,
                )

        start = time.perf_counter()
        result = probe_block(
            ws,
            block_id="abcdef.1",
            path="shop.py",
            argv=[*pytest, "test_shop.py", "test_other.py"],
            tests=tests,
            timeout_s=60,
            workers=args.workers,
            progress=show,
            fork_server=not args.no_fork_server,
        )
        probe_s = time.perf_counter() - start
    ratio = probe_s / tests_s
    print(f"probe: {result.summary()}; {probe_s:.2f} s = {ratio:.1f}x the covering tests")
    print(f"goal <= 10x: {'met' if ratio <= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
