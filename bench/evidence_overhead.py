"""Benchmark: what measuring line evidence costs a Python verification command.

Runs the same command plainly and under handrail's evidence layer (coverage.py started by the
layer's `sitecustomize`, per-test contexts from its pytest plugin, only the named files
measured), alternating, and prints the median wall time of each and the ratio. The layer's
time includes combining and reading the data afterwards.

    python bench/evidence_overhead.py --shop [--runs 5]
    python bench/evidence_overhead.py --project DIR --measure more_itertools/more.py \\
        [--runs 5] -- python -m pytest -q -p no:cacheprovider tests

`--shop` writes the small project of tests/evidence (3 tests) into a temporary folder.

Measured here (Python 3.11, coverage 7.17.5 C tracer, 2 cores shared with other jobs, so the
spread is wide; medians, per-run times in brackets):

| project | plain | measured, per-test contexts | ratio | reading the data |
|---|---|---|---|---|
| tests/evidence shop (3 tests), 5 runs | 1.02 s | 1.65 s | 1.6x | 0.02 s |
| more-itertools 10.5.0 (664 tests), more.py measured, 3 runs | 9.93 s | 29.10 s | 2.9x | 1.71 s |
| same, 5 runs (plain 2.8-8.4 s, measured 11.4-22.0 s) | 4.56 s | 16.43 s | 3.6x | 0.88 s |
| same, `--no-contexts` (lines only), 3 runs | 6.15 s | 22.02 s | 3.6x | 0.61 s |

On a small suite the cost is coverage's start-up in each process; on a call-heavy suite it is
the C tracer (about 3x on 3.11 whatever is restricted, as the evidence notes found);
per-test contexts add little on top. `{tests}` re-runs only the covering tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from handrail.evidence.python_layer import PythonLayer

REPO = Path(__file__).resolve().parents[1]


_cpu: list[float] = []
"""CPU seconds (user + system) of each command run, in order: steadier than wall time on a
loaded machine, where other jobs' load stretches the wall clock of both runs unevenly."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    took = time.perf_counter() - start
    _cpu.append(_children_cpu() - cpu)
    return took, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shop", action="store_true", help="the tests/evidence project")
    parser.add_argument("--project", type=Path)
    parser.add_argument("--measure", default="", help="comma-separated relative .py files")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--no-contexts",
        action="store_true",
        help="leave the pytest plugin out: lines only, no per-test attribution",
    )
    parser.add_argument(
        "--core",
        help="force coverage's core (COVERAGE_CORE: ctrace, sysmon, pytrace) for comparison",
    )
    parser.add_argument("command", nargs="*")
    args = parser.parse_args()

    base = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    base.pop("PYTEST_ADDOPTS", None)
    with tempfile.TemporaryDirectory(prefix="handrail-bench-") as tmp:
        if args.shop:
            sys.path.insert(0, str(REPO / "tests" / "evidence"))
            from shop_project import PYTEST, write_shop

            from handrail.workspace import Workspace

            root = Path(tmp) / "shop"
            (root / ".handrail" / "tasks").mkdir(parents=True)
            write_shop(Workspace.at(root))
            argv = shlex.split(PYTEST)
            files = ["shop/pricing.py", "tests/test_pricing.py"]
        else:
            if args.project is None or not args.command:
                parser.error("give --shop, or --project DIR and a command after --")
            root = args.project.resolve()
            argv = list(args.command)
            files = [f for f in args.measure.split(",") if f]
        load_before = os.getloadavg()[0]
        plain: list[float] = []
        measured: list[float] = []
        collect: list[float] = []
        for i in range(args.runs):
            took, code = _run(argv, root, base)
            plain.append(took)
            folder = Path(tmp) / f"layer-{i}"
            folder.mkdir()
            start = time.perf_counter()
            layer = PythonLayer.prepare(folder, root, files)
            env = layer.environment(base)
            if args.no_contexts:
                env.pop("PYTEST_PLUGINS")
            if args.core:
                env["COVERAGE_CORE"] = args.core
            _took, code2 = _run(argv, root, env)
            before = time.perf_counter()
            evidence = layer.collect()
            collect.append(time.perf_counter() - before)
            measured.append(time.perf_counter() - start)
            if code != code2:
                print(f"exit codes differ: plain {code}, measured {code2}", file=sys.stderr)
        lines = sum(len(f.executed) for f in evidence.coverage.values())
        p, m = statistics.median(plain), statistics.median(measured)
        print(f"command: {shlex.join(argv)}  (in {root})")
        print(
            f"tests seen by the plugin: {len(evidence.tests)}; "
            f"executed lines in measured files: {lines}"
        )
        print(f"plain    median {p:.2f} s  ({', '.join(f'{t:.2f}' for t in plain)})")
        print(f"measured median {m:.2f} s  ({', '.join(f'{t:.2f}' for t in measured)})")
        print(f"  of which reading the data: median {statistics.median(collect):.2f} s")
        print(f"ratio {m / p:.2f}x")
        plain_cpu = statistics.median(_cpu[0::2])
        measured_cpu = statistics.median(_cpu[1::2])
        print(
            f"CPU time (user + system, the command's processes; reading the data not included): "
            f"plain {plain_cpu:.2f} s, measured {measured_cpu:.2f} s, "
            f"ratio {measured_cpu / plain_cpu:.2f}x"
        )
        print(f"load average (1 min): {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
