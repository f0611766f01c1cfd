"""End to end: verifying from the editor, lenses and actions, and the trust gates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from verification_harness import (
    PYTEST_COMMAND,
    TASK,
    Client,
    block_file,
    running,
    sentinel_command,
    write_task,
    write_workflow,
)
from workspaces import shared_workspace

from handrail.ledger.records import VerificationRun
from handrail.ledger.store import Ledger
from handrail.verify import trust as trust_mod
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

BLOCK = f"{TASK}.1"


def runs(ws: Workspace) -> list[VerificationRun]:
    return [r for r in Ledger(ws).read().records if isinstance(r, VerificationRun)]


def pytest_project(ws: Workspace) -> None:
    write_workflow(ws, PYTEST_COMMAND)
    write_task(ws)
    (ws.root / "calc.py").write_text(block_file(BLOCK, "def add(a, b):\n    return a + b\n"))
    (ws.root / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )


async def actions_for(client: Client, uri: str, line: int) -> list[types.CodeAction]:
    """The code actions at 0-based `line` with the diagnostics the editor shows there, less the
    review notes every finding offers (tests/lsp/features/test_notes_e2e.py)."""
    here = types.Range(
        start=types.Position(line=line, character=0), end=types.Position(line=line, character=0)
    )
    shown = [d for d in client.latest(uri) if d.range.start.line <= line <= d.range.end.line]
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=here,
            context=types.CodeActionContext(diagnostics=shown),
        )
    )
    return [
        a
        for a in result or []
        if isinstance(a, types.CodeAction) and a.kind != "quickfix.handrail.note"
    ]


async def run_action(client: Client, action: types.CodeAction) -> dict[str, object]:
    assert action.command is not None
    result: dict[str, object] = await client.run(
        action.command.command, *(action.command.arguments or [])
    )
    return result


# Unverified, verified, changed, failed: one state a test, each on its own server with
# calc.py open (the `session` fixture) and brought to its state by the steps before it.


@pytest.fixture
async def session(workspace: Workspace) -> AsyncIterator[tuple[Client, str]]:
    """The trusted server on the pytest project, calc.py open with its unverified block."""
    pytest_project(workspace)
    trust_mod.trust(workspace)
    async with running(workspace.root, trusted=True) as client:
        uri = client.open(workspace.root / "calc.py")
        await client.codes_become(uri, ["HR300"])
        yield client, uri


async def _verify_by_lens(client: Client, uri: str) -> dict[str, Any]:
    """Run the block's "Verify" lens; the command's answer once HR300 gave way to HR304."""
    (_status, verify, *_rest) = await client.code_lenses(uri)
    assert verify.command is not None
    verified: dict[str, Any] = await client.run(
        verify.command.command, *(verify.command.arguments or [])
    )
    # Diagnostics update without any edit: HR300 is gone, only the explanation is left.
    await client.codes_become(uri, ["HR304"])
    return verified


@pytest.fixture
async def broken(session: tuple[Client, str], workspace: Workspace) -> tuple[Client, str]:
    """The session after the block was verified, then broken by the user and saved: the
    passing run no longer counts (HR301)."""
    client, uri = session
    await _verify_by_lens(client, uri)
    client.rewrite(
        workspace.root / "calc.py", block_file(BLOCK, "def add(a, b):\n    return a - b\n")
    )
    await client.codes_become(uri, ["HR301"])
    return client, uri


async def test_an_unverified_block_shows_a_status_lens_and_a_verify_lens(
    session: tuple[Client, str],
) -> None:
    # The status lens on the begin marker, then the "Verify" lens: a few words each, the
    # details in the status lens's tooltip (issue 19.6).
    client, uri = session
    (status, verify, *_rest) = await client.code_lenses(uri)
    assert status.command is not None and status.range.start.line == 0
    assert status.command.title == "unverified"
    assert (status.command.tooltip or "").startswith(f"{BLOCK}: not verified")
    assert verify.command is not None and verify.command.title == "Verify"
    assert verify.command.command == "handrail.verify"
    assert list(verify.command.arguments or []) == [{"block": BLOCK, "uri": uri}]


async def test_the_verify_lens_verifies_the_block_and_updates_the_editor(
    session: tuple[Client, str],
) -> None:
    client, uri = session
    verified = await _verify_by_lens(client, uri)
    assert verified["ok"] is True and verified["ran"] is True
    assert verified["blocks"][0]["status"] == "verified"
    assert verified["runs"][0]["command"][1:4] == ["-m", "pytest", "-q"]
    # ...and the editor is asked to fetch the lenses again (their status changed).
    await client.wait_for(lambda: client.lens_refreshes > 0, what="a code lens refresh")
    progress = client.progress_messages()
    assert progress[0] == f"begin: Handrail: verifying block {BLOCK}"
    assert any(m.startswith(f"report: [1/1] {TASK}: running `") for m in progress)
    assert "-m pytest -q" in next(m for m in progress if "running" in m)
    assert progress[-1].startswith("end: Verified 1 of 1 block ")


async def test_a_verified_block_changed_is_hr301_with_verify_actions(
    broken: tuple[Client, str], workspace: Workspace
) -> None:
    client, uri = broken
    actions = await actions_for(client, uri, 0)  # on the begin marker
    titles = [a.title for a in actions]
    assert titles[:2] == [f"Verify block {BLOCK}", f"Verify task {TASK}"]
    assert all(a.diagnostics and a.diagnostics[0].code == "HR301" for a in actions[:2])


async def test_verifying_a_broken_block_fails_with_the_tests_own_words(
    broken: tuple[Client, str], workspace: Workspace
) -> None:
    client, uri = broken
    actions = await actions_for(client, uri, 0)
    failed = await run_action(client, actions[1])
    assert failed["ok"] is False
    assert failed["blocks"] == [
        {
            "block": BLOCK,
            "path": "calc.py",
            "line": 1,
            "status": "failed",
            "message": failed["blocks"][0]["message"],  # type: ignore[index]
            "first_attempt": False,
            "lines": {
                "measured": True,
                "executable": 1,
                "executed": 1,
                "tests": 1,
                "failed_tests": ["test_calc.py::test_add"],
                "note": "",
            },
        }
    ]
    assert any("assert" in line for line in failed["runs"][0]["output_tail"])  # type: ignore[index]
    # A failing test is the code's; the answer says so and names the first failure.
    assert failed["runs"][0]["cause"] == "code"  # type: ignore[index]
    assert (
        "FAILED" in failed["runs"][0]["first_failure"]
        or "assert" in failed["runs"][0]["first_failure"]
    )  # type: ignore[index]
    await client.codes_become(uri, ["HR302"])
    (hr302,) = client.latest(uri)
    assert "exited with code 1" in hr302.message
    popups = [m.message for m in client.messages]
    assert any(f"{BLOCK}: failed" in m for m in popups)
    assert [r.passed for r in runs(workspace)] == [True, False]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def untrusted(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Client, str]]:
    """One server for the module that the editor does not trust (the command is approved on
    the machine), with auth/check.py open: an unverified block in the auth risk tier (HR300,
    HR303). It runs nothing and writes nothing, so its tests share it; each waits for its
    own pop-up."""
    with shared_workspace(tmp_path_factory, "untrusted") as ws:
        write_workflow(ws, sentinel_command("sentinel"))
        write_task(ws)
        auth = ws.root / "auth"
        auth.mkdir()
        path = auth / "check.py"
        path.write_text(block_file(BLOCK, "def allowed(role):\n    return role == 'admin'\n"))
        trust_mod.trust(ws)  # approved on the machine, but the editor says no
        async with running(ws.root, trusted=False) as client:
            uri = client.open(path)
            await client.codes_become(uri, ["HR300", "HR303"])
            yield client, uri
        assert not (ws.root / "sentinel").exists()
        assert runs(ws) == []


async def _new_pop_ups(client: Client, before: int) -> list[str]:
    """The pop-ups shown after the first `before` (at least one: waits for it)."""
    await client.wait_for(lambda: len(client.messages) > before, what="a pop-up")
    return [m.message for m in client.messages[before:]]


@pytest.mark.asyncio(loop_scope="module")
async def test_an_untrusted_editor_shows_the_risk_tier_and_needs_in_the_lenses(
    untrusted: tuple[Client, str],
) -> None:
    client, uri = untrusted
    titles = [lens.command.title for lens in await client.code_lenses(uri) if lens.command]
    assert titles[:3] == ["unverified, needs trace", "Verify", "Trace"]
    tooltip = next(lens.command.tooltip for lens in await client.code_lenses(uri) if lens.command)
    assert "not verified · needs trace · risk tier auth · task abcdef" in (tooltip or "")


@pytest.mark.asyncio(loop_scope="module")
async def test_an_untrusted_editor_shows_the_risk_tier_and_needs_in_the_hover(
    untrusted: tuple[Client, str],
) -> None:
    client, uri = untrusted
    text = await client.hover_text(uri, 0, 3)
    assert text is not None
    assert "**Risk tier:** auth" in text and "**Manual trace:** needed" in text


@pytest.mark.asyncio(loop_scope="module")
async def test_an_untrusted_editor_offers_the_blocks_actions(
    untrusted: tuple[Client, str],
) -> None:
    client, uri = untrusted
    actions = await actions_for(client, uri, 0)  # on the begin marker
    assert [a.title for a in actions] == [
        f"Verify block {BLOCK}",
        f"Record trace of {BLOCK}",
        f"Verify task {TASK}",
        f"Regenerate block {BLOCK} (discard this attempt)",
    ]


@pytest.mark.asyncio(loop_scope="module")
async def test_an_untrusted_editors_verify_action_runs_nothing(
    untrusted: tuple[Client, str],
) -> None:
    client, uri = untrusted
    actions = await actions_for(client, uri, 0)
    before = len(client.messages)
    answer = await run_action(client, actions[0])
    assert answer["ran"] is False and answer["trusted"] is False
    assert all("Nothing was run" in m for m in await _new_pop_ups(client, before))


@pytest.mark.parametrize(
    ("name", "argument"),
    [
        ("handrail.verify", {"block": BLOCK}),
        ("handrail.verify", {"task": TASK}),
        ("handrail.verifyAll", None),
    ],
    ids=["verify-block", "verify-task", "verifyAll"],
)
@pytest.mark.asyncio(loop_scope="module")
async def test_an_untrusted_editors_verify_command_is_hr403_and_runs_nothing(
    untrusted: tuple[Client, str], name: str, argument: dict[str, str] | None
) -> None:
    client, _ = untrusted
    before = len(client.messages)
    answer = await client.run(name, *([argument] if argument else []))
    assert answer["ran"] is False and answer["trusted"] is False
    (finding,) = answer["findings"]
    assert finding["code"] == "HR403"
    assert finding["path"] == ".handrail/workflow.toml"
    assert "Nothing was run" in answer["message"]
    assert all("Nothing was run" in m for m in await _new_pop_ups(client, before))


async def test_commands_not_approved_on_this_machine_never_run(workspace: Workspace) -> None:
    write_workflow(workspace, sentinel_command("sentinel"))
    write_task(workspace)
    (workspace.root / "calc.py").write_text(block_file(BLOCK, "x = 1\n"))
    async with running(workspace.root, trusted=True) as client:
        answer = await client.run("handrail.verify", {"task": TASK})
        assert answer["ran"] is False and answer["trusted"] is False
        (finding,) = answer["findings"]
        assert finding["code"] == "HR403" and "handrail trust" in finding["message"]
        await client.wait_for(lambda: client.messages, what="a pop-up")
        assert "Nothing was run" in client.messages[0].message
    assert not (workspace.root / "sentinel").exists()
    assert runs(workspace) == []


@pytest.fixture
async def crafted(workspace: Workspace) -> AsyncIterator[Client]:
    """A trusted server whose approved command writes `rules-ran`; a crafted command would
    write `sentinel` (it must never)."""
    write_workflow(workspace, sentinel_command("rules-ran"))
    write_task(workspace)
    (workspace.root / "calc.py").write_text(block_file(BLOCK, "x = 1\n"))
    trust_mod.trust(workspace)
    async with running(workspace.root, trusted=True) as client:
        yield client
    assert not (workspace.root / "sentinel").exists()


EVIL = sentinel_command("sentinel")


async def test_a_crafted_command_beside_a_block_is_ignored_and_the_rules_command_runs(
    crafted: Client, workspace: Workspace
) -> None:
    answer = await crafted.run(
        "handrail.verify", {"block": BLOCK, "command": EVIL, "argv": EVIL.split(" ")}
    )
    assert answer["runs"][0]["passed"] is True and answer["ignored"] == ["argv", "command"]
    assert answer["runs"][0]["command"][-1] == "open('rules-ran', 'w').write('ran')"
    assert (workspace.root / "rules-ran").exists()
    assert len(runs(workspace)) == 1


async def test_a_crafted_command_given_to_verify_all_is_ignored(
    crafted: Client, workspace: Workspace
) -> None:
    everything = await crafted.run("handrail.verifyAll", {"command": EVIL})
    assert everything["runs"][0]["passed"] is True and everything["ignored"] == ["command"]
    assert (workspace.root / "rules-ran").exists()
    assert len(runs(workspace)) == 1


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def refusing(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """One trusted server for the module's refused requests (nothing runs, nothing is
    written, so no test leaves anything for the next). The approved command writes
    `rules-ran`, a crafted one `sentinel`: neither may exist after."""
    with shared_workspace(tmp_path_factory, "refusing") as ws:
        write_workflow(ws, sentinel_command("rules-ran"))
        write_task(ws)
        (ws.root / "calc.py").write_text(block_file(BLOCK, "x = 1\n"))
        trust_mod.trust(ws)
        async with running(ws.root, trusted=True) as client:
            yield client
        assert not (ws.root / "sentinel").exists() and not (ws.root / "rules-ran").exists()
        assert runs(ws) == []


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("argument", "fragment"),
    [
        ({"block": EVIL}, "is not a block id"),
        ({"block": "zzzzzz.9"}, "there is no block zzzzzz.9"),
        ({"task": "zzzzzz"}, "there is no task zzzzzz"),
        ({"task": 5}, "'task' must be text"),
        ({"block": BLOCK, "task": TASK}, "exactly one of"),
        (["abcdef"], "takes one argument"),
        ({"command": EVIL}, "needs exactly one of"),
    ],
    ids=[
        "command-as-block",
        "unknown-block",
        "unknown-task",
        "task-not-text",
        "both",
        "list",
        "crafted-command-alone",
    ],
)
async def test_a_bad_verify_argument_is_refused_and_runs_nothing(
    refusing: Client, argument: Any, fragment: str
) -> None:
    with pytest.raises(JsonRpcException, match=fragment):
        await refusing.run("handrail.verify", argument)


async def test_verify_all_on_a_folder_without_blocks_fails_nothing(
    crafted: Client, workspace: Workspace
) -> None:
    nothing = await crafted.run("handrail.verifyAll", {"folder": (workspace.root / "sub").as_uri()})
    assert nothing["ran"] is True and all(r["passed"] for r in nothing["runs"])


async def test_lenses_are_asked_for_again_with_the_diagnostics(workspace: Workspace) -> None:
    # Issue 19.6: the lens arrived seconds after the squiggle; now a publication that moves a
    # block or changes its state is followed by `workspace/codeLens/refresh`, and one that
    # changes neither is not.
    write_workflow(workspace, sentinel_command("sentinel"))
    write_task(workspace)
    path = workspace.root / "calc.py"
    text = block_file(BLOCK, "def add(a, b):\n    return a + b\n")
    path.write_text(text)
    async with running(workspace.root, trusted=False) as client:
        uri = client.open(path)
        await client.codes_become(uri, ["HR300"])
        await client.wait_for(lambda: client.lens_refreshes == 1, what="a lens refresh")

        # An edit after the block: same place, same state, no refresh. The lens request is
        # answered after any refresh the server sent before it, so the count is settled.
        version = client.rewrite(path, text + "x = 1\n")
        await client.wait_for(
            lambda: any(p.uri == uri and p.version == version for p in client.published),
            what="the edit's diagnostics",
        )
        await client.code_lenses(uri)
        assert client.lens_refreshes == 1

        # A line above the block moves it: refreshed.
        client.rewrite(path, "import os\n" + text + "x = 1\n")
        await client.wait_for(lambda: client.lens_refreshes == 2, what="a second refresh")


# Issue 19.4: the editor lists exactly the commands verifying this workspace would run and
# records their approval as `handrail trust` does; nothing it did not show is approved.

COMMAND = sentinel_command("sentinel")


@pytest.fixture
async def unapproved(workspace: Workspace) -> AsyncIterator[Client]:
    """A trusted editor on a workspace whose command is not approved on this machine."""
    write_workflow(workspace, COMMAND)
    write_task(workspace)
    (workspace.root / "calc.py").write_text(block_file(BLOCK, "x = 1\n"))
    async with running(workspace.root, trusted=True) as client:
        yield client


async def test_a_quiet_verify_of_an_unapproved_command_is_hr403_without_a_pop_up(
    unapproved: Client,
) -> None:
    # "quiet": the client shows the answer itself, so the server adds no second pop-up.
    refused = await unapproved.run("handrail.verify", {"block": BLOCK, "quiet": True})
    assert refused["ran"] is False
    assert [f["code"] for f in refused["findings"]] == ["HR403"]
    assert refused["ignored"] == []  # "quiet" is an argument, not a stray key
    await unapproved.run("handrail.trustStatus", {})  # answered after any pop-up before it
    assert unapproved.messages == []


async def test_trust_status_lists_the_commands_verifying_would_run(unapproved: Client) -> None:
    status = await unapproved.run("handrail.trustStatus", {})
    assert status["editor_trusted"] is True
    assert [(c["command"], c["blocks"], c["approved"]) for c in status["commands"]] == [
        (COMMAND, [BLOCK], False)
    ]
    assert status["pending"] == [COMMAND]


async def test_approving_commands_that_were_not_shown_is_refused(
    unapproved: Client, workspace: Workspace
) -> None:
    with pytest.raises(JsonRpcException, match="commands changed since they were shown"):
        await unapproved.run("handrail.approveTrust", {"commands": [COMMAND, "rm -rf /"]})
    assert trust_mod.entry_for(workspace) is None


async def test_approving_the_shown_commands_records_them_and_verify_runs(
    unapproved: Client, workspace: Workspace
) -> None:
    approved = await unapproved.run("handrail.approveTrust", {"commands": [COMMAND]})
    assert approved == {"approved": [COMMAND]}
    entry = trust_mod.entry_for(workspace)
    assert entry is not None and list(entry.commands.values()) == [COMMAND]
    assert (await unapproved.run("handrail.trustStatus", {}))["pending"] == []
    ran = await unapproved.run("handrail.verify", {"block": BLOCK})
    assert ran["ran"] is True
    assert (workspace.root / "sentinel").exists()


async def test_an_untrusted_editor_cannot_approve(workspace: Workspace) -> None:
    command = sentinel_command("sentinel")
    write_workflow(workspace, command)
    write_task(workspace)
    (workspace.root / "calc.py").write_text(block_file(BLOCK, "x = 1\n"))
    async with running(workspace.root, trusted=False) as client:
        status = await client.run("handrail.trustStatus", {})
        assert status["editor_trusted"] is False and status["pending"] == [command]
        with pytest.raises(JsonRpcException, match="only in a trusted workspace"):
            await client.run("handrail.approveTrust", {"commands": [command]})
        assert trust_mod.entry_for(workspace) is None
