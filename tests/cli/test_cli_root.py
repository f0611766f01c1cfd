"""`--root` and `init FOLDER` naming something that is not a folder: exit 2, nothing written.

A typo in `--root` must not pass the gate ("No findings") or leave folders, task files or a
trust approval behind for a folder that does not exist.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from handrail.cli.main import cli

# Every command that writes or gates, with arguments that would otherwise work.
COMMANDS = [
    ["check"],
    ["trust"],
    ["task", "new", "Given a list, return its sum; it must never read the list twice."],
    ["init"],
    ["doc"],
    ["stats"],
    ["workflow", "reviewed"],
    ["context", "check"],
]


def _everything_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_root_that_is_not_a_folder_is_a_usage_error(
    tmp_path: Path, args: list[str], kind: str
) -> None:
    place = tmp_path / "work"
    place.mkdir()
    root = place / "repo"
    if kind == "file":
        root.write_text("not a folder\n")
    state = Path(os.environ["XDG_STATE_HOME"])
    before = _everything_under(place)
    result = CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(root) in lines[0]
    assert "Traceback" not in result.output
    assert _everything_under(place) == before
    assert not state.exists() or _everything_under(state) == []


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_init_folder_that_is_not_a_folder_is_a_usage_error(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "repo"
    if kind == "file":
        folder.write_text("not a folder\n")
    result = CliRunner().invoke(cli, ["init", str(folder)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    assert _everything_under(tmp_path) == ([folder] if kind == "file" else [])


def test_init_may_create_handrail_inside_an_existing_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".handrail" / "workflow.toml").is_file()


def test_check_of_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    result = CliRunner().invoke(
        cli, ["--root", str(tmp_path), "check", "no/such.py"], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert result.output.strip() == "handrail: no/such.py: no such file or folder"
