"""Emacs eglot with the docs' snippet receives the HR300 diagnostic from `handrail lsp`."""

from __future__ import annotations

from pathlib import Path

import pytest
from editor_snippets import editor, run_editor, snippet

from handrail.tasks.files import save_task
from handrail.tasks.model import Task
from handrail.workspace import Workspace

SCRIPT = Path(__file__).with_name("eglot_flow.el")
SOURCE = "import os\n# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"


@pytest.mark.timeout(300)  # the editor waits up to 60 s per step under load
def test_eglot_receives_hr300(workspace: Workspace, tmp_path: Path) -> None:
    emacs = editor("emacs")
    save_task(workspace, Task(id="k3f7qa", spec="Return one. It must follow a.py."))
    source = workspace.root / "a.py"
    source.write_text(SOURCE)
    (tmp_path / "config.el").write_text(snippet("emacs-eglot"))
    done = run_editor(
        [emacs, "--batch", "-q", "-l", str(SCRIPT)],
        workspace.root,
        HOME=str(tmp_path),  # no user init file, no package state of the real user
        HANDRAIL_EGLOT_CONFIG=str(tmp_path / "config.el"),
        HANDRAIL_FILE=str(source),
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert '"HR300"' in done.stdout + done.stderr


def test_eglot_records_a_review_note_from_a_code_action(
    workspace: Workspace, tmp_path: Path
) -> None:
    from handrail.ledger.records import Note
    from handrail.ledger.store import Ledger

    emacs = editor("emacs")
    save_task(workspace, Task(id="k3f7qa", spec="Return one. It must follow a.py."))
    source = workspace.root / "a.py"
    source.write_text(SOURCE)
    (tmp_path / "config.el").write_text(snippet("emacs-eglot"))
    done = run_editor(
        [emacs, "--batch", "-q", "-l", str(Path(__file__).with_name("eglot_note_flow.el"))],
        workspace.root,
        HOME=str(tmp_path),
        HANDRAIL_EGLOT_CONFIG=str(tmp_path / "config.el"),
        HANDRAIL_FILE=str(source),
    )
    assert done.returncode == 0, done.stderr + done.stdout
    (note,) = [r for r in Ledger(workspace).read().records if isinstance(r, Note)]
    assert (note.verdict, note.code, note.path, note.source) == (
        "in_the_way",
        "HR300",
        "a.py",
        "editor",
    )
