"""What a parser collects for one file as the report names it, before its path is mapped.

Reports repeat a file (LCOV records per test name, Cobertura classes per inner class, Go
blocks once per test binary with `-coverpkg`): tallies merge by adding hits, so a line ran
if any repetition says it ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handrail.evidence.lines import FileLines, FunctionLines


@dataclass(slots=True)
class FileTally:
    hits: dict[int, int] = field(default_factory=dict)
    """Line -> summed hits; every key is an executable line."""
    functions: dict[tuple[str, int], tuple[int | None, int]] = field(default_factory=dict)
    """(name, first line) -> (last line, summed hits)."""

    def add_line(self, line: int, hits: int) -> None:
        # Line 0 is what some tools write for code they cannot place; it names no line.
        if line >= 1:
            self.hits[line] = self.hits.get(line, 0) + max(hits, 0)

    def add_function(self, name: str, first: int, last: int | None, hits: int) -> None:
        if first < 1:
            return
        if last is not None and last < first:
            last = None
        old_last, old_hits = self.functions.get((name, first), (None, 0))
        if old_last is not None and (last is None or old_last > last):
            last = old_last
        self.functions[(name, first)] = (last, old_hits + max(hits, 0))

    def merge(self, other: FileTally) -> None:
        for line, hits in other.hits.items():
            self.add_line(line, hits)
        for (name, first), (last, hits) in other.functions.items():
            self.add_function(name, first, last, hits)

    def freeze(self) -> FileLines:
        functions = tuple(
            FunctionLines(name=name, first_line=first, last_line=last, hits=hits)
            for (name, first), (last, hits) in sorted(
                self.functions.items(), key=lambda item: (item[0][1], item[0][0])
            )
        )
        return FileLines(
            executable=frozenset(self.hits),
            executed=frozenset(line for line, hits in self.hits.items() if hits > 0),
            functions=functions,
        )
