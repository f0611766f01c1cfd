"""Agent Trace export and git-ai import against temporary git repositories."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from repo_helpers import git, init_repo, run

from handrail.blocks.markers import parse_blocks
from handrail.interop._git import InteropError
from handrail.interop.git_ai import parse_authorship_log
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

GOOD_SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)
PY = "import os\n\n\ndef a():\n    return 1\n"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    root = init_repo(tmp_path / "repo", {"src/words.py": PY})
    result = run(root, "task", "new", GOOD_SPEC, "--context", "src/words.py", "--json")
    assert result.exit_code == 0, result.output
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root, json.loads(result.output)["task"]


# --- Agent Trace ---------------------------------------------------------------------------

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
STAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_export_writes_one_record_per_commit_with_blocks(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    (root / "src" / "words.py").write_text(PY + "\n\ndef b():\n    return 2\n")
    assert run(root, "mark", "--diff", "--task", task_id).exit_code == 0
    git(root, "commit", "-q", "-am", "agent")
    (root / "README.md").write_text("hand written\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "by hand")

    result = run(root, "export", "--agent-trace", "--range", "HEAD~2..HEAD")
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    record = json.loads(line)
    sha = git(root, "rev-parse", "HEAD~1").strip()
    assert record["version"] == "0.1"
    assert UUID_RE.match(record["id"]) and record["id"] == str(uuid.UUID(record["id"]))
    assert STAMP_RE.match(record["timestamp"])
    assert record["vcs"] == {"type": "git", "revision": sha}
    assert record["tool"]["name"] == "handrail"
    (file_entry,) = record["files"]
    assert file_entry["path"] == "src/words.py"
    (conversation,) = file_entry["conversations"]
    assert conversation["contributor"] == {"type": "ai"}
    assert conversation["related"] == [
        {"type": "handrail-task", "url": f"urn:handrail:task:{task_id}"}
    ]
    block = parse_blocks((root / "src" / "words.py").read_text(), "src/words.py").blocks[0]
    assert conversation["ranges"] == [
        {
            "start_line": block.begin_line + 1,
            "end_line": block.end_line - 1,
            "content_hash": block.content_hash,
        }
    ]
    assert record["metadata"]["handrail"]["tasks"][task_id]["summary"] == GOOD_SPEC
    assert set(record) == {"version", "id", "timestamp", "vcs", "tool", "files", "metadata"}

    # The same commit exports the same record id, to a file as well.
    out = root.parent / "trace.jsonl"
    again = run(root, "export", "--agent-trace", "--range", "HEAD~1", "-o", str(out))
    assert again.exit_code == 0
    assert json.loads(out.read_text())["id"] == record["id"]


def test_export_of_a_commit_without_blocks_is_empty(repo: tuple[Path, str]) -> None:
    root, _ = repo
    result = run(root, "export", "--agent-trace")
    assert result.exit_code == 0 and result.output == ""


def test_export_of_an_unknown_range_is_a_usage_error(repo: tuple[Path, str]) -> None:
    root, _ = repo
    result = run(root, "export", "--agent-trace", "--range", "nope..HEAD")
    assert result.exit_code == 2 and "not a revision range" in result.output


# --- git-ai --------------------------------------------------------------------------------

NOTE = """src/words.py
  a1b2c3d 4-5
"src/with space.py"
  a1b2c3d 1,3-4
---
{
  "schema_version": "authorship/3.0.0",
  "base_commit_sha": "",
  "prompts": {
    "a1b2c3d": {"agent_id": {"tool": "claude", "id": "s1", "model": "claude-sonnet-4"}}
  }
}"""


def test_the_authorship_log_parses() -> None:
    log = parse_authorship_log(NOTE)
    assert [(r.path, r.start, r.end) for r in log.ranges] == [
        ("src/words.py", 4, 5),
        ("src/with space.py", 1, 1),
        ("src/with space.py", 3, 4),
    ]
    assert log.sessions == {"a1b2c3d": "claude (claude-sonnet-4)"}


@pytest.mark.parametrize(
    ("note", "words"),
    [
        ("src/a.py\n  abc 1-2\n", "divider"),
        ("  abc 1-2\n---\n{}", "before a file name"),
        ("a.py\n  abc\n---\n{}", "'<session> <ranges>'"),
        ("a.py\n  abc 3-1\n---\n{}", "bad range"),
        ("a.py\n  abc x\n---\n{}", "bad range"),
    ],
)
def test_a_broken_note_is_an_error_with_its_line(note: str, words: str) -> None:
    with pytest.raises(InteropError, match=re.escape(words)):
        parse_authorship_log(note)


ranges = st.lists(
    st.tuples(st.integers(1, 10_000), st.integers(0, 50)).map(lambda t: (t[0], t[0] + t[1])),
    min_size=1,
    max_size=5,
)
names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_characters='"'),
    min_size=1,
    max_size=15,
)


@given(
    st.dictionaries(
        names,
        st.dictionaries(
            st.text(alphabet="0123456789abcdef", min_size=7, max_size=7),
            ranges,
            min_size=1,
            max_size=3,
        ),
        max_size=4,
    )
)
@example(files={"---": {"0000000": [(1, 1)]}})  # a file named like the divider (found once)
def test_rendered_logs_parse_back(files: dict[str, dict[str, list[tuple[int, int]]]]) -> None:
    lines = []
    expected = []
    for path, sessions in files.items():
        # git-ai quotes a name that holds whitespace.
        lines.append(f'"{path}"' if any(c.isspace() for c in path) else path)
        for session, spans in sessions.items():
            text = ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
            lines.append(f"  {session} {text}")
            expected += [(path, session, a, b) for a, b in spans]
    log = parse_authorship_log("\n".join([*lines, "---", "{}"]))
    assert [(r.path, r.session, r.start, r.end) for r in log.ranges] == expected


@given(st.text(max_size=300))
def test_any_note_parses_or_is_an_interop_error(note: str) -> None:
    try:
        log = parse_authorship_log(note)
    except InteropError:
        return
    assert all(1 <= r.start <= r.end for r in log.ranges)


def test_import_offers_then_marks_the_ranges_of_an_unchanged_file(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    (root / "src" / "words.py").write_text(PY + "\n\ndef b():\n    return 2\n")
    (root / "src" / "other.py").write_text("x = 1\ny = 2\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "agent")
    note = NOTE.replace("4-5", "8-9").replace(
        '"src/with space.py"\n  a1b2c3d 1,3-4', "src/other.py\n  a1b2c3d 1-2"
    )
    git(root, "notes", "--ref=ai", "add", "-F", "-", "HEAD", stdin=note)
    (root / "src" / "other.py").write_text("x = 1\ny = 3\n")  # changed since: not offered

    listed = run(root, "import", "--git-ai", "--task", task_id, "--json")
    assert listed.exit_code == 0, listed.output
    offers = json.loads(listed.output)["offers"]
    assert [(o["path"], o["start"], o["end"], o["markable"]) for o in offers] == [
        ("src/words.py", 8, 9, True),
        ("src/other.py", 1, 2, False),
    ]
    assert offers[0]["agent"] == "claude (claude-sonnet-4)"
    assert "changed since the commit" in offers[1]["reason"]
    assert "handrail:begin" not in (root / "src" / "words.py").read_text()

    marked = run(root, "import", "--git-ai", "--task", task_id, "--mark")
    assert marked.exit_code == 0, marked.output
    text = (root / "src" / "words.py").read_text()
    assert (
        f"# handrail:begin {task_id}.1\ndef b():\n    return 2\n# handrail:end {task_id}.1\n"
        in text
    )
    records = [r for r in Ledger(Workspace.at(root)).read().records if isinstance(r, BlockMarked)]
    assert [r.block_id for r in records] == [f"{task_id}.1"]
    assert (root / "src" / "other.py").read_text() == "x = 1\ny = 3\n"


def test_a_commit_without_a_note_offers_nothing(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    result = run(root, "import", "--git-ai", "--task", task_id)
    assert result.exit_code == 0
    assert "has no git-ai note" in result.output


def test_export_covers_accepted_code_a_squash_merge_brings_in(repo: tuple[Path, str]) -> None:
    from handrail.blocks.markers import hash_content
    from handrail.ledger.records import Accepted, line_hash

    root, task_id = repo
    body = ["def b():", "    return 2"]
    # What a squash merge of an accepted branch commits: the code without markers, and the
    # branch's ledger records (here the acceptance) in one new commit.
    (root / "src" / "words.py").write_text(PY + "\n\n" + "\n".join(body) + "\n")
    begin = PY.count("\n") + 3
    Ledger(Workspace.at(root)).append(
        Accepted.create(
            block_id=f"{task_id}.1",
            content_hash=hash_content("".join(line + "\n" for line in body)),
            path="src/words.py",
            begin_line=begin,
            end_line=begin + 1,
            line_hashes=[line_hash(line) for line in body],
        )
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feature (squashed)")
    result = run(root, "export", "--agent-trace")
    assert result.exit_code == 0, result.output
    (file_entry,) = json.loads(result.output)["files"]
    (conversation,) = file_entry["conversations"]
    assert conversation["ranges"] == [
        {
            "start_line": begin,
            "end_line": begin + 1,
            "content_hash": hash_content("".join(line + "\n" for line in body)),
        }
    ]
