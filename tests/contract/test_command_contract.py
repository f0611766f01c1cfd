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
        "result.state: not in TaskStatusJson",
        "result.status: missing (TaskStatusJson)",
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


EDITOR_ONLY = {"uri", "shown"}
"""The only fields a server result may add to its engine use case's shape."""


def test_the_servers_task_results_are_the_engines_plus_editor_only_facts() -> None:
    """Each task command's result is its engine use case's JSON (`handrail.tasks.results`),
    extended at most by what only an editor needs: one side cannot grow a field alone."""
    from handrail.lsp.features.command_names import (
        CLOSE_TASK,
        DECOMPOSE,
        EDIT_TASK,
        LIST_TASKS,
        NEW_TASK,
        REOPEN_TASK,
    )
    from handrail.tasks import results

    shared = {
        NEW_TASK: results.NewTaskJson,
        LIST_TASKS: results.TaskListJson,
        EDIT_TASK: results.EditTaskJson,
        CLOSE_TASK: results.TaskStatusJson,
        REOPEN_TASK: results.TaskStatusJson,
        DECOMPOSE: results.DecomposeJson,
    }
    _, objects = contract({**COMMAND_RESULTS, **{f"shared.{k}": v for k, v in shared.items()}})
    for command, engine in shared.items():
        server = COMMAND_RESULTS[command]
        server_keys, engine_keys = set(objects[server.__name__]), set(objects[engine.__name__])
        assert engine_keys <= server_keys and server_keys - engine_keys <= EDITOR_ONLY, command
    listed, task = objects["ListedTaskJson"], objects["TaskJson"]
    assert set(listed) - set(task) == {"uri"}


def _cli(workspace: Workspace, *args: str, code: int = 0) -> object:
    out = CliRunner().invoke(cli, ["--root", str(workspace.root), *args, "--json"])
    assert out.exit_code == code, out.output
    return json.loads(out.stdout)


def test_the_task_commands_print_the_shapes_the_server_returns(workspace: Workspace) -> None:
    """`handrail task new|list|show|edit|close|reopen|decompose --json` print exactly the
    engine's shapes, the ones the server's results extend (checked field by field)."""
    from handrail.context.check import ContextReportJson
    from handrail.tasks import results
    from handrail.tasks.model import TaskJson

    (workspace.root / "src").mkdir()
    (workspace.root / "src" / "ini.py").write_text("def parse():\n    return {}\n")

    def errors(value: object, typed: object) -> list[str]:
        commands, objects = contract({"x": typed})
        return shape_errors(value, commands["x"], objects)

    made = _cli(workspace, "task", "new", SPEC, "-c", "src/ini.py", "-c", "src/gone.py")
    assert errors(made, results.NewTaskJson) == []
    assert isinstance(made, dict) and made["template"] is False
    # The context check of the new task is in both front ends' answer (HR205: a missing file).
    assert [f["code"] for f in made["context_findings"]] == ["HR205"]
    task = str(made["task"])
    assert errors(_cli(workspace, "task", "list"), results.TaskListJson) == []
    shown = _cli(workspace, "task", "show", task)
    assert errors(shown, TaskJson) == [] and isinstance(shown, dict) and shown["blocks"] == []
    context = _cli(workspace, "context", "check", task, code=1)
    assert isinstance(context, dict)
    assert [errors(r, ContextReportJson) for r in context["tasks"]] == [[]]
    edited = _cli(workspace, "task", "edit", task, "-c", "src/ini.py")
    assert errors(edited, results.EditTaskJson) == []
    assert isinstance(edited, dict) and edited["context_findings"] == []
    closed = _cli(workspace, "task", "close", task, "--reason", "abandoned")
    assert errors(closed, results.TaskStatusJson) == []
    assert isinstance(closed, dict) and closed["path"] == f".handrail/tasks/{task}.toml"
    assert errors(_cli(workspace, "task", "reopen", task), results.TaskStatusJson) == []
    drafts = _cli(workspace, "task", "decompose", SPEC, "--dry-run")
    assert errors(drafts, results.DecomposeJson) == []
    split = _cli(workspace, "task", "decompose", SPEC)
    assert errors(split, results.DecomposeJson) == []
    assert isinstance(split, dict) and len(split["children"]) == 2
