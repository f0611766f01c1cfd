"""Running git for the interop readers: no shell, bounded time, failures as `InteropError`."""

from __future__ import annotations

from handrail.git import GitError, git
from handrail.workspace import Workspace


class InteropError(Exception):
    """git or the data it holds cannot be read; the message is a sentence for the user."""


def git_bytes(ws: Workspace, args: list[str], *, missing_ok: bool = False) -> bytes | None:
    """git's output run in the workspace root; None for a failure when `missing_ok`."""
    try:
        return git(ws.root, *args)
    except GitError as exc:
        if missing_ok:
            return None
        raise InteropError(f"git {args[0]} failed: {exc}") from exc


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
