"""No program a repository's git configuration names runs during Handrail's own git calls.

`.git/config` can name a clean/smudge filter, a long-running filter process, a textconv
program, an external diff, an fsmonitor hook, a hooks folder (reference-transaction,
post-index-change) and a gpg program; `.gitattributes` applies the drivers to every file.
Each points at a script that writes a sentinel. Every Handrail command that calls git runs
against that repository, and the sentinel must never appear.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from repo_helpers import git, init_repo, run

from handrail.files import files_mentioning, list_files
from handrail.git import GitError
from handrail.git import git as handrail_git
from handrail.marking.diff import changed_hunks
from handrail.workspace import Workspace

SPEC = "Given a text, return its words in order. It must follow the style of f() in src/a.py."
KINDS = ("clean", "smudge", "process", "textconv", "external", "fsmonitor", "gpg")
HOOKS = ("reference-transaction", "post-index-change", "pre-auto-gc")


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path, str]:
    """(repository, sentinel, task id): a branch with a marked block, a change in the work
    tree, and a .git/config whose every program writes to the sentinel."""
    root = init_repo(
        tmp_path / "repo",
        {
            "src/a.py": "def f(text):\n    return text.split()\n",
            "notes.txt": "hello\n",
            ".gitattributes": "* filter=evil diff=evil\n*.txt filter=evilp\n",
        },
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    created = run(root, "task", "new", SPEC, "--json")
    assert created.exit_code == 0, created.output
    task = json.loads(created.output)["task"]
    marked = run(root, "mark", "--task", task, "src/a.py", "1", "2")
    assert marked.exit_code == 0, marked.output
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "generated")

    sentinel = tmp_path / "sentinel"
    bin_dir, hooks = tmp_path / "bin", tmp_path / "hooks"
    bin_dir.mkdir()
    hooks.mkdir()
    for kind in KINDS:
        # Behaves as `cat` (a filter or textconv must give text back), after telling on itself.
        _script(
            bin_dir / f"evil-{kind}",
            f'echo "{kind} $*" >> "{sentinel}"\nif [ -f "$1" ]; then cat "$1"; else cat; fi\n',
        )
    for hook in HOOKS:
        _script(hooks / hook, f'echo "hook {hook}" >> "{sentinel}"\ncat > /dev/null\nexit 0\n')
    config = root / ".git" / "config"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'[filter "evil"]\n\tclean = {bin_dir}/evil-clean\n\tsmudge = {bin_dir}/evil-smudge\n'
        "\trequired = true\n"
        f'[filter "evilp"]\n\tprocess = {bin_dir}/evil-process\n'
        f'[diff "evil"]\n\ttextconv = {bin_dir}/evil-textconv\n'
        f"\tcommand = {bin_dir}/evil-external\n"
        f"[diff]\n\texternal = {bin_dir}/evil-external\n"
        f"[core]\n\tfsmonitor = {bin_dir}/evil-fsmonitor\n\thooksPath = {hooks}\n"
        f"[log]\n\tshowSignature = true\n[gpg]\n\tprogram = {bin_dir}/evil-gpg\n"
        "[gc]\n\tauto = 1\n",
        encoding="utf-8",
    )
    (root / "src" / "a.py").write_text(
        "def f(text):\n    return text.split()\n\n\ndef g():\n    return 2\n", encoding="utf-8"
    )
    (root / "notes.txt").write_text("hello again\n", encoding="utf-8")
    (root / "src" / "b.py").write_text("def h():\n    return 3\n", encoding="utf-8")
    # The fixture itself must prove the trap works: plain git runs the programs.
    git(root, "diff", "HEAD")
    assert sentinel.exists(), "the hostile configuration did not take effect"
    sentinel.unlink()
    return root, sentinel, task


def _told(sentinel: Path) -> str:
    return sentinel.read_text(encoding="utf-8") if sentinel.exists() else ""


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "--record-gate"],
        ["stats", "--format", "json"],
        ["pr", "--base", "main"],
        ["export", "--agent-trace", "--range", "main..HEAD"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_commands_that_read_git_run_no_configured_program(
    hostile: tuple[Path, Path, str], args: list[str]
) -> None:
    root, sentinel, _ = hostile
    if args[0] == "stats":  # something for stats to read from the notes (`git archive`)
        assert run(root, "check", "--record-gate").exit_code in (0, 1)
        sentinel.unlink(missing_ok=True)
    result = run(root, *args)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    assert _told(sentinel) == "", f"handrail {' '.join(args)} ran: {_told(sentinel)}"
    if args[0] == "stats":
        assert json.loads(result.output)["gate"]["runs"] == 1, result.output


def test_mark_diff_and_the_disk_hint_run_no_configured_program(
    hostile: tuple[Path, Path, str],
) -> None:
    root, sentinel, task = hostile
    ws = Workspace.at(root)
    hunks = changed_hunks(ws, "HEAD")  # what the language server's HR308 hint asks
    assert set(hunks) >= {"src/a.py", "src/b.py"}
    assert _told(sentinel) == ""
    assert "src/b.py" in list_files(ws)
    assert files_mentioning(ws, "handrail:") is not None
    assert _told(sentinel) == ""
    result = run(root, "mark", "--task", task, "--diff", "--json")
    assert result.exit_code == 0, result.output
    assert _told(sentinel) == ""


def test_a_lazy_fetch_in_a_partial_clone_runs_no_configured_program(tmp_path: Path) -> None:
    """A blob missing from a partial clone makes git fetch it, running the remote's
    `uploadpack` program, which `.git/config` may name; Handrail's git fetches nothing."""
    source = tmp_path / "source"
    source.mkdir()
    git(source, "init", "-q", "-b", "main")
    (source / "a.py").write_text("x = 1\n", encoding="utf-8")
    git(source, "add", "-A")
    git(source, "commit", "-q", "-m", "one")
    git(source, "config", "uploadpack.allowFilter", "true")
    git(tmp_path, "clone", "-q", "--no-checkout", "--filter=blob:none", source.as_uri(), "clone")
    clone = tmp_path / "clone"
    sentinel = tmp_path / "sentinel"
    _script(
        tmp_path / "evil-uploadpack",
        f'echo uploadpack >> "{sentinel}"\nexec git-upload-pack "$@"\n',
    )
    git(clone, "config", "remote.origin.uploadpack", str(tmp_path / "evil-uploadpack"))
    git(clone, "config", "protocol.file.allow", "always")
    with pytest.raises(GitError):
        handrail_git(clone, "cat-file", "blob", "HEAD:a.py")
    assert _told(sentinel) == ""
    # The trap is real: plain git runs the configured program to fetch the blob.
    assert git(clone, "cat-file", "blob", "HEAD:a.py") == "x = 1\n"
    assert _told(sentinel) == "uploadpack\n"
