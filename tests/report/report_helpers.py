"""Shared pieces of the report tests: findings that exercise escaping, Hypothesis strategies,
the vendored SARIF schema, and a parser of GitHub workflow commands that mirrors the runner.

The module name is unique across test areas on purpose: tests/ has no __init__.py, so
pytest imports test folders by basename.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import strategies as st

from handrail.codes import CODES
from handrail.findings import Finding, Severity
from handrail.report import CheckSummary

SCHEMA_PATH = Path(__file__).with_name("sarif-schema-2.1.0.json")
SCHEMA_TITLE = "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"

SUMMARY = CheckSummary(files_checked=12, root="/work/ws", tool_version="9.8.7")

# Paths with spaces, non-ASCII and the characters GitHub and URIs treat specially; messages
# with newlines, CRLF, %, :, commas and "::" (GitHub's command separator).
MIXED: list[Finding] = [
    Finding(
        "HR300",
        Severity.ERROR,
        "Block k3f9qa.1 is not verified.\nRun `handrail verify k3f9qa.1`.",
        "src/my parser/naïve, v2.py",
        12,
        5,
        30,
        1,
    ),
    Finding(
        "HR101",
        Severity.WARNING,
        "Spec has 4 sentences: 100% over the limit of 2, decompose it.",
        ".handrail/tasks/k3f9qa.toml",
        1,
        8,
        1,
        40,
    ),
    Finding("HR308", Severity.HINT, "Large insertion::was it generated?", "src/数据.py", 3),
    Finding(
        "HR403",
        Severity.INFO,
        "Verification commands are not trusted on this machine.\r\nRun `handrail trust`.",
        ".handrail/workflow.toml",
    ),
    Finding(
        "HR305", Severity.ERROR, "Marker k3f9qa.2 has no end.", "src/my parser/naïve, v2.py", 2
    ),
]


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def sarif_validator() -> jsonschema.protocols.Validator:
    """A validator of the dialect the schema declares (draft-07), schema checked first."""
    document = schema()
    cls = jsonschema.validators.validator_for(document)
    cls.check_schema(document)
    return cls(document)


def sarif_errors(log: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in sarif_validator().iter_errors(log)
    ]


# --- GitHub workflow commands, parsed the way actions/runner does (ActionCommand.cs) ------


def unescape_data(text: str) -> str:
    # The runner replaces escapes one kind at a time, %25 last; so do we.
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def unescape_property(text: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """``::name k=v,k=v::data`` -> (name, properties, data), unescaped."""
    assert line.startswith("::"), line
    end = line.index("::", 2)
    info, data = line[2:end], line[end + 2 :]
    name, _, props = info.partition(" ")
    properties: dict[str, str] = {}
    for pair in props.split(",") if props else []:
        key, sep, value = pair.partition("=")
        assert sep, f"property without '=': {pair!r} in {line!r}"
        properties[key] = unescape_property(value)
    return name, properties, unescape_data(data)


# --- Hypothesis strategies -------------------------------------------------------------

# Surrogates included: a file name that is not UTF-8 reaches Python as a lone surrogate.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
path_segment = st.text(
    st.characters(exclude_categories=(), exclude_characters="/"), min_size=1, max_size=12
)
paths = st.one_of(
    st.just(""),
    st.lists(path_segment, min_size=1, max_size=4).map("/".join),
)
positions = st.integers(min_value=-3, max_value=100_000)
codes = st.sampled_from([*CODES, "HR999", "custom"])


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    return Finding(
        code=draw(codes),
        severity=draw(st.sampled_from(list(Severity))),
        message=draw(any_text),
        path=draw(paths),
        line=draw(positions),
        column=draw(positions),
        end_line=draw(st.none() | positions),
        end_column=draw(st.none() | positions),
    )


finding_lists = st.lists(findings(), max_size=6)
