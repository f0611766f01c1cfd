"""End to end: one rule that raises costs the editor that rule's findings, not the document's.

The server runs in its own process: a `sitecustomize` module found first on its PYTHONPATH
breaks the probe rule (HR313) there, as a bug in one rule would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from features_harness import make_task, running
from lsp_client import env_with_sitecustomize

from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

_BROKEN_PROBE_RULE = """
from handrail import analysis

def probe_findings(*args, **kwargs):
    raise RuntimeError("the probe rule broke")

analysis.probe_findings = probe_findings
"""

# Two blocks: the broken rule fails on each, and says so once. The second block names a task
# that does not exist, a finding of another rule family (HR306).
SOURCE = (
    "import os\n"
    "# handrail:begin k3f7qa.1\n"
    "def check(password):\n"
    "    return password == os.environ['PW']\n"
    "# handrail:end k3f7qa.1\n"
    "# handrail:begin zzzzzz.1\n"
    "def other():\n"
    "    return 2\n"
    "# handrail:end zzzzzz.1\n"
)


async def test_a_failing_rule_leaves_one_note_and_the_other_findings(
    workspace: Workspace, tmp_path: Path
) -> None:
    make_task(workspace)
    path = workspace.root / "src" / "auth_check.py"
    path.parent.mkdir()
    path.write_text(SOURCE)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    env = env_with_sitecustomize(hooks, _BROKEN_PROBE_RULE)
    async with running([workspace.root], env=env) as client:
        uri = client.open(path, SOURCE)
        diagnostics = await client.diagnostics_of(uri, 1)
        codes = sorted(str(d.code) for d in diagnostics if d.code is not None)
        assert "HR300" in codes  # the evidence rule still reports the unverified block
        assert "HR306" in codes  # and the block checks the unknown task
        notes = [d for d in diagnostics if d.code is None]
        assert [n.message for n in notes] == [
            "Handrail could not run the probe findings (HR313): RuntimeError: the probe rule "
            "broke; other findings are shown. The details are in the Handrail output log."
        ]
        assert notes[0].range.start.line == 0
        # The server's log has the traceback, once per analysis.
        logged = await client.wait_for(
            lambda: [m.message for m in client.log_messages if "the probe rule broke" in m.message],
            what="the failing rule in the log",
        )
        assert "could not run the probe findings (HR313) on src/auth_check.py" in logged[0]
        assert "Traceback" in logged[0]
