"""Properties of the loader: no input makes it raise, and valid overrides round-trip."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handrail.codes import CODES
from handrail.workflow.init import toml_value
from handrail.workflow.load import LoadedWorkflow, load_pack, load_workflow
from handrail.workflow.model import Workflow
from handrail.workspace import Workspace

# The `workspace` fixture is shared across examples: each example rewrites the one file.
_SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

FRAGMENTS = [
    "[workflow]",
    "[context]",
    "[spec]",
    "[spec.required]",
    "[[risk_tiers]]",
    "[[stages]]",
    "[severity]",
    "[generation]",
    'extends = "strict"',
    'extends = "nope"',
    'extends = "other.toml"',
    'owner = "Ada"',
    "owner = 5",
    "reviewed = 2026-02-30",
    "reviewed = 2026-02-01",
    "review_every_days = 0",
    "max_tokens = 100",
    'max_tokens = "lots"',
    "max_token = 3",
    "temperature = inf",
    'name = "auth"',
    'requires = ["tests", "nope"]',
    'HR101 = "loud"',
    'HR999 = "off"',
    'placeholders = ["(", "\\bx"]',
    'inputs = "\\d"',
    'context = { max_files = "x" }',
    "ignore = [",
    '"a",',
    "]",
    'text = """',
    "a.b.c = 1",
    "= 1",
    "[",
    "# comment",
    "",
]


def _check(loaded: LoadedWorkflow, source: str | None) -> None:
    assert isinstance(loaded.workflow, Workflow)
    lines = max(1, len(source.split("\n")) - (1 if source.endswith("\n") else 0)) if source else 1
    for finding in loaded.findings:
        assert finding.code == "HR400"
        # A sentence: not starting in lower case, ending in a full stop or a question.
        assert finding.message and not finding.message[0].islower()
        assert finding.message.endswith((".", "?")), finding.message
        if finding.path == ".handrail/workflow.toml":
            assert 1 <= finding.line <= lines, (finding, source)
            assert finding.column >= 1
            assert finding.end_line is not None and finding.line <= finding.end_line <= lines


@_SHARED
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(workspace: Workspace, text: str) -> None:
    loaded = load_workflow(workspace, text=text)
    _check(loaded, text.removeprefix("\ufeff"))


@_SHARED
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_toml_like_text_never_raises(workspace: Workspace, lines: list[str], eol: str) -> None:
    other = workspace.root / "other.toml"
    other.write_text("\n".join(lines[::-1]), encoding="utf-8")
    text = eol.join(lines)
    loaded = load_workflow(workspace, text=text)
    _check(loaded, text)
    if not loaded.findings:
        assert loaded.parsed


@_SHARED
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(workspace: Workspace, raw: bytes) -> None:
    workspace.workflow_path.write_bytes(raw)
    loaded = load_workflow(workspace)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        (finding,) = loaded.findings
        assert finding.data["kind"] == "encoding"
        assert loaded.source_text is None
    # Lines are the same whether or not the bytes decode: only b"\n" ends one.
    _check(loaded, raw.decode("utf-8", errors="replace").removeprefix("\ufeff"))


# -- valid overrides round-trip -----------------------------------------------------------------

_TEXT = st.text(max_size=30).filter(lambda s: s.isprintable())
# Any text but the two shapes git refuses (a lone "!", a trailing single backslash): HR400.
_GLOB = _TEXT.filter(lambda s: s != "!" and (len(s) - len(s.rstrip("\\"))) % 2 == 0)
_OVERRIDES = st.fixed_dictionaries(
    {},
    optional={
        "workflow": st.fixed_dictionaries(
            {},
            optional={
                "owner": _TEXT,
                "reviewed": st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
                "review_every_days": st.integers(1, 3660),
            },
        ),
        "context": st.fixed_dictionaries(
            {},
            optional={
                "max_tokens": st.integers(1, 10**9),
                "max_files": st.integers(1, 500),
                "ignore": st.lists(_GLOB, max_size=4),
                "use_gitignore": st.booleans(),
                "scan_secrets": st.booleans(),
            },
        ),
        "generation": st.fixed_dictionaries(
            {},
            optional={
                "temperature": st.floats(0.0, 2.0),
                "max_block_lines": st.integers(1, 10_000),
            },
        ),
        "verification": st.fixed_dictionaries(
            {},
            optional={"command": _TEXT, "timeout_s": st.floats(0.5, 86400.0)},
        ),
        "severity": st.dictionaries(
            st.sampled_from(sorted(CODES)),
            st.sampled_from(["error", "warning", "info", "hint", "off"]),
            max_size=4,
        ),
    },
)


def _render(tree: dict[str, Any], pack: str) -> str:
    lines = [f"extends = {toml_value(pack)}"]
    for table, values in tree.items():
        lines.append(f"[{table}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in values.items())
    return "\n".join(lines) + "\n"


@_SHARED
@given(_OVERRIDES, st.sampled_from(["default", "strict"]))
def test_valid_overrides_round_trip(
    workspace: Workspace, overrides: dict[str, Any], pack: str
) -> None:
    loaded = load_workflow(workspace, text=_render(overrides, pack))
    assert loaded.findings == []
    got = loaded.workflow.model_dump()
    expected = load_pack(pack).model_dump()
    for table, values in overrides.items():
        for key, value in values.items():
            assert got[table][key] == value
            if table == "severity":
                expected[table][key] = value
    for table, values in expected.items():
        if table in overrides and table != "severity":
            values = {k: v for k, v in values.items() if k not in overrides[table]}
            assert {k: got[table][k] for k in values} == values
        elif table not in ("extends", "severity"):
            assert got[table] == values
    assert got["severity"] == expected["severity"]


_BAD_VALUES = [
    ("context", "max_tokens", '"many"'),
    ("context", "max_files", "0"),
    ("context", "use_gitignore", '"yes"'),
    ("context", "ignore", '"*.log"'),
    ("generation", "temperature", "9.5"),
    ("workflow", "reviewed", '"soon"'),
    ("workflow", "review_every_days", "-1"),
    ("verification", "timeout_s", "0"),
    ("detection", "large_insertion_lines", "1"),
    ("review", "require_explanation", "1"),
    ("severity", "HR300", '"loud"'),
    ("context", "max_tokenz", "5"),
]


@_SHARED
@given(_OVERRIDES, st.sampled_from(_BAD_VALUES), st.data())
def test_one_bad_value_is_reported_on_its_own_line(
    workspace: Workspace, overrides: dict[str, Any], bad: tuple[str, str, str], data: st.DataObject
) -> None:
    table, key, value = bad
    # HR400 = "off" would (rightly) hide the finding this test looks for.
    overrides = {
        t: {k: v for k, v in vals.items() if k not in (key, "HR400")}
        for t, vals in overrides.items()
    }
    lines = _render(overrides, "default").splitlines()
    headers = [i for i, line in enumerate(lines) if line == f"[{table}]"]
    if headers:
        at = data.draw(st.integers(headers[0] + 1, len(lines)), label="position")
        # Stay inside the table: stop before the next header.
        following = [i for i, line in enumerate(lines) if line.startswith("[") and i >= at]
        at = min([at, *following])
        lines.insert(at, f"{key} = {value}")
    else:
        lines += [f"[{table}]", f"{key} = {value}"]
        at = len(lines) - 1
    loaded = load_workflow(workspace, text="\n".join(lines) + "\n")
    assert [f.line for f in loaded.findings] == [at + 1], [f.message for f in loaded.findings]
    assert key in loaded.findings[0].message
    # Everything valid around the bad value still applies.
    for name, values in overrides.items():
        for k, v in values.items():
            assert loaded.workflow.model_dump()[name][k] == v
