"""What `initialize` waits for (issue 17): nothing that answers it imports pydantic or the
engine; they are imported after the answer, and the first document still gets its findings.

Checked in a fresh interpreter (what a module imports is process-wide), by the modules loaded,
never by a clock.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from handrail.workspace import Workspace

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from handrail.lsp.server import create_server

    class Capture:
        data = b""
        def write(self, data): Capture.data += data
        def close(self): pass

    server = create_server()
    server.protocol.set_writer(Capture())
    message = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": None, "rootUri": sys.argv[1], "capabilities": {},
                   "initializationOptions": {"handrail": {"debounceMs": 7}}},
    }
    server.protocol.handle_message(
        json.loads(json.dumps(message), object_hook=server.protocol.structure_message)
    )
    body = Capture.data.split(b"\\r\\n\\r\\n", 1)[1]
    answer = json.loads(body)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "tomlkit", "pathspec")
                    or m in ("handrail.analysis", "handrail.workflow.model"))
    debounce = server.settings.debounce_ms  # read on first use, after the answer
    print(json.dumps({"answer": answer, "loaded": loaded, "debounce": debounce,
                      "after": "pydantic" in sys.modules}))
    """
)


def test_initialize_is_answered_without_pydantic_or_the_engine(workspace: Workspace) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, workspace.root.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    capabilities = report["answer"]["result"]["capabilities"]
    assert capabilities["codeActionProvider"] and capabilities["hoverProvider"]
    assert "handrail.generate" in capabilities["executeCommandProvider"]["commands"]
    assert report["loaded"] == [], f"imported before `initialize` was answered: {report['loaded']}"
    # The settings from initializationOptions are still the ones used.
    assert report["debounce"] == 7 and report["after"] is True
