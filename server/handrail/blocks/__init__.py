"""Generated blocks: marker comments, their parsing, marking and checks (HR305-HR308).

`comments` knows each language's comment syntax, `markers` finds blocks in a file,
`mark` writes and removes markers, `check` turns marker problems into findings.
"""

from handrail.blocks.check import check_blocks, ids_used_in_other_files, large_insertion
from handrail.blocks.comments import CommentStyle, comment_styles_for, marker_lines
from handrail.blocks.mark import (
    MarkError,
    mark_file,
    next_block_number,
    remove_markers,
    unmark_file,
    wrap_lines,
)
from handrail.blocks.markers import (
    Block,
    MarkerProblem,
    ParseResult,
    ProblemKind,
    hash_content,
    parse_blocks,
    parse_blocks_bytes,
)

__all__ = [
    "Block",
    "CommentStyle",
    "MarkError",
    "MarkerProblem",
    "ParseResult",
    "ProblemKind",
    "check_blocks",
    "comment_styles_for",
    "hash_content",
    "ids_used_in_other_files",
    "large_insertion",
    "mark_file",
    "marker_lines",
    "next_block_number",
    "parse_blocks",
    "parse_blocks_bytes",
    "remove_markers",
    "unmark_file",
    "wrap_lines",
]
