"""The ledger: machine-written evidence about generated blocks (HR300-HR304, HR309).

`records` defines the immutable record types, `store` keeps them one file each under
`.handrail/ledger/`, `evidence` turns them into a block's verification status, and `risk`
decides which blocks need more than a green test run.
"""

from handrail.ledger.evidence import (
    BlockEvidence,
    EvidenceIndex,
    Status,
    block_evidence,
    evaluate_block,
    evidence_findings,
    status_summary,
)
from handrail.ledger.records import (
    CURRENT_SCHEMA,
    Accepted,
    BlockMarked,
    Explanation,
    Record,
    Review,
    Trace,
    VerificationRun,
    content_hash,
    new_record_id,
)
from handrail.ledger.risk import tier_for, tier_problems
from handrail.ledger.store import (
    Ledger,
    LedgerError,
    LedgerLockTimeout,
    LedgerRead,
    LedgerReadOnly,
    LedgerWriteError,
    Problem,
)

__all__ = [
    "CURRENT_SCHEMA",
    "Accepted",
    "BlockEvidence",
    "BlockMarked",
    "EvidenceIndex",
    "Explanation",
    "Ledger",
    "LedgerError",
    "LedgerLockTimeout",
    "LedgerRead",
    "LedgerReadOnly",
    "LedgerWriteError",
    "Problem",
    "Record",
    "Review",
    "Status",
    "Trace",
    "VerificationRun",
    "block_evidence",
    "content_hash",
    "evaluate_block",
    "evidence_findings",
    "new_record_id",
    "status_summary",
    "tier_for",
    "tier_problems",
]
