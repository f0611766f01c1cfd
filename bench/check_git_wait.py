"""Benchmark: how long `handrail check` waits for its git calls, started early or when needed.

The gate starts `git ls-files` (twice) and `git grep -l handrail:` before it imports the
engine (`handrail.gate.early`), so git works while Python imports. This times what is left:
the check blocked in `communicate()` on git, with the calls started early (as the console
script does) and without, alternating in fresh processes on check_bench.py's tree.

    python bench/check_git_wait.py [--runs 5]

Run check_bench.py once first: it builds the tree.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_PROBE = """
import subprocess, sys, time
waited = []
communicate = subprocess.Popen.communicate
def timed(self, *args, **kwargs):
    start = time.perf_counter()
    try:
        return communicate(self, *args, **kwargs)
    finally:
        waited.append(time.perf_counter() - start)
subprocess.Popen.communicate = timed
from handrail.cli.check_core import run_common
from handrail.gate.early import start_gate_git
run_common(["--format", "json", "."], prepare=start_gate_git if sys.argv[1] == "early" else None)
print(sum(waited) * 1000, file=sys.stderr)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.gettempdir()) / "handrail-bench" / "stdlib-repo"
    if not (root / ".built").exists():
        print(f"no tree at {root}: run bench/check_bench.py first", file=sys.stderr)
        return 2
    waits: dict[str, list[float]] = {"early": [], "late": []}
    for _ in range(args.runs):
        for mode, times in waits.items():
            done = subprocess.run(
                [sys.executable, "-P", "-c", _PROBE, mode],
                cwd=root,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=True,
            )
            times.append(float(done.stderr.strip().splitlines()[-1]))
    for mode, times in waits.items():
        times.sort()
        print(
            f"git started {mode}: the check waited {times[len(times) // 2]:.1f} ms for git "
            f"(median of {args.runs}; {times[0]:.1f}-{times[-1]:.1f})"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
