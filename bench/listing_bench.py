"""How fast `handrail.files.list_files` lists a 100k-file tree, next to `rg --files`.

    /work/venv/bin/python bench/listing_bench.py [--root /tmp/handrail-listing-bench] [--runs 5]

Builds (once, then reuses) a realistic Python + Node monorepo of about 100,000 files: most of
them in ignored folders (node_modules/, .venv/, __pycache__/, dist/, build/), the way a real
checkout looks. Two copies: `repo/` (a git repository, the listed files committed) and
`plain/` (the same files, no `.git`). Prints the best of N runs of:

- `rg --files` and `rg --files --hidden -g !.git` (the same list as handrail's: dotfiles too),
- `list_files` in `repo/` (git ls-files) and in `plain/` (the pruned walk),

and checks that every lister returns the same files. Goal: list_files within 1.5x of rg.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from handrail.files import list_files
from handrail.workspace import Workspace

TREE_VERSION = "5"

ROOT_GITIGNORE = """\
# Python
__pycache__/
*.py[cod]
*.egg-info/
.venv/
.pytest_cache/
.mypy_cache/
build/
dist/
.coverage
htmlcov/
# Node
node_modules/
npm-debug.log*
.next/
/coverage
*.tsbuildinfo
# project
docs/_build/
/backend/pkg*/fixtures/generated/
**/snapshots/**/*.snap
*.log
.env
!.env.example
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def build_tree(root: Path) -> int:
    """Create the tree under `root`; returns the number of files written."""
    count = 0

    def put(rel: str, text: str = "x\n") -> None:
        nonlocal count
        _write(root / rel, text)
        count += 1

    put(".gitignore", ROOT_GITIGNORE)
    put(".env.example", "KEY=\n")
    put(".env", "KEY=secret\n")
    put("README.md", "# bench\n")
    # The Python backend: 12 packages x 20 modules x 40 files, each folder with __pycache__.
    for pkg in range(12):
        put(f"backend/pkg{pkg}/__init__.py")
        for mod in range(20):
            folder = f"backend/pkg{pkg}/mod{mod}"
            # Unique names, as in a real tree (a cache keyed by name gets no free hits).
            for i in range(40):
                put(f"{folder}/m{pkg}_{mod}_{i}.py", "def f():\n    return 1\n")
            for i in range(10):
                put(f"{folder}/__pycache__/m{pkg}_{mod}_{i}.cpython-311.pyc")
        put(f"backend/pkg{pkg}/server.log")
    put("backend/pkg3/.gitignore", "local/\n!keep.log\n")
    for i in range(200):
        put(f"backend/pkg3/fixtures/generated/g{i}.json")
    put("backend/pkg3/keep.log")
    for i in range(2000):
        put(f"tests/unit/t{i // 100}/test_{i}.py")
    # A virtualenv: 19,800 files in site-packages.
    for dist in range(330):
        for i in range(60):
            put(f".venv/lib/python3.11/site-packages/dist{dist}/m{i}.py")
    # The frontend: sources, and a node_modules of 60,000 files.
    for i in range(3000):
        put(f"web/src/components/c{i // 50}/Comp{i}.tsx")
    for i in range(100):
        put(f"web/src/coverage/c{i}.ts")
    for name in range(1200):
        for i in range(50):
            put(f"web/node_modules/pkg{name}/lib/f{i}.js")
    for i in range(1500):
        put(f"web/dist/assets/a{i}.js")
    put("web/.gitignore", ".cache/\n")
    for i in range(300):
        put(f"web/.cache/c{i}")
    for i in range(1000):
        put(f"build/lib/b{i}.o")
    for i in range(600):
        put(f"docs/section{i // 30}/page{i}.md")
    for i in range(400):
        put(f"docs/_build/html/page{i}.html")
    for i in range(300):
        put(f"tests/snapshots/s{i // 50}/case{i}.snap")
    for i in range(100):
        put(f"coverage/file{i}.html")
    return count


def ensure_tree(base: Path) -> tuple[Path, Path]:
    marker = base / f".tree-v{TREE_VERSION}"
    repo, plain = base / "repo", base / "plain"
    if marker.exists():
        return repo, plain
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    t0 = time.perf_counter()
    written = build_tree(plain)
    shutil.copytree(plain, repo, symlinks=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "b@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "b@example.com",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "bench tree"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)
    marker.write_text(f"{written} files\n")
    print(f"built {written} files (x2) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return repo, plain


def best_of(runs: int, listers: list[tuple[str, Callable[[], list[str]]]]) -> list[Row]:
    """Best time of each lister over `runs` rounds; the rounds interleave the listers, so a
    burst of load from elsewhere on the machine hits them all alike."""
    best = {name: float("inf") for name, _ in listers}
    results: dict[str, list[str]] = {}
    for _ in range(runs):
        for name, fn in listers:
            t0 = time.perf_counter()
            results[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return [(name, best[name], results[name]) for name, _ in listers]


Row = tuple[str, float, list[str]]


def rg(cwd: Path, *extra: str) -> Callable[[], list[str]]:
    def run() -> list[str]:
        out = subprocess.run(
            ["rg", "--files", *extra], cwd=cwd, capture_output=True, check=True
        ).stdout
        return out.decode("utf-8", "surrogateescape").splitlines()

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/handrail-listing-bench"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("rg") is None:
        print("ripgrep (rg) is not installed: apt-get install -y ripgrep", file=sys.stderr)
        return 2
    repo, plain = ensure_tree(args.root)
    on_disk = sum(len(files) for _, _, files in os.walk(plain))
    print(f"tree: {on_disk} files on disk per copy; best of {args.runs} runs")

    same_list = ("--hidden", "-g", "!.git")
    ws_repo, ws_plain = Workspace.at(repo), Workspace.at(plain)
    rows = best_of(
        args.runs,
        [
            ("rg --files (repo)", rg(repo)),
            ("rg --files --hidden -g !.git (repo)", rg(repo, *same_list)),
            (
                "rg --files --hidden -g !.git --no-require-git (plain)",
                rg(plain, *same_list, "--no-require-git"),
            ),
            ("list_files (repo: git ls-files)", lambda: list_files(ws_repo)),
            ("list_files (plain: pruned walk)", lambda: list_files(ws_plain)),
        ],
    )

    reference = rows[0][1]
    for name, seconds, listed in rows:
        print(
            f"{name:58s} {seconds * 1000:8.1f} ms  {len(listed):6d} files  "
            f"{seconds / reference:5.2f}x rg --files"
        )

    expected = sorted(rows[1][2])
    problems = [name for name, _, listed in rows[1:] if sorted(listed) != expected]
    if problems:
        print(f"different lists: {problems}", file=sys.stderr)
        return 1
    print("all listers that include dotfiles return the same files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
