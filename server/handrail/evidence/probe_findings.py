"""HR313: what the probe found about a block's tests, from the ledger, for its current content.

Computed from `ProbeRun` and `MutantDismissed` records like the other evidence findings, so
`handrail check` and the editor show the same thing without running anything. A probe of
other content no longer counts (the block changed); a dismissal counts only for the content
it was made on. Kept apart from `handrail.evidence.probe` so that analysing a document never
imports the machinery that runs commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handrail.findings import Finding, Severity
from handrail.ledger.records import MutantDismissed, ProbedMutant, ProbeRun, Record
from handrail.workflow.model import RiskTier, Workflow

CODE = "HR313"


def latest_probe(records: Sequence[Record], content_hash: str) -> ProbeRun | None:
    """The newest probe of this content among one block's records (newest first)."""
    return next(
        (r for r in records if isinstance(r, ProbeRun) and r.content_hash == content_hash), None
    )


def dismissed(records: Sequence[Record], content_hash: str) -> dict[str, MutantDismissed]:
    """Mutant id -> the newest dismissal of it for this content."""
    found: dict[str, MutantDismissed] = {}
    for record in records:
        if isinstance(record, MutantDismissed) and record.content_hash == content_hash:
            found.setdefault(record.mutant_id, record)
    return found


def tier_asks_for_probe(tier: RiskTier | None) -> bool:
    return tier is not None and "probe" in tier.requires


def survivor_sentence(mutant: ProbedMutant, line: int) -> str:
    """ "changing `<` to `<=` on line 14 still passes every test"."""
    if mutant.replacement.strip():
        change = f"changing `{_short(mutant.original)}` to `{_short(mutant.replacement)}`"
    else:
        change = f"removing `{_short(mutant.original)}`"
    return f"{change} on line {line} still passes every test"


def _short(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def probe_findings(
    records: Sequence[Record],
    *,
    block_id: str,
    path: str,
    content_hash: str,
    begin_line: int,
    end_line: int,
    tier: RiskTier | None,
    verified: bool,
    workflow: Workflow,
) -> list[Finding]:
    """HR313 for one block: its tests catch none of its mutants, one per surviving mutant,
    or (a risk tier that asks for the probe, a verified Python block) no probe yet.

    `records` are the block's probe records, newest first (`EvidenceIndex.probes_for`);
    `begin_line`/`end_line` are the block's marker lines now, so survivors are placed on
    the line they are on now even if lines above the block moved since the probe.
    """
    if workflow.severity_of(CODE) is None:
        return []
    required = tier_asks_for_probe(tier)
    # The team's `[severity] HR313` decides the main finding; without it a tier that asks
    # for the probe makes it an error, anything else a warning.
    main = (
        workflow.severity_of(CODE)
        if CODE in workflow.severity
        else (Severity.ERROR if required else Severity.WARNING)
    )
    assert main is not None
    survivor_severity = Severity.INFO if required else Severity.HINT
    command = f"handrail verify {block_id} --probe"
    findings: list[Finding] = []

    def add(severity: Severity, message: str, line: int, column: int = 1, **data: Any) -> None:
        end = data.pop("end_column", None)
        findings.append(
            Finding(
                CODE,
                severity,
                message,
                path,
                line,
                column,
                line if end is not None else None,
                end,
                {"block_id": block_id, "content_hash": content_hash, **data},
            )
        )

    run = latest_probe(records, content_hash)
    if run is None:
        if required and verified and path.endswith((".py", ".pyw")) and tier is not None:
            add(
                main,
                f"Generated block {block_id} in {path} is in the {tier.name!r} risk tier, which "
                "asks for the probe: nobody has checked yet that its tests fail when it is "
                f"broken. Run `{command}`.",
                begin_line,
                kind="not_probed",
                tier=tier.name,
            )
        return findings

    gone = dismissed(records, content_hash)
    survivors = [m for m in run.survivors if m.id not in gone]
    tried = run.tried
    content_lines = max(0, end_line - begin_line - 1)
    where = {m.id: begin_line + m.block_line for m in survivors}
    if tried and run.caught == 0 and survivors:
        first = survivors[0]
        tier_text = (
            f" It is in the {tier.name!r} risk tier, which asks for the probe."
            if required and tier is not None
            else ""
        )
        add(
            main,
            f"The tests of generated block {block_id} in {path} catch none of its {tried} "
            f"mutants: for example, {survivor_sentence(first, where[first.id])}. They run the "
            f"block but do not check what it does.{tier_text} Add tests that assert on its "
            "results, then run the probe again.",
            begin_line,
            kind="none_caught",
            caught=0,
            tried=tried,
            tier=tier.name if tier is not None else None,
        )
    for mutant in survivors:
        line = where[mutant.id]
        if not 0 < mutant.block_line <= content_lines:
            line = begin_line  # the record disagrees with the block's shape: show it on top
        single_line = "\n" not in mutant.original
        add(
            survivor_severity,
            f"{survivor_sentence(mutant, line)} (the probe caught {run.caught} of {tried} "
            f"mutants of {block_id}). Add a test that fails on this change; if the change "
            "makes no difference, dismiss it: "
            f'`handrail verify {block_id} --dismiss {mutant.id} --reason "..."`.',
            line,
            mutant.column,
            kind="survivor",
            mutant_id=mutant.id,
            operator=mutant.operator,
            original=mutant.original,
            replacement=mutant.replacement,
            end_column=mutant.column + len(mutant.original) if single_line else None,
        )
    return findings
