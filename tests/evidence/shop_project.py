"""A small real Python project with its own pytest suite, written into a workspace.

`shop/pricing.py` holds two generated blocks of task aaaaaa: `total` (tested) and `refund`
(no test calls it). `tests/test_pricing.py` holds a generated test block of task bbbbbb plus
hand-written tests. Both tasks use the workflow's one command.
"""

from __future__ import annotations

import shlex
import sys

from toml_text import toml_string

from handrail.workspace import Workspace

PY = sys.executable
PRICING, TESTS = "aaaaaa", "bbbbbb"
SPEC = (
    "Given a list of prices, return their total. It must never raise and follow the style of shop."
)
PYTEST = f"{shlex.quote(PY)} -m pytest -q -p no:cacheprovider"

TOTAL = """\
def total(prices, discount=0):
    subtotal = sum(prices)
    if discount:
        subtotal -= subtotal * discount / 100
    return round(subtotal, 2)
"""
BUGGY_TOTAL = TOTAL.replace("sum(prices)", "sum(prices[1:])")
REFUND = """\
def refund(paid, returned):
    if returned > paid:
        raise ValueError("cannot refund more than was paid")
    return paid - returned
"""
TEST_BLOCK = """\
def test_total_adds_prices():
    assert total([1.5, 2.5]) == 4.0
"""


def block(block_id: str, body: str) -> str:
    return f"# handrail:begin {block_id}\n{body}# handrail:end {block_id}\n"


def write_shop(
    ws: Workspace, *, command: str = PYTEST, buggy: bool = False, extra: str = ""
) -> None:
    root = ws.root
    ws.workflow_path.write_text(
        'extends = "default"\n\n[workflow]\nowner = "Ada Tester"\nreviewed = 2026-11-01\n\n'
        f"[verification]\ncommand = {toml_string(command)}\ntimeout_s = 120\n{extra}",
        encoding="utf-8",
    )
    for task in (PRICING, TESTS):
        (ws.tasks_dir / f"{task}.toml").write_text(
            f'id = "{task}"\nspec = "{SPEC}"\ncontext = []\n', encoding="utf-8"
        )
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("", encoding="utf-8")
    (root / "shop" / "pricing.py").write_text(
        '"""Prices."""\n\n'
        + block(f"{PRICING}.1", BUGGY_TOTAL if buggy else TOTAL)
        + "\n\n"
        + block(f"{PRICING}.2", REFUND),
        encoding="utf-8",
    )
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("", encoding="utf-8")
    (root / "tests" / "test_pricing.py").write_text(
        "from shop.pricing import total\n\n\n"
        + block(f"{TESTS}.1", TEST_BLOCK)
        + "\n\ndef test_discount():\n    assert total([10], discount=50) == 5\n",
        encoding="utf-8",
    )
    (root / "tests" / "test_other.py").write_text(
        "def test_unrelated():\n    assert 'a' * 2 == 'aa'\n", encoding="utf-8"
    )
