"""Running git for the engine: no shell, bounded time, git's own message on failure, and no
program the repository's configuration names.

A repository's `.git/config` (and `.git/info/attributes`, and the `.gitattributes` it ships)
can make git run programs during the very commands Handrail uses to read it: a clean filter
while `git diff` hashes a changed file, a smudge filter or a long-running `filter.*.process`
while `git archive` writes one, a `textconv` or `diff.external` program for a diff, an
fsmonitor hook for anything that reads the index, a `reference-transaction` hook when
`git notes` moves its ref, `gpg.program` through `log.showSignature`, `core.sshCommand` or a
credential helper through a partial clone's lazy fetch. Handrail never runs what a repository
defines without `handrail trust` (docs/trust.md), so every call here switches them off:

- `--no-textconv --no-ext-diff` on `diff`, `log` and `show` (`--no-textconv` on `grep`);
- `core.fsmonitor=false`, `core.hooksPath` to the null device, `log.showSignature=false` and
  every `gpg.*.program` to the null device, `protocol.allow=never` and each
  `protocol.<name>.allow=never` (no transport, so no lazy fetch, ssh, `ext::` command or
  credential helper), an empty `credential.helper`, no auto-gc;
- for commands that may filter content (`diff`, `archive`, `show`): every `filter.<driver>` the
  configuration defines gets an empty `clean`, `smudge` and `process` and `required=false`,
  which git reads as "no filter". The overrides go through `GIT_CONFIG_COUNT` (git 2.31+),
  not `-c`, so a driver name holding `=` cannot escape them.

A git hook's environment must not point git at another repository or index either, and paths
come back unquoted (`core.quotePath=false`). `handrail.files` starts its listings with
`safe_env` too.

git itself is found by `git_program`: git runs with the workspace as its working folder, and a
relative PATH entry (`.`, `bin`, an empty entry) would then name the repository's own `git`
(issue 16).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

_GIT_OPTIONS = ("-c", "core.quotePath=false", "--literal-pathspecs")
_TIMEOUT_S = 60.0
_OWNER_TIMEOUT_S = 5.0
"""`git config` answers at once; a slow one means no owner rather than a wait."""

# `git rev-parse --local-env-vars` (git 2.39) and the config carried in the environment: a
# git hook exports some of these (GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE), and they would point
# our git at the hook's repository and index instead of the workspace's. githooks(5) advises
# unsetting them; pre-commit does too. Config from the environment would also replace ours.
REPOSITORY_ENV = frozenset(
    {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CONFIG",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_OBJECT_DIRECTORY",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_GRAFT_FILE",
        "GIT_INDEX_FILE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_PREFIX",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_SHALLOW_FILE",
        "GIT_COMMON_DIR",
        "GIT_EXTERNAL_DIFF",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_ASKPASS",
        "GIT_PAGER",
        "GIT_EDITOR",
    }
)

# Settings that would otherwise let the repository's configuration start a program.
_NO_PROGRAMS: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("log.showSignature", "false"),
    # A signature check (`%G?` in an export-subst file of `git archive`) finds no program.
    *((f"gpg{fmt}.program", os.devnull) for fmt in ("", ".openpgp", ".x509", ".ssh")),
    # No transport, so no ssh, credential helper or `ext::` command through a partial clone's
    # lazy fetch; a repository's `protocol.<name>.allow` would override the default alone.
    ("protocol.allow", "never"),
    *(
        (f"protocol.{name}.allow", "never")
        for name in ("file", "git", "ssh", "http", "https", "ext")
    ),
    ("credential.helper", ""),
    ("core.askPass", ""),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
)
_BASE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_NO_LAZY_FETCH": "1",
    "LC_ALL": "C",
}
# Subcommands that can show a diff (textconv, external diff) and those that filter content.
_DIFFING = frozenset({"diff", "log", "show"})
_FILTERING = frozenset({"diff", "archive", "show"})
_FILTER_KEYS = ("clean", "smudge", "process")


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


def safe_env(
    extra_config: Sequence[tuple[str, str]] = (), base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for a git call: the hook's repository variables gone, no prompt, and
    the configuration that stops git from running programs the repository names."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k not in REPOSITORY_ENV}
    for key in [k for k in env if k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))]:
        del env[key]
    env.update(_BASE_ENV)
    config = [*_NO_PROGRAMS, *extra_config]
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def filter_overrides(root: Path) -> list[tuple[str, str]]:
    """An empty clean, smudge and process command (and `required=false`) for every filter
    driver the configuration of the repository at `root` defines; [] when git cannot tell."""
    program = git_program()
    if program is None:
        return []
    try:
        done = subprocess.run(
            [program, "config", "--null", "--name-only", "--get-regexp", r"^filter\."],
            cwd=root,
            env=safe_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    drivers: dict[str, None] = {}
    for name in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        # filter.<driver>.<key>; the driver may itself hold dots.
        section, dot, _ = name.rpartition(".")
        if dot and section.startswith("filter.") and len(section) > len("filter."):
            drivers.setdefault(section, None)
    overrides: list[tuple[str, str]] = []
    for driver in drivers:
        overrides += [(f"{driver}.{key}", "") for key in _FILTER_KEYS]
        overrides.append((f"{driver}.required", "false"))
    return overrides


def safe_args(args: Sequence[str]) -> list[str]:
    """`args` with `--no-textconv --no-ext-diff` after a subcommand that can show a diff
    (`--no-textconv` after `grep`, which has no external diff)."""
    if args and args[0] in _DIFFING:
        return [args[0], "--no-textconv", "--no-ext-diff", *args[1:]]
    if args and args[0] == "grep":
        return [args[0], "--no-textconv", *args[1:]]
    return list(args)


def git(
    root: Path,
    *args: str,
    ok_codes: tuple[int, ...] = (0,),
    index_file: str | None = None,
    input_text: str | None = None,
) -> bytes:
    """git's stdout for `args` run in `root`; GitError with git's own message otherwise.

    `index_file` is the index a commit hook must read (git's GIT_INDEX_FILE for that hook,
    which `safe_env` otherwise drops); `input_text` is sent on standard input.
    """
    program = git_program()
    if program is None:
        raise GitError("git is not installed (or not on PATH)")
    extra = filter_overrides(root) if args and args[0] in _FILTERING else []
    env = safe_env(extra)
    if index_file is not None:
        env["GIT_INDEX_FILE"] = index_file
    try:
        done = subprocess.run(
            [program, *_GIT_OPTIONS, *safe_args(args)],
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


def git_owner(root: Path) -> str | None:
    """Git's "Name <email>" for `root` (repository config, then global), None when unknown.

    Runs `git config` without a shell, with captured output and a short timeout; a missing git
    or any failure is simply "unknown".
    """
    program = git_program()
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, "config", "--null", "--get-regexp", r"^user\.(name|email)$"],
            cwd=root,
            env=safe_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_OWNER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if done.returncode != 0:
        return None
    found: dict[str, str] = {}
    for record in done.stdout.split(b"\0"):
        key, _, value = record.partition(b"\n")
        # Later entries win, as in git itself (repository config after global).
        found[key.decode("utf-8", errors="replace").lower()] = value.decode(
            "utf-8", errors="replace"
        ).strip()
    name, email = found.get("user.name", ""), found.get("user.email", "")
    if name and email:
        return f"{name} <{email}>"
    return name or email or None
