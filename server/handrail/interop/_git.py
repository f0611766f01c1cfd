"""Running git for the interop readers: no shell, bounded time, failures as `InteropError`."""

from __future__ import annotations

import subprocess

from handrail.workspace import Workspace

_GIT_TIMEOUT_S = 60


class InteropError(Exception):
    """git or the data it holds cannot be read; the message is a sentence for the user."""


def git_bytes(ws: Workspace, args: list[str], *, missing_ok: bool = False) -> bytes | None:
    """git's output run in the workspace root; None for a failure when `missing_ok`."""
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotePath=false", *args],
            cwd=ws.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise InteropError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        if missing_ok:
            return None
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InteropError(f"git {args[0]} failed: {lines[-1] if lines else done.returncode}")
    return done.stdout


def git_text(ws: Workspace, args: list[str]) -> str:
    out = git_bytes(ws, args)
    assert out is not None
    return out.decode("utf-8", "surrogateescape")


def commit_of(ws: Workspace, rev: str) -> str:
    """The full sha of `rev`; `InteropError` when it names no commit."""
    if rev.startswith("-"):
        raise InteropError(f"{rev!r} is not a revision")
    out = git_bytes(ws, ["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], missing_ok=True)
    if not out:
        raise InteropError(f"{rev!r} is not a commit of this repository")
    return out.decode().strip()


def repo_prefix(ws: Workspace) -> str:
    """The workspace folder relative to the repository top ("" or ending with "/")."""
    return git_text(ws, ["rev-parse", "--show-prefix"]).strip()
