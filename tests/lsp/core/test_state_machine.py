"""A random protocol session against the real server: it always answers, once, and keeps up.

A Hypothesis state machine drives one `python -m handrail lsp` process through a pytest-lsp
client: didOpen, didChange with valid and invalid ranges (reversed, past the last line,
inside a surrogate pair, a version that does not increase), whole-text changes, didClose
(also of documents that are not open), hover, code lens and code action anywhere, commands
with bad arguments, and methods the server does not implement. Invariants: every request
gets exactly one reply and no reply comes for an id never sent; the server is alive at the
end; and while the client has sent only valid edits, the server's text equals the client's.

The last one is checked by the server itself: ``didSave`` carries the client's text, and the
server logs "did not match the saved text" when its own copy differs.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test
from lsp_client import HANG_GUARD_S
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

from handrail.workspace import Workspace

TIMEOUT = HANG_GUARD_S
MISMATCH = "did not match the saved text"
T = TypeVar("T")

pieces = st.sampled_from(
    [*"ab é中😀\t", "\n", "\r\n", "\r", "# handrail:begin abcdef.1\n", "# handrail:end abcdef.1\n"]
)
texts = st.lists(pieces, max_size=25).map("".join)
names = st.sampled_from(["a.py", "b.py", "notes.md"])
junk = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
COMMANDS = [
    "handrail.newTask",
    "handrail.validateSpec",
    "handrail.checkContext",
    "handrail.prompt",
    "handrail.markSelection",
    "handrail.recordTrace",
    "handrail.explain",
    "handrail.check",
    "handrail.dismissInsertion",
    "handrail.verify",
    "handrail.verifyAll",
    "handrail.noSuchCommand",
]
BAD_KEYS = ["task", "block", "spec", "uri", "startLine", "endLine", "line", "path", "context"]

# --- the client's own model of LSP positions (independent of the server's code) ---------

_BREAK = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, content) of each LSP line of `text`."""
    found, start = [], 0
    for match in _BREAK.finditer(text):
        found.append((start, text[start : match.start()]))
        start = match.end()
    found.append((start, text[start:]))
    return found


def _units(text: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def position(text: str, offset: int) -> types.Position:
    """The UTF-16 position of code-point `offset` (never between a CR and its LF)."""
    lines = _lines(text)
    line = max(i for i, (start, _) in enumerate(lines) if start <= offset)
    start, content = lines[line]
    return types.Position(line=line, character=_units(content[: offset - start]))


def boundary(text: str, offset: int) -> int:
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return offset - 1
    return offset


# --- a client with its own event loop in a thread ---------------------------------------


class CountingProtocol(LanguageClientProtocol):
    """Counts the replies to each request id, and replies to ids never sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.replies: Counter[str] = Counter()
        self.sent: set[str] = set()

    def send_request(self, method: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        future = super().send_request(method, params, *args, **kwargs)
        if kwargs.get("msg_id") is None:
            # pytest-lsp's own requests (initialize, shutdown) get generated ids.
            self.sent.update(self._request_futures)
        return future

    def _handle_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        self.replies[str(msg_id)] += 1
        super()._handle_response(msg_id, result, error)


class Session:
    """One server for the whole test; the state machine talks to it from the test thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = LanguageClient(
            converter_factory=default_converter, protocol_cls=CountingProtocol
        )
        # Records window/logMessage (the text oracle) and answers the server's requests.
        register_lsp_features(self.client, dict(DEFAULT_CLIENT_FEATURES))
        self.ids = itertools.count(1)
        self.call(self._start())

    @property
    def protocol(self) -> CountingProtocol:
        protocol = self.client.protocol
        assert isinstance(protocol, CountingProtocol)
        return protocol

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT)

    def notify(self, method: str, params: Any) -> None:
        async def send() -> None:
            self.client.protocol.notify(method, params)

        self.call(send())

    def request(self, method: str, params: Any) -> Any:
        """Send a request and wait for its one reply (a result or an error)."""
        msg_id = f"sm-{next(self.ids)}"
        self.protocol.sent.add(msg_id)

        async def ask() -> Any:
            try:
                return await asyncio.wait_for(
                    self.client.protocol.send_request_async(method, params, msg_id=msg_id),
                    TIMEOUT,
                )
            except JsonRpcException as exc:
                return exc

        answer = self.call(ask())
        assert self.protocol.replies[msg_id] == 1, f"{method} got no single reply"
        return answer

    def mismatches(self) -> int:
        return sum(MISMATCH in m.message for m in self.client.log_messages)

    async def _start(self) -> None:
        env = dict(os.environ)
        await self.client.start_io(sys.executable, "-m", "handrail", "lsp", env=env)
        await self.client.initialize_session(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    text_document=types.TextDocumentClientCapabilities(
                        synchronization=types.TextDocumentSyncClientCapabilities(did_save=True)
                    )
                ),
                workspace_folders=[
                    types.WorkspaceFolder(uri=self.root.as_uri(), name=self.root.name)
                ],
                initialization_options={"handrail": {"debounce_ms": 0}},
            )
        )

    def close(self) -> None:
        async def stop() -> None:
            try:
                await asyncio.wait_for(self.client.shutdown_session(), TIMEOUT)
            finally:
                await self.client.stop()

        try:
            self.call(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(TIMEOUT)


class ProtocolSession(RuleBasedStateMachine):
    session: ClassVar[Session]
    examples: ClassVar[itertools.count[int]] = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.prefix = f"ex{next(self.examples)}"
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.in_sync: dict[str, bool] = {}
        self.mismatches = self.session.mismatches()

    def uri(self, name: str) -> str:
        return (self.session.root / f"{self.prefix}_{name}").as_uri()

    def _change(self, uri: str, version: int, changes: list[Any]) -> None:
        self.session.notify(
            types.TEXT_DOCUMENT_DID_CHANGE,
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=changes,
            ),
        )

    # -- lifecycle ---------------------------------------------------------------------

    @rule(name=names, text=texts)
    def open(self, name: str, text: str) -> None:
        uri = self.uri(name)
        self.texts[uri], self.versions[uri], self.in_sync[uri] = text, 1, True
        self.session.notify(
            types.TEXT_DOCUMENT_DID_OPEN,
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            ),
        )

    @rule(name=names)
    def close(self, name: str) -> None:
        uri = self.uri(name)
        for table in (self.texts, self.versions, self.in_sync):
            table.pop(uri, None)
        self.session.notify(
            types.TEXT_DOCUMENT_DID_CLOSE,
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)),
        )

    @rule(name=names, text=texts)
    def change_unopened(self, name: str, text: str) -> None:
        uri = self.uri(name)
        if uri not in self.texts:
            self._change(uri, 5, [types.TextDocumentContentChangeWholeDocument(text=text)])

    # -- edits -------------------------------------------------------------------------

    @precondition(lambda self: bool(self.texts))
    @rule(data=st.data(), new=texts)
    def valid_edit(self, data: st.DataObject, new: str) -> None:
        uri = data.draw(st.sampled_from(sorted(self.texts)))
        text = self.texts[uri]
        a = boundary(text, data.draw(st.integers(0, len(text))))
        b = boundary(text, data.draw(st.integers(0, len(text))))
        start, end = min(a, b), max(a, b)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=position(text, start), end=position(text, end)), text=new
        )
        self.versions[uri] += 1
        self.texts[uri] = text[:start] + new + text[end:]
        self._change(uri, self.versions[uri], [change])

    @precondition(lambda self: bool(self.texts))
    @rule(data=st.data(), new=texts)
    def whole_text(self, data: st.DataObject, new: str) -> None:
        uri = data.draw(st.sampled_from(sorted(self.texts)))
        self.versions[uri] += 1
        self.texts[uri], self.in_sync[uri] = new, True
        self._change(
            uri, self.versions[uri], [types.TextDocumentContentChangeWholeDocument(text=new)]
        )

    @precondition(lambda self: bool(self.texts))
    @rule(data=st.data(), kind=st.sampled_from(["reversed", "past_end", "surrogate", "version"]))
    def invalid_edit(self, data: st.DataObject, kind: str) -> None:
        uri = data.draw(st.sampled_from(sorted(self.texts)))
        text = self.texts[uri]
        lines = _lines(text)
        version = self.versions[uri] + 1
        start = end = types.Position(line=0, character=0)
        if kind == "reversed" and len(text) >= 2 and position(text, len(text)) != start:
            end, start = start, position(text, len(text))
        elif kind == "surrogate" and "😀" in text:
            offset = text.index("😀")
            at = position(text, offset)
            start = end = types.Position(line=at.line, character=at.character + 1)
        elif kind == "version":
            version = self.versions[uri]
        else:
            start = end = types.Position(
                line=len(lines) + data.draw(st.integers(0, 3)), character=0
            )
        self.versions[uri] = max(version, self.versions[uri])
        self.in_sync[uri] = False
        self._change(
            uri,
            version,
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=start, end=end), text="x"
                )
            ],
        )

    @precondition(lambda self: bool(self.texts))
    @rule(data=st.data())
    def save_and_compare(self, data: st.DataObject) -> None:
        uri = data.draw(st.sampled_from(sorted(self.texts)))
        self.session.notify(
            types.TEXT_DOCUMENT_DID_SAVE,
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri), text=self.texts[uri]
            ),
        )
        # A request is a barrier: everything sent before it has been handled.
        self.session.request("handrail/unknownMethod", {"uri": uri})
        if self.in_sync[uri]:
            assert self.session.mismatches() == self.mismatches, (
                "the server's text differed from the client's after valid edits only"
            )
        self.mismatches = self.session.mismatches()
        self.in_sync[uri] = True  # the saved text brings the server back in step

    # -- requests ----------------------------------------------------------------------

    @rule(name=names, line=st.integers(0, 40) | st.just(10**6), character=st.integers(0, 50))
    def hover(self, name: str, line: int, character: int) -> None:
        self.session.request(
            types.TEXT_DOCUMENT_HOVER,
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri(name)),
                position=types.Position(line=line, character=character),
            ),
        )

    @rule(name=names)
    def code_lens(self, name: str) -> None:
        self.session.request(
            types.TEXT_DOCUMENT_CODE_LENS,
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=self.uri(name))),
        )

    @rule(name=names, a=st.integers(0, 30), b=st.integers(0, 30), c=st.integers(0, 40))
    def code_action(self, name: str, a: int, b: int, c: int) -> None:
        self.session.request(
            types.TEXT_DOCUMENT_CODE_ACTION,
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri(name)),
                range=types.Range(
                    start=types.Position(line=a, character=c),
                    end=types.Position(line=b, character=0),
                ),
                context=types.CodeActionContext(diagnostics=[]),
            ),
        )

    @rule(
        command=st.sampled_from(COMMANDS),
        arguments=st.lists(junk, max_size=3)
        | st.dictionaries(st.sampled_from(BAD_KEYS), junk.filter(lambda v: not isinstance(v, str)))
        .filter(bool)
        .map(lambda d: [d]),
    )
    def bad_command(self, command: str, arguments: list[Any]) -> None:
        self.session.request(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command=command, arguments=arguments),
        )

    @rule(
        method=st.sampled_from(
            [types.TEXT_DOCUMENT_DOCUMENT_SYMBOL, "textDocument/nothing", "$/handrail"]
        ),
        name=names,
    )
    def unknown_method(self, method: str, name: str) -> None:
        document = types.TextDocumentIdentifier(uri=self.uri(name))
        params: Any = {"textDocument": {"uri": document.uri}}
        if method == types.TEXT_DOCUMENT_DOCUMENT_SYMBOL:
            params = types.DocumentSymbolParams(text_document=document)
        answer = self.session.request(method, params)
        assert isinstance(answer, JsonRpcException)  # method not found, and nothing else

    def teardown(self) -> None:
        for uri in list(self.texts):
            if self.in_sync[uri]:
                self.save_and_compare(_Fixed(uri))
            self.session.notify(
                types.TEXT_DOCUMENT_DID_CLOSE,
                types.DidCloseTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=uri)
                ),
            )


class _Fixed:
    """A stand-in for `st.data()` that always draws `value` (for the teardown check)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def draw(self, strategy: Any, label: Any = None) -> Any:
        return self.value


@pytest.mark.timeout(600)  # 360 steps against one server: minutes on a loaded machine
def test_a_random_session_is_always_answered_once(workspace: Workspace) -> None:
    session = Session(workspace.root)
    try:
        ProtocolSession.session = session
        run_state_machine_as_test(
            ProtocolSession,
            settings=settings(max_examples=12, stateful_step_count=30, deadline=None),
        )
        alive = session.request(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command="handrail.validateSpec", arguments=[{"spec": "x"}]),
        )
        assert isinstance(alive, dict) and "findings" in alive
        protocol = session.protocol
        assert set(protocol.replies) <= protocol.sent  # no reply to an id never sent
        assert set(protocol.replies.values()) == {1}
    finally:
        session.close()
