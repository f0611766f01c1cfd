"""Risk tiers: task override, then path globs, then whole-word keywords."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ledger_helpers import default_workflow

from handrail.ledger.risk import matched_keyword, tier_for, tier_problems
from handrail.workflow.model import Workflow

WF = default_workflow()


def _name(path: str, content: str = "", **kw: str | None) -> str | None:
    tier = tier_for(path, content, WF, **kw)
    return tier.name if tier else None


@pytest.mark.parametrize(
    ("path", "tier"),
    [
        ("src/auth/tokens.py", "auth"),
        ("auth/x.go", "auth"),
        ("app/oauth_client.ts", "auth"),
        ("web/login_form.tsx", "auth"),
        ("svc/billing/charge.py", "money"),
        ("lib/crypto/box.rs", "crypto"),
        ("lib/encrypt.py", "crypto"),
        ("src/parser.py", None),
        ("docs/readme.md", None),
    ],
)
def test_tier_by_path(path: str, tier: str | None) -> None:
    assert _name(path) == tier


def test_first_matching_path_tier_wins_over_keywords() -> None:
    # The file is under billing/, the content talks about passwords: the path decides.
    assert _name("svc/billing/x.py", "check the password") == "money"


def test_path_beats_keyword_of_an_earlier_tier() -> None:
    assert _name("lib/crypto/x.py", "refund the amount") == "crypto"


@pytest.mark.parametrize(
    ("content", "tier"),
    [
        ("if password == stored:", "auth"),
        ("def check_password(user):", "auth"),
        ("user.getPassword()", "auth"),
        ("PASSWORD_HASH = 1", "auth"),
        ("parse the JWTToken header", "auth"),
        ("total = amount * rate", "money"),
        ("refundAmount = 0", "money"),
        ("sig = hmac.new(key)", "crypto"),
        ("passwords are great", None),  # whole words only
        ("discharge the battery", None),
        ("chargeback", None),
        ("print('hello')", None),
    ],
)
def test_tier_by_whole_word_keyword(content: str, tier: str | None) -> None:
    assert _name("src/module.py", content) == tier


def test_keyword_match_is_case_insensitive() -> None:
    assert _name("x.py", "Authenticate the caller") == "auth"
    assert _name("x.py", "CURRENCY codes") == "money"


def test_task_risk_names_the_tier() -> None:
    assert _name("src/parser.py", "", task_risk="crypto") == "crypto"
    assert _name("src/auth/x.py", "", task_risk="Money") == "money"


def test_unknown_task_risk_is_none_even_when_the_path_matches() -> None:
    assert _name("src/auth/x.py", "password", task_risk="nuclear") is None


def test_no_tiers_means_no_tier() -> None:
    assert tier_for("src/auth/x.py", "password", default_workflow(risk_tiers=[])) is None


def test_negated_path_and_team_order() -> None:
    wf = default_workflow(
        risk_tiers=[
            {"name": "payments", "paths": ["pay/**", "!pay/fixtures/**"], "keywords": []},
            {"name": "everything", "paths": ["**/*.py"], "keywords": []},
        ]
    )
    assert tier_for("pay/api.py", "", wf).name == "payments"  # type: ignore[union-attr]
    assert tier_for("pay/fixtures/data.py", "", wf).name == "everything"  # type: ignore[union-attr]


def test_invalid_patterns_are_skipped_and_reported() -> None:
    wf = default_workflow(
        risk_tiers=[{"name": "odd", "paths": ["!", "secure/**"], "keywords": ["  ", "vault"]}]
    )
    assert tier_for("secure/a.py", "", wf).name == "odd"  # type: ignore[union-attr]
    assert tier_for("x.py", "open the vault", wf).name == "odd"  # type: ignore[union-attr]
    problems = tier_problems(wf)
    assert len(problems) == 1 and "'odd'" in problems[0] and "'!'" in problems[0]
    assert tier_problems(WF) == []


def test_matched_keyword_names_the_word() -> None:
    auth = WF.risk_tiers[0]
    assert matched_keyword(auth, "verify the JWT signature") == "jwt"
    assert matched_keyword(auth, "nothing here") is None


def test_windows_separators_in_the_path_still_match() -> None:
    assert _name("src\\auth\\x.py") == "auth"


def _boundary(text: str, k: int) -> bool:
    """Reference model of a word edge between text[k-1] and text[k] (ASCII text)."""
    if k in (0, len(text)):
        return True
    a, b = text[k - 1], text[k]
    if not a.isalnum() or not b.isalnum():
        return True
    if a.islower() and b.isupper():
        return True  # camelCase hump
    return a.isupper() and b.isupper() and k + 1 < len(text) and text[k + 1].islower()


keywords = st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=8)
code_text = st.text(alphabet=string.ascii_letters + string.digits + "_ .()=", max_size=40)


@given(keywords, code_text, code_text, st.booleans())
def test_keyword_matches_exactly_at_word_edges(
    keyword: str, before: str, after: str, shout: bool
) -> None:
    wf = Workflow.model_validate({"risk_tiers": [{"name": "t", "keywords": [keyword]}]})
    content = before + (keyword.upper() if shout else keyword.capitalize()) + after
    n = len(keyword)
    expected = any(
        content[i : i + n].lower() == keyword
        and _boundary(content, i)
        and _boundary(content, i + n)
        for i in range(len(content) - n + 1)
    )
    assert (tier_for("x.txt", content, wf) is not None) == expected


@given(st.text(max_size=80), st.text(max_size=200))
def test_tier_for_never_raises(path: str, content: str) -> None:
    tier_for(path, content, WF)


@pytest.mark.parametrize(
    ("path", "content", "tier"),
    [
        # Words in comments and docstrings are not code: no tier.
        ("src/util.py", "# never log the password here\nx = 1\n", None),
        ("src/util.py", 'def f():\n    """Not for password hashing."""\n    return 1\n', None),
        ("src/util.ts", "/* token handling lives elsewhere */\nconst x = 1;\n", None),
        ("src/util.go", "// password: see auth\nvar x = 1\n", None),
        # The same words in code, string literals included, are.
        ("src/util.py", "x = os.environ['PASSWORD']  # read it\n", "auth"),
        ("src/util.py", "def check_password(p):\n    return p\n", "auth"),
        ("src/util.py", 's = "# password"\n', "auth"),
    ],
)
def test_keywords_count_in_code_only(path: str, content: str, tier: str | None) -> None:
    assert _name(path, content) == tier


def test_every_tier_decision_names_its_reason() -> None:
    from handrail.ledger.risk import decide_tier

    by_path = decide_tier("src/auth/tokens.py", "", WF)
    assert (
        by_path[0] is not None and by_path[1] == "its path src/auth/tokens.py matches '**/auth/**'"
    )
    by_word = decide_tier("src/util.py", "x = 1\ny = get_password()\n", WF)
    assert by_word[1] == "its code mentions `password` (line 2)"
    by_task = decide_tier("src/util.py", "", WF, task_risk="money")
    assert by_task[1] == 'its task says risk = "money"'
    assert decide_tier("src/util.py", "# password\n", WF) == (None, None)
    tier = tier_for("src/util.py", "y = get_password()\n", WF)
    assert tier is not None and tier.why.startswith("It is in this tier because its code")


@pytest.mark.parametrize(
    ("path", "tier"),
    [
        # A name that is not UTF-8 (git allows any bytes): its bytes kept as surrogates. re2
        # refused the text, and the gate stopped with a traceback.
        (b"src/auth/we\xffird.py".decode("utf-8", "surrogateescape"), "auth"),
        (b"src/we\xffird.py".decode("utf-8", "surrogateescape"), None),
        ("données/auth/clé.py", "auth"),
    ],
)
def test_a_name_that_is_not_utf8_is_matched_byte_by_byte(path: str, tier: str | None) -> None:
    assert _name(path) == tier


def test_non_ascii_path_patterns_match_the_same_names() -> None:
    wf = default_workflow(
        risk_tiers=[{"name": "données", "paths": ["données/**", "x/?.py"], "keywords": []}]
    )
    assert tier_for("données/a.py", "", wf).name == "données"  # type: ignore[union-attr]
    assert tier_for("x/a.py", "", wf).name == "données"  # type: ignore[union-attr]
    assert tier_for("autres/a.py", "", wf) is None
