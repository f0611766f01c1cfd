"""The ledger under real `git merge` (D4, D5): adds merge clean, an edited record conflicts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from ledger_helpers import at

from handrail.ledger.records import Trace, dump_record
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=check,
    )


@pytest.fixture
def repo(workspace: Workspace) -> Workspace:
    git(workspace.root, "init", "-q", "-b", "main")
    (workspace.root / "README.md").write_text("demo\n")
    Ledger(workspace).append(Trace(at=at(0), block_id="k3f9qa.1", content_hash="sha256:base"))
    git(workspace.root, "add", "-A")
    git(workspace.root, "commit", "-q", "-m", "base")
    return workspace


def test_lock_and_temp_files_stay_out_of_git(repo: Workspace) -> None:
    Ledger(repo).append(Trace(at=at(1), block_id="k3f9qa.2", content_hash="sha256:x"))
    status = git(repo.root, "status", "--porcelain", "--untracked-files=all").stdout
    lines = [line[3:] for line in status.splitlines()]
    assert len(lines) == 1
    assert lines[0].startswith(".handrail/ledger/") and lines[0].endswith(".json")
    tracked = git(repo.root, "ls-files").stdout.splitlines()
    assert ".handrail/.lock" not in tracked
    assert ".handrail/.gitignore" in tracked


def test_two_branches_adding_records_merge_without_conflict(repo: Workspace) -> None:
    root = repo.root
    git(root, "checkout", "-q", "-b", "feature")
    feature_records = [
        Trace(at=at(10 + n), block_id=f"feat.{n}", content_hash="sha256:f") for n in range(3)
    ]
    for record in feature_records:
        Ledger(repo).append(record)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feature evidence")

    git(root, "checkout", "-q", "main")
    main_records = [
        Trace(at=at(10 + n), block_id=f"main.{n}", content_hash="sha256:m") for n in range(3)
    ]
    for record in main_records:
        Ledger(repo).append(record)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main evidence")

    merged = git(root, "merge", "--no-edit", "feature", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    result = Ledger(repo).read()
    assert result.problems == []
    ids = [r.id for r in result.records]
    assert len(ids) == len(set(ids)) == 7  # base + 3 + 3, no duplicates
    assert {r.id for r in feature_records + main_records} <= set(ids)


def test_both_branches_editing_one_record_conflicts_and_is_reported(repo: Workspace) -> None:
    root = repo.root
    base = next(repo.ledger_dir.glob("*.json"))

    def edit(note: str) -> None:
        data = json.loads(base.read_text())
        data["note"] = note
        base.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    git(root, "checkout", "-q", "-b", "feature")
    edit("edited on feature")
    git(root, "commit", "-q", "-am", "feature edits a record")
    git(root, "checkout", "-q", "main")
    edit("edited on main")
    git(root, "commit", "-q", "-am", "main edits a record")

    merged = git(root, "merge", "--no-edit", "feature", check=False)
    assert merged.returncode != 0
    assert "CONFLICT" in merged.stdout
    assert "<<<<<<<" in base.read_text()

    ledger = Ledger(repo)
    other = ledger.append(Trace(at=at(30), block_id="k3f9qa.9", content_hash="sha256:n"))
    result = ledger.read()
    assert [r.id for r in result.records] == [other.stem]
    (problem,) = result.problems
    assert problem.reason == "conflict"
    assert problem.path == f".handrail/ledger/{base.name}"
    lines = base.read_text().splitlines()
    assert problem.line == next(i for i, line in enumerate(lines, 1) if line.startswith("<<<<<<<"))
    (finding,) = result.findings
    assert finding.code == "HR309"
    assert finding.message.startswith(f"Unresolved merge conflict in .handrail/ledger/{base.name}")
    assert "git checkout --theirs" in finding.message

    # Following the advice resolves it.
    git(root, "checkout", "--theirs", "--", f".handrail/ledger/{base.name}")
    assert ledger.read().problems == []
    assert len(ledger.read().records) == 2


def test_a_record_copied_under_another_name_is_not_a_silent_duplicate(repo: Workspace) -> None:
    base = next(repo.ledger_dir.glob("*.json"))
    copy = repo.ledger_dir / "01KZZZZZZZZZZZZZZZZZZZZZZZ.json"
    copy.write_bytes(base.read_bytes())
    result = Ledger(repo).read()
    assert [r.id for r in result.records] == [base.stem]
    assert [p.reason for p in result.problems] == ["id_mismatch"]
    assert dump_record(result.records[0]) == base.read_bytes()
