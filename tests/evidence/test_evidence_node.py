"""The whole flow for JavaScript: node's own test runner writes LCOV, verify reads it.

No stand-in: the real `handrail.evidence.reports` parser reads what node 20 wrote, and the
block no test calls stays unverified (HR310) while the suite passes."""

from __future__ import annotations

import shutil

import pytest

from handrail.analysis import Snapshot, analyze_source
from handrail.verify import trust as trust_mod
from handrail.verify.run import Target, verify
from handrail.workspace import Workspace

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

TASK = "dddddd"
CALC = (
    "// handrail:begin dddddd.1\n"
    "function add(a, b) {\n"
    "  return a + b;\n"
    "}\n"
    "// handrail:end dddddd.1\n"
    "// handrail:begin dddddd.2\n"
    "function unused(a) {\n"
    "  return a * 2;\n"
    "}\n"
    "// handrail:end dddddd.2\n"
    "module.exports = { add, unused };\n"
)
TEST = (
    "const test = require('node:test');\n"
    "const assert = require('node:assert');\n"
    "const { add } = require('./calc.js');\n"
    "test('adds', () => { assert.strictEqual(add(2, 3), 5); });\n"
)
COMMAND = (
    "node --test --experimental-test-coverage --test-reporter=lcov "
    "--test-reporter-destination=lcov.info"
)


def test_node_lcov_verifies_the_tested_block_only(workspace: Workspace) -> None:
    ws = workspace
    ws.workflow_path.write_text(
        'extends = "default"\n\n[workflow]\nowner = "Ada"\nreviewed = 2026-11-01\n\n'
        f'[verification]\ncommand = "{COMMAND}"\ncoverage = "lcov.info"\n'
        # The pack's own rule for .js files would otherwise pick `npm test`.
        f'\n[[verification.by_path]]\npattern = "*.js"\ncommand = "{COMMAND}"\n'
        'coverage = "lcov.info"\n',
        encoding="utf-8",
    )
    (ws.tasks_dir / f"{TASK}.toml").write_text(
        f'id = "{TASK}"\nspec = "Add two numbers. It must never throw."\ncontext = []\n'
    )
    (ws.root / "calc.js").write_text(CALC)
    (ws.root / "calc.test.js").write_text(TEST)
    trust_mod.trust(ws)
    report = verify(ws, Target.everything())
    results = {r.block.block_id: r for r in report.block_results()}
    assert results[f"{TASK}.1"].status == "verified", results[f"{TASK}.1"].message
    assert "lines run" in results[f"{TASK}.1"].message
    assert results[f"{TASK}.2"].status != "verified", results[f"{TASK}.2"].message

    analysis = analyze_source(Snapshot.load(ws), "calc.js", (ws.root / "calc.js").read_text())
    codes = {(f.code, f.data.get("block_id")) for f in analysis.findings}
    assert ("HR310", f"{TASK}.2") in codes
    assert not any(
        code in ("HR300", "HR302", "HR310") and block == f"{TASK}.1" for code, block in codes
    )
