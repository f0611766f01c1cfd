"""Code extraction from a model's answer: fenced blocks as CommonMark reads them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handrail.generate.extract import code_blocks, extract_code

# Lines that cannot open or close a fence: no backtick or tilde run at their start.
code_line = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    ),
    max_size=40,
).filter(lambda s: not s.lstrip(" ").startswith(("```", "~~~")))
prose = st.lists(code_line, max_size=4).map(lambda ls: "".join(f"{line}\n" for line in ls))


@given(st.lists(code_line, min_size=1, max_size=20), prose, prose, st.sampled_from(["```", "~~~~"]))
def test_the_code_of_one_fence_comes_back_exactly(
    lines: list[str], before: str, after: str, fence: str
) -> None:
    code = "".join(f"{line}\n" for line in lines)
    answer = f"{before}{fence}python\n{code}{fence}\n{after}"
    blocks = [b for b in code_blocks(answer) if b.line == before.count("\n") + 1]
    assert len(blocks) == 1
    assert blocks[0].code == code and blocks[0].language == "python" and blocks[0].closed


@given(st.text(max_size=300))
def test_any_text_is_read_without_error(answer: str) -> None:
    code = extract_code(answer, "src/a.py")
    assert code is None or code.strip()
    for block in code_blocks(answer):
        assert block.code == "" or block.code.endswith("\n")


@given(prose)
def test_prose_without_a_fence_holds_no_code(answer: str) -> None:
    assert extract_code(answer) is None


def test_the_block_in_the_target_language_wins() -> None:
    answer = (
        "Install first:\n\n```bash\npip install a\npip install b\npip install c\n```\n\n"
        "Then:\n\n```python\ndef f():\n    return 1\n```\n"
    )
    assert extract_code(answer, "src/a.py") == "def f():\n    return 1\n"
    assert extract_code(answer, "run.sh") == "pip install a\npip install b\npip install c\n"


def test_among_several_blocks_the_longest_wins() -> None:
    answer = "```js\nf()\n```\n\n```js\nfunction f() {\n  return 1;\n}\n```\n"
    assert extract_code(answer, "a.js") == "function f() {\n  return 1;\n}\n"


def test_an_untagged_block_is_taken_when_none_matches_the_language() -> None:
    answer = "```\nfn main() {}\n```\n\n```text\noutput\n```\n"
    assert extract_code(answer, "main.rs") == "fn main() {}\n"


def test_a_longer_closing_fence_closes_and_a_shorter_does_not() -> None:
    answer = "````md\n```\ninner\n```\n``````\nafter\n"
    (block,) = code_blocks(answer)
    assert block.code == "```\ninner\n```\n" and block.closed


def test_an_indented_fence_strips_its_indent_from_the_lines() -> None:
    answer = "1. Step:\n\n   ```python\n   x = 1\n     y = 2\n   ```\n"
    assert extract_code(answer) == "x = 1\n  y = 2\n"


def test_an_unclosed_fence_runs_to_the_end() -> None:
    (block,) = code_blocks("```go\npackage main\n")
    assert block.code == "package main\n" and not block.closed


def test_crlf_answers_give_lf_code() -> None:
    assert extract_code("```c\r\nint x;\r\n```\r\n") == "int x;\n"


def test_a_backtick_info_string_is_not_a_fence() -> None:
    assert code_blocks("``` a ` b\nnot code\n") == []


def test_a_blank_block_is_no_code() -> None:
    assert extract_code("```python\n\n   \n```\n") is None
