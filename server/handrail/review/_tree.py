"""The generated blocks the work tree holds now, with the evidence for each."""

from __future__ import annotations

from dataclasses import dataclass

from handrail.analysis import Snapshot, SourceAnalysis, analyze_source
from handrail.workspace import HANDRAIL_DIR, Workspace


@dataclass(frozen=True, slots=True)
class SourceFile:
    rel: str
    text: str
    analysis: SourceAnalysis


def files_with_blocks(snapshot: Snapshot) -> list[SourceFile]:
    """Every file of the workspace that holds markers, analysed as `handrail check` does."""
    from handrail.files import files_mentioning, list_files
    from handrail.verify.run import read_blocks

    ws: Workspace = snapshot.ws
    # One `git grep` narrows a large repository to the few files with markers.
    mentioning = files_mentioning(ws, "handrail:")
    found: list[SourceFile] = []
    for rel in list_files(ws):
        if rel.startswith(HANDRAIL_DIR + "/"):
            continue
        if mentioning is not None and rel not in mentioning:
            continue
        read = read_blocks(ws, rel)
        if read is None:
            continue
        text = read[0]
        found.append(SourceFile(rel, text, analyze_source(snapshot, rel, text)))
    return found
