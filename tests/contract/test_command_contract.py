"""The command contract, checked on the server's side: every ``handrail.*`` command has a
result type (`handrail.lsp.features.command_results`), a shared example that has exactly that
type (tests/contract/commands/, which node's commandContract.test.ts checks against the
extension's types too), and the TypeScript types the extension compiles against are generated
from the same result types.

The real server's answers are checked against the same types in every end-to-end command
test (tests/lsp/features/features_harness.py, `Client.run`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from command_shapes import contract, result_errors, shape_errors
from make_protocol import TARGET, render

from handrail.cli.main import cli
from handrail.lsp.features.command_results import COMMAND_RESULTS
from handrail.lsp.features.commands import HANDLERS
from handrail.workspace import Workspace

SPEC = (
    "Given a CSV line, return its fields as a list of strings. "
    "It must handle quoted commas and follow the parser style of src/ini.py."
)
EXAMPLES = Path(__file__).resolve().parent / "commands"


def _examples() -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for path in sorted(EXAMPLES.glob("*.json")):
        example = json.loads(path.read_text(encoding="utf-8"))
        assert path.stem == str(example["command"]).removeprefix("handrail."), path
        found[str(example["command"])] = example
    return found


def test_the_extensions_types_are_generated_from_the_servers() -> None:
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "client-vscode/src/logic/protocol.generated.ts is stale: "
        "run python tests/contract/make_protocol.py"
    )


def test_every_command_has_a_result_type_and_an_example() -> None:
    # Every command the server advertises is in COMMAND_RESULTS: test_commands_e2e.py checks
    # the list the real server sends in its capabilities.
    assert set(HANDLERS) <= set(COMMAND_RESULTS)
    assert sorted(_examples()) == sorted(COMMAND_RESULTS)


@pytest.mark.parametrize("command", sorted(COMMAND_RESULTS))
def test_the_example_result_has_the_declared_type(command: str) -> None:
    example = _examples()[command]
    assert isinstance(example["arguments"], list)
    assert result_errors(command, example["result"]) == []


def test_a_changed_field_is_named() -> None:
    commands, objects = contract(COMMAND_RESULTS)
    good = _examples()["handrail.closeTask"]["result"]
    assert isinstance(good, dict)
    renamed = {("state" if k == "status" else k): v for k, v in good.items()}
    assert shape_errors(renamed, commands["handrail.closeTask"], objects) == [
        "result.state: not in TaskStatusResult",
        "result.status: missing (TaskStatusResult)",
    ]
    assert shape_errors({**good, "status": "paused"}, commands["handrail.closeTask"], objects)


@pytest.mark.parametrize(
    ("verb", "command"), [("trace", "handrail.recordTrace"), ("explain", "handrail.explain")]
)
def test_the_cli_prints_what_the_server_returns(
    workspace: Workspace, verb: str, command: str
) -> None:
    """`handrail trace|explain --json` and the server command are one use case
    (`handrail.review.acknowledgements`): one JSON shape."""
    from handrail.tasks.files import save_task
    from handrail.tasks.model import Task

    save_task(workspace, Task(id="k3f7qa", spec=SPEC, context=[]))
    (workspace.root / "a.py").write_text(
        "# handrail:begin k3f7qa.1\nx = 1\n# handrail:end k3f7qa.1\n"
    )
    out = CliRunner().invoke(cli, ["--root", str(workspace.root), verb, "k3f7qa.1", "--json"])
    assert out.exit_code == 0, out.output
    printed = json.loads(out.stdout)
    assert result_errors(command, printed) == []
    assert printed["kind"] == verb and printed["path"] == "a.py"


def test_context_candidates_on_the_command_line_are_the_servers(workspace: Workspace) -> None:
    """`handrail context candidates --json` and ``handrail.contextCandidates``: one use case
    (`handrail.context.candidates`), one JSON shape; a file that cannot be attached says why."""
    (workspace.root / "src").mkdir()
    (workspace.root / "src" / "a.py").write_text("def a():\n    return 1\n")
    (workspace.root / "src" / "b.bin").write_bytes(b"\x00\x01binary")
    out = CliRunner().invoke(
        cli, ["--root", str(workspace.root), "context", "candidates", "--json"]
    )
    assert out.exit_code == 0, out.output
    printed = json.loads(out.stdout)
    assert result_errors("handrail.contextCandidates", printed) == []
    rows = {f["path"]: (f["tokens"] is not None, f["status"]) for f in printed["files"]}
    assert rows == {"src/a.py": (True, "ok"), "src/b.bin": (False, "binary")}
    text = CliRunner().invoke(cli, ["--root", str(workspace.root), "context", "candidates"])
    assert "binary  src/b.bin" in text.stdout and "2 file(s)" in text.stdout
