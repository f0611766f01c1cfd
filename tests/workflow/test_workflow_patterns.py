"""Workflow regexes are matched with RE2: none can hang the gate or the server.

A pattern RE2 cannot compile (lookaround, backreferences) is HR400 at its file, line and
field; the shipped packs' patterns compile under RE2 and match exactly as they did under `re`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from handrail.analysis import Snapshot, analyze_task
from handrail.cli.main import cli
from handrail.workflow.load import load_pack, load_workflow
from handrail.workflow.patterns import PatternError, compile_pattern
from handrail.workspace import Workspace

EVIL = "^(a+)+$"
# Under a backtracking engine this spec takes about 2**60 steps against EVIL.
EVIL_SPEC = "a" * 60 + "!"


def _workspace(root: Path, workflow: str, spec: str) -> Workspace:
    (root / ".handrail" / "tasks").mkdir(parents=True)
    (root / ".handrail" / "workflow.toml").write_text(workflow, encoding="utf-8")
    (root / ".handrail" / "tasks" / "abcdef.toml").write_text(
        f'id = "abcdef"\nspec = "{spec}"\ncontext = []\n', encoding="utf-8"
    )
    return Workspace.at(root)


EVIL_WORKFLOW = f"extends = \"default\"\n[spec.required]\nevil = '{EVIL}'\n"


# A hang guard, not a timing assertion: RE2 answers at once, `re` would run for ages (and
# checks for signals while it does, so the "signal" method stops it).
@pytest.mark.timeout(30, method="signal")
def test_a_catastrophic_pattern_cannot_hang_the_gate(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", EVIL_WORKFLOW, EVIL_SPEC)
    result = CliRunner().invoke(
        cli, ["--root", str(ws.root), "check", "--format", "json"], catch_exceptions=False
    )
    findings = json.loads(result.output)["findings"]
    # The check ran to its end (the spec also says nothing checkable, so HR102 may name that
    # instead of the parts); the analysis test below shows the evil part itself was judged.
    assert result.exit_code in (0, 1), result.output
    assert [f for f in findings if f["code"] == "HR102"]


@pytest.mark.timeout(30, method="signal")
def test_a_catastrophic_pattern_cannot_hang_the_language_server_analysis(
    tmp_path: Path,
) -> None:
    ws = _workspace(tmp_path / "ws", EVIL_WORKFLOW, EVIL_SPEC)
    snapshot = Snapshot.load(ws)
    text = (ws.tasks_dir / "abcdef.toml").read_text(encoding="utf-8")
    analysis = analyze_task(snapshot, ".handrail/tasks/abcdef.toml", text, with_context=False)
    (hr102,) = [f for f in analysis.findings if f.code == "HR102"]
    assert "evil" in hr102.data["missing"]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?<=a)b", "lookbehind"),
        ("(?<!a)b", "negative lookbehind"),
        ("a(?=b)", "lookahead"),
        ("a(?!b)", "negative lookahead"),
        (r"(a)\1", "backreferences"),
        ("(?P<n>a)(?P=n)", "named backreferences"),
        (r"end\Z", r"use `\z`"),
        ("(?>a)", "atomic groups"),
        ("a++", "possessive"),
        ("(?x) a b", "verbose flag"),
        ("(unclosed", "missing )"),
    ],
)
def test_a_pattern_re2_refuses_is_hr400_at_its_field(
    workspace: Workspace, pattern: str, reason: str
) -> None:
    text = f"extends = \"default\"\n\n[spec.required]\ninputs = '(?i)given'\nodd = '{pattern}'\n"
    workspace.workflow_path.write_text(text, encoding="utf-8")
    loaded = load_workflow(workspace)
    (finding,) = [f for f in loaded.findings if f.code == "HR400"]
    assert (finding.path, finding.line, finding.column) == (".handrail/workflow.toml", 5, 7)
    assert "`odd` in [spec.required]" in finding.message
    assert reason in finding.message
    assert "RE2" in finding.message


def test_a_placeholder_re2_refuses_is_hr400_at_its_item(workspace: Workspace) -> None:
    text = "[spec]\nplaceholders = [\n  'TODO',\n  '(?<!x)TBD',\n]\n"
    workspace.workflow_path.write_text(text, encoding="utf-8")
    (finding,) = load_workflow(workspace).findings
    assert (finding.line, finding.column) == (4, 3)
    assert "lookbehind" in finding.message


def _shipped_patterns() -> list[str]:
    patterns: list[str] = []
    for pack in ("default", "strict"):
        rules = load_pack(pack).spec
        patterns += [*rules.placeholders, *rules.required.values()]
    return list(dict.fromkeys(patterns))


SHIPPED = _shipped_patterns()


def test_the_shipped_packs_have_patterns_and_all_compile_under_re2() -> None:
    assert len(SHIPPED) >= 8
    for pattern in SHIPPED:
        compile_pattern(pattern)  # raises PatternError otherwise


def test_compile_pattern_refuses_with_a_pattern_error() -> None:
    with pytest.raises(PatternError, match="backreferences"):
        compile_pattern(r"(\w)\1")


# RE2's \w and \b are ASCII-only (docs/workflow.md): the engines agree on every text whose
# letters are ASCII, whatever else it holds (punctuation, symbols, emoji, spaces, newlines).
_SAME_WORD_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs",)).filter(
    lambda ch: ch.isascii() or re.match(r"\w", ch) is None
)
_WORDS = st.sampled_from(
    ["TODO", "todo", "TBD", "FIXME", "given", "returns", "must not", "like", "lorem ipsum",
     "<inputs>", "<outputs>", "never", "at most", "thread-safe", "_", "x", "9"]
)  # fmt: skip
_TEXT = st.lists(st.one_of(_WORDS, st.text(_SAME_WORD_CHARACTERS, max_size=6)), max_size=12).map(
    "".join
)


@given(pattern=st.sampled_from(SHIPPED), text=_TEXT)
def test_shipped_patterns_match_under_re2_as_under_python_re(pattern: str, text: str) -> None:
    ours = [(m.start(), m.end()) for m in compile_pattern(pattern).finditer(text)]
    theirs = [(m.start(), m.end()) for m in re.compile(pattern).finditer(text)]
    assert ours == theirs
