"""`analyze_source` for a long-running front end: the same findings, with the evidence of
each block remembered by its content.

`handrail.analysis.analyze_source` evaluates every block's evidence on every call, and gets
each block's text by splitting the whole file again (`blocks.markers.block_content`), so one
keystroke in a 10,000-line file with 50 blocks costs 50 full splits and 50 risk-tier
searches. An editor analyses the same file after every edit, and an edit changes at most a
few blocks: here the text is split once, and a block whose id, path, content hash and task
risk are unchanged reuses the evidence evaluated before. Everything else (parsing, marker
checks, the findings built from evidence) is the engine's own code, called the same way.

A cache is bound to one `Snapshot` (the ledger, tasks and workflow the evidence was judged
against): make a new one when the snapshot is reloaded.
"""

from __future__ import annotations

from handrail.analysis import Snapshot, SourceAnalysis
from handrail.blocks.check import check_blocks
from handrail.blocks.markers import normalise_newlines, parse_blocks
from handrail.ledger.evidence import BlockEvidence, evaluate_block, evidence_findings

_Key = tuple[str, str, str, str | None]


class SourceAnalysisCache:
    """Per-snapshot memory of block evidence; `analyze_source` as in `handrail.analysis`."""

    def __init__(self, snapshot: Snapshot, *, max_entries: int = 50_000) -> None:
        self.snapshot = snapshot
        self.max_entries = max_entries
        self._evidence: dict[_Key, BlockEvidence] = {}

    def __len__(self) -> int:
        return len(self._evidence)

    def analyze_source(self, rel: str, text: str) -> SourceAnalysis:
        """Markers, block checks (HR305-HR307) and evidence (HR300-HR304) of one source file:
        equal to `handrail.analysis.analyze_source(snapshot, rel, text)`."""
        snapshot = self.snapshot
        wf = snapshot.workflow.workflow
        parsed = parse_blocks(text, rel)
        findings = check_blocks(parsed, path=rel, workflow=wf, known_tasks=snapshot.tasks.known_ids)
        evidence: dict[str, BlockEvidence] = {}
        lines: list[str] | None = None
        for block in parsed.blocks:
            task = snapshot.tasks.tasks.get(block.task_id)
            risk = task.task.risk if task else None
            key = (block.id, rel, block.content_hash, risk)
            found = self._evidence.get(key)
            if found is None:
                if lines is None:
                    lines = normalise_newlines(text).split("\n")
                content = "".join(
                    line + "\n" for line in lines[block.begin_line : block.end_line - 1]
                )
                found = evaluate_block(snapshot.index, block.id, rel, content, wf, task_risk=risk)
                if len(self._evidence) >= self.max_entries:
                    self._evidence.clear()
                self._evidence[key] = found
            evidence[block.id] = found
            findings.extend(
                evidence_findings(
                    found,
                    block_id=block.id,
                    path=rel,
                    line=block.begin_line,
                    end_line=block.end_line,
                    workflow=wf,
                )
            )
        return SourceAnalysis(parsed, findings, evidence)
