"""Coding agents: the MCP server's tools, the stop hook and the set-up of each agent.

An agent (Claude Code, Cursor, Codex, ...) reaches Handrail two ways: it asks, through the
Model Context Protocol server (`handrail mcp`), and it is held, through its own stop hook
(`handrail agent stop-check`), which refuses to let it call a task done while its code is
unmarked or unverified. Everything here calls the same engine functions as the command line
and the language server, so an agent sees the same findings as a person.

Only `agents.mcp_server` imports the `mcp` SDK, and only when `handrail mcp` runs.
"""
