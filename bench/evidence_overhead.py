"""Benchmark: what measuring line evidence costs a Python verification command.

Runs the same command plainly and under handrail's evidence layer (coverage.py started by the
layer's `sitecustomize`, per-test contexts from its pytest plugin, only the named files
measured), alternating, and prints the median wall time of each and the ratio. The layer's
time includes combining and reading the data afterwards.

    python bench/evidence_overhead.py --shop [--runs 5]
    python bench/evidence_overhead.py --project DIR --measure more_itertools/more.py \\
        [--runs 5] -- python -m pytest -q -p no:cacheprovider tests

`--shop` writes the small project of tests/evidence (3 tests) into a temporary folder.
`--core ctrace|sysmon|pytrace` forces coverage's core (COVERAGE_CORE) to compare. To measure
another Python, run the script with a virtual environment of that Python with handrail
installed (`python3.12 -m venv v && v/bin/pip install -e . pytest`) and that interpreter in
the command.

Besides wall time it prints the CPU time (user + system) of the command's processes: on this
shared machine (2 cores, load average 4-20 while measuring) wall times of the same run vary
by 2x, CPU time far less, so the CPU ratio is the steadier figure.

Measured here, more-itertools 10.5.0 (sdist from PyPI, its 664 tests, `python -m pytest -q
-p no:cacheprovider tests`), `more_itertools/more.py` measured, coverage 7.17.5, medians of
5 runs (3 for the variants), December 2026:

| Python, core | plain | measured | wall | CPU | load avg |
|---|---|---|---|---|---|
| 3.11, C tracer (default there), contexts | 3.69 s | 8.97 s | 2.43x | 2.56x | 21-12 |
| 3.11, C tracer, `--no-contexts` | 3.72 s | 9.14 s | 2.46x | 2.41x | 12-8 |
| 3.11, C tracer, only `recipes.py` | 3.84 s | 7.53 s | 1.96x | 2.11x | 8-7 |
| 3.12, sys.monitoring, contexts | 3.43 s | 5.13 s | 1.49x | 1.27x | 3.4-3.5 |
| 3.12, same, earlier (a) | 4.91 s | 6.84 s | 1.39x | 1.32x | 5.5-4.7 |
| 3.12, same, earlier (b) | 3.14 s | 3.71 s | 1.18x | 1.30x | 5.5-4.7 |
| 3.12, sys.monitoring, `--no-contexts` | 4.96 s | 5.21 s | 1.05x | 1.06x | 8 |
| 3.12, C tracer (`--core ctrace`) | 3.71 s | 10.67 s | 2.88x | 3.05x | 7-8 |
| 3.13, sys.monitoring, contexts | 4.30 s | 5.83 s | 1.36x | 1.26x | 3.5-4.2 |
| 3.13, same, earlier (a) | 3.86 s | 4.95 s | 1.28x | 1.35x | 4.7-4.4 |
| 3.13, same, earlier (b) | 2.87 s | 3.93 s | 1.37x | 1.30x | 4.7-4.3 |

"contexts": per-test contexts, the layer's normal set-up. (a): re-arming every traced code
object, not only those that reported a line; (b): also before two fixes (coverage's activity
flag, no write on an empty switch). The wall ratio includes reading the data; the CPU ratio
is the test command alone.

Reading the data afterwards (combine, coverage's analysis, the contexts): 0.3-0.6 s, in
"measured". On 3.12+ per-test attribution is what costs (1.06x without, 1.3x with): the
sys.monitoring core reports a line once, so the plugin re-arms the measured code objects'
lines as each test starts, and coverage saves each test's lines to its database. Steps on
3.12 (wall, load 5-11): `sys.monitoring.restart_events()` per test 1.86x; re-arming only the
code objects coverage traces, scanning its whole list each time 2.02x; scanning only new
entries, re-arming only after a test ran measured lines, the outcome file kept open: (a) and
(b); re-arming only the code objects that reported a line (a wrapper around coverage's LINE
callback notes them): the first rows, 1.26-1.27x CPU. Without any re-arm (wrong per-test
data, to see the cost's parts) it was 1.20x CPU: the rest is coverage saving each test's
lines to its database. On 3.11 the C tracer costs 2-2.6x whatever is restricted: `timid` and
`branch` are already off in the layer's rcfile, only the block files are measured already,
and neither dropping per-test contexts nor measuring a smaller file brings it near 1.3x.
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
