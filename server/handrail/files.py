"""The files a check looks at: git's view of the work tree, or a pruned walk outside git.

Inside a git work tree the list is git's own (`git ls-files`): tracked files plus untracked
files that no ignore rule excludes, without tracked files deleted from disk and without
submodules (a tracked path that is missing or a folder on disk is left out: one listing of
each folder tells, cheaper than git's per-file `--deleted` check). Outside git, or when git
is missing or fails, a walk with `os.scandir` gives the same list for the same tree: it
honours every `.gitignore` and `.git/info/exclude`, prunes ignored folders before entering
them (a `node_modules/` is never listed) and never follows a symlinked folder. Either way the
workflow's extra ignore patterns are applied last.

Symlinks are listed as entries, as git lists them; a check that reads a file resolves it with
`Workspace.resolve_inside` first.
"""

from __future__ import annotations

import atexit
import logging
import os
import posixpath
import signal
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

from handrail.git import git_program, safe_env
from handrail.ignore import GITIGNORE, EntryCheck, IgnoreMatch, IgnoreMatcher, has_drive
from handrail.workspace import PathEscapesWorkspace, Workspace

log = logging.getLogger(__name__)

GIT_TIMEOUT_S = 60.0
"""How long one git call may take before the walk is used instead."""

# No config from the repository may run a program while we only list files (handrail.git
# explains which and how), and no prompt may wait for a terminal that is not there. git itself
# comes from `git_program` (absolute PATH entries only: git runs in the workspace).
_GIT_OPTIONS = ("--literal-pathspecs",)


def is_git_work_tree(path: Path) -> bool:
    """True when `path` is inside a git work tree that git agrees to read.

    False when git is missing, the folder is no repository, or git refuses it (for example
    a repository owned by another user, `safe.directory`).
    """
    try:
        out = _run_git(path, ["rev-parse", "--is-inside-work-tree"], timeout=10.0)
    except _GitFailed:
        return False
    return out.strip() == b"true"


def list_files(
    ws: Workspace, *, under: str | None = None, ignore_patterns: Sequence[str] = ()
) -> list[str]:
    """Workspace-relative files to check, `/`-separated and sorted.

    `under` (workspace-relative) limits the list to a folder or one file; it is empty when
    `under` does not exist, lies inside an ignored folder or goes through a symlinked folder.
    `ignore_patterns` (gitignore syntax, read as a `.gitignore` at the root) are removed last.
    Raises `PathEscapesWorkspace` when `under` leaves the workspace.
    """
    scope = _scope(ws, under)
    if scope is None:
        return []
    rel, kind = scope
    listed = _git_list(ws.root, rel) if _may_be_in_git(ws.root) else None
    if listed is None:
        listed = _walk(ws.root, rel, kind, ignore_patterns)
    elif ignore_patterns:
        extra = IgnoreMatcher.for_workspace(ws, ignore_patterns, use_gitignore=False)
        listed = [path for path in listed if extra.match(path) is None]
    listed.sort()
    return listed


def files_mentioning(ws: Workspace, needle: str) -> set[str] | None:
    """The workspace's files whose text holds `needle`, found by one `git grep`.

    Tracked files and untracked ones no ignore rule excludes, as `list_files` lists them;
    files git takes for binary (UTF-16 text among them) are left out. None outside a git work
    tree or when git fails: the caller then reads the files itself.
    """
    return _grep(ws, _grep_args(needle))


WIDE_MARKS = (os.fsdecode(b"\xff\xfe"), os.fsdecode(b"\xfe\xff"))
"""The two bytes a UTF-16/32 byte order mark starts with (as `git grep` arguments: undecodable
bytes are carried by surrogates and given to git as the bytes they were)."""


def files_with_markers(ws: Workspace, needle: str) -> set[str] | None:
    """The workspace's files whose bytes hold `needle` or a byte order mark's two bytes, binary
    ones included, found by one `git grep`: every file that may hold a marker, UTF-16/32 text
    (binary to git) among them. The caller reads each and leaves out what git calls binary.
    None as for `files_mentioning`."""
    return _grep(ws, _marker_grep_args(needle))


def _grep(ws: Workspace, args: list[str]) -> set[str] | None:
    if not _may_be_in_git(ws.root):
        return None
    proc = None
    try:
        proc = _start_git(ws.root, args)
        out, err = proc.communicate(timeout=GIT_TIMEOUT_S)
    except (_GitFailed, subprocess.TimeoutExpired) as exc:
        if proc is not None:
            _kill(proc)
            proc.communicate()
        log.debug("no git grep: %s", exc)
        return None
    if proc.returncode == 1 and not err:  # git grep's "nothing found"
        return set()
    if proc.returncode != 0:
        log.debug("git grep exited %s: %s", proc.returncode, err.decode(errors="replace"))
        return None
    return set(_split_z(out))


def _grep_args(needle: str) -> list[str]:
    return ["grep", "-l", "-z", "-I", "-F", "--untracked", "--no-textconv", "-e", needle]


def _marker_grep_args(needle: str) -> list[str]:
    marks = [arg for mark in (needle, *WIDE_MARKS) for arg in ("-e", mark)]
    return ["grep", "-l", "-z", "-F", "--untracked", "--no-textconv", *marks]


def _listing_args(under: str) -> tuple[list[str], list[str]]:
    """The two `git ls-files` of `_git_list`: tracked files, and the untracked not ignored."""
    pathspec = ["--", under] if under else []
    return (
        ["ls-files", "-z", *pathspec],
        ["ls-files", "-z", "--others", "--exclude-standard", *pathspec],
    )


# -- git calls started early -------------------------------------------------------------------

# (folder, git arguments) -> the git process started for that exact call before it was made.
_EARLY: dict[tuple[str, tuple[str, ...]], subprocess.Popen[bytes]] = {}


def start_early(ws: Workspace, needle: str) -> None:
    """Start now the git calls of `list_files(ws)` and `files_with_markers(ws, needle)`.

    `handrail check` calls this before it imports the engine, so git lists and searches the
    tree while Python imports (issue 17). Each process is handed to the call with exactly
    the same folder and arguments, once; the call then reads it as if it had started it.
    Processes no call took are killed when the interpreter exits.
    """
    if not _may_be_in_git(ws.root):
        return
    tracked, others = _listing_args("")
    if not _EARLY:
        atexit.register(discard_early)
    for args in (tracked, others, _marker_grep_args(needle)):
        key = (str(ws.root), tuple(args))
        if key in _EARLY:
            continue
        try:
            _EARLY[key] = _spawn_git(ws.root, args)
        except _GitFailed:
            return  # the calls themselves will say what is wrong


def early_calls_waiting() -> int:
    """How many git processes `start_early` started that no call has taken yet."""
    return len(_EARLY)


def discard_early() -> None:
    """Kill and reap the early git processes no call took (their answer may be stale later)."""
    while _EARLY:
        _, proc = _EARLY.popitem()
        if proc.returncode is None:
            _kill(proc)
        proc.communicate()


# -- scope -----------------------------------------------------------------------------------

_DIR, _FILE = "dir", "file"


def _scope(ws: Workspace, under: str | None) -> tuple[str, str] | None:
    """(normalised `under`, "dir" or "file"), or None when there is nothing to list."""
    if under is None:
        return "", _DIR
    text = under.replace(os.sep, "/") if os.sep != "/" else under
    if text.startswith("/") or has_drive(text):
        raise PathEscapesWorkspace(under)
    rel = posixpath.normpath(text) if text else "."
    if rel == ".":
        return "", _DIR
    if rel == ".." or rel.startswith("../"):
        raise PathEscapesWorkspace(under)
    # Every folder on the way must be a real folder: the walk never follows a symlinked one,
    # and git refuses paths "beyond a symbolic link".
    parts = rel.split("/")
    if ".git" in parts:
        return None  # git's own store is never listed
    current = ws.root
    for part in parts[:-1]:
        current = current / part
        try:
            if not stat.S_ISDIR(os.lstat(current).st_mode):
                return None
        except OSError:
            return None
    target = current / parts[-1]
    try:
        mode = os.lstat(target).st_mode
    except OSError:
        return None
    if stat.S_ISDIR(mode):
        return rel, _DIR
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return rel, _FILE
    return None


# -- git -------------------------------------------------------------------------------------


class _GitFailed(Exception):
    pass


def _run_git(cwd: Path, args: list[str], *, timeout: float | None = None) -> bytes:
    """git's stdout; raises `_GitFailed` when git is missing, fails or takes too long."""
    return _finish_git(_start_git(cwd, args), args[0], timeout=timeout)


def _start_git(cwd: Path, args: list[str]) -> subprocess.Popen[bytes]:
    early = _EARLY.pop((str(cwd), tuple(args)), None)
    if early is not None:
        return early
    return _spawn_git(cwd, args)


def _spawn_git(cwd: Path, args: list[str]) -> subprocess.Popen[bytes]:
    program = git_program()
    if program is None:
        raise _GitFailed("git is not installed (or not on PATH)")
    try:
        # Own process group: on timeout the whole group goes, so no child of git (a hook,
        # a credential helper) keeps the pipes open and the call hanging.
        return subprocess.Popen(
            [program, *_GIT_OPTIONS, *args],
            cwd=cwd,
            env=safe_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
    except OSError as exc:
        raise _GitFailed(str(exc)) from exc


def _finish_git(proc: subprocess.Popen[bytes], what: str, *, timeout: float | None = None) -> bytes:
    limit = GIT_TIMEOUT_S if timeout is None else timeout
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired as exc:
        _kill(proc)
        proc.communicate()
        raise _GitFailed(f"git {what} took longer than {limit:g} s") from exc
    if proc.returncode != 0:
        message = err.decode("utf-8", errors="replace").strip()
        raise _GitFailed(f"git {what} exited {proc.returncode}: {message}")
    return out


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        try:
            os.killpg(proc.pid, signal.SIGKILL)
            return
        except OSError:
            pass
    proc.kill()


def _git_list(root: Path, under: str) -> list[str] | None:
    """git's files under `root` (relative to it), or None outside a work tree or when git fails.

    Two `git ls-files` run side by side: the index (tracked files) and the untracked files
    that no ignore rule excludes. While the second one scans the work tree, the tracked
    paths are checked against one listing of each of their folders.
    """
    tracked_args, others_args = _listing_args(under)
    try:
        tracked_proc = _start_git(root, tracked_args)
    except _GitFailed as exc:
        log.debug("no git listing: %s", exc)
        return None
    try:
        others_proc = _start_git(root, others_args)
    except _GitFailed as exc:
        _kill(tracked_proc)
        tracked_proc.communicate()
        log.debug("no git listing: %s", exc)
        return None
    try:
        tracked_out = _finish_git(tracked_proc, "ls-files")
        present = present_files(root, _split_z(tracked_out))
        others_out = _finish_git(others_proc, "ls-files --others")
    except _GitFailed as exc:
        for proc in (tracked_proc, others_proc):
            if proc.returncode is None:
                _kill(proc)
                proc.communicate()
        if _not_a_work_tree(str(exc)):
            log.debug("not a git work tree, walking instead: %s", exc)
        else:
            log.warning("listing files with git failed, walking the folder instead: %s", exc)
        return None
    # An untracked nested repository is listed as `dir/`: its files are not ours to list.
    present.extend(path for path in _split_z(others_out) if not path.endswith("/"))
    return present


def _may_be_in_git(root: Path) -> bool:
    """False when git surely finds no repository here: no `.git` at or above `root`.

    Saves starting two git processes only to hear "not a git repository" on every listing
    of a plain folder. (GIT_DIR and the like are removed from git's environment.)
    """
    return any(os.path.lexists(folder / ".git") for folder in (root, *root.parents))


def _split_z(out: bytes) -> list[str]:
    return [os.fsdecode(record) for record in out.split(b"\0") if record]


def present_files(root: Path, tracked: Sequence[str]) -> list[str]:
    """The tracked paths that are a file or a symlink on disk, each once, in order.

    Left out: paths missing from disk (deleted, or outside a sparse checkout) and paths
    that are folders (submodules, checked out or not). One `os.scandir` per folder.
    """
    by_folder: dict[str, dict[str, bool]] = {}
    seen: set[str] = set()
    kept: list[str] = []
    root_text = str(root)
    for path in tracked:
        if path in seen:
            continue  # an unmerged path is listed once per stage
        seen.add(path)
        folder, _, name = path.rpartition("/")
        entries = by_folder.get(folder)
        if entries is None:
            entries = _file_entries(os.path.join(root_text, folder) if folder else root_text)
            by_folder[folder] = entries
        if entries.get(name, False):
            kept.append(path)
    return kept


def _file_entries(folder: str) -> dict[str, bool]:
    """name -> "is a file or a symlink" for the entries of `folder` (empty when unreadable)."""
    try:
        with os.scandir(folder) as it:
            return {entry.name: not entry.is_dir(follow_symlinks=False) for entry in it}
    except OSError:
        return {}


def _not_a_work_tree(message: str) -> bool:
    return "not a git repository" in message or "must be run in a work tree" in message


# -- the walk --------------------------------------------------------------------------------


def _walk(root: Path, start: str, kind: str, ignore_patterns: Sequence[str]) -> list[str]:
    ws = Workspace(root)
    # Two matchers, not one: the workflow's patterns are applied after git's rules, exactly as
    # they are to git's list, so both ways give the same files for the same tree.
    matchers = [IgnoreMatcher.for_workspace(ws, (), use_gitignore=True)]
    if ignore_patterns:
        matchers.append(IgnoreMatcher.for_workspace(ws, ignore_patterns, use_gitignore=False))
    if any(m.match(start, is_dir=kind == _DIR) is not None for m in matchers):
        return []
    if kind == _FILE:
        return [start]
    return _walk_folders(root, start, matchers)


def _walk_folders(root: Path, start: str, matchers: list[IgnoreMatcher]) -> list[str]:
    out: list[str] = []
    stack = [start]
    root_text = str(root)
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(os.path.join(root_text, folder) if folder else root_text) as it:
                entries = list(it)
        except OSError as exc:
            # An unreadable folder (permissions, or removed meanwhile) is skipped, not fatal.
            log.debug("not listing %s: %s", folder or ".", exc)
            continue
        has_gitignore = any(entry.name == GITIGNORE for entry in entries)
        checks = [m.enter_folder(folder, has_gitignore=has_gitignore) for m in matchers]
        check = checks[0] if len(checks) == 1 else _any_of(checks)
        prefix = folder + "/" if folder else ""
        for entry in entries:
            name = entry.name
            if name == ".git":
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                # git lists files and symlinks; FIFOs, sockets and devices it skips
                if not (is_dir or entry.is_file(follow_symlinks=False) or entry.is_symlink()):
                    continue
            except OSError:
                continue
            if check(name, is_dir) is not None:
                continue
            if is_dir:
                stack.append(prefix + name)
            else:
                out.append(prefix + name)
    return out


def _any_of(checks: list[EntryCheck]) -> EntryCheck:
    def check(name: str, is_dir: bool) -> IgnoreMatch | None:
        for one in checks:
            found = one(name, is_dir)
            if found is not None:
                return found
        return None

    return check
