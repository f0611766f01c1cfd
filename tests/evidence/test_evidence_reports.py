"""Other languages: the report the command writes, named by `[verification] coverage`.

The parsers are `handrail.evidence.reports`' job; here a stand-in `parse_report` returns a
`LineCoverage` built by hand, so this side (freshness, paths, attribution) is tested alone."""

from __future__ import annotations

import shlex
import sys
import types
from pathlib import Path

import pytest
from toml_text import toml_string

from handrail.evidence.lines import FileLines, LineCoverage
from handrail.verify import trust as trust_mod
from handrail.verify.run import Target, verify
from handrail.workspace import Workspace

TASK = "cccccc"
# Ruby: no `[[verification.by_path]]` entry of the pack claims it, so the default command runs.
RB = "# handrail:begin cccccc.1\ndef add(a, b)\n  a + b\nend\n# handrail:end cccccc.1\n"


@pytest.fixture
def fake_reports(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    seen: list[Path] = []

    def parse_report(path: Path, root: Path) -> LineCoverage:
        seen.append(Path(path))
        return {"src/app.rb": FileLines(frozenset({2, 3}), frozenset({2}), {})}

    module = types.ModuleType("handrail.evidence.reports")
    module.parse_report = parse_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "handrail.evidence.reports", module)
    return seen


def _project(ws: Workspace, *, writes_report: bool) -> None:
    script = "open('cov/lcov.info', 'w').write('x')" if writes_report else "pass"
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    ws.workflow_path.write_text(
        'extends = "default"\n\n[workflow]\nowner = "Ada"\nreviewed = 2026-11-01\n\n'
        f'[verification]\ncommand = {toml_string(command)}\ncoverage = "cov/lcov.info"\n',
        encoding="utf-8",
    )
    (ws.tasks_dir / f"{TASK}.toml").write_text(
        f'id = "{TASK}"\nspec = "Add two numbers. It must never throw."\ncontext = []\n'
    )
    (ws.root / "src").mkdir()
    (ws.root / "cov").mkdir()
    (ws.root / "src" / "app.rb").write_text(RB)


def test_the_named_report_is_read_after_the_run(
    workspace: Workspace, fake_reports: list[Path]
) -> None:
    _project(workspace, writes_report=True)
    trust_mod.trust(workspace)
    report = verify(workspace, Target.everything())
    (result,) = report.block_results()
    assert result.status == "verified", result.message
    assert "1/2 lines run" in result.message
    assert fake_reports == [workspace.root / "cov" / "lcov.info"]


def test_a_report_the_run_did_not_write_leaves_the_block_not_measured(
    workspace: Workspace, fake_reports: list[Path]
) -> None:
    _project(workspace, writes_report=False)
    trust_mod.trust(workspace)
    (result,) = verify(workspace, Target.everything()).block_results()
    assert result.status == "not_measured"
    assert "cov/lcov.info was not written" in result.message
    assert fake_reports == []


def test_a_report_outside_the_workspace_is_not_read(
    workspace: Workspace, fake_reports: list[Path]
) -> None:
    _project(workspace, writes_report=True)
    text = workspace.workflow_path.read_text().replace('"cov/lcov.info"', '"../lcov.info"')
    workspace.workflow_path.write_text(text)
    (workspace.root.parent / "lcov.info").write_text("x")
    trust_mod.trust(workspace)
    (result,) = verify(workspace, Target.everything()).block_results()
    assert result.status == "not_measured"
    assert "outside the workspace" in result.message
    assert fake_reports == []
