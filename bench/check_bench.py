"""Benchmark: `handrail check` on a git repository made from this machine's standard library.

Goal (issue 2): wall time at most 3x the floor measured in the same run, the floor being
`git grep -n handrail:` on the tree plus a bare `python3 -c pass`; peak memory at most 200 MB.

    python bench/check_bench.py [--files 2000] [--blocks 200] [--runs 5] [--other-source DIR]

`--other-source DIR` also times another version's engine (DIR holds its `handrail` package,
e.g. from `git archive main server rules | tar -x -C /tmp/main`, then DIR=/tmp/main/server),
in the same interleaved runs: the before/after of bench/README.md.

The tree is built once under $TMPDIR/handrail-bench/ and reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from handrail.blocks.mark import wrap_lines
from handrail.blocks.markers import parse_blocks
from handrail.ledger.records import BlockMarked, VerificationRun
from handrail.ledger.store import Ledger
from handrail.tasks.files import create_task
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

SPEC = (
    "Given a text line, return its fields as a list of strings. It must handle quoted commas "
    "and follow the pattern of the existing parser."
)


def build_tree(root: Path, n_files: int, n_blocks: int) -> Workspace:
    stamp = root / ".built"
    ws = Workspace.at(root)
    if stamp.exists() and stamp.read_text() == f"{n_files} {n_blocks}":
        return ws
    if root.exists():
        shutil.rmtree(root)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sources = sorted(
        p
        for p in stdlib.rglob("*.py")
        if "site-packages" not in p.parts and "__pycache__" not in p.parts
    )[:n_files]
    for src in sources:
        dest = root / src.relative_to(stdlib)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    (root / ".handrail" / "tasks").mkdir(parents=True)
    (root / ".handrail" / "workflow.toml").write_text(
        'extends = "default"\n\n[workflow]\nowner = "Bench <bench@example.com>"\n'
        "reviewed = 2026-11-01\nreview_every_days = 3650\n"
    )
    workflow = Workflow.model_validate({})
    task_ids = []
    for _ in range(10):
        created = create_task(ws, workflow, SPEC, [])
        assert created.task is not None, created.findings
        task_ids.append(created.task.task.id)
    rng = random.Random(7)
    ledger = Ledger(ws)
    candidates = [p for p in sources if len(p.read_text(errors="replace").splitlines()) > 40]
    for i, src in enumerate(rng.sample(candidates, n_blocks)):
        rel = src.relative_to(stdlib).as_posix()
        path = root / rel
        text = path.read_text(errors="surrogateescape")
        n_lines = len(text.splitlines())
        start = rng.randint(1, n_lines - 12)
        task_id = task_ids[i % len(task_ids)]
        block_id = f"{task_id}.{i + 1}"
        new_text = wrap_lines(text, start, start + 9, block_id, rel)
        path.write_text(new_text, errors="surrogateescape")
        block = next(b for b in parse_blocks(new_text, rel).blocks if b.id == block_id)
        ledger.append(
            BlockMarked.create(
                block_id=block.id,
                task_id=task_id,
                path=rel,
                content_hash=block.content_hash,
                begin_line=block.begin_line,
                end_line=block.end_line,
                author="bench",
            )
        )
        if i % 2 == 0:
            started = dt.datetime.now(dt.UTC)
            ledger.append(
                VerificationRun.create(
                    task_id=task_id,
                    started_at=started,
                    finished_at=started,
                    command=["python", "-m", "pytest", "-q"],
                    exit_code=0,
                    passed=True,
                    timed_out=False,
                    blocks={block.id: block.content_hash},
                    output_tail="1 passed",
                    first_attempt=[block.id],
                    author="bench",
                )
            )
    git = ["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=b@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "bench tree"], check=True)
    stamp.write_text(f"{n_files} {n_blocks}")
    return ws


def timed_run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, *, forget: bool = False
) -> float:
    """Wall time of one run; `forget` first removes the recorded runs (gate.reuse), so that
    the run is a full one that records."""
    if forget:
        from handrail.gate.reuse import cache_folder

        shutil.rmtree(cache_folder(), ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _until_reused(argv: list[str], cwd: Path) -> None:
    """Run `argv` until a run reuses the one before it (a file changed less than two seconds
    before a run, such as bytecode just compiled, keeps that run from being recorded)."""
    env = dict(os.environ, HANDRAIL_DEBUG_REUSE="1")
    for _ in range(10):
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        if "reused the previous run's result" in done.stderr:
            return
        time.sleep(1)
    raise SystemExit(f"the repeated run never reused the one before it: {done.stderr[-500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--other-source",
        type=Path,
        help="a folder holding another version's `handrail` package, timed alongside",
    )
    args = parser.parse_args()
    root = Path(tempfile.gettempdir()) / "handrail-bench" / "stdlib-repo"
    ws = build_tree(root, args.files, args.blocks)
    handrail = str(Path(sys.executable).with_name("handrail"))

    # An installed Handrail has its bytecode compiled by pip; a checkout may not (and this
    # machine sets PYTHONDONTWRITEBYTECODE), so compile it once as pip would.
    import compileall

    import handrail as package

    compileall.compile_dir(Path(package.__file__).parent, quiet=1)
    # Warm the OS page cache and Handrail's token cache once, as a developer's second run would.
    subprocess.run([handrail, "check", str(ws.root)], cwd=ws.root, stdout=subprocess.DEVNULL)
    # Both versions start as their console script does: `handrail.cli.entry` (which runs the
    # common `check` without click), or `handrail.cli.main` in a version older than it.
    # `-P`: the tree is a copy of the standard library, which must not shadow the real one
    # from the current folder.
    launcher = [
        sys.executable,
        "-P",
        "-c",
        "import sys\n"
        "try:\n    from handrail.cli.entry import main\n"
        "except ImportError:\n    from handrail.cli.main import main\n"
        "sys.exit(main())",
    ]
    # The machine may be shared: the floor and the subject alternate, best of each. "check"
    # is a full run (reuse off); "recording" a full run with reuse on and nothing recorded
    # yet (the first run after a change: it records); "repeated" a run whose inputs did not
    # change since the last one, which reuses its result (gate.reuse; proved below).
    full_env = dict(os.environ, HANDRAIL_NO_REUSE="1")
    repeated = [*launcher, "check", "--format", "json", "."]
    _until_reused(repeated, ws.root)
    commands = {
        "grep": (["git", "grep", "-n", "handrail:"], None),
        "bare": ([sys.executable, "-c", "pass"], None),
        # Not Handrail: what any check that validates with pydantic (the model layer issue 17
        # asks to keep) pays before it reads a single file.
        "pydantic": ([sys.executable, "-P", "-c", "from pydantic import BaseModel"], None),
        "check": ([*launcher, "check", "--format", "json", "."], full_env),
        "recording": (repeated, None),
        "repeated": (repeated, None),
    }
    if args.other_source is not None:
        # Another checkout's engine (e.g. `git archive main server rules | tar -x -C DIR`),
        # run by the same console script: a before/after in one run.
        env = dict(os.environ, PYTHONPATH=str(args.other_source))
        compileall.compile_dir(args.other_source / "handrail", quiet=1)
        env["HANDRAIL_NO_REUSE"] = "1"
        commands["other"] = ([*launcher, "check", "--format", "json", "."], env)
    best = {name: float("inf") for name in commands}
    for _ in range(args.runs):
        for name, (argv, env) in commands.items():
            forget = name == "recording"
            best[name] = min(best[name], timed_run(argv, ws.root, env, forget=forget))
    grep, bare, check = best["grep"], best["bare"], best["check"]
    floor = grep + bare
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([handrail, "check", "."], cwd=ws.root, stdout=subprocess.DEVNULL)
    peak_kb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    files = len(
        subprocess.run(
            ["git", "ls-files"], cwd=ws.root, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    )

    print(f"tree: {files} files, {args.blocks} blocks ({ws.root})")
    print(
        f"floor: git grep {grep * 1000:.0f} ms + python -c pass {bare * 1000:.0f} ms "
        f"= {floor * 1000:.0f} ms"
    )
    print(f"handrail check: {check * 1000:.0f} ms = {check / floor:.2f}x the floor (goal <= 3x)")
    pyd = best["pydantic"]
    print(
        f"python -c 'from pydantic import BaseModel' (no Handrail): {pyd * 1000:.0f} ms = "
        f"{pyd / floor:.2f}x the floor"
    )
    recording = best["recording"]
    print(
        f"handrail check, the first run after a change (reuse on, records): "
        f"{recording * 1000:.0f} ms = {recording / floor:.2f}x the floor "
        f"({(recording - check) * 1000:+.0f} ms)"
    )
    again = best["repeated"]
    print(
        f"handrail check, repeated run, inputs unchanged: {again * 1000:.0f} ms = "
        f"{again / floor:.2f}x the floor"
    )
    if "other" in best:
        other = best["other"]
        print(
            f"handrail check from {args.other_source}: {other * 1000:.0f} ms = "
            f"{other / floor:.2f}x the floor"
        )
    print(f"best of {args.runs}, interleaved; load average {os.getloadavg()[0]:.1f}")
    print(f"peak memory of the largest child so far: {peak_kb / 1024:.0f} MB (goal <= 200 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
