"""`handrail generate` against a local server speaking the chat-completions streaming protocol."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chat_server import Script, answer_events, chunk, serving, write_settings
from repo_helpers import init_repo, run

from handrail.blocks.markers import parse_blocks
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with serving() as running:
        yield running


GOOD_SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)
SOURCE = "def words(text):\n    return text.split()\n"
CODE = "def top(text, n):\n    return sorted(words(text))[:n]\n"
ANSWER = f"Here is the function.\n\n```python\n{CODE}```\n\nIt sorts the words.\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "repo", {"src/words.py": SOURCE})


def new_task(root: Path, spec: str = GOOD_SPEC) -> str:
    result = run(root, "task", "new", spec, "--context", "src/words.py", "--json")
    assert result.exit_code == 0, result.output
    task_id = json.loads(result.output)["task"]
    assert isinstance(task_id, str)
    return task_id


def snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


def test_generate_into_a_file_writes_a_marked_block_and_records_it(
    repo: Path, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url, key_env="HANDRAIL_TEST_KEY")
    script.events = answer_events(ANSWER)
    task_id = new_task(repo)
    os.environ["HANDRAIL_TEST_KEY"] = "sk-test-123"
    result = run(repo, "generate", task_id, "--into", "src/words.py", "--json")
    assert result.exit_code == 0, result.output
    written = json.loads(result.output)["written"]
    text = (repo / "src" / "words.py").read_text()
    assert text.startswith(SOURCE)
    assert CODE in text
    block = parse_blocks(text, "src/words.py").block(written["block"])
    assert block is not None and block.begin_line == 3
    records = [r for r in Ledger(Workspace.at(repo)).read().records if isinstance(r, BlockMarked)]
    assert [(r.block_id, r.content_hash) for r in records] == [(block.id, block.content_hash)]
    # The request carried the prompt pack, the workflow's temperature and the key.
    (request,) = script.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["stream"] is True and request["model"] == "test-model"
    assert request["temperature"] == 0.2
    assert GOOD_SPEC in request["messages"][-1]["content"]
    assert script.auth == ["Bearer sk-test-123"]
    # The marked block is what the gate sees: unverified.
    check = run(repo, "check")
    assert "HR300" in check.output


def test_generate_at_a_line_inserts_before_it(repo: Path, server: tuple[str, Script]) -> None:
    url, script = server
    write_settings(url)
    script.events = answer_events(ANSWER)
    task_id = new_task(repo)
    result = run(repo, "generate", task_id, "--into", "src/words.py:1", "-q")
    assert result.exit_code == 0, result.output
    lines = (repo / "src" / "words.py").read_text().splitlines()
    assert lines[0] == f"# handrail:begin {task_id}.1"
    assert lines[1] == "def top(text, n):"
    assert lines[3] == f"# handrail:end {task_id}.1"
    assert lines[4] == "def words(text):"


def test_generate_into_a_new_file_creates_it(repo: Path, server: tuple[str, Script]) -> None:
    url, script = server
    write_settings(url)
    script.events = answer_events(ANSWER)
    task_id = new_task(repo)
    result = run(repo, "generate", task_id, "--into", "src/top.py")
    assert result.exit_code == 0, result.output
    text = (repo / "src" / "top.py").read_text()
    assert text == f"# handrail:begin {task_id}.1\n{CODE}# handrail:end {task_id}.1\n"


def test_generate_without_into_prints_the_code(repo: Path, server: tuple[str, Script]) -> None:
    url, script = server
    write_settings(url)
    script.events = answer_events(ANSWER)
    task_id = new_task(repo)
    before = snapshot(repo)
    result = run(repo, "generate", task_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"task": task_id, "code": CODE, "written": None}
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("status", "events", "headers", "body", "expected"),
    [
        (
            429,
            [],
            {"Retry-After": "20"},
            b'{"error": {"message": "Rate limit reached for test-model"}}',
            ["rate limiting", "HTTP 429", "Rate limit reached", "wait 20 s"],
        ),
        (
            500,
            [],
            {},
            b"upstream exploded",
            ["HTTP 500", "upstream exploded"],
        ),
        (
            200,
            [chunk("```python\n"), "data: {not json\n\n", "data: [DONE]\n\n"],
            {},
            b"",
            ["malformed stream", "not JSON"],
        ),
        (
            200,
            [chunk(role="assistant"), chunk("```python\ndef f():\n")],
            {},
            b"",
            ["stopped before the end", "[DONE]"],
        ),
        (
            200,
            [
                chunk(role="assistant"),
                chunk(refusal="I can't help with that request."),
                chunk(finish="stop"),
                "data: [DONE]\n\n",
            ],
            {},
            b"",
            ["refused to answer", "I can't help with that request."],
        ),
        (
            200,
            answer_events("I would need more details about the words function first."),
            {},
            b"",
            ["holds no code block", "I would need more details"],
        ),
        (
            200,
            [chunk("```python\nx = 1\n"), chunk(finish="length"), "data: [DONE]\n\n"],
            {},
            b"",
            ["cut off", "length limit"],
        ),
    ],
    ids=["429", "500", "malformed", "no-done", "refusal", "no-code", "length"],
)
def test_failures_give_a_clear_message_and_change_no_file(
    repo: Path,
    server: tuple[str, Script],
    status: int,
    events: list[str],
    headers: dict[str, str],
    body: bytes,
    expected: list[str],
) -> None:
    url, script = server
    write_settings(url)
    script.status, script.events, script.headers, script.body = status, events, headers, body
    task_id = new_task(repo)
    before = snapshot(repo)
    result = run(repo, "generate", task_id, "--into", "src/words.py")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for words in expected:
        assert words in result.output
    assert "No file was changed." in result.output
    assert snapshot(repo) == before


def test_a_timeout_gives_a_clear_message_and_changes_no_file(
    repo: Path, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url, timeout_s=0.3)
    script.events = answer_events(ANSWER)
    script.delay_s = 0.5
    task_id = new_task(repo)
    before = snapshot(repo)
    result = run(repo, "generate", task_id, "--into", "src/words.py")
    assert result.exit_code == 1
    assert "did not finish answering within 0.3 s" in result.output
    assert snapshot(repo) == before


def test_an_unreachable_endpoint_is_a_network_error(repo: Path, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    write_settings(f"http://127.0.0.1:{port}/v1")
    task_id = new_task(repo)
    result = run(repo, "generate", task_id, "--json")
    assert result.exit_code == 1
    assert "could not reach" in result.output
    assert '"error": "network"' in result.output


def test_a_refused_spec_sends_nothing(repo: Path, server: tuple[str, Script]) -> None:
    url, script = server
    write_settings(url)
    task_id = new_task(repo)
    # Break the context after the task was written: the gate now refuses the pack.
    (repo / "src" / "words.py").unlink()
    result = run(repo, "generate", task_id, "--into", "src/other.py")
    assert result.exit_code == 1
    assert "Generation refused" in result.output and "Nothing was sent" in result.output
    assert script.requests == []
    assert not (repo / "src" / "other.py").exists()


def test_a_secret_typed_into_the_spec_sends_nothing(repo: Path, server: tuple[str, Script]) -> None:
    url, script = server
    write_settings(url)
    task_id = new_task(repo)
    token = "ghp_" + "Zx9Qw3Er5Ty7Ui1Op3As5Df7Gh9Jk1Lz3Xc5"
    task_file = repo / ".handrail" / "tasks" / f"{task_id}.toml"
    text = task_file.read_text(encoding="utf-8")
    task_file.write_text(text.replace("src/words.py.", f"src/words.py, token {token}."))
    result = run(repo, "generate", task_id, "--into", "src/other.py")
    assert result.exit_code == 1, result.output
    assert "HR204" in result.output and "Nothing was sent" in result.output
    assert token not in result.output
    assert script.requests == []


def test_missing_settings_say_where_to_put_them(repo: Path) -> None:
    task_id = new_task(repo)
    result = run(repo, "generate", task_id)
    assert result.exit_code == 2
    assert "settings.toml" in result.output and "api_key_env" in result.output


def test_an_unset_key_variable_is_named(repo: Path, server: tuple[str, Script]) -> None:
    url, script = server
    write_settings(url, key_env="HANDRAIL_UNSET_KEY")
    task_id = new_task(repo)
    result = run(repo, "generate", task_id)
    assert result.exit_code == 1
    assert "HANDRAIL_UNSET_KEY" in result.output
    assert script.requests == []


def test_a_target_without_comment_syntax_is_refused_before_sending(
    repo: Path, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    (repo / "data.json").write_text("{}\n")
    task_id = new_task(repo)
    result = run(repo, "generate", task_id, "--into", "data.json")
    assert result.exit_code == 2
    assert "data.json" in result.output
    assert script.requests == []


def test_a_line_past_the_end_is_refused_before_sending(
    repo: Path, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    task_id = new_task(repo)
    result = run(repo, "generate", task_id, "--into", "src/words.py:9")
    assert result.exit_code == 2
    assert "past the end" in result.output and "use 3 to append" in result.output
    assert script.requests == []


CODE_2 = "def top(text, n):\n    return sorted(set(words(text)))[:n]\n"


def test_replace_discards_the_old_attempt_and_stats_count_it(
    repo: Path, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    script.events = answer_events(ANSWER)
    task_id = new_task(repo)
    first = run(repo, "generate", task_id, "--into", "src/words.py", "--json")
    assert first.exit_code == 0, first.output
    old_block = json.loads(first.output)["written"]["block"]

    script.events = answer_events(f"```python\n{CODE_2}```\n")
    again = run(repo, "generate", "--replace", old_block, "--json")
    assert again.exit_code == 0, again.output
    payload = json.loads(again.output)
    assert payload["replaced"] == old_block
    new_block = payload["written"]["block"]
    assert new_block == f"{task_id}.2"
    text = (repo / "src" / "words.py").read_text()
    assert old_block not in text and CODE not in text
    assert text == (f"{SOURCE}# handrail:begin {new_block}\n{CODE_2}# handrail:end {new_block}\n")
    marks = [r for r in Ledger(Workspace.at(repo)).read().records if isinstance(r, BlockMarked)]
    (record,) = [r for r in marks if r.block_id == new_block]
    assert record.replaces == old_block and record.replaces_hash is not None
    # What produced it: the endpoint's host (no key), the temperature, spec and pack hashes.
    assert record.endpoint == "127.0.0.1:" + url.split(":")[2].split("/")[0]
    assert record.temperature == 0.2
    assert record.spec_hash and record.pack_hash and record.pack_hash != record.spec_hash
    assert "sk-" not in record.model_dump_json()

    # The new attempt passes: the task's first attempt still failed, and this is rework.
    # The command runs the block (a passing run counts only if it executed it, HR310).
    calls_top = "import sys; sys.path.insert(0, 'src'); import words; words.top('b a b', 1)"
    command = f"{sys.executable} -c {json.dumps(calls_top)}"
    (repo / ".handrail" / "workflow.toml").write_text(
        'extends = "default"\n[workflow]\nowner = "A <a@example.com>"\nreviewed = 2026-11-01\n'
        f"[verification]\ncommand = {json.dumps(command)}\n"
    )
    assert run(repo, "trust").exit_code == 0
    verified = run(repo, "verify", new_block)
    assert verified.exit_code == 0, verified.output
    stats = json.loads(run(repo, "stats", "--format", "json").output)
    total = stats["total"]
    assert total["blocks"] == 2
    assert (total["first_attempts"], total["first_attempt_passed"]) == (2, 1)
    assert (total["verified"], total["reworked"]) == (1, 1)
    (per_model,) = stats["per_model"]
    assert per_model["key"] == "test-model" or per_model["key"].startswith("127.0.0.1:")
    assert (per_model["first_attempts"], per_model["reworked"]) == (2, 1)
    assert "Per model (or endpoint)" in run(repo, "stats").output


def test_replace_refuses_an_unknown_block_and_into(repo: Path, server: tuple[str, Script]) -> None:
    url, script = server
    write_settings(url)
    task_id = new_task(repo)
    before = snapshot(repo)
    missing = run(repo, "generate", "--replace", f"{task_id}.7")
    assert missing.exit_code == 2 and f"no file holds block {task_id}.7" in missing.output
    both = run(repo, "generate", "--replace", f"{task_id}.1", "--into", "src/words.py")
    assert both.exit_code == 2
    other = run(repo, "generate", "zzzzzz", "--replace", f"{task_id}.1")
    assert other.exit_code == 2
    assert script.requests == [] and snapshot(repo) == before


def test_the_pack_names_the_target_file_and_shows_the_insertion_point(
    repo: Path, server: tuple[str, Script]
) -> None:
    url, script = server
    write_settings(url)
    script.events = answer_events(ANSWER)
    task_id = new_task(repo)
    shown = run(repo, "prompt", task_id, "--into", "src/words.py:2")
    assert shown.exit_code == 0, shown.output
    assert "The code goes into `src/words.py`, before line 2." in shown.output
    assert "def words(text):\n<<< the code goes here >>>\n    return text.split()" in (shown.output)
    plain = run(repo, "prompt", task_id)
    assert "Where the code goes" not in plain.output

    assert run(repo, "generate", task_id, "--into", "src/words.py", "-q").exit_code == 0
    (request,) = script.requests
    sent = request["messages"][-1]["content"]
    assert "The code goes at the end of `src/words.py`." in sent
    assert "    return text.split()\n<<< the code goes here >>>" in sent


def test_the_insertion_point_never_sends_a_secret_or_an_ignored_file(
    repo: Path, server: tuple[str, Script]
) -> None:
    """The lines around the cursor come from the target file, not from the checked context:
    a key beside the cursor, or a file the context may not send, stays out of the pack."""
    url, script = server
    write_settings(url)
    script.events = answer_events(ANSWER)
    task_id = new_task(repo)
    token = "ghp_" + "Zx9Qw3Er5Ty7Ui1Op3As5Df7Gh9Jk1Lz3Xc5"
    (repo / "src" / "client.py").write_text(f'TOKEN = "{token}"\n\n\ndef call():\n    pass\n')
    shown = run(repo, "prompt", task_id, "--into", "src/client.py:3")
    assert shown.exit_code == 0, shown.output
    assert "The code goes into `src/client.py`, before line 3." in shown.output
    assert "they look like they hold a secret (" in shown.output
    assert token not in shown.output

    assert run(repo, "generate", task_id, "--into", "src/client.py:3", "-q").exit_code == 0
    (request,) = script.requests
    assert token not in json.dumps(request)

    # A file the workflow's ignore patterns keep out of the context (`*.pem` in the pack).
    (repo / "deploy.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n")
    pem = run(repo, "prompt", task_id, "--into", "deploy.pem:2")
    assert "MIIB" not in pem.output
    assert "the file matches the context's ignore patterns" in pem.output


def test_a_gitignored_target_is_withheld_as_the_context_check_would(
    repo: Path, server: tuple[str, Script]
) -> None:
    """The same matcher as `handrail context check`: `.gitignore` counts where the workflow
    uses it (`use_gitignore`, on in the packs), not only `[context] ignore`."""
    task_id = new_task(repo)
    (repo / ".gitignore").write_text("local_settings.py\n")
    (repo / "src" / "local_settings.py").write_text("DEBUG = True\nHOST = 'db.internal'\n")
    shown = run(repo, "prompt", task_id, "--into", "src/local_settings.py:2")
    assert shown.exit_code == 0, shown.output
    assert "db.internal" not in shown.output
    assert "the file matches the context's ignore patterns ('local_settings.py')" in shown.output
