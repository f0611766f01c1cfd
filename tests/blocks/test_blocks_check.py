"""HR305-HR308 findings: ranges, messages, quick-fix data and the workflow's knobs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.blocks.check import (
    check_blocks,
    disk_insertion,
    ids_used_in_other_files,
    large_insertion,
)
from handrail.blocks.markers import parse_blocks
from handrail.findings import Finding, Severity
from handrail.marking.ids import MarkerIndex
from handrail.workflow.model import DetectionRules, GenerationRules, Workflow

WF = Workflow()


def findings(text: str, *, known: set[str] | None = None, wf: Workflow = WF) -> list[Finding]:
    return check_blocks(
        parse_blocks(text, "src/a.py"), path="src/a.py", workflow=wf, known_tasks=known
    )


def only(text: str, **kwargs: object) -> Finding:
    [finding] = findings(text, **kwargs)  # type: ignore[arg-type]
    json.dumps(finding.data)  # quick-fix data must travel over JSON-RPC
    return finding


def test_clean_file_has_no_findings() -> None:
    text = "# handrail:begin abcdef.1\nx\n# handrail:end abcdef.1\n"
    assert findings(text, known={"abcdef"}) == []


def test_missing_end() -> None:
    f = only("  # handrail:begin abcdef.1\n  x = 1\n")
    assert (f.code, f.severity, f.path) == ("HR305", Severity.ERROR, "src/a.py")
    assert (f.line, f.column, f.end_line, f.end_column) == (1, 3, 1, 28)
    assert "no matching `handrail:end abcdef.1`" in f.message
    assert f.data == {
        "kind": "begin-without-end",
        "line": 1,
        "block_id": "abcdef.1",
        "fix": "add-end",
        "insert_after_line": 2,
        "new_text": "  # handrail:end abcdef.1",
    }


def test_missing_begin() -> None:
    f = only("x = 1\n# handrail:end abcdef.1\n")
    assert f.line == 2 and f.data["fix"] == "remove-line"
    assert "no matching `handrail:begin abcdef.1`" in f.message


def test_nested() -> None:
    text = (
        "# handrail:begin abcdef.1\n# handrail:begin abcdef.2\nx\n"
        "# handrail:end abcdef.2\n# handrail:end abcdef.1\n"
    )
    f = only(text)
    assert f.line == 2
    assert "cannot nest" in f.message and "abcdef.1" in f.message
    assert f.data["fix"] == "remove-lines" and f.data["lines"] == [2, 4]


def test_mismatched() -> None:
    text = "# handrail:begin abcdef.1\nx\n# handrail:end abcdef.2\n"
    found = findings(text)
    assert [(f.line, f.data["kind"]) for f in found] == [
        (1, "begin-without-end"),
        (3, "mismatched-end"),
    ]
    mismatch = found[1]
    assert mismatch.data["fix"] == "replace-line"
    assert mismatch.data["new_text"] == "# handrail:end abcdef.1"
    assert "does not match the open block abcdef.1" in mismatch.message


def test_duplicate_in_one_file_suggests_free_ids() -> None:
    pair = "# handrail:begin abcdef.2\nx\n# handrail:end abcdef.2\n"
    found = findings(pair * 3)
    # Every occurrence is reported; the later ones carry the renumbering quick fix.
    assert [(f.line, f.data.get("suggested_id")) for f in found] == [
        (1, None),
        (4, "abcdef.3"),
        (7, "abcdef.4"),
    ]
    assert found[1].data["lines"] == [4, 6]
    assert "used more than once in this file (also on line 1)" in found[1].message
    assert "again on line 4" in found[0].message
    assert "handrail renumber" in found[0].message


def test_malformed() -> None:
    f = only("# handrail:begin ABCDEF.1\n")
    assert f.data["kind"] == "malformed"
    assert "'ABCDEF.1' is not a block id" in f.message
    assert "k3f9qa.1" in f.message  # shows what an id looks like


def test_unknown_task() -> None:
    text = "# handrail:begin abcdef.1\nx\n# handrail:end abcdef.1\n"
    f = only(text, known={"zzzzzz"})
    assert (f.code, f.severity, f.line, f.end_column) == ("HR306", Severity.ERROR, 1, 26)
    assert ".handrail/tasks/abcdef.toml" in f.message
    assert f.data["task_id"] == "abcdef"
    assert findings(text, known=None) == []


def test_block_longer_than_the_cap() -> None:
    wf = Workflow(generation=GenerationRules(max_block_lines=3))
    at_cap = "# handrail:begin abcdef.1\n" + "x\n" * 3 + "# handrail:end abcdef.1\n"
    assert findings(at_cap, wf=wf) == []
    over = at_cap.replace("x\n", "x\n\n", 1)
    f = only(over, wf=wf)
    assert (f.code, f.severity) == ("HR307", Severity.WARNING)
    assert "4 lines" in f.message and "max_block_lines" in f.message
    assert f.data["max_block_lines"] == 3 and f.data["lines"] == 4


def test_severity_overrides_and_off() -> None:
    text = (
        "# handrail:begin abcdef.1\n" + "x\n" * 100 + "# handrail:end abcdef.1\n# handrail:end x\n"
    )
    wf = Workflow(severity={"HR305": "off", "HR306": "warning", "HR307": "error"})
    found = {(f.code, f.severity) for f in findings(text, known=set(), wf=wf)}
    assert found == {("HR306", Severity.WARNING), ("HR307", Severity.ERROR)}
    all_off = Workflow(severity={"HR305": "off", "HR306": "off", "HR307": "off"})
    assert findings(text, known=set(), wf=all_off) == []


def test_duplicates_across_files_are_reported_on_every_occurrence() -> None:
    texts = {
        "a.py": "# handrail:begin abcdef.1\nx\n# handrail:end abcdef.1\n",
        "b.ts": "\n// handrail:begin abcdef.1\ny\n// handrail:end abcdef.1\n",
        "c.py": "# handrail:begin abcdef.1\nz\n# handrail:end abcdef.1\n",
    }
    parsed = {rel: parse_blocks(text, rel) for rel, text in texts.items()}
    index = MarkerIndex(parsed)
    found = []
    for rel in sorted(texts):
        elsewhere = index.elsewhere(rel, [b.id for b in parsed[rel].blocks])
        found += check_blocks(
            parsed[rel], path=rel, workflow=WF, known_tasks=None, elsewhere=elsewhere
        )
    assert [(f.code, f.path, f.line) for f in found] == [
        ("HR305", "a.py", 1),
        ("HR305", "b.ts", 2),
        ("HR305", "c.py", 1),
    ]
    assert "also used in b.ts (line 2) and 1 more" in found[0].message
    assert "also used in a.py (line 1)" in found[1].message
    assert found[1].data["other_path"] == "a.py"
    assert found[1].data["suggested_id"] == "abcdef.2"
    assert ids_used_in_other_files({r: p.blocks for r, p in parsed.items()})["a.py"] == {
        "abcdef.1": [("b.ts", 2), ("c.py", 1)]
    }
    off = Workflow(severity={"HR305": "off"})
    elsewhere = index.elsewhere("a.py", ["abcdef.1"])
    assert check_blocks(parsed["a.py"], path="a.py", workflow=off, known_tasks=None,
                        elsewhere=elsewhere) == []  # fmt: skip


def insertion_text(lines: int) -> str:
    return "\n".join(["head"] + [f"line {i}" for i in range(lines)] + ["tail"]) + "\n"


def test_large_insertion_hint() -> None:
    wf = Workflow(detection=DetectionRules(large_insertion_lines=5))
    text = insertion_text(5)
    result = parse_blocks(text, "a.py")
    f = large_insertion(text, result, path="a.py", start_line=2, end_line=6, workflow=wf)
    assert f is not None
    assert (f.code, f.severity, f.line, f.end_line, f.end_column) == (
        "HR308",
        Severity.HINT,
        2,
        6,
        7,
    )
    assert f.data == {"inserted_lines": 5, "start_line": 2, "end_line": 6, "fix": "mark"}
    assert "Was this code generated?" in f.message
    assert large_insertion(text, result, path="a.py", start_line=2, end_line=5, workflow=wf) is None


def test_large_insertion_ignores_blank_lines_and_blocks() -> None:
    wf = Workflow(detection=DetectionRules(large_insertion_lines=3))
    blanks = "x\n\n\n\n\ny\n"
    assert (
        large_insertion(
            blanks, parse_blocks(blanks, "a.py"), path="a.py", start_line=1, end_line=6, workflow=wf
        )
        is None
    )
    text = "# handrail:begin abcdef.1\na\nb\nc\n# handrail:end abcdef.1\nd\ne\n"
    result = parse_blocks(text, "a.py")
    assert large_insertion(text, result, path="a.py", start_line=2, end_line=7, workflow=wf) is None
    text2 = "p\nq\n" + text
    result2 = parse_blocks(text2, "a.py")
    f = large_insertion(text2, result2, path="a.py", start_line=1, end_line=9, workflow=wf)
    assert f is not None and "fix" not in f.data  # marking across a block would nest it
    off = Workflow(severity={"HR308": "off"}, detection=DetectionRules(large_insertion_lines=2))
    assert (
        large_insertion(text2, result2, path="a.py", start_line=1, end_line=9, workflow=off) is None
    )


def test_disk_insertion_counts_any_size_and_names_the_task() -> None:
    text = "a\n\nb\n# handrail:begin abcdef.1\nc\n# handrail:end abcdef.1\n"
    result = parse_blocks(text, "a.py")
    f = disk_insertion(
        text, result, path="a.py", start_line=1, end_line=3, workflow=WF, task_id="k3f7qa"
    )
    assert f is not None and f.severity is Severity.HINT
    assert f.data == {
        "inserted_lines": 2,
        "start_line": 1,
        "end_line": 3,
        "task": "k3f7qa",
        "origin": "disk",
        "fix": "mark",
    }
    assert "2 lines changed on disk" in f.message and "task k3f7qa" in f.message
    json.dumps(f.data)
    one = disk_insertion(
        text, result, path="a.py", start_line=1, end_line=1, workflow=WF, task_id="k3f7qa"
    )
    assert one is not None and one.message.startswith("1 line changed on disk")
    # Lines inside a block, blank lines, or an empty range: nothing to say.
    for start, end in [(4, 6), (2, 2), (3, 1)]:
        assert (
            disk_insertion(
                text,
                result,
                path="a.py",
                start_line=start,
                end_line=end,
                workflow=WF,
                task_id="k3f7qa",
            )
            is None
        )
    # Across a block: the hint stays, but marking would nest blocks.
    across = disk_insertion(
        text + "d\n",
        parse_blocks(text + "d\n", "a.py"),
        path="a.py",
        start_line=3,
        end_line=7,
        workflow=WF,
        task_id="k3f7qa",
    )
    assert across is not None and "fix" not in across.data
    off = Workflow(severity={"HR308": "off"})
    assert (
        disk_insertion(
            text, result, path="a.py", start_line=1, end_line=3, workflow=off, task_id="k3f7qa"
        )
        is None
    )


@pytest.mark.parametrize("code", ["HR305", "HR306", "HR307", "HR308"])
def test_code_pages_exist(code: str) -> None:
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "codes" / f"{code}.md"
    text = page.read_text("utf-8")
    assert text.startswith(f"# {code}: ")
    for heading in (
        "## Why this rule exists",
        "## What triggers it",
        "## How to fix it",
        "## Configuration",
    ):
        assert heading in text


class _ListTaken:
    """The ids in use as a list, each suggestion `next_block_number` over all of them."""

    def __init__(self, taken: list[str]) -> None:
        self.ids = list(taken)

    def add(self, block_id: str) -> None:
        self.ids.append(block_id)

    def next_id(self, task_id: str) -> str:
        from handrail.blocks.mark import next_block_number

        block_id = f"{task_id}.{next_block_number(task_id, self.ids)}"
        self.ids.append(block_id)
        return block_id


@given(
    st.lists(st.sampled_from(["abcdef", "zzzzzz"]), min_size=1, max_size=6),
    st.lists(st.sampled_from(["abcdef.3", "abcdef.9", "zzzzzz.2", "bad", "abcdef.x"]), max_size=5),
)
def test_suggested_ids_are_next_block_number_over_the_ids_in_use(
    tasks: list[str], taken: list[str]
) -> None:
    # The highest number per task, worked out once per check, must suggest what
    # `next_block_number` over every id in use (earlier suggestions included) suggests.
    import handrail.blocks.check as check_mod

    blocks = [
        f"# handrail:begin {t}.{n}\nx = {n}\n# handrail:end {t}.{n}\n"
        for n, t in enumerate(tasks, 1)
    ]
    # Each block used by another file as well, and the last one twice more in this file.
    text = "".join(blocks) + blocks[-1] * 2
    parsed = parse_blocks(text, "a.py")
    elsewhere = {b.id: [("other.py", 1)] for b in parsed.blocks}

    def run() -> list[Finding]:
        return check_blocks(
            parsed, path="a.py", workflow=WF, known_tasks=None, elsewhere=elsewhere, taken=taken
        )

    fast = run()
    kept = check_mod.TakenIds(lambda: taken)
    for _ in range(2):  # read once, then kept: the same suggestions both times
        assert (
            check_blocks(
                parsed, path="a.py", workflow=WF, known_tasks=None, elsewhere=elsewhere, taken=kept
            )
            == fast
        )
    real = check_mod._Taken
    check_mod._Taken = _ListTaken  # type: ignore[assignment,misc]
    try:
        reference = run()
    finally:
        check_mod._Taken = real  # type: ignore[misc]
    assert fast == reference
    assert any("suggested_id" in f.data for f in fast)


def test_a_clean_file_never_lists_the_ids_in_use() -> None:
    """Listing the ids in use (the ledger's, every file's) is for suggesting a free id: a
    file without marker problems or duplicates never asks for them."""
    from handrail.blocks.check import TakenIds

    def ids() -> list[str]:
        raise AssertionError("listed")

    parsed = parse_blocks("# handrail:begin abcdef.1\nx = 1\n# handrail:end abcdef.1\n", "a.py")
    check_blocks(parsed, path="a.py", workflow=WF, known_tasks=None, taken=TakenIds(ids))
