"""`handrail init`: what it writes, that it writes it once, and who it names as owner."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from repo_helpers import git

from handrail.git import git_owner
from handrail.workflow.checks import check_workflow
from handrail.workflow.init import (
    InitError,
    init_workspace,
    toml_value,
)
from handrail.workflow.load import load_pack, load_workflow
from handrail.workspace import GITIGNORE_LINES, Workspace

TODAY = dt.date(2026, 11, 25)
FILES = [
    ".handrail/workflow.toml",
    ".handrail/tasks/.gitkeep",
    ".handrail/ledger/.gitkeep",
    ".handrail/.gitignore",
    ".handrail/.gitattributes",
]


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_init_creates_the_layout_and_loads_clean(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    result = init_workspace(ws, today=TODAY, owner="Ada <ada@example.com>")
    assert result.created == FILES
    assert result.unchanged == []
    loaded = load_workflow(ws)
    assert loaded.findings == []
    assert loaded.workflow.workflow.owner == "Ada <ada@example.com>"
    assert loaded.workflow.workflow.reviewed == TODAY
    assert loaded.workflow.context == load_pack("default").context
    # Fresh from init, nothing is overdue or unowned.
    assert check_workflow(loaded, ws, today=TODAY) == []
    gitignore = (tmp_path / ".handrail" / ".gitignore").read_text(encoding="utf-8")
    assert {".lock", "cache/", "*.tmp"} <= set(gitignore.splitlines())


def test_init_twice_changes_nothing_even_on_another_day(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    init_workspace(ws, today=TODAY, owner="Ada")
    before = snapshot(tmp_path)
    result = init_workspace(ws, today=TODAY + dt.timedelta(days=40), owner="Someone Else")
    assert result.created == []
    assert result.unchanged == FILES
    assert snapshot(tmp_path) == before


def test_existing_workflow_file_is_never_overwritten(workspace: Workspace) -> None:
    workspace.workflow_path.write_text("[context\n", encoding="utf-8")  # even a broken one
    result = init_workspace(workspace, today=TODAY, owner="Ada")
    assert ".handrail/workflow.toml" in result.unchanged
    assert workspace.workflow_path.read_text(encoding="utf-8") == "[context\n"


def test_existing_gitignore_gets_only_the_missing_lines(workspace: Workspace) -> None:
    path = workspace.handrail_dir / ".gitignore"
    path.write_text("# ours\ncache/\nnotes.txt", encoding="utf-8")
    result = init_workspace(workspace, today=TODAY, owner="Ada")
    assert result.updated == [".handrail/.gitignore"]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["# ours", "cache/", "notes.txt"]
    assert sorted(lines[3:]) == sorted(set(GITIGNORE_LINES) - {"cache/"})
    again = init_workspace(workspace, today=TODAY, owner="Ada")
    assert again.updated == [] and ".handrail/.gitignore" in again.unchanged


def test_strict_pack(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    init_workspace(ws, today=TODAY, owner="Ada", pack="strict")
    loaded = load_workflow(ws)
    assert loaded.findings == []
    assert loaded.pack == "strict"
    assert loaded.workflow.workflow.review_every_days == 30
    assert 'extends = "strict"' in ws.workflow_path.read_text(encoding="utf-8")


def test_commented_examples_are_valid_when_uncommented(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    init_workspace(ws, today=TODAY, owner="Ada")
    text = ws.workflow_path.read_text(encoding="utf-8")
    example = re.compile(r"^# (?=\[\w+\]$|\w+ = )")
    uncommented = "\n".join(example.sub("", line) for line in text.splitlines())
    assert uncommented.count("\n[") == 7  # [workflow], five example tables, [severity]
    loaded = load_workflow(ws, text=uncommented)
    assert loaded.findings == []
    assert loaded.workflow.severity_of("HR308") is None
    # The values shown are the pack's own: uncommenting them changes nothing else.
    assert loaded.workflow.context == load_pack("default").context
    assert loaded.workflow.verification == load_pack("default").verification


def test_unknown_pack_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InitError, match="unknown pack 'strickt'"):
        init_workspace(Workspace.at(tmp_path), today=TODAY, owner="Ada", pack="strickt")
    assert not (tmp_path / ".handrail").exists()


def test_handrail_folder_linked_outside_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "ws", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / ".handrail").symlink_to(outside)
    with pytest.raises(InitError, match="outside the workspace"):
        init_workspace(Workspace.at(root), today=TODAY, owner="Ada")
    assert list(outside.iterdir()) == []


def test_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".handrail").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(InitError, match=r"^\.handrail is a file; Handrail needs a folder there"):
        init_workspace(Workspace.at(tmp_path), today=TODAY, owner="Ada")


def test_owner_from_git_in_a_repository(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    assert git_owner(tmp_path) == "Ada Tester <ada@example.com>"  # the global config
    git(tmp_path, "config", "user.name", "Grace Hopper")
    git(tmp_path, "config", "user.email", "grace@example.com")
    assert git_owner(tmp_path) == "Grace Hopper <grace@example.com>"
    ws = Workspace.at(tmp_path)
    init_workspace(ws, today=TODAY)
    assert load_workflow(ws).workflow.workflow.owner == "Grace Hopper <grace@example.com>"


def test_no_git_identity_leaves_owner_empty_and_hr402_says_so(tmp_path: Path) -> None:
    Path(os.environ["GIT_CONFIG_GLOBAL"]).write_text("", encoding="utf-8")
    assert git_owner(tmp_path) is None
    ws = Workspace.at(tmp_path)
    init_workspace(ws, today=TODAY)
    loaded = load_workflow(ws)
    assert loaded.findings == []
    assert [f.code for f in check_workflow(loaded, ws, today=TODAY)] == ["HR402"]


def test_git_missing_or_folder_missing_means_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert git_owner(tmp_path / "does-not-exist") is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on PATH
    assert git_owner(tmp_path) is None


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(st.text(max_size=40))
def test_any_owner_text_round_trips(tmp_path: Path, owner: str) -> None:
    ws = Workspace.at(tempfile.mkdtemp(dir=tmp_path))
    init_workspace(ws, today=TODAY, owner=owner)
    loaded = load_workflow(ws)
    assert loaded.findings == []
    assert loaded.workflow.workflow.owner == owner


def test_owner_that_is_not_text_is_refused(tmp_path: Path) -> None:
    # A surrogate escape from an undecodable command-line argument cannot be written as UTF-8.
    with pytest.raises(InitError, match="not valid text"):
        init_workspace(Workspace.at(tmp_path), today=TODAY, owner="Ad\udce9")
    assert not (tmp_path / ".handrail").exists()


@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.dates()))
def test_toml_value_round_trips(value: object) -> None:
    parsed = tomllib.loads(f"v = {toml_value(value)}")["v"]
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(parsed)
    else:
        assert parsed == value and type(parsed) is type(value)
