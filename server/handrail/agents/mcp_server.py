"""`handrail mcp`: the Model Context Protocol server, on stdio, over `agents.tools`.

The only module that imports the `mcp` SDK (an optional extra, `handrail[mcp]`); the command
line imports it only when `handrail mcp` runs, so `handrail check` in a git hook never pays
for it. The tools are thin: each calls its `agents.tools` function and turns a refusal into
the protocol's tool error, which the agent reads as the reason.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from handrail import __version__
from handrail.agents.identity import AgentIdentity
from handrail.agents.tools import ToolRefused
from handrail.workspace import Workspace

INSTRUCTIONS = """\
Handrail enforces this repository's AI-coding workflow. Before you write code for a change:
1. check_spec with a two-sentence spec (it creates the task when the spec passes);
2. check_context for that task (token counts against the caps, secrets, ignored files);
3. get_prompt: the checked prompt pack to follow (refused while checks fail);
4. after writing code, mark_generated for each block you wrote (or let the edit hook do it);
5. verify the task: the work is not done until its blocks are verified.
block_states shows what is still open. Never claim a task is finished while block_states
lists unverified blocks; if verify reports HR403, ask the user to run `handrail trust`.
"""

F = TypeVar("F", bound=Callable[..., Any])


def create_server(ws: Workspace, identity: AgentIdentity, *, author: str | None = None) -> Any:
    """An `MCPServer` with Handrail's tools and resources for workspace `ws`."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ToolError
    from mcp.types import ToolAnnotations

    from handrail.agents import tools

    server = MCPServer(
        name="handrail",
        title="Handrail",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )

    def refusals(fn: F) -> F:
        """`fn` with a refusal turned into the protocol's tool error (the agent reads it)."""

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ToolRefused as exc:
                raise ToolError(str(exc)) from None

        return run  # type: ignore[return-value]

    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    writes = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)

    @server.tool(annotations=writes)
    @refusals
    def check_spec(
        spec: str,
        context: list[str] | None = None,
        verify: str | None = None,
        create: bool = True,
    ) -> dict[str, Any]:
        """Check a spec (at most two sentences: inputs, outputs, the constraint that matters, the
        pattern to match) against the workflow. When it passes, the task is created and
        becomes the active task; `context` lists workspace files (src/a.py or
        src/a.py#L10-L40). HR101 past the hard limit means: decompose, generate nothing."""
        return tools.check_spec(
            ws, spec, context=context, verify=verify, create=create, author=author
        )

    @server.tool(annotations=read_only)
    @refusals
    def check_context(task: str) -> dict[str, Any]:
        """Check a task's context: token counts per file and in total against the caps, the
        number of files, ignored files and secrets (type and line only), what to drop."""
        return tools.check_context(ws, task)

    @server.tool(annotations=read_only)
    @refusals
    def get_prompt(task: str) -> dict[str, Any]:
        """The checked prompt pack of a task (spec, context rules, generation settings and the
        context files). Refused, with the findings, while the spec or context fails."""
        return tools.get_prompt(ws, task)

    @server.tool(annotations=writes)
    @refusals
    def mark_generated(path: str, start_line: int, end_line: int, task: str) -> dict[str, Any]:
        """Mark lines start_line..end_line (1-based, inclusive) of a workspace file as a
        generated block of the task: the markers are written into the file and the block is
        recorded with this agent's name. Only files inside the workspace."""
        return tools.mark_generated(
            ws, path, start_line, end_line, task, identity=identity, author=author
        )

    @server.tool(annotations=writes)
    @refusals
    def verify(target: str) -> dict[str, Any]:
        """Run the verification of a task id or block id. Runs only the commands the user
        approved with `handrail trust`; otherwise runs nothing and says so (HR403)."""
        return tools.verify(ws, target)

    @server.tool(annotations=read_only)
    @refusals
    def block_states(path: str | None = None, task: str | None = None) -> dict[str, Any]:
        """The state of the generated blocks of a file, a task, or (neither given) the whole
        workspace: verified or not, what is missing, and their findings."""
        return tools.block_states(ws, path=path, task=task)

    @server.resource(
        "handrail://workflow",
        name="workflow",
        title="The team's AI-coding workflow",
        mime_type="text/markdown",
    )
    def workflow() -> str:
        try:
            return tools.workflow_document(ws)
        except ToolRefused as exc:
            raise ResourceError(str(exc)) from None

    @server.resource(
        "handrail://task/active",
        name="active-task",
        title="The task agents work on now",
        mime_type="application/json",
    )
    def active_task() -> str:
        return json.dumps(tools.active_task_resource(ws), indent=2, ensure_ascii=False)

    return server


def serve(ws: Workspace, identity: AgentIdentity, *, author: str | None = None) -> None:
    """Run the server on stdin/stdout until the client closes the stream."""
    server = create_server(ws, identity, author=author)
    # stdout is the protocol stream: the SDK's own logging goes to stderr, and only warnings.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    server.run("stdio")
