"""IgnoreMatcher against `git check-ignore` on a realistic Python + Node repository.

Each row states the answer; the test holds both git and IgnoreMatcher to it, so a row that
misreads git fails as loudly as a matcher bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from git_oracle import build_tree, check_ignore, init_repo

from handrail.ignore import WORKFLOW_SOURCE, IgnoreMatch, IgnoreMatcher
from handrail.workspace import Workspace

ROOT_GITIGNORE = """\
# Python
__pycache__/
*.py[cod]
*$py.class
build/
!build/keep.txt
dist/
*.egg-info/
.pytest_cache/
.coverage
.coverage.*
.env
.venv
venv/
lib/
# Node
node_modules/
npm-debug.log*
/coverage
*.tsbuildinfo
.next/
# project
*.log
!important.log
/config/*
!/config/default.toml
docs/_build/
**/fixtures/**/*.snap
secret\\ file.txt
trailing.txt   \n\
\\#notcomment
\\!bang
data/**
!data/keep/
!data/keep/**
tmp/**/
"""

NESTED = {
    "packages/web/.gitignore": "dist/\n!dist/\n*.map\n!vendor.map\n",
    "src/.gitignore": "!lib/\ngenerated_*\n/local.py\n",
    "src/app/.gitignore": "!*.log\n",
}

INFO_EXCLUDE = "# personal\nscratch/\n"
WORKFLOW = ["*.pem", "!public.pem", "assets/*.bin"]

FILES = [
    "README.md",
    "setup.py",
    "src/pkg/__init__.py",
    "src/pkg/__pycache__/mod.cpython-311.pyc",
    "src/pkg/mod.pyc",
    "src/pkg/mod.pyx",
    "src/lib/helpers.py",
    "lib/vendored.py",
    "src/generated_api.py",
    "src/pkg/generated_x.py",
    "src/local.py",
    "src/pkg/local.py",
    "src/app/debug.log",
    "app.log",
    "logs/important.log",
    "build/out.o",
    "build/keep.txt",
    "dist/pkg.whl",
    "pkg.egg-info/PKG-INFO",
    ".env",
    ".env.example",
    ".venv/bin/python",
    ".coverage",
    ".coverage.host",
    "coverage/index.html",
    "web/coverage/index.html",
    "node_modules/react/index.js",
    "packages/web/node_modules/lodash/index.js",
    "packages/web/dist/bundle.js",
    "packages/web/bundle.js.map",
    "packages/web/vendor.map",
    "packages/web/src/index.ts",
    "npm-debug.log.1",
    "tsconfig.tsbuildinfo",
    ".next/cache/x",
    "config/local.toml",
    "config/default.toml",
    "docs/_build/html/index.html",
    "docs/index.md",
    "tests/fixtures/a/b/case.snap",
    "tests/fixtures/case.snap",
    "tests/case.snap",
    "secret file.txt",
    "trailing.txt",
    "#notcomment",
    "!bang",
    "data/raw.csv",
    "data/keep/kept.csv",
    "data/other/x.csv",
    "tmp/a.txt",
    "tmp/sub/b.txt",
    "scratch/notes.md",
    "keys/private.pem",
    "keys/public.pem",
    "assets/logo.bin",
    "assets/icons/x.bin",
]


def _expect(file: str, pattern: str) -> IgnoreMatch:
    """The match for `pattern` in `file`, its line number looked up, not counted by hand."""
    if file == WORKFLOW_SOURCE:
        return IgnoreMatch(WORKFLOW_SOURCE, pattern)
    text = {".gitignore": ROOT_GITIGNORE, ".git/info/exclude": INFO_EXCLUDE, **NESTED}[file]
    lines = [line.rstrip(" ") for line in text.split("\n")]
    return IgnoreMatch(f"{file}:{lines.index(pattern) + 1}", pattern)


G = ".gitignore"
ROWS: list[tuple[str, bool, IgnoreMatch | None]] = [
    ("README.md", False, None),
    ("src/pkg/__pycache__", True, _expect(G, "__pycache__/")),
    ("src/pkg/__pycache__/mod.cpython-311.pyc", False, _expect(G, "__pycache__/")),
    ("src/pkg/mod.pyc", False, _expect(G, "*.py[cod]")),
    ("src/pkg/mod.pyx", False, None),
    # a deeper .gitignore re-includes a folder the root excludes
    ("lib", True, _expect(G, "lib/")),
    ("lib/vendored.py", False, _expect(G, "lib/")),
    ("src/lib", True, None),
    ("src/lib/helpers.py", False, None),
    ("src/generated_api.py", False, _expect("src/.gitignore", "generated_*")),
    ("src/pkg/generated_x.py", False, _expect("src/.gitignore", "generated_*")),
    # anchored in a nested file: only src/local.py
    ("src/local.py", False, _expect("src/.gitignore", "/local.py")),
    ("src/pkg/local.py", False, None),
    ("src/app/debug.log", False, None),
    ("app.log", False, _expect(G, "*.log")),
    ("logs/important.log", False, None),
    # an excluded parent wins over a later re-include of the file
    ("build/keep.txt", False, _expect(G, "build/")),
    ("build/out.o", False, _expect(G, "build/")),
    ("pkg.egg-info/PKG-INFO", False, _expect(G, "*.egg-info/")),
    (".env", False, _expect(G, ".env")),
    (".env.example", False, None),
    (".venv/bin/python", False, _expect(G, ".venv")),
    (".coverage", False, _expect(G, ".coverage")),
    (".coverage.host", False, _expect(G, ".coverage.*")),
    # anchored vs unanchored
    ("coverage/index.html", False, _expect(G, "/coverage")),
    ("web/coverage/index.html", False, None),
    ("node_modules", True, _expect(G, "node_modules/")),
    ("node_modules/react/index.js", False, _expect(G, "node_modules/")),
    ("packages/web/node_modules/lodash/index.js", False, _expect(G, "node_modules/")),
    # the deeper file's last line re-includes dist/ under packages/web
    ("packages/web/dist/bundle.js", False, None),
    ("dist/pkg.whl", False, _expect(G, "dist/")),
    ("packages/web/bundle.js.map", False, _expect("packages/web/.gitignore", "*.map")),
    ("packages/web/vendor.map", False, None),
    ("packages/web/src/index.ts", False, None),
    ("npm-debug.log.1", False, _expect(G, "npm-debug.log*")),
    ("tsconfig.tsbuildinfo", False, _expect(G, "*.tsbuildinfo")),
    (".next/cache/x", False, _expect(G, ".next/")),
    ("config/local.toml", False, _expect(G, "/config/*")),
    ("config/default.toml", False, None),
    ("docs/_build/html/index.html", False, _expect(G, "docs/_build/")),
    ("docs/index.md", False, None),
    ("tests/fixtures/a/b/case.snap", False, _expect(G, "**/fixtures/**/*.snap")),
    ("tests/fixtures/case.snap", False, _expect(G, "**/fixtures/**/*.snap")),
    ("tests/case.snap", False, None),
    # escapes and trailing spaces
    ("secret file.txt", False, _expect(G, "secret\\ file.txt")),
    ("trailing.txt", False, _expect(G, "trailing.txt")),
    ("#notcomment", False, _expect(G, "\\#notcomment")),
    ("!bang", False, _expect(G, "\\!bang")),
    # `data/**` ignores everything inside data/, the folder keep/ and its files come back
    ("data/raw.csv", False, _expect(G, "data/**")),
    ("data/keep", True, None),
    ("data/keep/kept.csv", False, None),
    ("data/other/x.csv", False, _expect(G, "data/**")),
    # `tmp/**/` is folders below tmp/, not tmp/'s own files
    ("tmp/a.txt", False, None),
    ("tmp/sub/b.txt", False, _expect(G, "tmp/**/")),
    ("scratch/notes.md", False, _expect(".git/info/exclude", "scratch/")),
]

WORKFLOW_ROWS: list[tuple[str, bool, IgnoreMatch | None]] = [
    ("keys/private.pem", False, _expect(WORKFLOW_SOURCE, "*.pem")),
    ("keys/public.pem", False, None),
    ("assets/logo.bin", False, _expect(WORKFLOW_SOURCE, "assets/*.bin")),
    ("assets/icons/x.bin", False, None),
    ("README.md", False, None),
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = init_repo(tmp_path_factory.mktemp("table") / "repo")
    build_tree(root, {rel: "x\n" for rel in FILES})
    build_tree(root, {".gitignore": ROOT_GITIGNORE, **NESTED})
    (root / ".git" / "info" / "exclude").write_text(INFO_EXCLUDE)
    return root


@pytest.fixture(scope="module")
def git_answers(repo: Path) -> dict[str, IgnoreMatch | None]:
    return check_ignore(repo, [row[0] for row in ROWS])


@pytest.mark.parametrize(("path", "is_dir", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_matcher_and_git_agree_with_the_table(
    repo: Path,
    git_answers: dict[str, IgnoreMatch | None],
    path: str,
    is_dir: bool,
    expected: IgnoreMatch | None,
) -> None:
    assert (repo / path).is_dir() is is_dir
    assert git_answers[path] == expected, "the table misreads git"
    matcher = IgnoreMatcher.for_workspace(Workspace.at(repo), (), use_gitignore=True)
    assert matcher.match(path, is_dir=is_dir) == expected
    assert matcher.is_ignored(path, is_dir=is_dir) is (expected is not None)


@pytest.mark.parametrize(("path", "is_dir", "expected"), WORKFLOW_ROWS)
def test_workflow_patterns_act_like_a_root_gitignore(
    repo: Path, path: str, is_dir: bool, expected: IgnoreMatch | None
) -> None:
    matcher = IgnoreMatcher.for_workspace(Workspace.at(repo), WORKFLOW, use_gitignore=False)
    assert matcher.match(path, is_dir=is_dir) == expected


def test_workflow_patterns_come_after_the_root_gitignore(repo: Path) -> None:
    ws = Workspace.at(repo)
    # A workflow negation re-includes what the root .gitignore ignores (same folder, later)...
    matcher = IgnoreMatcher.for_workspace(ws, ["!app.log"], use_gitignore=True)
    assert matcher.match("app.log") is None
    # ...but not inside a folder the root excludes, and not over a deeper .gitignore.
    matcher = IgnoreMatcher.for_workspace(ws, ["!build/keep.txt", "*.map"], use_gitignore=True)
    assert matcher.match("build/keep.txt") == _expect(G, "build/")
    assert matcher.match("packages/web/vendor.map") is None


def test_use_gitignore_false_reads_no_git_file(repo: Path) -> None:
    matcher = IgnoreMatcher.for_workspace(Workspace.at(repo), (), use_gitignore=False)
    assert [p for p in FILES if matcher.is_ignored(p)] == []


def test_paths_are_normalised_and_escapes_refused(repo: Path) -> None:
    from handrail.workspace import PathEscapesWorkspace

    matcher = IgnoreMatcher.for_workspace(Workspace.at(repo), (), use_gitignore=True)
    assert matcher.match("./build//out.o") == _expect(G, "build/")
    assert matcher.match("node_modules/") == _expect(G, "node_modules/")
    assert matcher.match("src/../app.log") == _expect(G, "*.log")
    assert matcher.match("") is None
    assert matcher.match(".") is None
    for bad in ("../x", "/etc/passwd", "a/../../x"):
        with pytest.raises(PathEscapesWorkspace):
            matcher.match(bad)
