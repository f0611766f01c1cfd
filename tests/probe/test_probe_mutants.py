"""The mutant generator, property-tested: every mutant parses, really changes the program,
touches only the block's lines, and the same text always gives the same mutants."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from handrail.evidence.mutants import apply, generate

NAMES = st.sampled_from(["a", "b", "total", "größe", "x1"])
SPACE = st.sampled_from(["", " ", "  "])


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    """Python expressions with irregular spacing, parentheses, non-ASCII names and strings."""
    leaves = st.one_of(
        NAMES,
        st.integers(0, 300).map(str),
        st.sampled_from(["True", "False", "None", "'é'", '"a<b"', "0x1f", "1_000"]),
    )
    if depth >= 2 or draw(st.integers(0, 3)) == 0:
        return draw(leaves)
    left = draw(expressions(depth + 1))
    right = draw(expressions(depth + 1))
    kind = draw(st.sampled_from(["bin", "cmp", "bool", "not", "paren", "call", "neg"]))
    s1, s2 = draw(SPACE), draw(SPACE)
    if kind == "bin":
        op = draw(st.sampled_from(["+", "-", "*", "/", "//", "%"]))
        return f"({left}{s1 or ' '}{op}{s2 or ' '}{right})"
    if kind == "cmp":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "is", "is not", "in"]))
        pad = " " if op[0].isalpha() else s1
        return f"({left}{pad}{op}{pad or s2}{right})"
    if kind == "bool":
        op = draw(st.sampled_from(["and", "or"]))
        return f"({left} {op} {right})"
    if kind == "not":
        return f"(not{' ' if not left.startswith('(') else s1}{left})"
    if kind == "call":
        return f"f({left},{s1}{right})"
    if kind == "neg":
        return f"(-{left})"
    return f"({left})"


@st.composite
def statements(draw: st.DrawFn, indent: str = "    ", depth: int = 0) -> list[str]:
    kind = draw(st.sampled_from(["assign", "aug", "if", "return", "for", "comment"]))
    expr = draw(expressions())
    if kind == "assign":
        return [f"{indent}{draw(NAMES)} = {expr}"]
    if kind == "aug":
        return [f"{indent}{draw(NAMES)} {draw(st.sampled_from(['+=', '-=', '*=', '/=']))} {expr}"]
    if kind == "return":
        return [f"{indent}return {expr}"]
    if kind == "comment":
        return [f"{indent}# é < {expr}", f"{indent}pass"]
    if depth >= 2:
        return [f"{indent}pass"]
    body = draw(st.lists(statements(indent + "    ", depth + 1), min_size=1, max_size=3))
    lines = [line for chunk in body for line in chunk]
    if kind == "for":
        return [f"{indent}for {draw(NAMES)} in range({expr}):", *lines]
    head = [f"{indent}if {expr}:", *lines]
    if draw(st.booleans()):
        head += [f"{indent}elif {draw(expressions())}:", f"{indent}    pass"]
    return head


@st.composite
def modules(draw: st.DrawFn) -> str:
    functions = []
    for index in range(draw(st.integers(1, 2))):
        body = draw(st.lists(statements(), min_size=1, max_size=4))
        lines = [f"def g{index}(a, b, total=1, größe=2, x1=3):"]
        lines += [line for chunk in body for line in chunk]
        functions.append("\n".join(lines))
    return "def f(*args):\n    return 0\n\n\n" + "\n\n\n".join(functions) + "\n"


@given(modules(), st.data())
def test_every_mutant_parses_changes_the_program_and_stays_in_the_block(
    text: str, data: st.DataObject
) -> None:
    lines = text.split("\n")
    first = data.draw(st.integers(1, len(lines)))
    last = data.draw(st.integers(first, len(lines)))
    original = ast.dump(ast.parse(text))

    mutants = generate(text, first, last)

    assert len({m.id for m in mutants}) == len(mutants)
    for mutant in mutants:
        assert text[mutant.start : mutant.end] == mutant.original
        changed = apply(text, mutant)
        assert ast.dump(ast.parse(changed)) != original, mutant
        new_lines = changed.split("\n")
        # Everything before the block and after it is untouched.
        assert new_lines[: first - 1] == lines[: first - 1]
        after = len(lines) - last
        assert new_lines[len(new_lines) - after :] == lines[len(lines) - after :]
        assert first <= mutant.line <= mutant.end_line <= last
        # The reported column is where the change starts, in code points.
        assert lines[mutant.line - 1][mutant.column - 1 :].startswith(
            mutant.original.split("\n")[0]
        )
    assert generate(text, first, last) == mutants


@settings(max_examples=50)
@given(modules())
def test_the_whole_file_as_a_block_mutates_every_operator_kind_it_holds(text: str) -> None:
    lines = text.split("\n")
    mutants = generate(text, 1, len(lines))
    operators = {m.operator for m in mutants}
    tree = ast.parse(text)
    kinds = {type(node) for node in ast.walk(tree)}
    if ast.Compare in kinds:
        assert "compare" in operators
    if ast.BoolOp in kinds:
        assert "boolean" in operators
    if ast.If in kinds:
        assert "condition" in operators or "not" in operators


def test_a_block_of_comments_has_no_mutants() -> None:
    text = "x = 1 < 2\n# handrail:begin abcdef.1\n# only a note\n# handrail:end abcdef.1\n"
    assert generate(text, 3, 3) == []


def test_the_change_is_described_as_the_user_sees_it() -> None:
    text = "def f(x):\n    if not x:\n        return x<=3\n    return None\n"
    changes = {(m.line, m.change()) for m in generate(text, 1, 4)}
    assert (2, "removing `not`") in changes
    assert (3, "changing `<=` to `<`") in changes
    assert (3, "changing `3` to `4`") in changes
    assert (3, "changing `x<=3` to `None`") in changes
    assert not any(line == 4 for line, _ in changes)  # `return None` stays as it is


def test_type_annotations_are_not_mutated() -> None:
    text = (
        "from typing import Annotated\n"
        "def f(x: Annotated[int, 3] = 1) -> Annotated[int, 4]:\n"
        "    y: Annotated[int, 5] = x + 1\n"
        "    return y\n"
    )
    changed = {(m.line, m.original) for m in generate(text, 2, 4)}
    assert changed == {(2, "1"), (3, "+"), (3, "1"), (4, "y")}
