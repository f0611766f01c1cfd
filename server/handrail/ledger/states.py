"""Each generated block's state, read from the gate's own findings.

The status bar, "Show Unverified Blocks" and every other summary used to count HR300 only, so a
failing block (HR302) showed as "0 unverified" while the gate failed. Counting from the gate's
findings makes the two agree by construction: a block is in a state because the gate reported
a finding for it, and it is "blocking" exactly when one of those findings is an error.

The mapping is data: a code (and, for HR303, its ``needs``) names the state. A block code added
later (HR310-HR312 for coverage) only needs a line in `STATE_OF_CODE`; until it has one, its
title from `codes` is used, so it is still counted, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from handrail.codes import CODES
from handrail.findings import Finding, Severity

STATE_OF_CODE: dict[str, str] = {
    "HR300": "unverified",
    "HR301": "changed",
    "HR302": "failing",
    "HR304": "needs explanation",
    "HR310": "not executed by any test",
    "HR311": "could not run",
    "HR312": "lines no test ran",
    "HR313": "tests catch no mutant",
}
"""The state a block finding's code puts its block in (HR303 goes by its ``needs``)."""

_STATE_OF_NEED = {"trace": "needs trace", "second_reviewer": "needs review"}

STATE_ORDER: tuple[str, ...] = (
    "failing",
    "could not run",
    "unverified",
    "changed",
    "not executed by any test",
    "lines no test ran",
    "needs trace",
    "needs review",
    "needs explanation",
    "tests catch no mutant",
)
"""Most urgent first: the order of states in a summary and of blocks in a list."""


def state_of(finding: Finding) -> str | None:
    """The block state `finding` reports, or None when it is not about one block's evidence."""
    if not isinstance(finding.data.get("block_id"), str):
        return None
    if finding.code == "HR303":
        need = finding.data.get("needs")
        return _STATE_OF_NEED.get(str(need), f"needs {str(need).replace('_', ' ')}")
    if finding.code in STATE_OF_CODE:
        return STATE_OF_CODE[finding.code]
    code = CODES.get(finding.code)
    return code.title if code is not None else finding.code


def _rank(state: str) -> int:
    return STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)


class BlockStateJson(TypedDict):
    block: str
    path: str
    line: int
    states: list[str]
    """Most urgent first ("failing", "unverified", "changed", "needs trace", ...)."""
    blocking: bool
    messages: list[str]


class BlockStatesJson(TypedDict):
    """`BlockStates` as ``handrail.check`` reports it (what the status bar counts)."""

    counts: dict[str, int]
    blocking: int
    blocks: list[BlockStateJson]


@dataclass(slots=True)
class BlockState:
    """One block and every state the gate's findings put it in, most urgent first."""

    block_id: str
    path: str
    line: int
    states: list[str] = field(default_factory=list)
    blocking: bool = False
    """An error among its findings: the gate fails on this block."""
    messages: list[str] = field(default_factory=list)

    def as_json(self) -> BlockStateJson:
        return {
            "block": self.block_id,
            "path": self.path,
            "line": self.line,
            "states": self.states,
            "blocking": self.blocking,
            "messages": self.messages,
        }


@dataclass(slots=True)
class BlockStates:
    """Every block the gate reported on, and how many blocks are in each state."""

    blocks: list[BlockState]

    @property
    def counts(self) -> dict[str, int]:
        """Blocks per state, most urgent state first (a block can be in several)."""
        counts: dict[str, int] = {}
        for block in self.blocks:
            for state in block.states:
                counts[state] = counts.get(state, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: _rank(item[0])))

    @property
    def blocking(self) -> int:
        """Blocks the gate fails on."""
        return sum(1 for b in self.blocks if b.blocking)

    def as_json(self) -> BlockStatesJson:
        return {
            "counts": self.counts,
            "blocking": self.blocking,
            "blocks": [b.as_json() for b in self.blocks],
        }


def block_states(findings: Iterable[Finding]) -> BlockStates:
    """Group the gate's block findings by block (see the module docstring)."""
    by_block: dict[str, BlockState] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        state = state_of(finding)
        if state is None:
            continue
        block_id = str(finding.data["block_id"])
        block = by_block.setdefault(block_id, BlockState(block_id, finding.path, finding.line))
        if state not in block.states:
            block.states.append(state)
        block.blocking |= finding.severity is Severity.ERROR
        block.messages.append(finding.message)
    for block in by_block.values():
        block.states.sort(key=_rank)
    ordered = sorted(
        by_block.values(),
        key=lambda b: (not b.blocking, _rank(b.states[0]), b.path, b.line, b.block_id),
    )
    return BlockStates(ordered)
