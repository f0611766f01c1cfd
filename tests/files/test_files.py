"""list_files: git's list inside a work tree, the same list from the pruned walk outside one."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pytest
from git_oracle import build_tree, clear, git, init_repo, ls_files, without_git
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Tree, gitignore_texts, render, trees

import handrail.files as files_mod
from handrail.files import is_git_work_tree, list_files, present_files
from handrail.workspace import PathEscapesWorkspace, Workspace

# -- git and the walk agree -----------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(scratch: Path) -> tuple[Path, Path]:
    """A git repository and a plain folder (no git anywhere above it) to hold the same tree."""
    return init_repo(scratch / "repo"), _mkdir(scratch / "plain")


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


# Each example runs about eight git processes: a third of the profile's examples keeps the
# area's run short; raise HYPOTHESIS_MAX_EXAMPLES for a deeper search.
@settings(max_examples=max(10, settings().max_examples // 3))
@given(tree=trees(), workflow=gitignore_texts)
def test_git_listing_and_pruned_walk_agree(
    pair: tuple[Path, Path], scratch: Path, tree: Tree, workflow: list[str]
) -> None:
    repo, plain = pair
    tree.exclude = []  # .git/info/exclude exists only in the repository
    for folder in (repo, plain):
        clear(folder)
        build_tree(folder, tree.contents())
    expected = ls_files(repo)
    assert list_files(Workspace.at(repo)) == expected
    assert list_files(Workspace.at(plain)) == expected

    # The workflow's patterns remove what they match as a root .gitignore of their own:
    # git's `-X <file>` (without the standard excludes) is that, computed independently.
    patterns_file = scratch / "workflow-ignore"
    patterns_file.write_text(render(workflow))
    out = git(repo, "ls-files", "-z", "-co", "-X", str(patterns_file))
    kept = {os.fsdecode(p) for p in out.split(b"\0") if p and not p.endswith(b"/")}
    with_patterns = [p for p in expected if p in kept]
    assert list_files(Workspace.at(repo), ignore_patterns=workflow) == with_patterns
    assert list_files(Workspace.at(plain), ignore_patterns=workflow) == with_patterns


# -- what git lists, and what it leaves out ---------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "repo")
    build_tree(
        root,
        {
            ".gitignore": "node_modules/\nbuild/\n*.log\n",
            "src/app.py": "print()\n",
            "src/gone.py": "x\n",
            "docs/readme.md": "x\n",
            "node_modules/react/index.js": "x\n",
            "build/out.o": "x\n",
        },
    )
    git(root, "add", ".")
    git(root, "add", "-f", "build/out.o")  # tracked, though ignored: git still lists it
    git(root, "commit", "-qm", "start")
    (root / "src" / "gone.py").unlink()  # tracked, deleted from disk
    build_tree(root, {"notes.txt": "x\n", "debug.log": "x\n", "build/new.o": "x\n"})
    return root


def test_git_listing_keeps_tracked_and_untracked_not_ignored(repo: Path) -> None:
    assert list_files(Workspace.at(repo)) == [
        ".gitignore",
        "build/out.o",
        "docs/readme.md",
        "notes.txt",
        "src/app.py",
    ]


def test_submodules_and_nested_repositories_are_not_descended(repo: Path) -> None:
    sub = init_repo(repo / "vendor" / "lib")
    build_tree(sub, {"lib.c": "x\n"})
    git(sub, "add", ".")
    git(sub, "commit", "-qm", "lib")
    head = git(sub, "rev-parse", "HEAD").decode().strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},vendor/lib")
    nested = init_repo(repo / "scratch")
    build_tree(nested, {"wip.py": "x\n"})
    listed = list_files(Workspace.at(repo))
    assert not [p for p in listed if p.startswith(("vendor/", "scratch/"))]
    assert "vendor/lib" not in listed
    assert "src/app.py" in listed


def test_symlinks_are_listed_as_git_lists_them_and_never_followed(
    repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    build_tree(outside, {"secret.txt": "x\n", ".gitignore": "!*\n"})
    (repo / "out").symlink_to(outside, target_is_directory=True)
    (repo / "app-link.py").symlink_to(repo / "src" / "app.py")
    os.mkfifo(repo / "pipe")
    ws = Workspace.at(repo)
    listed = list_files(ws)
    assert "out" in listed
    assert "app-link.py" in listed
    assert "pipe" not in listed
    assert not [p for p in listed if p.startswith("out/")]
    assert listed == [p for p in ls_files(repo) if p != "src/gone.py"]
    walked = _walk_only(ws)
    assert "out" in walked
    assert not [p for p in walked if p.startswith("out/")]
    assert "pipe" not in walked


def _walk_only(ws: Workspace, **kwargs: object) -> list[str]:
    """list_files as it runs where git is missing."""
    with without_git():
        return list_files(ws, **kwargs)  # type: ignore[arg-type]


def test_without_git_the_walk_lists_the_same_untracked_view(repo: Path) -> None:
    ws = Workspace.at(repo)
    assert not _no_git_is_work_tree(repo)
    # The walk has no index: tracked-but-ignored build/out.o is the one difference.
    assert _walk_only(ws) == [p for p in list_files(ws) if p != "build/out.o"]


def _no_git_is_work_tree(path: Path) -> bool:
    with without_git():
        return is_git_work_tree(path)


def _fake_git(folder: Path, script: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "git"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)


def test_a_failing_git_falls_back_to_the_walk(repo: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _fake_git(bin_dir, "echo 'fatal: index file corrupt' >&2\nexit 128\n")
    saved = os.environ["PATH"]
    os.environ["PATH"] = str(bin_dir)
    try:
        listed = list_files(Workspace.at(repo))
    finally:
        os.environ["PATH"] = saved
    assert listed == _walk_only(Workspace.at(repo))


def test_a_hanging_git_is_killed_and_the_walk_used(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    _fake_git(bin_dir, "sleep 30 &\nwait\n")
    monkeypatch.setattr(files_mod, "GIT_TIMEOUT_S", 0.5)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + "/usr/bin:/bin")
    listed = list_files(Workspace.at(repo))
    assert "notes.txt" in listed
    assert "src/gone.py" not in listed


def test_is_git_work_tree(repo: Path, tmp_path: Path) -> None:
    assert is_git_work_tree(repo)
    assert is_git_work_tree(repo / "src")
    assert not is_git_work_tree(repo / ".git")
    plain = _mkdir(tmp_path / "plain")
    assert not is_git_work_tree(plain)
    assert not is_git_work_tree(tmp_path / "missing")
    assert not _no_git_is_work_tree(repo)


# -- under ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["git", "walk"])
def test_under_limits_to_a_folder_or_a_file(repo: Path, tmp_path: Path, mode: str) -> None:
    ws = Workspace.at(repo)
    lister = list_files if mode == "git" else _walk_only
    assert lister(ws, under="src") == ["src/app.py"]
    assert lister(ws, under="./src/") == ["src/app.py"]
    assert lister(ws, under="src/app.py") == ["src/app.py"]
    assert lister(ws, under="src/gone.py") == []
    assert lister(ws, under="node_modules") == []
    assert lister(ws, under="node_modules/react/index.js") == []
    assert lister(ws, under="debug.log") == []
    assert lister(ws, under="missing") == []
    assert lister(ws, under=".git") == []
    assert lister(ws, under="") == lister(ws)
    (repo / "linked").symlink_to(repo / "src", target_is_directory=True)
    assert lister(ws, under="linked/app.py") == []
    for bad in ("../outside", "/etc", "src/../../x"):
        with pytest.raises(PathEscapesWorkspace):
            lister(ws, under=bad)


def test_workspace_inside_a_repository_honours_the_gitignore_above(repo: Path) -> None:
    build_tree(repo, {"pkg/keep.py": "x\n", "pkg/cache.log": "x\n", "pkg/build/x.o": "x\n"})
    ws = Workspace.at(repo / "pkg")
    assert list_files(ws) == ["keep.py"]
    assert _walk_only(ws) == ["keep.py"]


# -- the walk prunes ------------------------------------------------------------------------


def _spy_scandir(monkeypatch: pytest.MonkeyPatch, refuse: str | None = None) -> list[str]:
    opened: list[str] = []
    real = os.scandir

    def spy(path: str) -> object:
        opened.append(os.fspath(path))
        if refuse is not None and os.fspath(path).endswith(refuse):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(files_mod.os, "scandir", spy)
    return opened


def test_ignored_folders_are_never_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    build_tree(
        root,
        {
            ".gitignore": "node_modules/\n",
            "src/a.js": "x\n",
            **{f"node_modules/p{i}/index.js": "x\n" for i in range(20)},
            **{f"vendor/v{i}/x.js": "x\n" for i in range(5)},
        },
    )
    opened = _spy_scandir(monkeypatch)
    listed = list_files(Workspace.at(root), ignore_patterns=["vendor/"])
    assert listed == [".gitignore", "src/a.js"]
    assert opened, "the walk ran"
    assert not [p for p in opened if "node_modules" in p or "vendor" in p]


def test_an_unreadable_folder_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    build_tree(root, {"ok/a.txt": "x\n", "locked/b.txt": "x\n", "c.txt": "x\n"})
    _spy_scandir(monkeypatch, refuse="locked")
    assert list_files(Workspace.at(root)) == ["c.txt", "ok/a.txt"]


# -- tracked paths present on disk ---------------------------------------------------------

tracked_names = st.sampled_from(["a.py", "b", "sub/c.txt", "sub/d", "x y/é.md", "deep/er/f"])


@given(
    kinds=st.dictionaries(tracked_names, st.sampled_from(["file", "link", "dir", "missing"])),
    order=st.randoms(),
)
def test_present_files_keeps_files_and_symlinks_once(
    scratch: Path, kinds: dict[str, str], order: random.Random
) -> None:
    root = scratch / "present"
    if root.exists():
        clear(root)
    root.mkdir(exist_ok=True)
    for path, kind in kinds.items():
        target = root / path
        if kind == "missing" or any(
            other != path and other.startswith(path + "/") for other in kinds
        ):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "file":
            target.write_text("x")
        elif kind == "link":
            target.symlink_to("nowhere")
        elif kind == "dir":
            target.mkdir()
    tracked = list(kinds) + list(kinds)[:2]  # unmerged paths come once per stage
    order.shuffle(tracked)
    expected = []
    for path in tracked:
        on_disk = root / path
        is_entry = os.path.lexists(on_disk) and not (on_disk.is_dir() and not on_disk.is_symlink())
        if is_entry and path not in expected:
            expected.append(path)
    assert present_files(root, tracked) == expected


def test_a_git_hook_environment_does_not_redirect_the_listing(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a hook, git exports GIT_DIR / GIT_INDEX_FILE of the repository it runs for."""
    other = init_repo(tmp_path / "other")
    build_tree(other, {"elsewhere.txt": "x\n"})
    git(other, "add", ".")
    expected = list_files(Workspace.at(repo))
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    assert list_files(Workspace.at(repo)) == expected


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_dot_git_that_is_a_fifo_never_blocks_the_listing(tmp_path: Path) -> None:
    """A hostile folder's `.git` is a FIFO: git fails, the walk takes over, and reading `.git`
    as a worktree's pointer file (for its `info/exclude`) waited for a writer forever."""
    import threading

    (tmp_path / "ws" / ".handrail").mkdir(parents=True)
    (tmp_path / "ws" / "a.py").write_text("x = 1\n")
    os.mkfifo(tmp_path / "ws" / ".git")
    listed: list[str] = []
    done = threading.Event()

    def listing() -> None:
        listed.extend(list_files(Workspace.at(tmp_path / "ws")))
        done.set()

    threading.Thread(target=listing, daemon=True).start()
    finished = done.wait(30)
    if not finished:  # let the blocked reader go before failing
        os.close(os.open(tmp_path / "ws" / ".git", os.O_WRONLY | os.O_NONBLOCK))
    assert finished, "the listing waited on a FIFO"
    assert "a.py" in listed
