"""Running git for the engine: no shell, bounded time, git's own message on failure.

Like `handrail.files` (which streams its listings itself), no repository config may run a
program or wait for a terminal, and a git hook's environment must not point git at another
repository or index. Paths come back unquoted (`core.quotePath=false`).

git itself is found by `git_program`: git runs with the workspace as its working folder, and a
relative PATH entry (`.`, `bin`, an empty entry) would then name the repository's own `git`
(issue 16).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

_GIT_OPTIONS = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.quotePath=false",
    "--literal-pathspecs",
)
_TIMEOUT_S = 60.0
_HOOK_ENV = frozenset(
    {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR"}
)


class GitError(RuntimeError):
    """git is missing, the folder is no repository, or git refused the request."""


def git_program(path: str | None = None) -> str | None:
    """The absolute path of `git` on PATH (or `path`), searching its absolute entries only.

    Every caller runs git in a workspace folder; a relative entry would be resolved there and
    run a program the repository contains.
    """
    value = os.environ.get("PATH", os.defpath) if path is None else path
    absolute = [entry for entry in value.split(os.pathsep) if entry and os.path.isabs(entry)]
    return shutil.which("git", path=os.pathsep.join(absolute)) if absolute else None


def git(
    root: Path,
    *args: str,
    ok_codes: tuple[int, ...] = (0,),
    index_file: str | None = None,
    input_text: str | None = None,
) -> bytes:
    """git's stdout for `args` run in `root`; GitError with git's own message otherwise.

    `index_file` is the index a commit hook must read (git's GIT_INDEX_FILE for that hook);
    `input_text` is sent on standard input.
    """
    env = {k: v for k, v in os.environ.items() if k not in _HOOK_ENV}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    if index_file is not None:
        env["GIT_INDEX_FILE"] = index_file
    program = git_program()
    if program is None:
        raise GitError("git is not installed (or not on PATH)")
    try:
        done = subprocess.run(
            [program, *_GIT_OPTIONS, *args],
            cwd=root,
            env=env,
            input=None if input_text is None else input_text.encode("utf-8", "surrogateescape"),
            stdin=subprocess.DEVNULL if input_text is None else None,
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed (or not on PATH)") from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"git {args[0]} failed: {exc}") from exc
    if done.returncode not in ok_codes:
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} exited {done.returncode}")
    return done.stdout
