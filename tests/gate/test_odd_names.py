"""The gate on file names git allows and UTF-8 does not: a clear finding, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from repo_helpers import git, init_repo

MARKED = "# handrail:begin abcdef.1\nx = 1\n# handrail:end abcdef.1\n"


def test_a_marked_file_whose_name_is_not_utf8_is_checked(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "repo", {"src/plain.py": "y = 2\n"})
    odd = os.fsencode(root) + b"/src/auth/we\xffird\nname.py"
    os.makedirs(os.path.dirname(odd))
    with open(odd, "w") as handle:
        handle.write(MARKED)
    git(root, "add", "-A")
    done = subprocess.run(
        [sys.executable, "-P", "-m", "handrail", "check"],
        cwd=root,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        env={**os.environ, "HANDRAIL_NO_REUSE": "1"},
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    assert "HR300" in done.stdout and "abcdef.1" in done.stdout
    # The name is shown escaped: its odd byte and its newline cannot rewrite the report.
    assert "we\\udcffird\\x0aname.py" in done.stdout
