"""Block states from the gate's findings (issue 19.1: counts that cannot lie)."""

from __future__ import annotations

from handrail.findings import Finding, Severity
from handrail.ledger.states import block_states, state_of

E, W = Severity.ERROR, Severity.WARNING


def _f(code: str, block: str | None, severity: Severity = E, **data: object) -> Finding:
    extra = {"block_id": block, **data} if block is not None else dict(data)
    return Finding(code, severity, f"{code} says", "src/a.py", 3, data=extra)


def test_every_block_code_names_a_state_and_others_none() -> None:
    assert state_of(_f("HR300", "k3f7qa.1")) == "unverified"
    assert state_of(_f("HR301", "k3f7qa.1")) == "changed"
    assert state_of(_f("HR302", "k3f7qa.1")) == "failing"
    assert state_of(_f("HR303", "k3f7qa.1", needs="trace")) == "needs trace"
    assert state_of(_f("HR303", "k3f7qa.1", needs="second_reviewer")) == "needs review"
    assert state_of(_f("HR304", "k3f7qa.1")) == "needs explanation"
    assert state_of(_f("HR310", "k3f7qa.1")) == "not executed by any test"
    # A marker problem or a spec finding is not a block's evidence state.
    assert state_of(_f("HR101", None)) is None
    # A block code this module does not know yet is still counted, under its title.
    assert state_of(_f("HR307", "k3f7qa.1", W)) == "block longer than the generation cap"


def test_blocks_are_counted_once_per_state_and_blocking_only_on_errors() -> None:
    states = block_states(
        [
            _f("HR300", "k3f7qa.2"),
            _f("HR302", "k3f7qa.1"),
            _f("HR303", "k3f7qa.1", needs="trace"),
            _f("HR313", "k3f7qa.3", W),
            _f("HR101", None),
        ]
    )
    assert states.counts == {
        "failing": 1,
        "unverified": 1,
        "needs trace": 1,
        "tests catch no mutant": 1,
    }
    assert list(states.counts) == ["failing", "unverified", "needs trace", "tests catch no mutant"]
    assert states.blocking == 2
    assert [(b.block_id, b.states, b.blocking) for b in states.blocks] == [
        ("k3f7qa.1", ["failing", "needs trace"], True),
        ("k3f7qa.2", ["unverified"], True),
        ("k3f7qa.3", ["tests catch no mutant"], False),
    ]


def test_no_block_findings_is_an_empty_summary() -> None:
    states = block_states([_f("HR101", None)])
    assert states.as_json() == {"counts": {}, "blocking": 0, "blocks": []}
