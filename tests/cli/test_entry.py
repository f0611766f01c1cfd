"""The console script: `handrail lsp` goes straight to the server, without the command-line
parser (issue 17); every other command line, `lsp --help` included, goes through click."""

from __future__ import annotations

import subprocess
import sys

import pytest

from handrail.cli.entry import main

_PROBE = (
    "import sys\n"
    "import handrail.lsp.server as server\n"
    "server.main = lambda: 7\n"  # stands for the server: its exit code comes back
    "from handrail.cli.entry import main\n"
    "sys.argv = ['handrail', *sys.argv[1:]]\n"
    "code = main()\n"
    "print('click' in sys.modules, code)\n"
)


@pytest.mark.parametrize("args", [["lsp"], ["lsp", "--stdio"]])
def test_the_server_command_skips_the_command_line_parser(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "7"]


def test_other_command_lines_go_through_click(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lsp", "--help"]) == 0
    assert "Run the language server on stdin/stdout" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert "handrail" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2
