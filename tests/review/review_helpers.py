"""A small team repository built by hand: tasks, blocks, ledger records at chosen times."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from repo_helpers import run as run  # re-exported for the review tests

from handrail.blocks.markers import hash_content
from handrail.ledger.records import (
    BlockCoverage,
    BlockMarked,
    Explanation,
    Trace,
    VerificationRun,
)
from handrail.ledger.store import Ledger
from handrail.tasks.files import create_task
from handrail.workflow.init import init_workspace
from handrail.workflow.load import load_workflow
from handrail.workspace import Workspace

ADA = "Ada Tester <ada@example.com>"
BOB = "Bob Builder <bob@example.com>"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday: ISO week 2026-W10

SPECS = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py.",
    "Given a CSV line, return its fields as a list of strings. "
    "It must handle quoted commas and follow the parser style of src/ini.py.",
    "Given a list of prices, return their total as a string with two decimals. "
    "It must never round before summing and follow the style of src/words.py.",
)


def git(root: Path, *args: str, author: str | None = None) -> str:
    env = None
    if author is not None:
        import os

        name, email = author[:-1].split(" <")
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def commit_all(root: Path, message: str, *, author: str = ADA) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, author=author)


def new_repo(tmp_path: Path, *, today: dt.date = dt.date(2026, 3, 1)) -> Workspace:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    ws = Workspace.at(root)
    init_workspace(ws, today=today, owner=ADA)
    (root / "src").mkdir()
    (root / "src" / "words.py").write_text("def words(text):\n    return text.split()\n")
    return ws


def new_task(ws: Workspace, spec: str) -> str:
    created = create_task(ws, load_workflow(ws).workflow, spec, ["src/words.py"])
    assert created.task is not None, created.findings
    return created.task.task.id


def block_text(block_id: str, body: str) -> str:
    return f"# handrail:begin {block_id}\n{body}# handrail:end {block_id}\n"


def write_blocks(ws: Workspace, rel: str, *blocks: tuple[str, str]) -> None:
    path = ws.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(block_text(b, body) + "\n" for b, body in blocks))


def mark(
    ws: Workspace, block_id: str, rel: str, body: str, *, at: dt.datetime, author: str | None
) -> str:
    digest = hash_content(body)
    Ledger(ws).append(
        BlockMarked.create(
            at=at,
            block_id=block_id,
            task_id=block_id.split(".")[0],
            path=rel,
            content_hash=digest,
            begin_line=1,
            end_line=body.count("\n") + 2,
            author=author,
        )
    )
    return digest


def verify(
    ws: Workspace,
    blocks: dict[str, str],
    *,
    at: dt.datetime,
    passed: bool,
    first: list[str] | None = None,
    author: str | None = ADA,
    measured: bool = True,
) -> VerificationRun:
    """A run over `blocks` (id -> body) that finished at `at`, one minute long; `measured`
    runs executed the first line of each block under one test (line evidence)."""
    task = next(iter(blocks)).split(".")[0]
    outcome = "passed" if passed else "failed"
    coverage = {
        b: BlockCoverage(
            outcome=outcome, executable="1", executed="1", tests={"tests/test_it.py::test_it": "1"}
        )
        for b in blocks
    }
    record = VerificationRun.create(
        at=at,
        task_id=task,
        command=["python", "-m", "pytest", "-q"],
        exit_code=0 if passed else 1,
        passed=passed,
        started_at=at - dt.timedelta(minutes=1),
        finished_at=at,
        blocks={b: hash_content(body) for b, body in blocks.items()},
        first_attempt=first or [],
        author=author,
        coverage=coverage if measured else None,
    )
    Ledger(ws).append(record)
    return record


def explain(ws: Workspace, block_id: str, body: str, *, at: dt.datetime, author: str) -> None:
    Ledger(ws).append(
        Explanation.create(at=at, block_id=block_id, content_hash=hash_content(body), author=author)
    )


def trace(ws: Workspace, block_id: str, body: str, *, at: dt.datetime, author: str) -> None:
    Ledger(ws).append(
        Trace.create(at=at, block_id=block_id, content_hash=hash_content(body), author=author)
    )
