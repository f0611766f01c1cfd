"""How much of a pull request's diff is the ledger: a three-task branch, before and after.

Builds a repository with a small library and its tests, then a branch that does what a
developer does for three tasks (task new, mark the generated code, verify with pytest,
explain), commits it, and counts the changed lines of the branch: code vs `.handrail/ledger/`.
The same records are then rewritten as earlier versions wrote them (two-space indent) to show
the difference one-line records make.

    python bench/ledger_diff_bench.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SPECS = (
    "Given a text, return its words in lower case. It must drop punctuation and follow "
    "the style of words() in lib.py.",
    "Given a list of numbers, return their mean as a float. It must raise ValueError on an "
    "empty list and follow the style of lib.py.",
    "Given a CSV line, return its fields as a list of strings. It must handle quoted commas "
    "and follow the style of lib.py.",
)
BODIES = (
    "def lower_words(text):\n    return [w.strip('.,;!?').lower() for w in text.split()]\n",
    "def mean(values):\n    if not values:\n        raise ValueError('empty')\n"
    "    return sum(values) / len(values)\n",
    "def fields(line):\n    import csv\n    return next(csv.reader([line]))\n",
)
TESTS = (
    "from lib import lower_words\n\n\ndef test_lower_words():\n"
    "    assert lower_words('Hi, There.') == ['hi', 'there']\n",
    "import pytest\nfrom lib import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n"
    "    with pytest.raises(ValueError):\n        mean([])\n",
    "from lib import fields\n\n\ndef test_fields():\n"
    "    assert fields('a,\"b,c\"') == ['a', 'b,c']\n",
)


def sh(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=root, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def handrail(root: Path, env: dict[str, str], *args: str) -> str:
    return sh(root, sys.executable, "-m", "handrail", "--root", str(root), *args, env=env)


def numstat(root: Path) -> tuple[int, int]:
    ledger = code = 0
    for row in sh(root, "git", "diff", "--numstat", "main..HEAD").splitlines():
        added, deleted, path = row.split("\t")
        lines = int(added) + int(deleted)
        if path.startswith(".handrail/ledger/"):
            ledger += lines
        else:
            code += lines
    return ledger, code


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        env = {**os.environ, "XDG_STATE_HOME": str(Path(tmp) / "state")}
        env |= {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com"}
        env |= {"GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}
        sh(root, "git", "init", "-q", "-b", "main")
        (root / "lib.py").write_text("def words(text):\n    return text.split()\n")
        handrail(root, env, "init", "--owner", "Ada <ada@example.com>")
        workflow = root / ".handrail" / "workflow.toml"
        workflow.write_text(
            workflow.read_text()
            + f'\n[verification]\ncommand = "{sys.executable} -m pytest -q -p no:cacheprovider"\n'
        )
        sh(root, "git", "add", "-A", env=env)
        sh(root, "git", "commit", "-qm", "base", env=env)
        sh(root, "git", "checkout", "-qb", "three-tasks")
        for n, (spec, body, test) in enumerate(zip(SPECS, BODIES, TESTS, strict=True), 1):
            task = json.loads(handrail(root, env, "task", "new", spec, "--json"))["task"]
            lib = root / "lib.py"
            start = len(lib.read_text().splitlines()) + 2
            lib.write_text(lib.read_text() + "\n\n" + body)
            end = start + body.count("\n") - 1
            handrail(root, env, "mark", "lib.py", str(start), str(end), "--task", task)
            (root / f"test_{n}.py").write_text(test)
            handrail(root, env, "trust")
            handrail(root, env, "verify", task)
            handrail(root, env, "explain", f"{task}.1")
        sh(root, "git", "add", "-A", env=env)
        sh(root, "git", "commit", "-qm", "three tasks", env=env)
        ledger, code = numstat(root)
        records = sorted((root / ".handrail" / "ledger").glob("*.json"))
        for path in records:
            data = json.loads(path.read_text())
            path.write_text(json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
        sh(root, "git", "commit", "-qam", "indented", env=env)
        indented, _ = numstat(root)
        total_now, total_before = ledger + code, indented + code
        print(f"records: {len(records)}  code and task lines changed: {code}")
        print(
            f"one-line records : ledger {ledger:4d} of {total_now:4d} changed lines "
            f"({100 * ledger / total_now:.0f} %)"
        )
        print(
            f"indented (before): ledger {indented:4d} of {total_before:4d} changed lines "
            f"({100 * indented / total_before:.0f} %)"
        )


if __name__ == "__main__":
    main()
