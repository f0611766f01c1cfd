"""Issue 12.7 through `handrail check`: where help links point, and how a team sets it.

Every format links the web page of a code: the published documentation unless the workflow's
`[docs] url` or `--docs-url` names another http(s) root. Only local text output also names the
copy installed with the package (a file: URI, which works offline but only on this machine).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from repo_helpers import init_repo, run

from handrail.codes import DOCS_DIR, doc_url

BROKEN = "x = 1\n# handrail:begin zzzzzz.1\ny = 2\n# handrail:end zzzzzz.1\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "repo", {"src/a.py": BROKEN})


def _with_docs(root: Path, url: str) -> int:
    """Append `[docs] url = …` to the workflow file; the 1-based line of the `url` key."""
    path = root / ".handrail" / "workflow.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(f'{text}\n[docs]\nurl = "{url}"\n', encoding="utf-8")
    return len(path.read_text(encoding="utf-8").splitlines())


def test_every_machine_format_links_the_published_pages_by_default(repo: Path) -> None:
    sarif = json.loads(run(repo, "check", "--format", "sarif").output)
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert all(rule["helpUri"].startswith("https://") for rule in rules)
    document = json.loads(run(repo, "check", "--format", "json").output)
    assert document["findings"]
    for finding in document["findings"]:
        assert finding["url"] == doc_url(finding["code"])
        assert finding["url"].startswith("https://")
    github = run(repo, "check", "--format", "github").output
    assert f"Why and how to fix: {doc_url('HR306')}" in github
    for out in (json.dumps(sarif["runs"][0]["tool"]), json.dumps(document), github):
        assert "file:" not in out


def test_local_text_also_names_the_installed_copy_and_ci_text_does_not(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    local = run(repo, "check").output
    assert f"HR306 {doc_url('HR306')}" in local
    assert f"Offline, the pages installed with Handrail: {DOCS_DIR.as_uri()}/" in local
    assert (DOCS_DIR / "HR306.md").is_file()
    monkeypatch.setenv("CI", "true")
    in_ci = run(repo, "check").output
    assert f"HR306 {doc_url('HR306')}" in in_ci and "file:" not in in_ci


def test_the_workflow_docs_url_is_used_and_the_flag_wins(repo: Path) -> None:
    _with_docs(repo, "https://docs.example.org/handrail/")
    document = json.loads(run(repo, "check", "--format", "json").output)
    urls = {f["code"]: f["url"] for f in document["findings"]}
    assert urls["HR306"] == "https://docs.example.org/handrail/codes/HR306.md"
    flagged = run(
        repo, "check", "--format", "sarif", "--docs-url", "http://intra.example/r/{code}.html"
    )
    driver = json.loads(flagged.output)["runs"][0]["tool"]["driver"]
    assert driver["rules"][0]["helpUri"] == "http://intra.example/r/HR100.html"
    assert driver["informationUri"] == "http://intra.example/r"


def test_a_docs_url_that_is_no_web_address_is_hr400_on_its_line(repo: Path) -> None:
    line = _with_docs(repo, "file:///home/me/handrail-docs")
    result = run(repo, "check", "--format", "json")
    assert result.exit_code == 2
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "HR400"]
    assert finding["path"] == ".handrail/workflow.toml"
    assert finding["line"] == line
    assert "`url` in [docs]" in finding["message"]
    assert "must start with https:// or http:// (got file:)" in finding["message"]
    # Meanwhile links go on pointing at the web, never at the refused path.
    assert all("file:" not in f["url"] for f in json.loads(result.stdout)["findings"])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/docs", "must start with https:// or http:// (got ftp:)"),
        ("javascript:alert(1)", "must start with https:// or http:// (got javascript:)"),
        # VS Code runs a command: link of a diagnostic as an editor command.
        ("command:workbench.action.terminal.new", "(got command:)"),
        ("docs.example.org", "must start with https:// or http:// (got no scheme)"),
        ("https://", "names no host"),
        ("https://example.org/a b", "no spaces"),
    ],
)
def test_the_flag_refuses_what_is_no_web_address(repo: Path, url: str, reason: str) -> None:
    result = run(repo, "check", "--docs-url", url)
    assert result.exit_code == 2
    assert f"--docs-url {url!r}: " in result.output and reason in result.output
    assert "Traceback" not in result.output
