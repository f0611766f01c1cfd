"""End to end: code lenses, hover and the large-insertion hint on generated blocks."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from features_harness import SPEC, Client, make_task, running
from lsprotocol import types
from workspaces import shared_workspace

from handrail.blocks.markers import block_content, parse_blocks
from handrail.ledger.records import Explanation, Trace, VerificationRun, content_hash
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

pytestmark = pytest.mark.asyncio

BLOCK = (
    "import os\n"
    "# handrail:begin k3f7qa.1\n"
    "def check(password):\n"
    "    return password == os.environ['PW']\n"
    "# handrail:end k3f7qa.1\n"
)


def _failing_block(workspace: Workspace) -> Path:
    """src/auth_check.py: block k3f7qa.1 in the auth risk tier, whose last verification
    failed on earlier content (HR302) and which needs a trace (HR303)."""
    make_task(workspace)
    path = workspace.root / "src" / "auth_check.py"
    path.parent.mkdir()
    path.write_text(BLOCK)
    now = dt.datetime.now(dt.UTC)
    Ledger(workspace).append(
        VerificationRun.create(
            task_id="k3f7qa",
            command=["pytest", "-q"],
            exit_code=1,
            passed=False,
            started_at=now,
            finished_at=now,
            blocks={"k3f7qa.1": "sha256:earlier"},
        )
    )
    return path


@asynccontextmanager
async def _opened(workspace: Workspace, path: Path) -> AsyncIterator[tuple[Client, str]]:
    async with running([workspace.root]) as client:
        uri = client.open(path, BLOCK)
        codes = {d.code for d in await client.diagnostics_of(uri, 1)}
        assert {"HR302", "HR303"} <= codes
        yield client, uri


@pytest.fixture
async def failing_block(workspace: Workspace) -> AsyncIterator[tuple[Client, str]]:
    """The server with the failing block open, for a test that records something: the client
    and the file's URI."""
    async with _opened(workspace, _failing_block(workspace)) as opened:
        yield opened


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def failing_block_shown(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Client, Workspace, str]]:
    """The same, one server for the module's tests that only look (lenses, hovers)."""
    with shared_workspace(tmp_path_factory, "failing-block") as ws:
        async with _opened(ws, _failing_block(ws)) as (client, uri):
            yield client, ws, uri


@pytest.mark.asyncio(loop_scope="module")
async def test_a_failing_block_has_a_status_lens_with_its_details_and_three_actions(
    failing_block_shown: tuple[Client, Workspace, str],
) -> None:
    client, _, uri = failing_block_shown
    lenses = await client.code_lenses(uri)
    titles = [lens.command.title for lens in lenses if lens.command]
    assert lenses[0].command is not None and lenses[0].command.command == ""
    # A few words (issue 19.6); the details are the status lens's tooltip.
    assert titles == ["failing, needs trace", "Verify", "Trace", "Explain"]
    tooltip = lenses[0].command.tooltip or ""
    assert tooltip.startswith("k3f7qa.1: verification failed: `pytest -q` exited with code 1")
    assert f"needs trace · risk tier auth · task k3f7qa: {' '.join(SPEC.split()[:8])}…" in tooltip
    assert {lens.range.start.line for lens in lenses} == {1}


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_over_a_block_shows_its_task_context_run_and_risk(
    failing_block_shown: tuple[Client, Workspace, str],
) -> None:
    client, _, uri = failing_block_shown
    hover = await client.hover_text(uri, 1, 5)
    assert "**Generated block k3f7qa.1**" in hover
    assert "> Given a CSV header line" in hover
    assert "**Context:** 0 entries, 0 of 24,000 tokens (cl100k_base)" in hover
    assert "failed (exit 1), `pytest -q` on earlier content" in hover
    assert "**Risk tier:** auth" in hover
    assert "**Manual trace:** needed" in hover


def _lens_command(lenses: list[types.CodeLens], title: str) -> types.Command:
    return next(lens.command for lens in lenses if lens.command and lens.command.title == title)


async def _run_lens(client: Client, uri: str, title: str) -> Any:
    """Run the lens titled `title`; its answer once that lens is no longer offered."""
    result = await client.run(_lens_command(await client.code_lenses(uri), title))
    titles = [lens.command.title for lens in await client.code_lenses(uri) if lens.command]
    assert title not in titles
    return result


def _recorded(workspace: Workspace) -> tuple[int, int]:
    """How many traces and explanations the ledger holds."""
    kinds = [type(r) for r in Ledger(workspace).read().records]
    return kinds.count(Trace), kinds.count(Explanation)


async def test_the_trace_lens_records_a_trace_and_clears_hr303(
    failing_block: tuple[Client, str], workspace: Workspace
) -> None:
    client, uri = failing_block
    count = len(client.published)
    result = await _run_lens(client, uri, "Trace")
    parsed = parse_blocks(BLOCK, "src/auth_check.py").blocks[0]
    assert result["content_hash"] == content_hash(block_content(BLOCK, parsed))
    await client.wait_for(
        lambda: any(
            p.uri == uri and "HR303" not in {d.code for d in p.diagnostics}
            for p in client.published[count:]
        ),
        what="HR303 gone",
    )
    assert _recorded(workspace) == (1, 0)


async def test_the_explain_lens_records_an_explanation(
    failing_block: tuple[Client, str], workspace: Workspace
) -> None:
    client, uri = failing_block
    await _run_lens(client, uri, "Explain")
    assert _recorded(workspace) == (0, 1)


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_over_the_task_id_in_its_task_file_names_its_blocks(
    failing_block_shown: tuple[Client, Workspace, str],
) -> None:
    client, workspace, _ = failing_block_shown
    task_path = workspace.tasks_dir / "k3f7qa.toml"
    text = task_path.read_text()
    line = text.split("\n").index('id = "k3f7qa"')
    task_uri = client.open(task_path, text, "toml")
    hover = await client.hover_text(task_uri, line, 7)
    assert hover.startswith("**Task k3f7qa** (.handrail/tasks/k3f7qa.toml)")
    assert "**Context:** 0 entries" in hover
    assert "**Blocks in the ledger:** k3f7qa.1" in hover


PASTED = "".join(f"y{n} = {n}\n" for n in range(16))


@pytest.fixture
async def pasted(workspace: Workspace) -> AsyncIterator[tuple[Client, str, types.Diagnostic]]:
    """The server with a.py open and 16 lines pasted below its first: the client, the URI and
    the large-insertion hint (HR308)."""
    make_task(workspace)
    path = workspace.root / "a.py"
    path.write_text("x = 1\n")
    async with running([workspace.root]) as client:
        uri = client.open(path, "x = 1\n")
        assert await client.diagnostics_of(uri, 1) == []
        version = client.insert(uri, 1, PASTED)
        (hint,) = await client.diagnostics_of(uri, version)
        assert hint.code == "HR308"
        yield client, uri, hint


async def test_the_large_insertion_hint_can_be_dismissed(
    pasted: tuple[Client, str, types.Diagnostic],
) -> None:
    client, uri, hint = pasted
    actions = await client.code_actions(uri, (1, 0), (1, 0), [hint])
    titles = [a.title for a in actions]
    assert titles[0].startswith("Mark inserted lines as generated for task k3f7qa:")
    (dismiss,) = [a for a in actions if a.title.startswith("Dismiss")]
    assert dismiss.title == "Dismiss this hint (the lines were not generated)"
    assert await client.run(dismiss.command) == {"dismissed": True}
    await client.wait_for(
        lambda: client.published[-1].uri == uri and not client.published[-1].diagnostics,
        what="hint dismissed",
    )


async def test_the_large_insertion_hint_marks_the_lines_as_generated(
    pasted: tuple[Client, str, types.Diagnostic],
) -> None:
    client, uri, hint = pasted
    actions = await client.code_actions(uri, (1, 0), (1, 0), [hint])
    result = await client.run(actions[0].command)
    assert result["applied"] is True
    assert (result["begin_line"], result["end_line"]) == (2, 19)
    diagnostics = await client.diagnostics_of(uri, client.versions[uri])
    assert [d.code for d in diagnostics] == ["HR300"]


async def test_a_second_paste_after_a_dismissed_hint_is_hinted_and_marked(
    pasted: tuple[Client, str, types.Diagnostic],
) -> None:
    client, uri, hint = pasted
    (dismiss,) = [
        a
        for a in await client.code_actions(uri, (1, 0), (1, 0), [hint])
        if a.title.startswith("Dismiss")
    ]
    await client.run(dismiss.command)
    version = client.insert(uri, 17, PASTED)
    (hint,) = await client.diagnostics_of(uri, version)
    actions = await client.code_actions(uri, (17, 0), (17, 0), [hint])
    result = await client.run(actions[0].command)
    assert result["applied"] is True
    assert (result["begin_line"], result["end_line"]) == (18, 35)
    diagnostics = await client.diagnostics_of(uri, client.versions[uri])
    assert [d.code for d in diagnostics] == ["HR300"]


ACCEPTED_BODY = [
    "def check(password):",
    "    expected = os.environ['PW']",
    "    same = password == expected",
    "    return same",
]


def _accept_body(workspace: Workspace, begin_line: int, body: list[str] = ACCEPTED_BODY) -> None:
    """Ledger records of k3f7qa.1 marked, then accepted with `body` at `begin_line`."""
    from handrail.ledger.records import Accepted, BlockMarked, line_hash

    digest = content_hash("".join(line + "\n" for line in body))
    ledger = Ledger(workspace)
    ledger.append(
        BlockMarked.create(
            block_id="k3f7qa.1",
            task_id="k3f7qa",
            path="src/auth_check.py",
            content_hash=digest,
            begin_line=begin_line,
            end_line=begin_line + len(body) + 1,
            author="Ada Tester <ada@example.com>",
        )
    )
    ledger.append(
        Accepted.create(
            block_id="k3f7qa.1",
            content_hash=digest,
            path="src/auth_check.py",
            begin_line=begin_line,
            end_line=begin_line + len(body) - 1,
            line_hashes=[line_hash(line) for line in body],
            author="Ada Tester <ada@example.com>",
        )
    )


async def test_hover_over_accepted_code_shows_its_provenance(workspace: Workspace) -> None:
    make_task(workspace)
    body = ["def check(password):", "    return password == os.environ['PW']"]
    text = "import os\n# moved down by an edit\n" + "\n".join(body) + "\n"
    path = workspace.root / "src" / "auth_check.py"
    path.parent.mkdir()
    path.write_text(text)
    _accept_body(workspace, begin_line=2, body=body)
    async with running([workspace.root]) as client:
        uri = client.open(path, text)
        await client.diagnostics_of(uri, 1)
        hover = await client.hover_text(uri, 3, 4)
        assert "**Generated, accepted: k3f7qa.1** · moved" in hover
        assert "> Given a CSV header line" in hover
        assert "marked by Ada Tester" in hover and "accepted by Ada Tester" in hover
        assert await client.hover_text(uri, 1, 2) is None


async def test_the_paste_hint_covers_exactly_the_inserted_lines(workspace: Workspace) -> None:
    make_task(workspace)
    path = workspace.root / "a.py"
    before = "x = 1\nz = 2\n"
    path.write_text(before)
    pasted = "".join(f"y{n} = {n}\n" for n in range(16))
    async with running([workspace.root]) as client:
        uri = client.open(path, before)
        assert await client.diagnostics_of(uri, 1) == []
        version = client.insert(uri, 1, pasted)  # between x and z: z is not part of it
        (hint,) = await client.diagnostics_of(uri, version)
        assert hint.code == "HR308"
        assert (hint.range.start.line, hint.range.end.line) == (1, 16)
        assert hint.data["inserted_lines"] == 16
        actions = await client.code_actions(uri, (1, 0), (1, 0), [hint])
        result = await client.run(actions[0].command)
        assert (result["begin_line"], result["end_line"]) == (2, 19)
        assert client.texts[uri].endswith("# handrail:end k3f7qa.1\nz = 2\n")


def _accepted_lenses(lenses: list[types.CodeLens]) -> list[tuple[int, str]]:
    return [
        (lens.range.start.line, lens.command.title)
        for lens in lenses
        if lens.command is not None and lens.command.title.startswith("generated · ")
    ]


ACCEPTED_TEXT = "import os\n" + "\n".join(ACCEPTED_BODY) + "\nprint('after')\n"


@pytest.fixture
def accepted_file(workspace: Workspace) -> Path:
    """src/auth_check.py holding accepted code (markers removed) from its second line."""
    make_task(workspace)
    path = workspace.root / "src" / "auth_check.py"
    path.parent.mkdir()
    path.write_text(ACCEPTED_TEXT)
    _accept_body(workspace, begin_line=2)
    return path


@pytest.fixture
async def accepted_lens_on(accepted_file: Path, workspace: Workspace) -> AsyncIterator[Client]:
    """The server started with the accepted-code lens on, the accepted file open."""
    async with running([workspace.root], settings={"lens": {"acceptedCode": True}}) as client:
        uri = client.open(accepted_file, ACCEPTED_TEXT)
        await client.diagnostics_of(uri, 1)
        yield client


# Issue 12.4: accepted code (markers removed) can show a lens, from the same engine as the
# hover and `handrail blame`: off by default, then on the block's first line, "moved" when
# code above pushed it down, "edited since" once a line inside changed.


async def test_the_accepted_code_lens_is_off_by_default_and_the_hover_answers(
    accepted_file: Path, workspace: Workspace
) -> None:
    async with running([workspace.root]) as client:
        uri = client.open(accepted_file, ACCEPTED_TEXT)
        await client.diagnostics_of(uri, 1)
        assert _accepted_lenses(await client.code_lenses(uri)) == []
        # The hover answers all the same: the lens is the opt-in part.
        assert "**Generated, accepted: k3f7qa.1** · accepted" in await client.hover_text(uri, 2, 4)


async def test_the_accepted_code_lens_turned_on_as_vscode_sends_the_setting(
    accepted_file: Path, workspace: Workspace
) -> None:
    async with running([workspace.root]) as client:
        uri = client.open(accepted_file, ACCEPTED_TEXT)
        await client.diagnostics_of(uri, 1)
        # Turned on as VS Code sends `handrail.lens.acceptedCode`: a nested table.
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"handrail": {"lens": {"acceptedCode": True}}}
            )
        )
        shown = await _poll_accepted_lenses(client, uri)
        assert shown == [(1, "generated · k3f7qa.1 · accepted")]


async def test_the_accepted_code_lens_sits_on_the_first_line_with_its_provenance(
    accepted_lens_on: Client, accepted_file: Path
) -> None:
    client, uri = accepted_lens_on, accepted_file.as_uri()
    lenses = await client.code_lenses(uri)
    assert _accepted_lenses(lenses) == [(1, "generated · k3f7qa.1 · accepted")]
    (lens,) = [x for x in lenses if x.range.start.line == 1]
    assert lens.command is not None and lens.command.command == ""
    tooltip = lens.command.tooltip or ""
    assert tooltip.startswith("k3f7qa.1: as accepted · not verified")
    assert "accepted 20" in tooltip and "by Ada Tester" in tooltip
    assert "task k3f7qa: Given a CSV header line" in tooltip


async def test_the_accepted_code_lens_says_moved_when_lines_are_added_above(
    accepted_lens_on: Client, accepted_file: Path
) -> None:
    client, uri = accepted_lens_on, accepted_file.as_uri()
    version = client.insert(uri, 1, "import sys\nimport re\n")
    await client.diagnostics_of(uri, version)
    moved = _accepted_lenses(await client.code_lenses(uri))
    assert moved == [(3, "generated · k3f7qa.1 · accepted, moved since")]


async def test_the_accepted_code_lens_says_edited_when_a_line_inside_changes(
    accepted_lens_on: Client, accepted_file: Path
) -> None:
    client, uri = accepted_lens_on, accepted_file.as_uri()
    version = client.insert(uri, 1, "import sys\nimport re\n")
    await client.diagnostics_of(uri, version)
    # A line inside the block rewritten: "edited since", still on the block's first line.
    lines = client.texts[uri].split("\n")
    lines[5] = "    same = hmac.compare_digest(password, expected)"
    version = client.replace_all(uri, "\n".join(lines))
    await client.diagnostics_of(uri, version)
    edited = _accepted_lenses(await client.code_lenses(uri))
    assert edited == [(3, "generated · k3f7qa.1 · edited since")]
    hover = await client.hover_text(uri, 4, 4)
    assert "**Generated, accepted: k3f7qa.1** · edited" in hover


async def _poll_accepted_lenses(client: Client, uri: str) -> list[tuple[int, str]]:
    """The accepted-code lenses once the server has applied a setting sent as a notification
    (its handler runs in its own task: ask again until they appear, within the hang guard)."""
    deadline = asyncio.get_running_loop().time() + client.timeout_s
    while True:
        shown = _accepted_lenses(await client.code_lenses(uri))
        if shown or asyncio.get_running_loop().time() > deadline:
            return shown
        await asyncio.sleep(0.02)
