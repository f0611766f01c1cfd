"""Mutants of one generated block: small, deliberate bugs the block's tests should notice.

The probe asks "if this block were wrong, would its tests say so?" by making it wrong in the
small ways generated code usually is: a flipped comparison, `and` for `or`, an off-by-one
constant, `+` for `-`, a wrong return value, an inverted condition. Every mutant changes
exactly one span of text, and only spans on the block's own content lines, so a mutant can
never touch the rest of the file.

Why not mutmut or cosmic-ray as libraries: both mutate whole modules and own the run
(mutmut 3 rewrites every function of a file into trampolines in a `mutants/` copy driven by
its own pytest plugin and config; cosmic-ray keeps a session database and runs work through
its own distributor), and neither offers an API limited to a line range. Their operator sets
are the reference for the one here (mutmut's `mutation/mutators.py`, cosmic-ray's
`operators/`); we keep only operators whose survivors are nearly always a real gap in the
tests (no string mutations, no argument removal, no decorator removal), because every
survivor is shown to a person who must act on it.

The standard library's `ast` gives each node's exact span; `tokenize` finds the operator
tokens `ast` does not place. Replacements are text splices, so formatting and comments stay
as written and no extra dependency is needed.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import io
import tokenize
from dataclasses import dataclass

OPERATORS: dict[str, str] = {
    "compare": "flipped comparison (`<` to `<=`, `==` to `!=`, `is` to `is not`, `in` to `not in`)",
    "boolean": "`and` for `or` and back",
    "not": "`not` removed",
    "constant": "an integer constant one larger",
    "arithmetic": "`+` for `-`, `*` for `/` and back (also `+=`, `-=`, `*=`, `/=`)",
    "return": "`return None` for a returned value, `True` for `False`",
    "condition": "`if cond` inverted to `if not (cond)`",
}
"""Every operator the probe applies, with what it does (for docs and `--json`)."""

_COMPARE: dict[type[ast.cmpop], tuple[str, str]] = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
    ast.Is: ("is", "is not"),
    ast.IsNot: ("is not", "is"),
    ast.In: ("in", "not in"),
    ast.NotIn: ("not in", "in"),
}
_ARITHMETIC: dict[type[ast.operator], tuple[str, str]] = {
    ast.Add: ("+", "-"),
    ast.Sub: ("-", "+"),
    ast.Mult: ("*", "/"),
    ast.Div: ("/", "*"),
}
_BOOLEAN: dict[type[ast.boolop], tuple[str, str]] = {
    ast.And: ("and", "or"),
    ast.Or: ("or", "and"),
}
_SHOWN_CHARS = 40


@dataclass(frozen=True, slots=True)
class Mutant:
    """One change to the source: `original` (text at `start:end`) becomes `replacement`.

    Lines are 1-based lines of the file; columns are 1-based code points, end exclusive;
    `start`/`end` are offsets into the text `generate` was given (LF line endings, no BOM).
    `block_line` is the line counted from the block's first content line (1-based): it stays
    the same when lines above the block move, as the block's content hash does.
    """

    id: str
    operator: str
    line: int
    column: int
    end_line: int
    end_column: int
    block_line: int
    start: int
    end: int
    original: str
    replacement: str

    def change(self) -> str:
        """The change in words: "changing `<` to `<=`", "removing `not`"."""
        if not self.replacement.strip():
            return f"removing `{_short(self.original.strip())}`"
        return f"changing `{_short(self.original)}` to `{_short(self.replacement)}`"


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SHOWN_CHARS else flat[: _SHOWN_CHARS - 1] + "…"


def apply(text: str, mutant: Mutant) -> str:
    """`text` with `mutant` applied (the text `generate` made it from)."""
    return text[: mutant.start] + mutant.replacement + text[mutant.end :]


class _Source:
    """Positions in one source text: ast's (line, UTF-8 byte column) to offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.starts: list[int] = []
        offset = 0
        for line in self.lines:
            self.starts.append(offset)
            offset += len(line) + 1

    def char_col(self, line: int, byte_col: int) -> int:
        row = self.lines[line - 1]
        if row.isascii():
            return byte_col
        return len(row.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def offset(self, line: int, char_col: int) -> int:
        return self.starts[line - 1] + char_col

    def node_start(self, node: ast.AST) -> tuple[int, int]:
        line: int = getattr(node, "lineno")  # noqa: B009 - ast stubs type it as optional
        return line, self.char_col(line, getattr(node, "col_offset"))  # noqa: B009

    def node_end(self, node: ast.AST) -> tuple[int, int]:
        line: int = getattr(node, "end_lineno")  # noqa: B009
        return line, self.char_col(line, getattr(node, "end_col_offset"))  # noqa: B009


@dataclass(frozen=True, slots=True)
class _Token:
    start: tuple[int, int]
    end: tuple[int, int]
    string: str


def _tokens(text: str) -> list[_Token]:
    """The operator and name tokens of `text`, in order (positions: line, code-point column)."""
    found: list[_Token] = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.OP, tokenize.NAME):
            found.append(_Token(tok.start, tok.end, tok.string))
    return found


class _Builder:
    def __init__(self, text: str, first_line: int, last_line: int) -> None:
        self.src = _Source(text)
        self.first = first_line
        self.last = last_line
        self.tokens = _tokens(text)
        self.token_starts = [t.start for t in self.tokens]
        self.found: list[Mutant] = []

    def inside(self, start: tuple[int, int], end: tuple[int, int]) -> bool:
        return self.first <= start[0] and end[0] <= self.last

    def add(
        self, operator: str, start: tuple[int, int], end: tuple[int, int], replacement: str
    ) -> None:
        if not self.inside(start, end):
            return
        begin = self.src.offset(*start)
        stop = self.src.offset(*end)
        original = self.src.text[begin:stop]
        if original == replacement:
            return
        block_line = start[0] - self.first + 1
        key = f"{operator}|{block_line}|{start[1]}|{original}|{replacement}"
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        self.found.append(
            Mutant(
                id=digest,
                operator=operator,
                line=start[0],
                column=start[1] + 1,
                end_line=end[0],
                end_column=end[1] + 1,
                block_line=block_line,
                start=begin,
                end=stop,
                original=original,
                replacement=replacement,
            )
        )

    def token_between(
        self, after: tuple[int, int], before: tuple[int, int], words: list[str]
    ) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The span of the tokens spelling `words` (in order) between two positions."""
        index = bisect.bisect_left(self.token_starts, after)
        while index < len(self.tokens) and self.tokens[index].start < before:
            run = self.tokens[index : index + len(words)]
            if [t.string for t in run] == words and run[-1].end <= before:
                return run[0].start, run[-1].end
            index += 1
        return None

    def operator_token(
        self, operator: str, left: ast.AST, right: ast.AST, spelled: str, replacement: str
    ) -> None:
        span = self.token_between(
            self.src.node_end(left), self.src.node_start(right), spelled.split()
        )
        if span is not None:
            self.add(operator, span[0], span[1], replacement)

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.JoinedStr):
            # Positions inside f-strings are unreliable before Python 3.12: leave them alone.
            return
        if isinstance(node, ast.arg | ast.AnnAssign | ast.FunctionDef | ast.AsyncFunctionDef):
            # Type annotations are not behaviour the tests could check: `Tuple[int, 3]`
            # mutated would survive as noise. Visit everything but the annotation.
            skip = getattr(node, "annotation", None) or getattr(node, "returns", None)
            for child in ast.iter_child_nodes(node):
                if child is not skip:
                    self.visit(child)
            return
        if isinstance(node, ast.Compare):
            left: ast.AST = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                spelled, replacement = _COMPARE[type(op)]
                self.operator_token("compare", left, right, spelled, replacement)
                left = right
        elif isinstance(node, ast.BoolOp):
            spelled, replacement = _BOOLEAN[type(node.op)]
            for left, right in zip(node.values, node.values[1:], strict=False):
                self.operator_token("boolean", left, right, spelled, replacement)
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            spelled, replacement = _ARITHMETIC[type(node.op)]
            self.operator_token("arithmetic", node.left, node.right, spelled, replacement)
        elif isinstance(node, ast.AugAssign) and type(node.op) in _ARITHMETIC:
            spelled, replacement = _ARITHMETIC[type(node.op)]
            self.operator_token(
                "arithmetic", node.target, node.value, spelled + "=", replacement + "="
            )
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            # Remove the `not` token alone: `not x` -> ` x`, `not (x)` -> ` (x)`.
            span = self.token_between(
                self.src.node_start(node), self.src.node_start(node.operand), ["not"]
            )
            if span is not None:
                self.add("not", span[0], span[1], "")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            self.add(
                "constant",
                self.src.node_start(node),
                self.src.node_end(node),
                str(node.value + 1),
            )
        elif isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                replacement = "False" if value.value else "True"
            elif isinstance(value, ast.Constant) and value.value is None:
                replacement = ""
            else:
                replacement = "None"
            if replacement:
                self.add(
                    "return", self.src.node_start(value), self.src.node_end(value), replacement
                )
        elif isinstance(node, ast.If) and not (
            isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
        ):
            # `if not x` is already mutated by removing `not`; inverting it again adds nothing.
            start, end = self.src.node_start(node.test), self.src.node_end(node.test)
            if self.inside(start, end):
                test = self.src.text[self.src.offset(*start) : self.src.offset(*end)]
                self.add("condition", start, end, f"not ({test})")
        for child in ast.iter_child_nodes(node):
            self.visit(child)


def generate(text: str, first_line: int, last_line: int) -> list[Mutant]:
    """The mutants of lines `first_line`..`last_line` (1-based, inclusive) of Python `text`.

    `text` has LF line endings and no BOM (`blocks.markers.normalise_newlines`). Every mutant
    returned parses, differs from `text`, and changes only those lines; the list is in source
    order and the same for the same text. Raises SyntaxError when `text` is not Python.
    """
    tree = ast.parse(text)
    if last_line < first_line:
        return []
    builder = _Builder(text, first_line, last_line)
    builder.visit(tree)
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for mutant in sorted(builder.found, key=lambda m: (m.start, m.end, m.operator, m.replacement)):
        if mutant.id in seen:
            continue
        try:
            ast.parse(apply(text, mutant))
        except (SyntaxError, ValueError):
            continue  # a context where the replacement is not valid Python: no mutant
        seen.add(mutant.id)
        mutants.append(mutant)
    return mutants
