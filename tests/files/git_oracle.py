"""git itself as the oracle for the ignore and listing tests (helpers, no tests here)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from handrail.ignore import IgnoreMatch

GIT_ENV = {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}


def git(cwd: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
        check=False,
        timeout=60,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    return path


def check_ignore(repo: Path, paths: Iterable[str]) -> dict[str, IgnoreMatch | None]:
    """`git check-ignore --no-index -v -n` for every path, in one call."""
    listed = list(paths)
    if not listed:
        return {}
    payload = b"".join(os.fsencode(p) + b"\0" for p in listed)
    out = git(
        repo, "check-ignore", "--no-index", "-v", "-n", "-z", "--stdin", input=payload, check=False
    )
    fields = out.split(b"\0")
    result: dict[str, IgnoreMatch | None] = {}
    for i in range(0, len(fields) - 3, 4):
        source, line, pattern, path = (os.fsdecode(f) for f in fields[i : i + 4])
        if pattern and not pattern.startswith("!"):
            result[path] = IgnoreMatch(f"{source}:{line}", pattern)
        else:
            result[path] = None
    missing = set(listed) - set(result)
    assert not missing, f"git check-ignore said nothing about {sorted(missing)}"
    return result


def ls_files(repo: Path) -> list[str]:
    """`git ls-files -co --exclude-standard`, without untracked nested repositories (`dir/`)."""
    out = git(repo, "ls-files", "-z", "-co", "--exclude-standard")
    return sorted(os.fsdecode(p) for p in out.split(b"\0") if p and not p.endswith(b"/"))


def clear(folder: Path) -> None:
    """Remove everything in `folder` except `.git`."""
    for entry in os.scandir(folder):
        if entry.name == ".git":
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def build_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Create `files` (workspace-relative path -> content) under `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))


def all_paths(root: Path) -> dict[str, bool]:
    """Every path under `root` but `.git` (path -> is a folder), as a walk sees it."""
    found: dict[str, bool] = {}
    stack = [""]
    while stack:
        folder = stack.pop()
        with os.scandir(root / folder if folder else root) as it:
            for entry in it:
                if entry.name == ".git":
                    continue
                rel = f"{folder}/{entry.name}" if folder else entry.name
                is_dir = entry.is_dir(follow_symlinks=False)
                found[rel] = is_dir
                if is_dir:
                    stack.append(rel)
    return found


@contextlib.contextmanager
def without_git() -> Iterator[None]:
    """Run the body as on a machine where git is not installed (an empty PATH)."""
    saved = os.environ.get("PATH")
    os.environ["PATH"] = ""
    try:
        yield
    finally:
        if saved is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = saved
