"""`handrail init --agent`: each agent's hook and MCP configuration, merged into its files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from agent_helpers import handrail

SCHEMA = Path(__file__).resolve().parent / "claude_code_settings.schema.json"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    (folder / ".git").mkdir(parents=True)
    return folder


def test_claude_code_settings_match_the_documented_schema(root: Path) -> None:
    done = handrail(root, "init", "--agent", "claude-code")
    assert done.exit_code == 0, done.output
    settings = json.loads((root / ".claude" / "settings.json").read_text())
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(settings)
    hooks = settings["hooks"]
    stop = "handrail agent stop-check --agent claude-code"
    assert hooks["Stop"][0]["hooks"][0]["command"] == stop
    assert hooks["SubagentStop"][0]["hooks"][0]["command"] == stop
    (post,) = hooks["PostToolUse"]
    assert post["matcher"] == "Edit|MultiEdit|Write|NotebookEdit"
    assert post["hooks"][0]["command"] == "handrail mark --diff --agent claude-code --hook-input"
    assert settings["enabledMcpjsonServers"] == ["handrail"]
    servers = json.loads((root / ".mcp.json").read_text())["mcpServers"]
    assert servers["handrail"] == {"command": "handrail", "args": ["mcp", "--agent", "claude-code"]}


def test_the_schema_refuses_what_claude_code_would_refuse() -> None:
    # The validation above can fail: a hook without "type", or an unknown event, is refused.
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    bad_hook = {"hooks": {"Stop": [{"hooks": [{"command": "handrail agent stop-check"}]}]}}
    bad_event = {"hooks": {"stop": [{"hooks": [{"type": "command", "command": "x"}]}]}}
    assert not validator.is_valid(bad_hook)
    assert not validator.is_valid(bad_event)


def test_existing_settings_are_merged_and_a_second_run_changes_nothing(root: Path) -> None:
    claude = root / ".claude"
    claude.mkdir()
    mine = {
        "model": "opus",
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]},
    }
    (claude / "settings.json").write_text(json.dumps(mine))
    assert handrail(root, "init", "--agent", "claude-code").exit_code == 0
    settings = json.loads((claude / "settings.json").read_text())
    assert settings["model"] == "opus"
    commands = [h["hooks"][0]["command"] for h in settings["hooks"]["Stop"]]
    assert commands == ["say done", "handrail agent stop-check --agent claude-code"]
    before = (claude / "settings.json").read_bytes()
    again = handrail(root, "init", "--agent", "claude-code")
    assert again.exit_code == 0
    assert "unchanged .claude/settings.json" in again.output
    assert (claude / "settings.json").read_bytes() == before


def test_broken_settings_are_reported_with_their_line_and_left_alone(root: Path) -> None:
    claude = root / ".claude"
    claude.mkdir()
    (claude / "settings.json").write_text('{\n  "hooks": {,\n}\n')
    done = handrail(root, "init", "--agent", "claude-code")
    assert done.exit_code == 2
    assert ".claude/settings.json:2:" in done.stderr
    assert (claude / "settings.json").read_text() == '{\n  "hooks": {,\n}\n'


def test_cursor_and_codex(root: Path) -> None:
    done = handrail(root, "init", "--agent", "cursor", "--agent", "codex")
    assert done.exit_code == 0, done.output
    hooks = json.loads((root / ".cursor" / "hooks.json").read_text())
    assert hooks["version"] == 1
    assert hooks["hooks"]["stop"] == [{"command": "handrail agent stop-check --agent cursor"}]
    assert "--agent cursor" in hooks["hooks"]["afterFileEdit"][0]["command"]
    cursor_mcp = json.loads((root / ".cursor" / "mcp.json").read_text())
    assert cursor_mcp["mcpServers"]["handrail"]["args"] == ["mcp", "--agent", "cursor"]
    codex = tomllib.loads((root / ".codex" / "config.toml").read_text())
    assert codex["mcp_servers"]["handrail"] == {
        "command": "handrail",
        "args": ["mcp", "--agent", "codex"],
    }
    codex_hooks = json.loads((root / ".codex" / "hooks.json").read_text())
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(codex_hooks)
    stop = codex_hooks["hooks"]["Stop"][0]["hooks"][0]["command"]
    assert stop == "handrail agent stop-check --agent codex"


def test_init_offers_every_agent_it_can_set_up() -> None:
    from handrail.agents.setup import SETUP_AGENTS, SETUPS
    from handrail.cli.init_cmd import init

    (option,) = [p for p in init.params if p.name == "agents"]
    assert list(option.type.choices) == list(SETUP_AGENTS) == list(SETUPS)  # type: ignore[attr-defined]
