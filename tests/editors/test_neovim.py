"""Headless Neovim with the docs' snippets: HR300, "Mark selection as generated", a new task,
and a closed file's finding.

Starting Neovim costs seconds, so each flow runs one editor session per module (a
module-scoped fixture); the Lua script runs every step, writes one result a step, and each
scenario is its own test reading its step's result and the files it left behind. A step that
needs an earlier one reports "not tried", so one failure never hides another's result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from editor_snippets import editor, run_editor, snippet
from user_dirs import isolated_environment

from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.tasks.files import load_all_tasks, save_task
from handrail.tasks.model import Task
from handrail.workspace import Workspace

# The editor waits up to 60 s per step under load; the module's session starts in the set-up
# of its first test.
pytestmark = pytest.mark.timeout(300)

SCRIPT = Path(__file__).with_name("neovim_flow.lua")
CLOSED_SCRIPT = Path(__file__).with_name("neovim_closed_files.lua")
SPEC = (
    "Given a CSV header line, return the column names. It must keep quoted commas and "
    "follow parse_row in src/csv_utils.py."
)
SOURCE = "import os\n# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"


@dataclass(frozen=True)
class Session:
    """What one headless Neovim run left: its step results, its output, its workspace."""

    results: dict[str, Any]
    output: str
    workspace: Workspace

    def step(self, name: str) -> None:
        """Fails with the editor's own words unless step `name` worked."""
        assert self.results.get(name) == "ok", f"{name}: {self.results.get(name)}\n{self.output}"


def _session(
    factory: pytest.TempPathFactory, script: Path, files: dict[str, str], **env: str
) -> Session:
    """Run `script` in headless Neovim on a new workspace holding task k3f7qa and `files`
    (env values may name them as {root}/…), in an isolated home."""
    nvim = editor("nvim")
    base = factory.mktemp("nvim")
    root = base / "ws"
    (root / ".handrail" / "tasks").mkdir(parents=True)
    workspace = Workspace.at(root)
    save_task(workspace, Task(id="k3f7qa", spec=SPEC))
    for rel, text in files.items():
        (root / rel).write_text(text)
    results = base / "results.json"
    done = run_editor(
        [nvim, "--clean", "--headless", "-l", str(script)],
        root,
        **isolated_environment(base / "home"),
        HANDRAIL_RESULTS=str(results),
        **{key: value.format(root=root) for key, value in env.items()},
    )
    output = done.stderr + done.stdout
    assert done.returncode == 0 and results.exists(), output
    return Session(json.loads(results.read_text()), output, workspace)


@pytest.fixture(scope="module", params=["neovim-0.11", "neovim-0.8"])
def flow(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Session:
    """One Neovim session of neovim_flow.lua with the docs' set-up snippet for the version."""
    snippets = tmp_path_factory.mktemp("snippets")
    (snippets / "config.lua").write_text(snippet(request.param))
    (snippets / "newtask.lua").write_text(snippet("neovim-newtask"))
    return _session(
        tmp_path_factory,
        SCRIPT,
        {"a.py": SOURCE},
        HANDRAIL_NVIM_CONFIG=str(snippets / "config.lua"),
        HANDRAIL_NVIM_NEWTASK=str(snippets / "newtask.lua"),
        HANDRAIL_FILE="{root}/a.py",
        HANDRAIL_SPEC=SPEC,
    )


def test_neovim_shows_hr300_on_the_begin_marker_line(flow: Session) -> None:
    flow.step("hr300")


def test_neovim_marks_a_selection_through_its_code_action(flow: Session) -> None:
    flow.step("mark")
    assert (flow.workspace.root / "a.py").read_text() == (
        "# handrail:begin k3f7qa.2\nimport os\n# handrail:end k3f7qa.2\n"
        + SOURCE[len("import os\n") :]
    )


def test_neovim_marking_records_the_block_in_the_ledger(flow: Session) -> None:
    flow.step("record")
    (record,) = Ledger(flow.workspace).read().records
    assert isinstance(record, BlockMarked) and record.block_id == "k3f7qa.2"


def test_neovim_new_task_snippet_creates_a_task(flow: Session) -> None:
    flow.step("new_task")
    tasks = load_all_tasks(flow.workspace).tasks
    assert len(tasks) == 2
    new = next(t for t in tasks.values() if t.task.id != "k3f7qa")
    assert new.task.spec == SPEC
    assert flow.results["new_task_note"] == f"Created task {new.task.id}"


@pytest.fixture(scope="module")
def closed_files(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """One Neovim 0.11 session of neovim_closed_files.lua: clean.py open, b.py (an unverified
    block) closed, then opened."""
    snippets = tmp_path_factory.mktemp("snippets")
    (snippets / "config.lua").write_text(snippet("neovim-0.11"))
    return _session(
        tmp_path_factory,
        CLOSED_SCRIPT,
        {"clean.py": "x = 1\n", "b.py": SOURCE},
        HANDRAIL_NVIM_CONFIG=str(snippets / "config.lua"),
        HANDRAIL_OPEN="{root}/clean.py",
        HANDRAIL_CLOSED="{root}/b.py",
    )


def test_neovim_shows_a_finding_of_a_file_that_is_not_open(closed_files: Session) -> None:
    """Neovim does not pull workspace diagnostics: the server pushes the closed file's
    findings (issue 19.3)."""
    closed_files.step("closed")


def test_neovim_shows_a_closed_files_finding_once_after_opening_it(closed_files: Session) -> None:
    """Opened and pulled, the file's own diagnostics take over: the pushed ones are cleared."""
    closed_files.step("opened")
