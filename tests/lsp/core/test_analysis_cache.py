"""`SourceAnalysisCache` gives exactly `analyze_source`'s findings, edit after edit."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handrail.analysis import Snapshot, SourceAnalysisCache, analyze_source
from handrail.ledger.records import VerificationRun, content_hash
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
VERIFIED = "x = 1\n"

lines = st.sampled_from(
    [
        "x = 1",
        "password = check(token)",
        "",
        "\t中文 😀",
        "# handrail:begin abcdef.1",
        "# handrail:end abcdef.1",
        "# handrail:begin abcdef.2",
        "# handrail:end abcdef.2",
        "# handrail:begin zzzzzz.1",
        "# handrail:end zzzzzz.1",
        "# handrail:begin bad id",
    ]
)
documents = st.lists(lines, max_size=25)


def make_snapshot(root: Workspace) -> Snapshot:
    root.tasks_dir.mkdir(parents=True, exist_ok=True)
    (root.tasks_dir / "abcdef.toml").write_text(
        'id = "abcdef"\nspec = "Parse a header line. Keep it fast."\ncontext = []\n'
    )
    root.workflow_path.write_text(
        'extends = "default"\n[[risk_tiers]]\nname = "auth"\nkeywords = ["password"]\n'
        'requires = ["tests", "trace"]\n'
    )
    Ledger(root).append(
        VerificationRun(
            at=T0,
            task_id="abcdef",
            command=["true"],
            exit_code=0,
            passed=True,
            started_at=T0,
            finished_at=T0,
            blocks={"abcdef.1": content_hash(VERIFIED)},
        )
    )
    return Snapshot.load(root)


@pytest.fixture
def snapshot(workspace: Workspace) -> Snapshot:
    return make_snapshot(workspace)


# The snapshot is only read, so sharing one between examples is sound (and fast).
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(documents, min_size=1, max_size=6), st.sampled_from(["\n", "\r\n"]))
def test_same_findings_as_analyze_source_across_edits(
    snapshot: Snapshot, versions: list[list[str]], newline: str
) -> None:
    cache = SourceAnalysisCache(snapshot)
    for version in versions:
        text = newline.join(version) + newline
        got = cache.analyze_source("src/a.py", text)
        want = analyze_source(snapshot, "src/a.py", text)
        assert got.findings == want.findings
        assert [f.data for f in got.findings] == [f.data for f in want.findings]
        assert got.evidence == want.evidence


def test_a_verified_block_stays_verified_and_reuses_its_evidence(workspace: Workspace) -> None:
    snapshot = make_snapshot(workspace)
    cache = SourceAnalysisCache(snapshot)
    text = f"# handrail:begin abcdef.1\n{VERIFIED}# handrail:end abcdef.1\n"
    assert "HR300" not in [f.code for f in cache.analyze_source("a.py", text).findings]
    assert len(cache) == 1
    edited = "y = 0\n" + text
    assert "HR300" not in [f.code for f in cache.analyze_source("a.py", edited).findings]
    assert len(cache) == 1
    changed = text.replace("x = 1", "x = 2")
    assert "HR301" in [f.code for f in cache.analyze_source("a.py", changed).findings]
    assert len(cache) == 2


def _block(block_id: str) -> str:
    return f"# handrail:begin {block_id}\nx = 1\n# handrail:end {block_id}\n"


def test_the_suggested_id_follows_the_ids_saved_in_other_files(workspace: Workspace) -> None:
    """The ids in use are read once and kept while the marker index is the same: a save that
    adds a higher id elsewhere (or a reloaded folder's new index) moves the suggestion."""
    from handrail.blocks.markers import parse_blocks
    from handrail.marking.ids import MarkerIndex

    snapshot = make_snapshot(workspace)
    cache = SourceAnalysisCache(snapshot)
    text = _block("abcdef.1")

    def suggested(markers: MarkerIndex) -> str:
        got = cache.analyze_source("a.py", text, markers=markers).findings
        want = analyze_source(snapshot, "a.py", text, markers=markers).findings
        assert [f.data for f in got] == [f.data for f in want]
        (duplicate,) = [f for f in got if f.code == "HR305"]
        return str(duplicate.data["suggested_id"])

    markers = MarkerIndex({"b.py": parse_blocks(_block("abcdef.1"), "b.py")})
    assert suggested(markers) == "abcdef.2"
    markers.update("c.py", parse_blocks(_block("abcdef.7"), "c.py"))
    assert suggested(markers) == "abcdef.8"
    # A new index after a reload, as many changes old: its own ids.
    reloaded = MarkerIndex({"b.py": parse_blocks(_block("abcdef.1"), "b.py")})
    reloaded.update("d.py", parse_blocks(_block("abcdef.4"), "d.py"))
    assert reloaded.generation == markers.generation
    assert suggested(reloaded) == "abcdef.5"
