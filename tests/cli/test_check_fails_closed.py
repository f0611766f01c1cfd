"""The gate fails closed: a rule that raises stops `handrail check` with an error exit, where
the editor shows the other rules' findings and a note (tests/lsp/features/
test_guarded_rules_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from repo_helpers import init_repo, run

from handrail import analysis
from handrail.cli.main import cli

SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)


def _broken(*args: object, **kwargs: object) -> object:
    raise RuntimeError("the probe rule broke")


def test_a_rule_that_raises_fails_the_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = init_repo(tmp_path / "repo", {"src/words.py": "x = 1\n"})
    task = json.loads(run(root, "task", "new", SPEC, "--json").output)["task"]
    (root / "src" / "words.py").write_text(
        f"# handrail:begin {task}.1\ndef words():\n    return 1\n# handrail:end {task}.1\n"
    )
    gate = run(root, "check", "--format", "json")
    assert "HR300" in gate.output  # the block is analysed: the rule below runs on it

    monkeypatch.setattr(analysis, "probe_findings", _broken)
    result = CliRunner().invoke(cli, ["--root", str(root), "check"])
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)  # not a findings exit: an internal error
    assert str(result.exception) == "the probe rule broke"
