"""`handrail`: the command line."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from handrail import __version__
from handrail.cli.common import EXIT_OK, EXIT_USAGE, Context, require_folder

# Subcommands by name, in the order `--help` lists them: "module:attribute" in handrail.cli.
# Each is imported only when it runs, so `handrail check` in a git hook does not pay for the
# language server or the verification runner.
COMMANDS = {
    "init": "init_cmd:init",
    "task": "task_cmd:task",
    "context": "context_cmd:context",
    "prompt": "prompt_cmd:prompt",
    "generate": "generate_cmd:generate",
    "mark": "mark_cmd:mark",
    "renumber": "renumber_cmd:renumber",
    "export": "generate_cmd:export",
    "import": "generate_cmd:import_",
    "verify": "verify_cmd:verify_cmd",
    "trace": "verify_cmd:trace_cmd",
    "explain": "verify_cmd:explain_cmd",
    "trust": "verify_cmd:trust_cmd",
    "check": "check_cmd:check",
    "review": "review_cmd:review",
    "accept": "review_cmd:accept",
    "blame": "review_cmd:blame",
    "attribute": "review_cmd:attribute",
    "pr": "review_cmd:pr",
    "doc": "review_cmd:doc",
    "stats": "review_cmd:stats",
    "workflow": "review_cmd:workflow",
    "note": "review_cmd:note",
    "lsp": "lsp_cmd:lsp",
    "mcp": "mcp_cmd:mcp",
    "agent": "agent_cmd:agent",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"handrail.cli.{module_name}")
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="handrail")
@click.option(
    "--root",
    # Checked in `cli` rather than by click, for one plain line instead of usage text.
    type=click.Path(path_type=Path),
    help="Workspace root (default: the nearest folder above with .handrail/ or .git).",
)
@click.pass_context
def cli(click_ctx: click.Context, root: Path | None) -> None:
    """Handrail: a repeatable team workflow for AI-assisted coding.

    \b
    1 specify      handrail task new "<two-sentence spec>" --context src/a.py
    2 context      handrail context check TASK
    3 generate     handrail prompt TASK   (paste into any model), then handrail mark
    4 verify       handrail trust (once, after reading the commands), handrail verify TASK,
                   handrail trace BLOCK (risky code), handrail explain BLOCK
    5 review       handrail check   (the gate for hooks and CI; --rerun in CI)
    agents         handrail init --agent claude-code   (MCP server, edit and stop hooks)
    upkeep         handrail note "<where it helped or got in the way>",
                   handrail workflow review (the meeting's agenda), handrail workflow reviewed
    """
    if root is not None:
        require_folder(root, "--root")
    click_ctx.obj = Context(root)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="handrail")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return EXIT_OK
        return code if isinstance(code, int) else EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
