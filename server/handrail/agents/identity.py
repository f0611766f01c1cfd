"""Who generated a block: the agent's name, and the model and session where it tells them.

The identity is recorded on `BlockMarked` records so `handrail stats` and `handrail pr` can
say which agent (and model) wrote which code (`review.pr.describe_agent` puts it in words).
An agent tells it in its hook input (Claude Code and Codex: ``session_id``; Cursor:
``conversation_id`` and ``model``), or the MCP client names itself in the protocol's handshake.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MAX = 200


class HookInputError(ValueError):
    """The hook input on stdin is not a JSON object; a sentence for the user."""


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    agent: str
    model: str | None = None
    session: str | None = None

    def record_fields(self) -> dict[str, Any]:
        """The `BlockMarked` fields for this identity."""
        return {"agent": self.agent, "model": self.model, "session": self.session}


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:_MAX]


@dataclass(frozen=True, slots=True)
class HookInput:
    """What an agent's hook tells on stdin, whichever agent sent it."""

    event: str
    """``Stop``, ``SubagentStop`` (Claude Code, Codex), ``stop`` (Cursor), ``PostToolUse`` ..."""
    session: str | None
    cwd: str | None
    model: str | None
    stop_hook_active: bool
    loop_count: int | None
    """Cursor's count of follow-ups already sent in this loop (Claude Code has none)."""
    status: str | None
    """Cursor's end of the loop: ``completed``, ``aborted`` (the user stopped it), ``error``."""
    raw: Mapping[str, Any]

    @property
    def is_cursor(self) -> bool:
        return self.event == "stop" or "conversation_id" in self.raw

    @classmethod
    def parse(cls, text: str) -> HookInput:
        """Read the hook's JSON; an empty input (run by hand) reads as an empty object."""
        # Some agents start the payload with a byte order mark.
        text = text.lstrip("\ufeff").strip()
        if not text:
            data: Any = {}
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise HookInputError(
                    f"the hook input on stdin is not JSON (line {exc.lineno}, column "
                    f"{exc.colno}: {exc.msg})"
                ) from None
        if not isinstance(data, dict):
            raise HookInputError("the hook input on stdin is not a JSON object")
        roots = data.get("workspace_roots")
        cwd = _text(data.get("cwd"))
        if cwd is None and isinstance(roots, list) and roots:
            cwd = _text(roots[0])
        loop = data.get("loop_count")
        return cls(
            event=_text(data.get("hook_event_name")) or "",
            session=_text(data.get("session_id")) or _text(data.get("conversation_id")),
            cwd=cwd,
            model=_text(data.get("model")),
            stop_hook_active=data.get("stop_hook_active") is True,
            loop_count=loop if isinstance(loop, int) and not isinstance(loop, bool) else None,
            status=_text(data.get("status")),
            raw=data,
        )

    def identity(self, agent: str) -> AgentIdentity:
        return AgentIdentity(agent, self.model, self.session)
