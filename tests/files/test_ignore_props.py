"""IgnoreMatcher agrees with `git check-ignore --no-index` on random trees and random lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_oracle import all_paths, build_tree, check_ignore, clear, init_repo
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import Tree, gitignore_texts, render, trees

from handrail.ignore import WORKFLOW_SOURCE, IgnoreMatch, IgnoreMatcher, git_trim
from handrail.workspace import Workspace


@pytest.fixture(scope="module")
def repo(scratch: Path) -> Path:
    return init_repo(scratch / "repo")


def _write(repo: Path, tree: Tree, root_extra: list[str]) -> None:
    clear(repo)
    contents = tree.contents()
    root_lines = tree.ignores.get("", [])
    if root_extra:
        contents[".gitignore"] = render(root_lines + root_extra)
    build_tree(repo, contents)
    (repo / ".git" / "info" / "exclude").write_text(render(tree.exclude))


@given(tree=trees(), workflow=gitignore_texts)
@example(
    tree=Tree(files=["a/b/c.txt", "d/c.txt"], ignores={"": ["*.txt", "!d/"], "a": ["b/", "!b/"]}),
    workflow=[],
)
@example(tree=Tree(files=["a/c.txt", "a/b/e.py"], ignores={"": ["a/**/", "!a/c.txt"]}), workflow=[])
@example(
    tree=Tree(files=["x y", "t ", "a\\b"], ignores={"": ["x\\ y", "t\\ ", "a\\\\b"]}), workflow=[]
)
def test_matcher_agrees_with_git(repo: Path, tree: Tree, workflow: list[str]) -> None:
    # git sees the workflow's lines appended to the root .gitignore: that is their meaning.
    _write(repo, tree, workflow)
    paths = all_paths(repo)
    expected = check_ignore(repo, paths)
    root_line_count = len(tree.ignores.get("", []))
    for path, match in expected.items():
        if match is not None and match.source.startswith(".gitignore:"):
            line = int(match.source.rsplit(":", 1)[1])
            if line > root_line_count:
                expected[path] = IgnoreMatch(WORKFLOW_SOURCE, match.pattern)

    # The matcher reads the real root .gitignore (without the workflow's lines) plus `workflow`.
    if workflow:
        if "" in tree.ignores:
            (repo / ".gitignore").write_text(render(tree.ignores[""]))
        else:
            (repo / ".gitignore").unlink()
    ws = Workspace.at(repo)
    matcher = IgnoreMatcher.for_workspace(ws, workflow, use_gitignore=True)
    got = {path: matcher.match(path, is_dir=is_dir) for path, is_dir in sorted(paths.items())}
    # Its caches fill in any order: asking deepest paths first gives the same answers.
    backward = IgnoreMatcher.for_workspace(ws, workflow, use_gitignore=True)
    ordered = sorted(paths.items(), key=lambda item: -item[0].count("/"))
    assert {path: backward.match(path, is_dir=is_dir) for path, is_dir in ordered} == got
    if workflow and "" not in tree.ignores:
        # .gitignore existed only for git's run: the matcher never saw it, drop it from both.
        expected.pop(".gitignore", None)
        got.pop(".gitignore", None)
    assert got == expected


@given(st.text(alphabet=" \\ab\t\r", max_size=10))
def test_git_trim_keeps_escaped_spaces_and_drops_the_rest(line: str) -> None:
    trimmed = git_trim(line)
    body = line[:-1] if line.endswith("\r") else line
    assert body.startswith(trimmed)
    dropped = body[len(trimmed) :]
    assert set(dropped) <= {" "}
    # what stays never ends in an unescaped space
    if trimmed.endswith(" "):
        run = len(trimmed[:-1]) - len(trimmed[:-1].rstrip("\\"))
        assert run % 2 == 1
