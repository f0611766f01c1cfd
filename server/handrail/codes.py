"""The stable diagnostic codes (PRODUCT.md §4).

The prefix names the stage and the package that owns the check:
HR1xx ``handrail.spec``, HR2xx ``handrail.context``, HR3xx ``handrail.blocks`` (and
``handrail.ledger`` for the evidence behind HR300-HR304), HR4xx ``handrail.workflow``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handrail.findings import Severity


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    title: str
    severity: Severity
    """Default severity; a workflow's ``[severity]`` table overrides it."""


_E, _W, _I, _H = Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.HINT

CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("HR100", "spec missing", _E),
        Code("HR101", "spec too long", _W),
        Code("HR102", "spec incomplete", _W),
        Code("HR103", "spec still holds template text", _E),
        Code("HR200", "context over the token budget", _E),
        Code("HR201", "too many context files", _E),
        Code("HR202", "context file over the per-file cap", _E),
        Code("HR203", "context entry is ignored", _E),
        Code("HR204", "secret in a context entry or the spec", _E),
        Code("HR205", "context entry missing or outside the workspace", _E),
        Code("HR206", "context entry not scannable", _E),
        Code("HR207", "context lines changed or moved", _W),
        Code("HR300", "generated block not verified", _E),
        Code("HR301", "generated block changed since it was verified", _E),
        Code("HR302", "latest verification of the block failed", _E),
        Code("HR303", "risk tier requires a manual trace", _E),
        Code("HR304", "author has not acknowledged the block", _E),
        Code("HR305", "malformed block markers", _E),
        Code("HR306", "block refers to an unknown task", _E),
        Code("HR307", "block longer than the generation cap", _W),
        Code("HR308", "large unmarked insertion", _H),
        Code("HR309", "ledger record unreadable", _E),
        Code("HR310", "no passing test executed the block", _E),
        Code("HR311", "the verification could not run", _W),
        Code("HR312", "lines of the block no test ran", _H),
        Code("HR313", "the tests catch none of the block's mutants", _W),
        Code("HR314", "block generated under an earlier spec", _E),
        Code("HR315", "closed task still has unverified blocks", _W),
        Code("HR400", "workflow file invalid", _E),
        Code("HR401", "workflow review overdue", _W),
        Code("HR402", "workflow has no owner", _W),
        Code("HR403", "verification commands not trusted", _W),
        Code("HR404", "commit attribution does not follow the workflow", _E),
    )
}

_STAGE_5 = frozenset({"HR304", "HR400", "HR401", "HR402", "HR404"})
_STAGE_3 = frozenset({"HR305", "HR306", "HR307", "HR308"})


def stage_of(code: str) -> str | None:
    """The workflow stage a code belongs to (the stage ids of `workflow.model.StageId`).

    The same stages the code's docs page names; None for a code that is not Handrail's.
    """
    if code not in CODES:
        return None
    if code in _STAGE_5:
        return "integrate"
    if code in _STAGE_3:
        return "generate"
    return {"HR1": "specify", "HR2": "assemble", "HR3": "verify", "HR4": "verify"}[code[:3]]


DOCS_DIR = Path(__file__).resolve().parent / "docs" / "codes"


def doc_url(code: str, base_url: str | None = None) -> str:
    """Where the page explaining `code` lives.

    With no base URL the page shipped inside the installed package is used, so the link
    works offline and always matches the installed version.
    """
    if base_url:
        return f"{base_url.rstrip('/')}/{code}.md"
    return (DOCS_DIR / f"{code}.md").as_uri()
