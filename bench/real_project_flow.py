"""The whole evidence flow (issue 11) on a real open-source project fetched from the package index.

Downloads the sdist of toolz (a small, well-tested library: 180 tests in about 1.5 s), makes it a
git repository, and then does what a new user would, through the `handrail` command line only:

1. an off-by-one function generated under task A, with a generated test that exposes it:
   the *function* gets the failed first attempt, the test block does not;
2. a function nobody tests, under task B: the suite passes, the block stays unverified (HR310);
3. a verification command whose interpreter has no pytest: "could not run", no first attempt;
4. `verify --all` with two tasks on the same command: the command runs once;
5. the function fixed, the probe: its tests catch the mutants; a weakly tested function
   (task C) keeps a surviving mutant, shown with its line;
6. the CI gate (`check --rerun --trust-commands`) fails on the untested block, and `pr`/`stats`
   carry the same facts.

Every step checks what it printed; the script exits 1 on the first expectation that does not
hold (with the transcript so far), 0 when the whole flow behaved. It needs the network (PyPI)
and takes about a minute; it is in bench/ rather than the test suite for that reason.

    python bench/real_project_flow.py [--keep] [--version 1.0.0]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HANDRAIL = [sys.executable, "-m", "handrail"]

CHUNKED_BUGGY = '''

def chunked_sum(seq, n):
    """Sums of consecutive chunks of n items of seq, as a list."""
    if n <= 0:
        raise ValueError("n must be positive")
    items = list(seq)
    return [sum(items[i : i + n]) for i in range(0, len(items) - 1, n)]
'''
CHUNKED_FIXED = CHUNKED_BUGGY.replace("len(items) - 1, n", "len(items), n")
CHUNKED_TEST = """from toolz.itertoolz import chunked_sum


def test_chunked_sum_keeps_the_last_item():
    assert chunked_sum([1, 2, 3, 4, 5], 2) == [3, 7, 5]


def test_chunked_sum_one_item():
    assert chunked_sum([4], 3) == [4]
"""
UNTESTED = '''

def interleave_pairs(a, b):
    """Pairs of a and b, then the rest of the longer one."""
    out = []
    for x, y in zip(a, b):
        out.append((x, y))
    return out
'''
WEAK = '''

def clamp_count(n, low, high):
    """n, kept between low and high."""
    if n < low:
        return low
    if n > high:
        return high
    return n
'''
WEAK_TEST = """from toolz.itertoolz import clamp_count


def test_clamp_count_returns_an_int():
    assert isinstance(clamp_count(5, 0, 10), int)
"""


class Failed(Exception):
    pass


class Flow:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.transcript: list[str] = []
        self.stdout = ""

    def run(self, *args: str, expect: int | None = None, env: dict[str, str] | None = None) -> str:
        started = time.perf_counter()
        done = subprocess.run(
            [*HANDRAIL, *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        took = time.perf_counter() - started
        text = done.stdout + done.stderr
        self.stdout = done.stdout
        shown = " ".join(args)
        self.transcript.append(f"$ handrail {shown}   ({took:.1f} s, exit {done.returncode})")
        self.transcript += ["  " + line for line in text.rstrip().splitlines()]
        if expect is not None and done.returncode != expect:
            raise Failed(f"`handrail {' '.join(args)}` exited {done.returncode}, expected {expect}")
        return text

    def expect(self, condition: bool, what: str) -> None:
        self.transcript.append(("  ok: " if condition else "  NOT: ") + what)
        if not condition:
            raise Failed(what)

    def git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True)

    def append_block(self, path: str, text: str, task: str) -> str:
        """Append `text` to `path` and mark its lines (after the leading blank lines)."""
        file = self.root / path
        before = file.read_text(encoding="utf-8") if file.exists() else ""
        file.write_text(before + text, encoding="utf-8")
        first = before.count("\n") + 1 + (len(text) - len(text.lstrip("\n")))
        last = (before + text).rstrip("\n").count("\n") + 1
        out = self.run("mark", path, str(first), str(last), "--task", task, expect=0)
        block = out.split(" as block ", 1)[1].split(" ", 1)[0]
        return block

    def new_task(self, spec: str, context: str, verify: str | None = None) -> str:
        args = ["task", "new", spec, "--context", context, "--json"]
        if verify is not None:
            args += ["--verify", verify]
        self.run(*args, expect=0)
        return str(json.loads(self.stdout)["task"])


def fetch(version: str, into: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-binary",
            ":all:",
            "--no-deps",
            "--dest",
            str(into),
            f"toolz=={version}",
        ],
        check=True,
        capture_output=True,
    )
    (archive,) = into.glob("toolz-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / f"toolz-{version}"


def flow(f: Flow, no_pytest_python: Path) -> None:
    py = shlex_quote(sys.executable)
    suite = f"{py} -m pytest -q -p no:cacheprovider toolz/tests"

    # 1. A buggy function and the generated test that exposes it.
    a = f.new_task(
        "Given a sequence and a chunk size n, add chunked_sum to toolz/itertoolz.py returning "
        "the list of sums of consecutive chunks. It must raise ValueError when n is not "
        "positive, following the style of partition_all.",
        "toolz/itertoolz.py",
        verify=suite,
    )
    f.run("trust", expect=0)
    func = f.append_block("toolz/itertoolz.py", CHUNKED_BUGGY, a)
    test = f.append_block("toolz/tests/test_chunked.py", CHUNKED_TEST, a)
    f.run("verify", a, "--json", expect=1)
    report = json.loads(f.stdout)
    status = {b["block"]: (b["status"], b["first_attempt"]) for b in report["blocks"]}
    f.expect(status[func] == ("failed", True), f"{func} (the function) failed its first attempt")
    f.expect(status[test][0] != "failed", f"{test} (the test that exposed it) is not the failure")

    # The fix: the function's lines, not the test.
    text = (f.root / "toolz/itertoolz.py").read_text(encoding="utf-8")
    fixed_body = CHUNKED_FIXED.strip("\n")
    buggy_body = CHUNKED_BUGGY.strip("\n")
    (f.root / "toolz/itertoolz.py").write_text(text.replace(buggy_body, fixed_body), "utf-8")
    out = f.run("verify", a, expect=0)
    f.expect(out.count("verified") >= 2, f"{func} and {test} verified once the function is fixed")

    # 2. A function no test runs.
    b = f.new_task(
        "Given two sequences, add interleave_pairs to toolz/itertoolz.py returning their "
        "pairs. It must stop at the shorter one, following the style of interleave.",
        "toolz/itertoolz.py",
        verify=suite,
    )
    untested = f.append_block("toolz/itertoolz.py", UNTESTED, b)
    f.run("trust", expect=0)
    out = f.run("verify", b, expect=1)
    f.expect("passed in" in out, "the suite passed")
    f.expect("not executed" in out and untested in out, f"{untested}: no test executed it")

    # 3. An interpreter without pytest: could not run, not a failed first attempt.
    c = f.new_task(
        "Given a count and bounds, add clamp_count to toolz/itertoolz.py returning the "
        "count kept within the bounds. It must return low or high unchanged, following the "
        "style of the other helpers.",
        "toolz/itertoolz.py",
        verify=f"{shlex_quote(str(no_pytest_python))} -m pytest -q toolz/tests",
    )
    weak = f.append_block("toolz/itertoolz.py", WEAK, c)
    f.append_block("toolz/tests/test_clamp.py", WEAK_TEST, c)
    f.run("trust", expect=0)
    f.run("verify", weak, "--json", expect=1)
    report = json.loads(f.stdout)
    mine = next(x for x in report["blocks"] if x["block"] == weak)
    f.expect(mine["status"] == "could_not_run", f"{weak}: could not run ({mine['message']})")
    f.expect(not mine["first_attempt"], f"{weak}: the could-not-run run is no first attempt")

    # Task C gets the suite's command: edit the task (the loop of issue 13).
    f.run("task", "edit", c, "--verify", suite, expect=0)
    f.run("trust", expect=0)

    # 4. `verify --all` runs the suite once for tasks A, B and C.
    out = f.run("verify", "--all")
    f.expect(
        out.count(": running ") == 1 and out.count("share the run of [1/3]") == 2,
        "one command, one run shared by three tasks",
    )
    f.expect("not executed" in out and untested in out, f"{untested} still not executed")

    # 5. The probe: the fixed function's tests catch its mutants; the weak test does not.
    out = f.run("verify", func, "--probe")
    f.expect("caught" in out, f"{func}: the probe reports what it caught")
    out = f.run("verify", weak, "--probe")
    f.expect("still passes" in out or "survived" in out, f"{weak}: a surviving mutant is named")

    # 6. The CI gate with fresh runs; pr and stats.
    f.git("add", "-A")
    f.git("commit", "-qm", "generated helpers")
    out = f.run("check", "--rerun", "--trust-commands", expect=1)
    f.expect("HR310" in out and untested in out, "the CI gate fails on the untested block")
    f.run("stats", "--format", "json", expect=0)
    stats = json.loads(f.stdout)
    f.expect("first_attempt" in json.dumps(stats), "stats carries first-attempt figures")
    f.run("pr", "--base", "HEAD~1", expect=0)
    f.expect(f"`{untested}`" in f.stdout, "pr lists the untested block")

    # 7. The gate run again on the unchanged tree prints the last run's result without checking
    # again (gate.reuse); an edit inside a block makes the next run a full one.
    debug = {"HANDRAIL_DEBUG_REUSE": "1"}
    time.sleep(0.3)  # past the racy window of the ledger records just written
    out = f.run("check", expect=1, env=debug)
    first = f.stdout
    f.expect("reused" not in out, "the first check after the changes runs in full")
    out = f.run("check", expect=1, env=debug)
    f.expect("reused the previous run's result" in out, "the same check again reuses it")
    f.expect(f.stdout == first, "and prints exactly what the full run printed")
    path = f.root / "toolz/itertoolz.py"
    edited = path.read_text("utf-8").replace('"n must be positive"', '"n must be above 0"')
    path.write_text(edited, "utf-8")
    out = f.run("check", expect=1, env=debug)
    f.expect("reused the previous" not in out, "an edited block: the next check runs in full")
    f.expect(f.stdout != first and "HR301" in out and func in out, f"and finds {func} changed")


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default="1.0.0", help="toolz version (default 1.0.0)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="handrail-real-"))
    try:
        root = fetch(args.version, tmp)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
        for key, value in (("user.name", "Ann"), ("user.email", "ann@example.com")):
            subprocess.run(["git", "config", key, value], cwd=root, check=True)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run(["git", "commit", "-qm", "toolz sdist"], cwd=root, check=True)
        # An interpreter with no pytest: a bare venv.
        bare = tmp / "bare-venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
        env = dict(os.environ)
        env["XDG_STATE_HOME"] = str(tmp / "state")  # the trust store, away from the user's
        env.pop("PYTHONPATH", None)
        f = Flow(root, env)
        f.run("init", expect=0)
        try:
            flow(f, bare / "bin" / "python")
        except Failed as exc:
            print("\n".join(f.transcript))
            print(f"\nFAILED: {exc}")
            return 1
        print("\n".join(f.transcript))
        print("\nThe whole flow behaved on toolz", args.version)
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
