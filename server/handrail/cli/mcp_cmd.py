"""`handrail mcp`: the Model Context Protocol server for coding agents, on stdio."""

from __future__ import annotations

import click

from handrail.cli.common import Context, fail, pass_ctx


@click.command("mcp")
@click.option(
    "--agent",
    default="mcp-client",
    show_default=True,
    help="The agent's name, recorded on every block it marks (claude-code, cursor, ...).",
)
@click.option("--model", help="The model the agent uses, recorded with its blocks.")
@pass_ctx
def mcp(ctx: Context, agent: str, model: str | None) -> None:
    """Run Handrail's MCP server on stdin/stdout for a coding agent (see docs/agents.md).

    Tools: check_spec, check_context, get_prompt, mark_generated, verify, block_states.
    Resources: handrail://workflow, handrail://task/active. Needs the `mcp` extra:
    pip install 'handrail[mcp]'.
    """
    try:
        import mcp as _sdk  # noqa: F401  (only to say clearly when it is missing)
    except ImportError:
        fail("the MCP server needs the mcp package: pip install 'handrail[mcp]'")
    from handrail.agents.identity import AgentIdentity
    from handrail.agents.mcp_server import serve
    from handrail.git import git_owner

    ws = ctx.ws
    serve(ws, AgentIdentity(agent, model), author=git_owner(ws.root))
