"""`handrail mark --diff`: an agent's edits since a base become marked, recorded blocks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from repo_helpers import git, init_repo, run

from handrail.blocks.markers import parse_blocks
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.marking.diff import Hunk, _unquote, changed_hunks, parse_unified_diff
from handrail.workspace import Workspace

GOOD_SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)
PY = "import os\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n"
JS = "function a() {\n  return 1;\n}\n\nfunction b() {\n  return 2;\n}\n"
GO = "package main\n\nfunc a() int {\n\treturn 1\n}\n\nfunc b() int {\n\treturn 2\n}\n"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    root = init_repo(tmp_path / "repo", {"src/words.py": PY, "src/app.js": JS, "src/main.go": GO})
    result = run(root, "task", "new", GOOD_SPEC, "--context", "src/words.py", "--json")
    assert result.exit_code == 0, result.output
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root, json.loads(result.output)["task"]


def agent_edits(root: Path) -> None:
    """Added, changed and deleted hunks in three languages, and one new file."""
    # Python: a new function added at the end, and a changed line.
    (root / "src" / "words.py").write_text(
        PY.replace("return 1", "return 10") + "\n\ndef c():\n    return 3\n"
    )
    # JavaScript: b() deleted (a pure deletion), a line added inside a().
    (root / "src" / "app.js").write_text("function a() {\n  const x = 1;\n  return x;\n}\n")
    # Go: a new function inserted between a() and b(), with CRLF kept out of the way.
    (root / "src" / "main.go").write_text(
        GO.replace("\nfunc b()", "\nfunc c() int {\n\treturn 3\n}\n\nfunc b()")
    )
    (root / "src" / "new.py").write_text("def d():\n    return 4\n")


def test_mark_diff_wraps_added_and_changed_hunks_in_each_language(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    agent_edits(root)
    result = run(root, "mark", "--diff", "--task", task_id, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)

    py = (root / "src" / "words.py").read_text()
    ids = re.findall(r"# handrail:begin (\S+)", py)
    assert len(ids) == 2
    assert f"# handrail:begin {ids[0]}\n    return 10\n    # handrail:end {ids[0]}" in py
    # The blank lines before c() are spacing and stay outside the block.
    assert f"return 2\n\n\n# handrail:begin {ids[1]}\ndef c():\n    return 3\n" in py
    assert py.endswith(f"# handrail:end {ids[1]}\n")

    js = (root / "src" / "app.js").read_text()
    # git pairs the changed line with the added one: both new lines form one block.
    assert js.count("// handrail:begin") == 1
    assert "  const x = 1;\n  return x;\n  // handrail:end" in js
    assert "function b" not in js

    go = (root / "src" / "main.go").read_text()
    assert go.count("// handrail:begin") == 1
    assert "// handrail:begin" in go.split("func c()")[0].splitlines()[-1]

    new = (root / "src" / "new.py").read_text()
    assert new.startswith("# handrail:begin") and new.endswith(
        "# handrail:end " + new.split()[2] + "\n"
    )

    ws = Workspace.at(root)
    records = {r.block_id: r for r in Ledger(ws).read().records if isinstance(r, BlockMarked)}
    assert len(payload["blocks"]) == len(records) == 5
    for item in payload["blocks"]:
        text = (root / item["path"]).read_text()
        block = parse_blocks(text, item["path"]).block(item["block"])
        assert block is not None
        record = records[item["block"]]
        assert (record.task_id, record.path, record.content_hash) == (
            task_id,
            item["path"],
            block.content_hash,
        )
        assert (record.begin_line, record.end_line) == (block.begin_line, block.end_line)
    assert payload["skipped"] == []


def test_a_second_run_marks_nothing_new(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    agent_edits(root)
    assert run(root, "mark", "--diff", "--task", task_id).exit_code == 0
    before = {p: p.read_bytes() for p in (root / "src").iterdir()}
    again = run(root, "mark", "--diff", "--task", task_id)
    assert again.exit_code == 0
    assert "Nothing new to mark" in again.output
    assert {p: p.read_bytes() for p in (root / "src").iterdir()} == before


def test_only_changes_after_the_base_are_marked(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    (root / "src" / "words.py").write_text(PY + "\n\ndef early():\n    return 0\n")
    git(root, "commit", "-q", "-am", "by hand")
    (root / "src" / "app.js").write_text(JS + "\nfunction late() {}\n")
    result = run(root, "mark", "--diff", "--base", "HEAD", "--task", task_id, "--json")
    assert [b["path"] for b in json.loads(result.output)["blocks"]] == ["src/app.js"]
    wider = run(root, "mark", "--diff", "--base", "HEAD~1", "--task", task_id, "--json")
    assert [b["path"] for b in json.loads(wider.output)["blocks"]] == ["src/words.py"]


def test_files_without_comment_syntax_are_recorded_in_the_ledger_only(
    repo: tuple[Path, str],
) -> None:
    root, task_id = repo
    (root / "data.json").write_text('{"a": 1}\n')
    result = run(root, "mark", "--diff", "--task", task_id)
    assert result.exit_code == 0
    assert "Recorded data.json:1-1 as block" in result.output
    assert "handrail mark" not in result.output and "Skipped data.json" not in result.output
    assert (root / "data.json").read_text() == '{"a": 1}\n'  # no markers in JSON
    records = [r for r in Ledger(Workspace.at(root)).read().records if isinstance(r, BlockMarked)]
    (record,) = [r for r in records if r.path == "data.json"]
    assert record.ledger_only and (record.begin_line, record.end_line) == (1, 1)
    again = run(root, "mark", "--diff", "--task", task_id, "--json")
    assert [r["path"] for r in json.loads(again.output)["recorded"]] == ["data.json"]


def test_crlf_files_keep_their_line_endings(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    (root / "win.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    git(root, "add", "win.py")
    git(root, "commit", "-q", "-m", "crlf")
    (root / "win.py").write_bytes(b"a = 1\r\nx = 9\r\nb = 2\r\n")
    assert run(root, "mark", "--diff", "--task", task_id).exit_code == 0
    assert (root / "win.py").read_bytes() == (
        f"a = 1\r\n# handrail:begin {task_id}.1\r\nx = 9\r\n# handrail:end {task_id}.1\r\nb = 2\r\n"
    ).encode()


def test_an_unknown_base_or_task_is_a_usage_error(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    bad_base = run(root, "mark", "--diff", "--base", "nope", "--task", task_id)
    assert bad_base.exit_code == 2 and "'nope' is not a commit" in bad_base.output
    bad_task = run(root, "mark", "--diff", "--task", "zzzzzz")
    assert bad_task.exit_code == 2 and "no task" in bad_task.output
    with_file = run(root, "mark", "src/words.py", "1", "2", "--diff", "--task", task_id)
    assert with_file.exit_code == 2
    no_args = run(root, "mark", "--task", task_id)
    assert no_args.exit_code == 2 and "--diff" in no_args.output


def test_outside_a_git_repository_is_a_usage_error(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    assert run(root, "init").exit_code == 0
    result = run(root, "task", "new", GOOD_SPEC, "--json")
    task_id = json.loads(result.output)["task"]
    marked = run(root, "mark", "--diff", "--task", task_id)
    assert marked.exit_code == 2 and "Traceback" not in marked.output


# --- the hunk parser ----------------------------------------------------------------------

path_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters='"\\'),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and "\t" not in s)
hunk_lists = st.lists(
    st.tuples(st.integers(0, 500), st.integers(1, 50), st.integers(0, 50)), max_size=6
)


def _render(files: dict[str, list[tuple[int, int, int]]]) -> tuple[str, dict[str, list[Hunk]]]:
    out: list[str] = []
    expected: dict[str, list[Hunk]] = {}
    for name, hunks in files.items():
        out += [f"diff --git a/{name} b/{name}", "index 1111111..2222222 100644"]
        out += [f"--- a/{name}", f"+++ b/{name}"]
        for old_start, new_start, new_count in hunks:
            new = f"{new_start}" if new_count == 1 else f"{new_start},{new_count}"
            out.append(f"@@ -{old_start},{1 if new_count == 0 else 0} +{new} @@ def f():")
            out += ["-removed"] * (1 if new_count == 0 else 0)
            out += [f"+line {i}" for i in range(new_count)]
            if new_count:
                expected.setdefault(name, []).append(Hunk(new_start, new_count))
    return "\n".join(out) + "\n", expected


@given(st.dictionaries(path_text, hunk_lists, max_size=4))
def test_parsed_hunks_are_the_added_ones(files: dict[str, list[tuple[int, int, int]]]) -> None:
    diff, expected = _render(files)
    assert parse_unified_diff(diff) == expected


@given(st.text(max_size=400))
def test_any_text_parses_without_error(diff: str) -> None:
    for hunks in parse_unified_diff(diff).values():
        assert all(h.count >= 1 and h.start >= 0 for h in hunks)


def test_a_deleted_file_has_no_hunks() -> None:
    diff = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n"
    assert parse_unified_diff(diff) == {}


@given(st.text(min_size=1, max_size=20))
def test_quoted_paths_unquote_to_the_original(name: str) -> None:
    quoted = (
        '"'
        + "".join(
            f"\\{b:03o}"
            if b >= 0x80 or b < 0x20
            else ("\\" + chr(b) if chr(b) in '"\\' else chr(b))
            for b in name.encode("utf-8", "surrogatepass")
        )
        + '"'
    )
    if any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        return
    assert _unquote(quoted) == name


def test_binary_and_unknown_files_are_left_alone(repo: tuple[Path, str]) -> None:
    root, task_id = repo
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    (root / "notes.weird").write_text("some text\n")
    result = run(root, "mark", "--diff", "--task", task_id, "--json")
    assert result.exit_code == 0, result.output
    reasons = {s["path"]: s["reason"] for s in json.loads(result.output)["skipped"]}
    assert reasons["logo.png"] == "a binary file"
    assert "type is unknown" in reasons["notes.weird"]
    assert (root / "logo.png").read_bytes() == b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
    assert (root / "notes.weird").read_text() == "some text\n"


def test_changed_hunks_leave_out_handrail_files_and_keep_to_the_paths_asked(
    repo: tuple[Path, str],
) -> None:
    root, _ = repo
    agent_edits(root)
    (root / ".handrail" / "notes.py").write_text("x = 1\n")
    (root / "src" / "*.py").write_text("y = 2\n")  # a name that is also a pattern
    ws = Workspace.at(root)
    everything = changed_hunks(ws, "HEAD")
    assert not [rel for rel in everything if rel.startswith(".handrail")]
    assert {"src/words.py", "src/*.py"} <= set(everything)
    only = changed_hunks(ws, "HEAD", ["src/*.py"])
    assert list(only) == ["src/*.py"] and only["src/*.py"] == [Hunk(1, 1)]
    assert changed_hunks(ws, "HEAD", ["src/words.py"]) == {
        "src/words.py": everything["src/words.py"]
    }
    assert changed_hunks(ws, "HEAD", []) == {}
