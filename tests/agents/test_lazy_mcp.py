"""The MCP SDK is an optional extra, imported only by `handrail mcp`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from handrail.agents.tools import _withhold_secrets


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_check_and_the_stop_hook_never_import_the_sdk(tmp_path: Path) -> None:
    (tmp_path / ".handrail").mkdir()
    code = (
        "import sys\n"
        "from handrail.cli.main import main\n"
        "for args in (['check'], ['agent', 'stop-check']):\n"
        "    main(['--root', '.', *args])\n"
        "print('mcp' in sys.modules)\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_without_the_sdk_handrail_mcp_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['mcp'] = None  # as if the extra were not installed\n"
        "from handrail.cli.main import main\n"
        "sys.exit(main(['--root', '.', 'mcp']))\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 2
    assert "pip install 'handrail[mcp]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_verification_output_lines_with_a_secret_are_withheld() -> None:
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    lines = ["collected 3 items", f"E   AssertionError: got {key}", "1 failed"]
    shown = _withhold_secrets(lines)
    assert shown[0] == "collected 3 items" and shown[2] == "1 failed"
    assert key not in shown[1] and "withheld" in shown[1]
