"""Reading an agent's hook input: any bytes an agent may send give a HookInput or a sentence."""

from __future__ import annotations

import json

import pytest
from agent_helpers import FIXTURES
from hypothesis import given
from hypothesis import strategies as st

from handrail.agents.identity import HookInput, HookInputError

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(st.text())
def test_any_text_reads_or_is_refused_with_a_sentence(text: str) -> None:
    try:
        hook = HookInput.parse(text)
    except HookInputError as exc:
        assert str(exc).startswith("the hook input on stdin is not")
    else:
        assert isinstance(hook.stop_hook_active, bool)


FIELDS = [
    "session_id", "conversation_id", "cwd", "workspace_roots", "hook_event_name",
    "stop_hook_active", "loop_count", "model", "status",
]  # fmt: skip


@given(st.dictionaries(st.sampled_from(FIELDS), _json))
def test_fields_of_any_type_never_break_reading(data: dict[str, object]) -> None:
    hook = HookInput.parse(json.dumps(data))
    assert hook.session is None or isinstance(hook.session, str)
    assert hook.cwd is None or isinstance(hook.cwd, str)
    assert hook.loop_count is None or type(hook.loop_count) is int
    assert hook.stop_hook_active is (data.get("stop_hook_active") is True)


@pytest.mark.parametrize(
    ("name", "event", "cursor"),
    [
        ("claude_code_stop.json", "Stop", False),
        ("claude_code_subagent_stop.json", "SubagentStop", False),
        ("cursor_stop.json", "stop", True),
    ],
)
def test_recorded_payloads(name: str, event: str, cursor: bool) -> None:
    hook = HookInput.parse("\ufeff" + (FIXTURES / name).read_text())
    assert (hook.event, hook.is_cursor) == (event, cursor)
    assert hook.session and hook.cwd == "/home/ada/words"
