"""Where IgnoreMatcher reads patterns from: lazily, never through symlinks, whatever the bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_oracle import build_tree, check_ignore, git, init_repo, without_git

import handrail.ignore as ignore_mod
from handrail.ignore import IgnoreMatch, IgnoreMatcher, parse_rule, translate_pattern
from handrail.workspace import Workspace


def test_the_re2_backend_is_in_use() -> None:
    # pathspec[re2] is a declared dependency; the slow fallback is only for a broken install.
    assert ignore_mod._BACKEND == "re2"


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = ignore_mod.read_ignore_file

    def counting(path: Path, *, follow: bool = False) -> str | None:
        reads.append(path.as_posix())
        return real(path, follow=follow)

    monkeypatch.setattr(ignore_mod, "read_ignore_file", counting)
    return reads


def test_gitignore_files_are_read_lazily_per_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    build_tree(
        root,
        {f"pkg{i}/.gitignore": f"*.tmp{i}\n" for i in range(50)}
        | {f"pkg{i}/deep/x.py": "x\n" for i in range(50)}
        | {".gitignore": "*.log\n"},
    )
    reads = _count_reads(monkeypatch)
    matcher = IgnoreMatcher.for_workspace(Workspace.at(root), (), use_gitignore=True)
    assert matcher.match("pkg7/deep/a.tmp7") == IgnoreMatch("pkg7/.gitignore:1", "*.tmp7")
    read_gitignores = {
        Path(p).relative_to(root).as_posix() for p in reads if p.startswith(str(root))
    }
    assert read_gitignores <= {".gitignore", "pkg7/.gitignore", "pkg7/deep/.gitignore"}
    before = len(reads)
    assert matcher.match("pkg7/deep/b.tmp7") is not None
    assert len(reads) == before, "a folder's .gitignore is read once"


def test_symlinked_gitignore_is_not_read_as_git_refuses(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "repo")
    build_tree(root, {"real-ignore": "*.txt\n", "sub/a.txt": "x\n", "b.txt": "x\n"})
    (root / ".gitignore").symlink_to(root / "real-ignore")
    (root / "sub" / ".gitignore").symlink_to(root / "real-ignore")
    matcher = IgnoreMatcher.for_workspace(Workspace.at(root), (), use_gitignore=True)
    answers = check_ignore(root, ["b.txt", "sub/a.txt"])
    assert answers == {"b.txt": None, "sub/a.txt": None}
    assert matcher.match("b.txt") is None
    assert matcher.match("sub/a.txt") is None


def test_no_gitignore_is_read_through_a_symlinked_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    build_tree(outside, {".gitignore": "*.py\n", "x.py": "x\n"})
    root = tmp_path / "ws"
    build_tree(root, {"inner/.gitignore": "*.py\n", "inner/y.py": "x\n"})
    (root / "out").symlink_to(outside, target_is_directory=True)
    (root / "alias").symlink_to(root / "inner", target_is_directory=True)
    reads = _count_reads(monkeypatch)
    matcher = IgnoreMatcher.for_workspace(Workspace.at(root), (), use_gitignore=True)
    assert matcher.match("out/x.py") is None
    assert matcher.match("alias/y.py") is None
    assert matcher.match("inner/y.py") == IgnoreMatch("inner/.gitignore:1", "*.py")
    assert not [p for p in reads if "outside" in p or "/alias/" in p]


def test_non_utf8_bom_and_crlf_gitignore(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "repo")
    build_tree(
        root,
        {
            ".gitignore": b"\xef\xbb\xbf*.log\r\ncaf\xe9.txt\r\n\xff\xfe*.bin\r\nkeep/\r\n",
            "a.log": "x\n",
            "café.txt": "x\n",
            "x.bin": "x\n",
            "keep/k": "x\n",
        },
    )
    (root / b"caf\xe9.txt".decode("utf-8", "surrogateescape")).write_text("x\n")
    paths = [
        "a.log",
        "café.txt",
        b"caf\xe9.txt".decode("utf-8", "surrogateescape"),
        "x.bin",
        "keep",
    ]
    expected = check_ignore(root, paths)
    matcher = IgnoreMatcher.for_workspace(Workspace.at(root), (), use_gitignore=True)
    got = {p: matcher.match(p, is_dir=(root / p).is_dir()) for p in paths}
    # git shows the raw bytes of a pattern; the matcher shows U+FFFD for what is not UTF-8.
    shown = {
        p: m
        and IgnoreMatch(
            m.source, m.pattern.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        )
        for p, m in expected.items()
    }
    assert got == shown
    assert got["a.log"] == IgnoreMatch(".gitignore:1", "*.log")
    assert got[paths[2]] == IgnoreMatch(".gitignore:2", "caf\ufffd.txt")
    assert got["café.txt"] is None


def test_info_exclude_of_a_linked_worktree(tmp_path: Path) -> None:
    main = init_repo(tmp_path / "main")
    build_tree(main, {"a.txt": "x\n"})
    git(main, "add", ".")
    git(main, "commit", "-qm", "a")
    (main / ".git" / "info").mkdir(exist_ok=True)
    (main / ".git" / "info" / "exclude").write_text("*.scratch\n")
    git(main, "worktree", "add", "-q", str(tmp_path / "wt"))
    wt = tmp_path / "wt"
    build_tree(wt, {"notes.scratch": "x\n"})
    assert check_ignore(wt, ["notes.scratch"])["notes.scratch"] is not None
    match = IgnoreMatcher.for_workspace(Workspace.at(wt), (), use_gitignore=True).match(
        "notes.scratch"
    )
    assert match is not None
    assert match.pattern == "*.scratch"
    assert match.source.endswith(".git/info/exclude:1")


def test_workspace_inside_a_repository_reads_the_files_above(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    build_tree(
        repo,
        {
            ".gitignore": "*.log\n/pkg/generated/\n",
            "pkg/.gitignore": "!keep.log\n",
            "pkg/a.log": "x\n",
            "pkg/keep.log": "x\n",
            "pkg/generated/x.py": "x\n",
            "pkg/src/generated/y.py": "x\n",
        },
    )
    (repo / ".git" / "info" / "exclude").write_text("/pkg/src/\n")
    matcher = IgnoreMatcher.for_workspace(Workspace.at(repo / "pkg"), (), use_gitignore=True)
    assert matcher.match("a.log") == IgnoreMatch("../.gitignore:1", "*.log")
    assert matcher.match("keep.log") is None
    assert matcher.match("generated/x.py") == IgnoreMatch("../.gitignore:2", "/pkg/generated/")
    assert matcher.match("src/generated/y.py") == IgnoreMatch("../.git/info/exclude:1", "/pkg/src/")


def test_walker_api_agrees_with_match(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    build_tree(
        root,
        {
            ".gitignore": "*.o\n!keep.o\n",
            "a/.gitignore": "b/\n",
            "a/b/c.txt": "x\n",
            "a/x.o": "x\n",
            "a/keep.o": "x\n",
            "a/é/y.o": "x\n",
            "d/e.txt": "x\n",
        },
    )
    ws = Workspace.at(root)
    walker = IgnoreMatcher.for_workspace(ws, ["d/", "é/*.o"], use_gitignore=True)
    plain = IgnoreMatcher.for_workspace(ws, ["d/", "é/*.o"], use_gitignore=True)
    top = walker.enter_folder("", has_gitignore=True)
    in_a = walker.enter_folder("a", has_gitignore=True)
    in_e = walker.enter_folder("a/é", has_gitignore=False)
    cases = [
        (top, "", "d", True),
        (top, "", "a", True),
        (in_a, "a/", "x.o", False),
        (in_a, "a/", "keep.o", False),
        (in_a, "a/", "b", True),
        (in_a, "a/", ".gitignore", False),
        (in_e, "a/é/", "y.o", False),
    ]
    for check, folder, name, is_dir in cases:
        assert check(name, is_dir) == plain.match(folder + name, is_dir=is_dir), folder + name


@pytest.mark.parametrize(
    ("line", "matches", "misses"),
    [
        ("[[:digit:]]*.csv", ["1.csv", "a/2x.csv"], ["x.csv"]),
        ("[z-ab]", ["b", "z"], ["a", "m"]),
        ("a**/*", ["a", "ab/c", "ac"], ["b/a/x"]),
        ("foo/**/", ["foo/a", "foo/a/b"], ["foo"]),
        ("?", ["x"], ["é", "xy"]),
        ("x\t", ["x\t"], ["x"]),
    ],
)
def test_translated_patterns(
    tmp_path: Path, line: str, matches: list[str], misses: list[str]
) -> None:
    """Lines pathspec's GitIgnoreSpec reads differently from git; git confirms each answer."""
    root = init_repo(tmp_path / "repo")
    (root / ".gitignore").write_text(line + "\n")
    build_tree(root, {f"{p}/.keep" if line.endswith("/") else p: "x\n" for p in matches + misses})
    git_says = check_ignore(root, matches + misses)
    matcher = IgnoreMatcher.for_workspace(Workspace.at(root), (), use_gitignore=True)
    for path in matches + misses:
        is_dir = (root / path).is_dir()
        ignored = matcher.match(path, is_dir=is_dir) is not None
        assert ignored is (path in matches), path
        assert (git_says[path] is not None) is (path in matches), f"git disagrees on {path}"


def test_dead_patterns_are_dropped() -> None:
    for line in ["", "# comment", "   ", "!", "/", "!/", "a[", "foo\\", "[[:bogus:]]", "[]"]:
        assert parse_rule(line, "t") is None, line
    assert parse_rule("//", "t") is None
    assert translate_pattern("") is None


def test_a_workspace_in_an_ignored_folder_of_a_repository_is_ignored(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    build_tree(
        repo,
        {
            ".gitignore": "build/\n!keep/\n",
            "build/tmp/.handrail/tasks/.keep": "",
            "build/tmp/x.py": "x\n",
            "keep/sub/y.py": "x\n",
        },
    )
    assert check_ignore(repo, ["build/tmp/x.py"])["build/tmp/x.py"] == IgnoreMatch(
        ".gitignore:1", "build/"
    )
    inside = IgnoreMatcher.for_workspace(
        Workspace.at(repo / "build" / "tmp"), (), use_gitignore=True
    )
    assert inside.match("x.py") == IgnoreMatch("../../.gitignore:1", "build/")
    assert inside.match("") == IgnoreMatch("../../.gitignore:1", "build/")
    kept = IgnoreMatcher.for_workspace(Workspace.at(repo / "keep" / "sub"), (), use_gitignore=True)
    assert kept.match("y.py") is None
    # Nothing to list there, with git or without.
    from handrail.files import list_files

    for ws in (Workspace.at(repo / "build" / "tmp"), Workspace.at(repo / "keep" / "sub")):
        with without_git():
            walked = list_files(ws)
        assert list_files(ws) == walked
    assert walked == ["y.py"]
    assert list_files(Workspace.at(repo / "build" / "tmp")) == []
