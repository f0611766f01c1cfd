"""Emacs eglot with the docs' snippet: the HR300 diagnostic from `handrail lsp`, and a review
note recorded from a code action. One scenario a test, each its own batch Emacs session."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from editor_snippets import editor, run_editor, snippet

from handrail.ledger.records import Note
from handrail.ledger.store import Ledger
from handrail.tasks.files import save_task
from handrail.tasks.model import Task
from handrail.workspace import Workspace

SOURCE = "import os\n# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"


def _eglot(script: str, workspace: Workspace, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the eglot script `script` (next to this file) in batch Emacs on a.py, an unverified
    block of task k3f7qa; fails unless it exits 0."""
    emacs = editor("emacs")
    save_task(workspace, Task(id="k3f7qa", spec="Return one. It must follow a.py."))
    source = workspace.root / "a.py"
    source.write_text(SOURCE)
    (tmp_path / "config.el").write_text(snippet("emacs-eglot"))
    done = run_editor(
        [emacs, "--batch", "-q", "-l", str(Path(__file__).with_name(script))],
        workspace.root,
        HOME=str(tmp_path),  # no user init file, no package state of the real user
        HANDRAIL_EGLOT_CONFIG=str(tmp_path / "config.el"),
        HANDRAIL_FILE=str(source),
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done


@pytest.mark.timeout(300)  # the editor waits up to 60 s per step under load
def test_eglot_receives_hr300(workspace: Workspace, tmp_path: Path) -> None:
    done = _eglot("eglot_flow.el", workspace, tmp_path)
    assert '"HR300"' in done.stdout + done.stderr


@pytest.mark.timeout(300)
def test_eglot_records_a_review_note_from_a_code_action(
    workspace: Workspace, tmp_path: Path
) -> None:
    _eglot("eglot_note_flow.el", workspace, tmp_path)
    (note,) = [r for r in Ledger(workspace).read().records if isinstance(r, Note)]
    assert (note.verdict, note.code, note.path, note.source) == (
        "in_the_way",
        "HR300",
        "a.py",
        "editor",
    )
