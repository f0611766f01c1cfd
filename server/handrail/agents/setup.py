"""`handrail init --agent NAME`: the hook and MCP configuration of each coding agent.

Each agent gets, in its project-level files (committed, so the whole team's agents follow
the workflow):

- the MCP server, ``handrail mcp --agent NAME``;
- the post-edit hook, ``handrail mark --diff --agent NAME --hook-input`` (the agent's edits
  become blocks of the active task, with the agent's name, model and session);
- the stop hook, ``handrail agent stop-check`` (the agent cannot stop while its code is
  unproven).

Existing files are merged, never replaced: other keys and other hooks stay as they are, and
an entry Handrail already wrote is not added twice. A file that is not valid JSON (or TOML)
is reported with its line and left untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handrail import atomic
from handrail.workspace import Workspace

SETUP_AGENTS = ("claude-code", "cursor", "codex")
"""Agents `init --agent` writes configuration for (docs/agents.md shows the others)."""

STOP_CHECK = "handrail agent stop-check"


def stop_command(agent: str) -> str:
    return f"{STOP_CHECK} --agent {agent}"


MCP_NAME = "handrail"


def mark_command(agent: str) -> str:
    return f"handrail mark --diff --agent {agent} --hook-input"


def mcp_entry(agent: str) -> dict[str, Any]:
    return {"command": "handrail", "args": ["mcp", "--agent", agent]}


class SetupError(ValueError):
    """A configuration file that cannot be merged; names the file and the line."""


@dataclass(slots=True)
class SetupResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _read_json(ws: Workspace, rel: str) -> dict[str, Any] | None:
    path = ws.root / rel
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"{rel}: cannot read it ({exc})") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise SetupError(
            f"{rel}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); fix it, then run "
            "handrail init --agent again"
        ) from None
    if not isinstance(data, dict):
        raise SetupError(f"{rel}:1: expected a JSON object")
    return data


def _section(data: dict[str, Any], key: str, rel: str) -> dict[str, Any]:
    value = data.setdefault(key, {})
    if not isinstance(value, dict):
        raise SetupError(f"{rel}: {key!r} must be an object")
    return value


def _list(data: dict[str, Any], key: str, rel: str) -> list[Any]:
    value = data.setdefault(key, [])
    if not isinstance(value, list):
        raise SetupError(f"{rel}: {key!r} must be a list")
    return value


def _mentions(entries: list[Any], needle: str) -> bool:
    return needle in json.dumps(entries)


def _write(
    ws: Workspace, rel: str, change: Callable[[dict[str, Any]], None], result: SetupResult
) -> None:
    before = _read_json(ws, rel)
    data: dict[str, Any] = json.loads(json.dumps(before)) if before is not None else {}
    change(data)
    if before is not None and data == before:
        result.unchanged.append(rel)
        return
    path = ws.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    atomic.replace(path, text.encode("utf-8"))
    (result.created if before is None else result.updated).append(rel)


def _claude_hooks(agent: str, edit_matcher: str) -> Callable[[dict[str, Any]], None]:
    """The hooks of Claude Code's settings (Codex's hooks.json has the same shape)."""

    def change(data: dict[str, Any]) -> None:
        hooks = _section(data, "hooks", "hooks")
        post = _list(hooks, "PostToolUse", "hooks.PostToolUse")
        if not _mentions(post, "handrail mark --diff"):
            group: dict[str, Any] = {
                "hooks": [{"type": "command", "command": mark_command(agent), "timeout": 60}]
            }
            if edit_matcher:
                group = {"matcher": edit_matcher, **group}
            post.append(group)
        for event in ("Stop", "SubagentStop"):
            stop = _list(hooks, event, f"hooks.{event}")
            if not _mentions(stop, STOP_CHECK):
                command = stop_command(agent)
                stop.append({"hooks": [{"type": "command", "command": command, "timeout": 120}]})

    return change


def _mcp_servers(agent: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        servers = _section(data, "mcpServers", "mcpServers")
        servers.setdefault(MCP_NAME, mcp_entry(agent))

    return change


def setup_claude_code(ws: Workspace, result: SetupResult) -> None:
    """`.mcp.json` (the project's MCP servers) and `.claude/settings.json` (hooks, and the
    approval of the project's `handrail` MCP server)."""
    _write(ws, ".mcp.json", _mcp_servers("claude-code"), result)
    hooks = _claude_hooks("claude-code", "Edit|MultiEdit|Write|NotebookEdit")

    def settings(data: dict[str, Any]) -> None:
        hooks(data)
        approved = _list(data, "enabledMcpjsonServers", "enabledMcpjsonServers")
        if MCP_NAME not in approved:
            approved.append(MCP_NAME)

    _write(ws, ".claude/settings.json", settings, result)


def setup_cursor(ws: Workspace, result: SetupResult) -> None:
    """`.cursor/mcp.json` and `.cursor/hooks.json` (version 1: afterFileEdit and stop)."""
    _write(ws, ".cursor/mcp.json", _mcp_servers("cursor"), result)

    def hooks(data: dict[str, Any]) -> None:
        data.setdefault("version", 1)
        events = _section(data, "hooks", "hooks")
        edits = _list(events, "afterFileEdit", "hooks.afterFileEdit")
        if not _mentions(edits, "handrail mark --diff"):
            edits.append({"command": mark_command("cursor")})
        stop = _list(events, "stop", "hooks.stop")
        if not _mentions(stop, STOP_CHECK):
            stop.append({"command": stop_command("cursor")})

    _write(ws, ".cursor/hooks.json", hooks, result)


def setup_codex(ws: Workspace, result: SetupResult) -> None:
    """`.codex/config.toml` (`[mcp_servers.handrail]`) and `.codex/hooks.json`."""
    import tomlkit

    rel = ".codex/config.toml"
    path = ws.root / rel
    try:
        before = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        before = None
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"{rel}: cannot read it ({exc})") from None
    try:
        doc = tomlkit.parse(before or "")
    except tomlkit.exceptions.ParseError as exc:
        raise SetupError(f"{rel}:{exc.line}:{exc.col}: not valid TOML; fix it first") from None
    servers = doc.setdefault("mcp_servers", tomlkit.table(is_super_table=True))
    if MCP_NAME not in servers:
        entry = tomlkit.table()
        entry["command"] = "handrail"
        entry["args"] = ["mcp", "--agent", "codex"]
        servers[MCP_NAME] = entry
    text = tomlkit.dumps(doc)
    if text == before:
        result.unchanged.append(rel)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.replace(path, text.encode("utf-8"))
        (result.created if before is None else result.updated).append(rel)
    # Codex edits files through its shell and apply_patch tools: mark after every tool.
    _write(ws, ".codex/hooks.json", _claude_hooks("codex", ""), result)


SETUPS: dict[str, Callable[[Workspace, SetupResult], None]] = {
    "claude-code": setup_claude_code,
    "cursor": setup_cursor,
    "codex": setup_codex,
}


def setup_agents(ws: Workspace, agents: list[str]) -> SetupResult:
    """Write the configuration of each of `agents` (names from `SETUP_AGENTS`)."""
    result = SetupResult()
    for agent in dict.fromkeys(agents):
        SETUPS[agent](ws, result)
    return result
