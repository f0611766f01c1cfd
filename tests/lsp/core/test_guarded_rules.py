"""The editor's rule runner (`analysis.GuardedRules`) against the gate's: the same analysis,
one rule family broken."""

from __future__ import annotations

import pytest

from handrail import analysis
from handrail.analysis import GuardedRules, Snapshot, analyze_task
from handrail.workspace import Workspace

TASK_REL = ".handrail/tasks/abcdef.toml"
# One sentence: a spec finding (HR10x) that must survive the broken context checks.
TASK = 'id = "abcdef"\nspec = "Parse the header."\ncontext = ["src/a.py"]\n'


def _broken(*args: object, **kwargs: object) -> object:
    raise RuntimeError("the context rule broke")


def test_a_broken_rule_keeps_the_other_findings_in_the_editor(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = Snapshot.load(workspace)
    spec_codes = {
        f.code for f in analyze_task(snapshot, TASK_REL, TASK, with_context=False).findings
    }
    assert spec_codes and all(code.startswith("HR1") for code in spec_codes)

    monkeypatch.setattr(analysis, "context_report", _broken)
    rules = GuardedRules()
    result = analyze_task(snapshot, TASK_REL, TASK, rules=rules)
    assert {f.code for f in result.findings} == spec_codes
    assert result.context is None
    assert [(f.rule, str(f.error)) for f in rules.failures] == [
        ("the context checks (HR200-HR206)", "the context rule broke")
    ]
    with pytest.raises(RuntimeError, match="the context rule broke"):
        analyze_task(snapshot, TASK_REL, TASK)  # the gate's runner: fails closed
