"""The verify commands' argument reading and progress lines, for any input."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pygls.exceptions import JsonRpcInvalidParams

from handrail.blocks.markers import is_block_id
from handrail.lsp.features.verification import _event_message, _target
from handrail.tasks.model import is_task_id
from handrail.verify.commands import CommandSource
from handrail.verify.run import FoundBlock, Invocation, ProgressEvent, Target

values = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.lists(st.text())
ids = st.sampled_from(["abcdef", "abcdef.1", "k3f7qa.12", "ABCDEF", "abc", "abcdef.", ""])
arguments = st.dictionaries(
    st.sampled_from(["block", "task", "command", "argv", "folder", "uri"]),
    ids | values,
    max_size=5,
)


@given(arguments)
def test_arguments_name_one_block_or_task_or_are_refused(raw: dict[str, Any]) -> None:
    try:
        target = _target(raw)
    except JsonRpcInvalidParams as exc:
        assert str(exc)  # a plain sentence, never a traceback
        return
    # Only the named block or task is ever the target; "command" and "argv" never matter.
    assert (target.kind, target.value) in {("block", raw.get("block")), ("task", raw.get("task"))}
    assert is_block_id(target.value) if target.kind == "block" else is_task_id(target.value)
    other = "task" if target.kind == "block" else "block"
    assert raw.get(other) is None


def _invocation() -> Invocation:
    block = FoundBlock("abcdef.1", "abcdef", "calc.py", 1, 4, "sha256:x")
    source = CommandSource(text="pytest -q", origin="default", where="[verification] command")
    return Invocation("abcdef", source, ("pytest", "-q"), (block,))


@given(st.binary(max_size=3000))
def test_any_output_chunk_becomes_at_most_one_short_line(chunk: bytes) -> None:
    event = ProgressEvent("output", 1, 2, _invocation(), chunk=chunk)
    message = _event_message(event)
    if message is not None:
        assert message.startswith("[1/2] abcdef: ")
        assert "\n" not in message and len(message) <= len("[1/2] abcdef: ") + 200


def test_start_messages_name_the_command_and_blocks() -> None:
    event = ProgressEvent("start", 1, 1, _invocation())
    assert _event_message(event) == "[1/1] abcdef: running `pytest -q` for abcdef.1"
    assert Target.parse("abcdef.1") == Target("block", "abcdef.1")
