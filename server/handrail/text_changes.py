"""Edits to a buffer's text, in the engine's coordinates, for front ends that apply them.

An editor applies small edits to the text it holds rather than replacing a whole file, so
the engine describes a change as the region that differs. Positions are 1-based lines and
1-based columns in code points (end exclusive), like every `Finding`; lines are split the
way editors split them (at ``\\r\\n``, ``\\n`` and a lone ``\\r``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class TextChange:
    """Replace the text from (line, column) up to (end_line, end_column) with `new_text`.

    An insertion has the same start and end.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    new_text: str


class _LineIndex:
    """Offsets where each line starts, for converting offsets to (line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1


def changed_region(old: str, new: str) -> TextChange | None:
    """The one change that turns `old` into `new` (common start and end kept), or None.

    The region never splits a ``\\r\\n`` pair, so each end is a real editor position.
    """
    if old == new:
        return None
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    if prefix and old[prefix - 1] == "\r" and (old[prefix : prefix + 1] == "\n"):
        prefix -= 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    end = len(old) - suffix
    if suffix and old[end : end + 1] == "\n" and end > 0 and old[end - 1] == "\r":
        suffix -= 1
        end += 1
    index = _LineIndex(old)
    line, column = index.position(prefix)
    end_line, end_column = index.position(end)
    return TextChange(line, column, end_line, end_column, new[prefix : len(new) - suffix])


def apply_changes(text: str, changes: Sequence[TextChange]) -> str:
    """`text` with `changes` applied, all positions read against the original `text`.

    Changes must not overlap; this is how an editor applies one WorkspaceEdit.
    """
    index = _LineIndex(text)
    spans = sorted(
        (
            (
                index.offset(c.line, c.column),
                index.offset(c.end_line, c.end_column),
                c.new_text,
            )
            for c in changes
        ),
        key=lambda span: (span[0], span[1]),
    )
    out: list[str] = []
    at = 0
    for start, end, new_text in spans:
        if start < at or end < start:
            raise ValueError("changes overlap or run backwards")
        out.append(text[at:start])
        out.append(new_text)
        at = end
    out.append(text[at:])
    return "".join(out)
