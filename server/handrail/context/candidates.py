"""The files a task may attach as context, each with its token count: what an editor's
"Add to Handrail Context" picker lists (``handrail.contextCandidates``, docs/commands.md).

An engine use case, not the server's: it decides which files count (the context check's own
ignore rules, `.handrail/` never) and reads them as the context check does (`Locator`,
`read_located`), so a picker never offers a file the check would then refuse for another
reason than its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NotRequired, TypedDict

if TYPE_CHECKING:
    from handrail.analysis import Snapshot

CANDIDATES_CAP = 5000
"""At most this many files in one answer (the first, in path order)."""


class CandidateJson(TypedDict):
    path: str
    tokens: int | None
    """None when the file is not counted (too large, binary, unreadable)."""
    status: str


class CandidatesJson(TypedDict):
    encoding: str
    max_tokens: int
    max_files: int
    files: list[CandidateJson]
    truncated: NotRequired[bool]
    """Present (true) only when the answer lists the first `CANDIDATES_CAP` files."""


@dataclass(frozen=True, slots=True)
class Candidate:
    path: str
    tokens: int | None
    status: str


@dataclass(frozen=True, slots=True)
class Candidates:
    encoding: str
    max_tokens: int
    max_files: int
    files: list[Candidate]
    truncated: bool

    def to_json(self) -> CandidatesJson:
        answer: CandidatesJson = {
            "encoding": self.encoding,
            "max_tokens": self.max_tokens,
            "max_files": self.max_files,
            "files": [{"path": f.path, "tokens": f.tokens, "status": f.status} for f in self.files],
        }
        if self.truncated:
            answer["truncated"] = True
        return answer


def context_candidates(snapshot: Snapshot, paths: list[str] | None = None) -> Candidates:
    """The workspace's files (or `paths`) a task may attach, each read and counted.

    Slow on a big workspace (it reads and counts every file): front ends run it off their
    event loop.
    """
    from handrail.context.entries import EntryError, parse_entry
    from handrail.context.resolve import EntryProblem, EntryText, Locator, read_located
    from handrail.files import list_files
    from handrail.workspace import PathEscapesWorkspace

    rules = snapshot.workflow.workflow.context
    ignore = snapshot.ignore
    if paths is None:
        listed = list_files(snapshot.ws, ignore_patterns=rules.ignore)
    else:
        listed = sorted(set(paths))

    def wanted(rel: str) -> bool:
        if rel == ".handrail" or rel.startswith(".handrail/"):
            return False
        try:
            return ignore.match(rel) is None
        except PathEscapesWorkspace:
            return paths is not None  # reported as "outside" below
        except ValueError:
            return False

    kept = [rel for rel in listed if wanted(rel)]
    truncated = len(kept) > CANDIDATES_CAP
    kept = kept[:CANDIDATES_CAP]
    locator = Locator(snapshot.ws)
    statuses: dict[str, str] = {}
    readable: list[tuple[str, EntryText]] = []
    for rel in kept:
        statuses[rel] = "ok"
        try:
            entry = parse_entry(rel)
        except EntryError:
            statuses[rel] = "invalid"
            continue
        located = locator.locate(entry)
        result = (
            located
            if isinstance(located, EntryProblem)
            else read_located(located, max_file_bytes=rules.max_file_bytes)
        )
        if isinstance(result, EntryProblem):
            binary = result.data.get("reason") == "binary"
            statuses[rel] = "binary" if binary else result.status
            continue
        readable.append((rel, result))
    counter = snapshot.counter()
    counts = counter.count_many(
        [text.text for _, text in readable], digests=[text.digest for _, text in readable]
    )
    tokens = {rel: count for (rel, _), count in zip(readable, counts, strict=True)}
    return Candidates(
        encoding=counter.encoding_used,
        max_tokens=rules.max_tokens,
        max_files=rules.max_files,
        files=[Candidate(rel, tokens.get(rel), statuses[rel]) for rel in kept],
        truncated=truncated,
    )
