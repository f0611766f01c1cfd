"""Headless Neovim with the docs' snippets: HR300, "Mark selection as generated", a new task."""

from __future__ import annotations

from pathlib import Path

import pytest
from editor_snippets import editor, run_editor, snippet

from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.tasks.files import load_all_tasks, save_task
from handrail.tasks.model import Task
from handrail.workspace import Workspace

SCRIPT = Path(__file__).with_name("neovim_flow.lua")
CLOSED_SCRIPT = Path(__file__).with_name("neovim_closed_files.lua")
SPEC = (
    "Given a CSV header line, return the column names. It must keep quoted commas and "
    "follow parse_row in src/csv_utils.py."
)
SOURCE = "import os\n# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"


@pytest.mark.timeout(300)  # the editor waits up to 60 s per step under load
@pytest.mark.parametrize("config", ["neovim-0.11", "neovim-0.8"])
def test_neovim_marks_a_selection_and_creates_a_task(
    workspace: Workspace, tmp_path: Path, config: str
) -> None:
    nvim = editor("nvim")
    save_task(workspace, Task(id="k3f7qa", spec=SPEC))
    source = workspace.root / "a.py"
    source.write_text(SOURCE)
    (tmp_path / "config.lua").write_text(snippet(config))
    (tmp_path / "newtask.lua").write_text(snippet("neovim-newtask"))
    done = run_editor(
        [nvim, "--clean", "--headless", "-l", str(SCRIPT)],
        workspace.root,
        HANDRAIL_NVIM_CONFIG=str(tmp_path / "config.lua"),
        HANDRAIL_NVIM_NEWTASK=str(tmp_path / "newtask.lua"),
        HANDRAIL_FILE=str(source),
        HANDRAIL_SPEC=SPEC,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert source.read_text() == (
        "# handrail:begin k3f7qa.2\nimport os\n# handrail:end k3f7qa.2\n"
        + SOURCE[len("import os\n") :]
    )
    (record,) = Ledger(workspace).read().records
    assert isinstance(record, BlockMarked) and record.block_id == "k3f7qa.2"
    tasks = load_all_tasks(workspace).tasks
    assert len(tasks) == 2
    new = next(t for t in tasks.values() if t.task.id != "k3f7qa")
    assert new.task.spec == SPEC
    assert f"Created task {new.task.id}" in done.stderr + done.stdout


@pytest.mark.timeout(300)
def test_neovim_shows_a_finding_of_a_file_that_is_not_open(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Neovim does not pull workspace diagnostics: the server pushes the closed file's
    findings (issue 19.3), and clears them once the file is open and pulled."""
    nvim = editor("nvim")
    save_task(workspace, Task(id="k3f7qa", spec=SPEC))
    opened = workspace.root / "clean.py"
    opened.write_text("x = 1\n")
    closed = workspace.root / "b.py"
    closed.write_text(SOURCE)
    (tmp_path / "config.lua").write_text(snippet("neovim-0.11"))
    done = run_editor(
        [nvim, "--clean", "--headless", "-l", str(CLOSED_SCRIPT)],
        workspace.root,
        HANDRAIL_NVIM_CONFIG=str(tmp_path / "config.lua"),
        HANDRAIL_OPEN=str(opened),
        HANDRAIL_CLOSED=str(closed),
    )
    assert done.returncode == 0, done.stderr + done.stdout
