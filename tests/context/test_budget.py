from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handrail.context import budget
from handrail.context.budget import Sized, choose_drop, over_file_cap, over_total, too_many_files
from handrail.context.entries import parse_entry


def sized(*tokens: int) -> list[Sized]:
    return [Sized(f"f{i}.py", n) for i, n in enumerate(tokens)]


def test_within_budget_is_silent() -> None:
    assert over_total(sized(100, 200), 300) is None
    assert choose_drop(sized(100, 200), 0) == []


def test_over_budget_says_by_how_much_and_what_to_drop() -> None:
    issue = over_total(sized(5000, 20000, 3000), 24000)
    assert issue is not None
    assert issue.code == "HR200"
    assert issue.data == {"drop": ["f0.py"], "over_by": 4000, "total": 28000, "max_tokens": 24000}
    assert "4,000 over the budget of 24,000" in issue.message
    assert "Dropping f0.py would fit it" in issue.message
    assert budget.WHY_TOTAL in issue.message


def test_drop_prefers_one_entry_over_several() -> None:
    # Dropping f0 and f1 (2 entries) would also fit; f2 alone does.
    assert choose_drop(sized(600, 600, 1500), 1000) == ["f2.py"]


def test_drop_keeps_as_much_as_the_minimum_count_allows() -> None:
    # One entry must go; the smallest one that suffices is f1, not the largest f0.
    assert choose_drop(sized(9000, 1200, 50), 1000) == ["f1.py"]


@given(
    st.lists(st.integers(min_value=0, max_value=50_000), min_size=1, max_size=30),
    st.integers(min_value=1, max_value=200_000),
)
def test_drop_always_fits_with_the_fewest_entries(tokens: list[int], cap: int) -> None:
    sizes = sized(*tokens)
    total = sum(tokens)
    issue = over_total(sizes, cap)
    if total <= cap:
        assert issue is None
        return
    assert issue is not None
    drop = issue.data["drop"]
    kept = sum(s.tokens for s in sizes if s.raw not in drop)
    assert kept <= cap
    assert issue.data["over_by"] == total - cap
    # No smaller set fits: even the len(drop)-1 largest entries remove too little.
    largest = sorted(tokens, reverse=True)[: len(drop) - 1]
    assert total - sum(largest) > cap
    assert len(set(drop)) == len(drop)


def test_too_many_files() -> None:
    raws = [f"f{i}.py" for i in range(5)]
    assert too_many_files(raws, sized(1, 2, 3, 4, 5), 5) is None
    issue = too_many_files(raws, sized(1, 2, 3, 4, 5), 3)
    assert issue is not None and issue.code == "HR201"
    assert issue.data["drop"] == ["f3.py", "f4.py"]
    assert "5 context files, 2 over the cap of 3" in issue.message
    assert budget.WHY_FILES in issue.message


def test_too_many_files_drops_unusable_entries_first() -> None:
    raws = ["a.py", "missing.py", "b.py"]
    issue = too_many_files(raws, [Sized("a.py", 10), Sized("b.py", 20)], 2, unusable=["missing.py"])
    assert issue is not None
    assert issue.data["drop"] == ["missing.py"]


def test_file_cap_suggests_a_line_range() -> None:
    entry = parse_entry("src/big.py")
    assert over_file_cap(entry, 8000, 8000, first_line=1, lines=1000) is None
    issue = over_file_cap(entry, 16000, 8000, first_line=1, lines=1000)
    assert issue is not None and issue.code == "HR202"
    assert issue.data["suggest"] == "src/big.py#L1-L450"
    assert "per-file cap of 8,000" in issue.message
    assert budget.WHY_FILE in issue.message


def test_file_cap_suggestion_stays_inside_a_range() -> None:
    entry = parse_entry("src/big.py#L100-L299")
    issue = over_file_cap(entry, 20000, 10000, first_line=100, lines=200)
    assert issue is not None
    assert issue.data["suggest"] == "src/big.py#L100-L189"
