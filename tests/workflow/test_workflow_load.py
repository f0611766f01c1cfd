"""Loading packs and `.handrail/workflow.toml`: merge semantics and HR400 for every bad input."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path

import pytest
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from handrail.findings import Severity
from handrail.toml.problems import toml_problem
from handrail.workflow.load import (
    RULES_DIR,
    LoadedWorkflow,
    UnknownPackError,
    load_pack,
    load_workflow,
    pack_names,
)
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

WF = ".handrail/workflow.toml"


def write(ws: Workspace, text: str) -> None:
    ws.workflow_path.write_text(text, encoding="utf-8")


def load(ws: Workspace, text: str) -> LoadedWorkflow:
    write(ws, text)
    return load_workflow(ws)


def only(loaded: LoadedWorkflow) -> tuple[int, int, str]:
    assert len(loaded.findings) == 1, [f.message for f in loaded.findings]
    (finding,) = loaded.findings
    assert finding.code == "HR400"
    assert finding.severity is Severity.ERROR
    return finding.line, finding.column, finding.message


# -- packs --------------------------------------------------------------------------------------


def test_shipped_packs_are_found_and_load() -> None:
    assert {"default", "strict"} <= set(pack_names())
    assert RULES_DIR.joinpath("default.toml").is_file()
    default = load_pack("default")
    assert default.extends is None
    assert [s.id for s in default.stages] == [
        "specify",
        "assemble",
        "generate",
        "verify",
        "integrate",
    ]
    assert default.spec.required  # the named parts of a spec come from the pack


def test_strict_pack_extends_default_and_overrides() -> None:
    default, strict = load_pack("default"), load_pack("strict")
    assert strict.extends == "default"
    assert strict.workflow.name == "strict"
    assert strict.context.max_tokens == 12000
    assert strict.spec.hard_max_sentences == 2
    # Tables merge: what strict does not set comes from default.
    assert strict.context.ignore == default.context.ignore
    assert strict.stages == default.stages
    # Arrays replace: strict's risk tiers are its own list, with a tier default lacks.
    assert [t.name for t in strict.risk_tiers] == ["auth", "money", "crypto", "data"]
    assert strict.severity_of("HR402") is Severity.ERROR


def test_load_pack_is_cached_and_refuses_unknown_names() -> None:
    assert load_pack("strict") is load_pack("strict")
    with pytest.raises(UnknownPackError, match="strict"):
        load_pack("strickt")


# -- no file, valid files, merging --------------------------------------------------------------


def test_no_workflow_file_means_default_pack_and_nothing_reported(workspace: Workspace) -> None:
    loaded = load_workflow(workspace)
    assert loaded.path is None
    assert loaded.findings == []
    assert loaded.source_text is None
    assert loaded.workflow == load_pack("default")


def test_overriding_one_field_keeps_the_rest(workspace: Workspace) -> None:
    loaded = load(workspace, "[context]\nmax_tokens = 5000\n")
    assert loaded.findings == []
    assert loaded.path == workspace.workflow_path
    assert loaded.parsed
    wf, default = loaded.workflow, load_pack("default")
    assert wf.context.max_tokens == 5000
    assert wf.context.max_files == default.context.max_files
    assert wf.context.ignore == default.context.ignore
    assert wf.spec == default.spec
    assert wf.extends == "default"


def test_extends_strict_then_override(workspace: Workspace) -> None:
    loaded = load(
        workspace,
        'extends = "strict"\n[workflow]\nowner = "QA <qa@example.com>"\n'
        "[generation]\nmax_block_lines = 30\n",
    )
    assert loaded.findings == []
    assert loaded.pack == "strict"
    wf = loaded.workflow
    assert wf.generation.max_block_lines == 30
    assert wf.generation.temperature == 0.0  # from strict
    assert wf.context.max_tokens == 12000  # from strict
    assert wf.workflow.owner == "QA <qa@example.com>"
    assert wf.workflow.review_every_days == 30  # strict's cadence


def test_arrays_replace_and_tables_merge(workspace: Workspace) -> None:
    loaded = load(
        workspace,
        'context.ignore = ["*.secret"]\n'
        '[[risk_tiers]]\nname = "infra"\npaths = ["deploy/**"]\n'
        '[severity]\nHR308 = "off"\n',
    )
    assert loaded.findings == []
    wf = loaded.workflow
    assert wf.context.ignore == ["*.secret"]
    assert [t.name for t in wf.risk_tiers] == ["infra"]
    assert wf.risk_tiers[0].requires == ["tests"]
    assert wf.severity_of("HR308") is None
    assert wf.severity_of("HR101") is Severity.WARNING


def test_severity_table_merges_with_the_packs(workspace: Workspace) -> None:
    loaded = load(workspace, 'extends = "strict"\n[severity]\nHR307 = "warning"\n')
    assert loaded.findings == []
    wf = loaded.workflow
    assert wf.severity_of("HR307") is Severity.WARNING
    assert wf.severity_of("HR101") is Severity.ERROR  # strict's, kept


def test_extends_a_workspace_file(workspace: Workspace) -> None:
    team = workspace.root / "team"
    team.mkdir()
    (team / "base.toml").write_text(
        'extends = "strict"\n[context]\nmax_files = 5\nmax_tokens = 9000\n', encoding="utf-8"
    )
    loaded = load(workspace, 'extends = "team/base.toml"\n[context]\nmax_tokens = 7000\n')
    assert loaded.findings == []
    assert loaded.pack == "strict"
    assert loaded.workflow.extends == "team/base.toml"
    assert loaded.workflow.context.max_tokens == 7000
    assert loaded.workflow.context.max_files == 5
    assert loaded.workflow.generation.max_block_lines == 40  # strict


def test_buffer_text_stands_in_for_the_file(workspace: Workspace) -> None:
    write(workspace, "[context]\nmax_tokens = 1000\n")
    loaded = load_workflow(workspace, text="[context]\nmax_tokens = 2000\n")
    assert loaded.workflow.context.max_tokens == 2000
    assert loaded.source_text == "[context]\nmax_tokens = 2000\n"


def test_utf8_bom_is_accepted(workspace: Workspace) -> None:
    workspace.workflow_path.write_bytes(b"\xef\xbb\xbf[context]\nmax_files = 3\n")
    loaded = load_workflow(workspace)
    assert loaded.findings == []
    assert loaded.workflow.context.max_files == 3


def test_crlf_file_loads_and_lines_are_right(workspace: Workspace) -> None:
    workspace.workflow_path.write_bytes(b"[context]\r\n\r\nmax_files = 0\r\n")
    assert only(load_workflow(workspace))[:2] == (3, 13)


# -- HR400: every kind of bad input, with its line ---------------------------------------------


def test_broken_toml_reports_line_and_plain_sentence(workspace: Workspace) -> None:
    loaded = load(workspace, '[workflow]\nowner = "Ada"\n\n[context]\nmax_tokens = \n')
    line, _, message = only(loaded)
    assert line == 5
    assert message.startswith("Not valid TOML: a value is missing or malformed")
    assert "(at line" not in message  # tomllib's wording is replaced, not pasted
    assert not loaded.parsed
    assert loaded.workflow == load_pack("default")


def test_table_declared_twice(workspace: Workspace) -> None:
    line, _, message = only(load(workspace, "[context]\nmax_files = 2\n\n[context]\n"))
    assert line == 4
    assert "[context] is declared twice" in message


def test_unterminated_multiline_string_points_where_it_starts(workspace: Workspace) -> None:
    text = '[workflow]\nowner = "A"\n[spec]\ntemplate = """Given\n\nmore\n'
    line, column, message = only(load(workspace, text))
    assert (line, column) == (4, 12)
    assert "never closed" in message


def test_unescaped_backslash_points_at_the_backslash(workspace: Workspace) -> None:
    line, column, message = only(load(workspace, '[spec]\nplaceholders = ["\\d+"]\n'))
    assert (line, column) == (2, 18)
    assert "literal string" in message


def test_backspace_escape_in_a_pattern_is_reported(workspace: Workspace) -> None:
    # "\bTODO" is valid TOML (a backspace) and would silently never match as a regex.
    loaded = load(workspace, '[spec]\nplaceholders = ["x", "\\bTODO\\b"]\n')
    line, column, message = only(loaded)
    assert (line, column) == (2, 22)
    assert "backspace" in message and "single quotes" in message
    text = '[spec.required]\nx = "\\bx"\n[[risk_tiers]]\nname = "a"\npaths = ["a\\bc"]\n'
    assert [f.line for f in load(workspace, text).findings] == [2, 5]
    # Free text is not a pattern: a backspace there is odd, but not this mistake.
    assert load(workspace, '[workflow]\nowner = "a\\bc"\n').findings == []


def test_wrong_type_says_what_was_expected(workspace: Workspace) -> None:
    loaded = load(workspace, '[workflow]\nowner = "A"\n\n[context]\nmax_tokens = "lots"\n')
    line, column, message = only(loaded)
    assert (line, column) == (5, 14)
    assert message.startswith('`max_tokens` in [context] must be a whole number, got "lots".')
    assert loaded.findings[0].end_column == 20
    # The bad value falls back to the inherited one; the rest of the file still applies.
    assert loaded.workflow.context.max_tokens == 24000
    assert loaded.workflow.workflow.owner == "A"


def test_quoted_number_is_refused_with_a_hint(workspace: Workspace) -> None:
    _, _, message = only(load(workspace, '[context]\nmax_files = "12"\n'))
    assert "remove the quotes" in message


def test_quoted_date_is_refused_with_a_hint(workspace: Workspace) -> None:
    line, _, message = only(load(workspace, '[workflow]\n\nreviewed = "2026-01-31"\n'))
    assert line == 3
    assert "must be a date" in message
    assert "remove the quotes" in message


def test_unknown_key_suggests_the_known_one(workspace: Workspace) -> None:
    loaded = load(workspace, "[context]\nmax_files = 3\nmax_token = 100\n")
    line, column, message = only(loaded)
    assert (line, column) == (3, 1)
    assert loaded.findings[0].end_column == 10
    assert message.startswith("Unknown key `max_token` in [context]; did you mean `max_tokens`?")
    assert loaded.findings[0].data["suggestion"] == "max_tokens"
    assert loaded.workflow.context.max_files == 3  # the valid sibling is kept


def test_unknown_table_suggests_the_known_one(workspace: Workspace) -> None:
    line, _, message = only(load(workspace, "\n[contxt]\nmax_files = 3\n"))
    assert line == 2
    assert message.startswith("Unknown table [contxt]; did you mean [context]?")


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(workspace: Workspace) -> None:
    _, _, message = only(load(workspace, "[detection]\nzzz = 1\n"))
    assert "large_insertion_lines" in message


def test_out_of_range_value(workspace: Workspace) -> None:
    text = "[workflow]\nreview_every_days = 0\n[generation]\ntemperature = 3.5\n"
    loaded = load(workspace, text)
    assert [(f.line, f.column) for f in loaded.findings] == [(2, 21), (4, 15)]
    assert "`review_every_days` in [workflow] must be at least 1, got 0." in (
        loaded.findings[0].message
    )
    assert "must be at most 2.0, got 3.5" in loaded.findings[1].message


def test_nan_is_not_a_temperature(workspace: Workspace) -> None:
    _, _, message = only(load(workspace, "[generation]\ntemperature = nan\n"))
    assert "finite number" in message


def test_cross_field_error_points_at_the_key_the_file_sets(workspace: Workspace) -> None:
    loaded = load(workspace, "[spec]\n# comment\nmax_sentences = 5\n")
    line, _, message = only(loaded)
    assert line == 3
    assert "below max_sentences (5)" in message
    assert loaded.workflow.spec.max_sentences == 2  # inherited until fixed


def test_literal_in_array_of_tables_points_at_the_item(workspace: Workspace) -> None:
    text = '[[risk_tiers]]\nname = "auth"\n\n[[risk_tiers]]\nname = "pay"\n'
    text += 'requires = ["tests", "trase"]\n'
    loaded = load(workspace, text)
    line, column, message = only(loaded)
    assert (line, column) == (6, 22)
    assert 'the [[risk_tiers]] entry "pay"' in message
    assert 'did you mean "trace"?' in message


def test_missing_required_key_in_array_entry(workspace: Workspace) -> None:
    text = '[[stages]]\nid = "specify"\nname = "S"\nentry = "e"\naction = "a"\nexit = "x"\n\n'
    text += '[[stages]]\nid = "verify"\nname = "V"\nentry = "e"\naction = "a"\n'
    line, _, message = only(load(workspace, text))
    assert line == 8
    assert message.startswith('The [[stages]] entry "verify" is missing `exit`; add it.')


def test_unknown_severity_code(workspace: Workspace) -> None:
    loaded = load(workspace, '[severity]\nHR308 = "off"\nHR999 = "error"\n')
    line, _, message = only(loaded)
    assert line == 3
    assert "unknown diagnostic code `HR999`" in message
    assert loaded.workflow.severity_of("HR308") is None  # the valid entry still applies


def test_invalid_regular_expression_points_at_the_item(workspace: Workspace) -> None:
    text = "[spec]\nplaceholders = [\n  'TODO',\n  '(unclosed',\n]\n"
    line, column, message = only(load(workspace, text))
    assert (line, column) == (4, 3)
    assert "invalid regular expression" in message


def test_inline_and_dotted_keys_are_located(workspace: Workspace) -> None:
    text = (
        "# a comment\n"
        'context = { max_files = 4, use_gitignore = "yes" }\n'
        "generation.max_block_lines = -3\n"
        'verification.by_path = [{ pattern = "*.py", command = 7 }]\n'
    )
    loaded = load(workspace, text)
    got = [(f.line, f.column, f.data["loc"]) for f in loaded.findings]
    assert got == [
        (2, 44, ["context", "use_gitignore"]),
        (3, 30, ["generation", "max_block_lines"]),
        (4, 55, ["verification", "by_path", 0, "command"]),
    ]
    assert loaded.workflow.context.max_files == 4


def test_every_error_is_reported_not_just_the_first(workspace: Workspace) -> None:
    text = (
        '[workflow]\nowner = 5\n[context]\nmax_tokens = "x"\nmax_filez = 2\n'
        '[review]\nrequire_ai_flag = "yes"\n[detection]\nlarge_insertion_lines = 1\n'
    )
    loaded = load(workspace, text)
    assert [f.line for f in loaded.findings] == [2, 4, 5, 7, 9]
    assert all(f.code == "HR400" for f in loaded.findings)


def test_table_given_a_scalar(workspace: Workspace) -> None:
    line, _, message = only(load(workspace, "\nreview = 5\n"))
    assert line == 2
    assert "must be a table" in message


def test_unknown_pack_suggests_the_closest(workspace: Workspace) -> None:
    loaded = load(workspace, '# ours\nextends = "strickt"\n[context]\nmax_files = 4\n')
    line, column, message = only(loaded)
    assert (line, column) == (2, 11)
    assert "unknown pack `strickt`; did you mean `strict`?" in message
    assert loaded.pack == "default"
    assert loaded.workflow.context.max_files == 4  # overrides still apply, on default


def test_extends_must_be_text(workspace: Workspace) -> None:
    line, _, message = only(load(workspace, "extends = 3\n"))
    assert line == 1
    assert "`extends` must name a shipped pack" in message


def test_extends_cycle_is_reported(workspace: Workspace) -> None:
    (workspace.root / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (workspace.root / "b.toml").write_text('\nextends = "a.toml"\n', encoding="utf-8")
    loaded = load(workspace, 'extends = "a.toml"\n[context]\nmax_files = 2\n')
    (finding,) = loaded.findings
    assert finding.path == "b.toml"
    assert finding.line == 2
    assert "cycle: .handrail/workflow.toml -> a.toml -> b.toml -> a.toml" in finding.message
    assert loaded.workflow.context.max_files == 2


def test_extends_itself_is_a_cycle(workspace: Workspace) -> None:
    (finding,) = load(workspace, 'extends = ".handrail/workflow.toml"\n').findings
    assert "cycle" in finding.message


def test_extends_missing_file(workspace: Workspace) -> None:
    line, _, message = only(load(workspace, '\n\nextends = "team/base.toml"\n'))
    assert line == 3
    assert "team/base.toml does not exist" in message
    _, _, message = only(load(workspace, 'extends = "strict.toml"\n'))
    assert 'To extend the shipped pack, write extends = "strict".' in message


def test_extends_outside_the_workspace_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "outside.toml"
    outside.write_text("[context]\nmax_files = 1\n", encoding="utf-8")
    (workspace.root / "link.toml").symlink_to(outside)
    for target in ("../outside.toml", "link.toml", str(outside)):
        loaded = load(workspace, f"extends = {target!r}\n")
        _, _, message = only(loaded)
        assert "outside the workspace" in message
        assert loaded.workflow.context.max_files == 12


def test_error_in_an_extended_file_is_reported_on_that_file(workspace: Workspace) -> None:
    (workspace.root / "base.toml").write_text("[context]\n\nmax_files = -1\n", encoding="utf-8")
    loaded = load(workspace, 'extends = "base.toml"\n')
    (finding,) = loaded.findings
    assert (finding.path, finding.line) == ("base.toml", 3)


def test_syntax_error_in_an_extended_file(workspace: Workspace) -> None:
    (workspace.root / "base.toml").write_text("[context\n", encoding="utf-8")
    (finding,) = load(workspace, 'extends = "base.toml"\n').findings
    assert (finding.path, finding.line) == ("base.toml", 1)
    assert finding.message.startswith("Not valid TOML")


def test_not_utf8_reports_the_line_of_the_bad_byte(workspace: Workspace) -> None:
    workspace.workflow_path.write_bytes(b'[workflow]\nowner = "Z\xfcrich"\n')
    loaded = load_workflow(workspace)
    line, column, message = only(loaded)
    assert (line, column) == (2, 11)
    assert "not UTF-8" in message and "0xfc" in message
    assert loaded.source_text is None
    assert loaded.workflow == load_pack("default")


def test_utf16_file_is_named_as_such(workspace: Workspace) -> None:
    workspace.workflow_path.write_bytes('extends = "default"\n'.encode("utf-16"))
    _, _, message = only(load_workflow(workspace))
    assert "UTF-16" in message


def test_folder_fifo_and_huge_file_are_refused(workspace: Workspace) -> None:
    workspace.workflow_path.mkdir()
    assert "not a regular file" in only(load_workflow(workspace))[2]
    workspace.workflow_path.rmdir()
    os.mkfifo(workspace.workflow_path)  # reading it would block forever
    assert "not a regular file" in only(load_workflow(workspace))[2]
    workspace.workflow_path.unlink()
    workspace.workflow_path.write_bytes(b"#" * (2 << 20))
    assert "is not read" in only(load_workflow(workspace))[2]


def test_workflow_file_linked_outside_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.toml"
    outside.write_text("[context]\nmax_files = 1\n", encoding="utf-8")
    workspace.workflow_path.symlink_to(outside)
    loaded = load_workflow(workspace)
    assert "outside the workspace" in only(loaded)[2]
    assert loaded.workflow.context.max_files == 12


def test_deep_nesting_and_long_numbers_do_not_crash(workspace: Workspace) -> None:
    loaded = load(workspace, "[context]\nignore = " + "[" * 3000 + "]" * 3000 + "\n")
    assert only(loaded)[0] == 2
    loaded = load(workspace, "\n[context]\nmax_tokens = " + "9" * 5000 + "\n")
    line, _, message = only(loaded)
    assert line == 3
    assert "too long" in message
    loaded = load(workspace, "x = " + "[" * 40 + "]" * 40 + "\n")
    assert "nested" in only(loaded)[2]


def test_turning_hr400_off_silences_it(workspace: Workspace) -> None:
    loaded = load(workspace, '[severity]\nHR400 = "off"\n[context]\nmax_files = 0\n')
    assert loaded.findings == []
    assert loaded.workflow.context.max_files == 12


def test_toml_problem_reads_positions_from_attributes() -> None:
    # Python 3.14's TOMLDecodeError carries msg/lineno/colno; 3.11 only has the message.
    class NewStyle(tomllib.TOMLDecodeError):
        msg = "Invalid value"
        lineno = 2
        colno = 5

    problem = toml_problem("a = 1\nb = ?\n", NewStyle("Invalid value"))
    assert (problem.span.line, problem.span.column) == (2, 5)
    assert problem.message.startswith("a value is missing")


def test_reviewed_date_round_trips(workspace: Workspace) -> None:
    loaded = load(workspace, "[workflow]\nreviewed = 2026-03-01\n")
    assert loaded.workflow.workflow.reviewed == dt.date(2026, 3, 1)


def test_invalid_gitignore_patterns_are_reported(workspace: Workspace) -> None:
    text = (
        'context.ignore = ["*.log", "!"]\n'
        '[[risk_tiers]]\nname = "auth"\npaths = ["auth/**", "auth\\\\"]\n'
    )
    loaded = load(workspace, text)
    assert [(f.line, f.column) for f in loaded.findings] == [(1, 28), (4, 21)]
    assert "Item 2 of `ignore` in [context] is not a valid gitignore-style pattern" in (
        loaded.findings[0].message
    )
    assert loaded.findings[1].data["loc"] == ["risk_tiers", 0, "paths", 1]


def test_salvaging_never_touches_the_cached_pack(workspace: Workspace) -> None:
    text = (
        '[context]\nignore = ["x"]\nmax_tokens = "x"\n[[risk_tiers]]\nname = "a"\nrequires = [1]\n'
    )
    for _ in range(3):
        assert len(load(workspace, text).findings) == 2
    shipped = tomllib.loads((RULES_DIR / "default.toml").read_text(encoding="utf-8"))
    workspace.workflow_path.unlink()
    assert load_workflow(workspace).workflow == Workflow.model_validate(shipped, strict=True)


def test_error_in_an_extended_files_bytes_is_reported_on_that_file(workspace: Workspace) -> None:
    (workspace.root / "base.toml").write_bytes(b'[workflow]\nowner = "Z\xfcrich"\n')
    (finding,) = load(workspace, 'extends = "./base.toml"\n').findings
    assert (finding.path, finding.line, finding.column) == ("base.toml", 2, 11)


@pytest.mark.parametrize("pack", ["default", "strict"])
def test_shipped_patterns_are_valid(pack: str) -> None:
    # The loader checks only the patterns a workspace writes; the packs' own are checked here.
    wf = load_pack(pack)
    globs = [*wf.context.ignore, *(r.pattern for r in wf.verification.by_path)]
    globs += [p for tier in wf.risk_tiers for p in tier.paths]
    for pattern in globs:
        GitIgnoreSpecPattern.pattern_to_regex(pattern)
    for pattern in [*wf.spec.placeholders, *wf.spec.required.values(), *globs]:
        assert "\b" not in pattern
