"""The click-free `handrail check` against the click command: the same findings, output and
exit code on every workspace here (the command-line tests' situations, the ledger's forged and
torn records, a plain folder, a Hypothesis-built tree), and the early git calls all used."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from repo_helpers import git, init_repo, record_passing_run, run

import handrail.cli.main as cli_main
from handrail import files
from handrail.blocks.mark import wrap_lines
from handrail.blocks.markers import parse_blocks
from handrail.cli.entry import main as entry_main
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

SPEC = (
    "Given a text and a count n, return the n most frequent words with their counts. "
    "It must order ties alphabetically and follow the style of words() in src/words.py."
)
WORDS = "def words(text):\n    return text.split()\n\n\ndef count(text):\n    return 1\n"


def _not_click(argv: object = None) -> int:
    raise AssertionError("the fast path handed the command line to click")


def _both(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """(exit code, stdout, stderr) of `handrail check ARGS` run fast, then through click."""
    capsys.readouterr()
    with monkeypatch.context() as patched:
        patched.setattr(cli_main, "main", _not_click)
        fast_code = entry_main(["check", *args])
    fast_out = capsys.readouterr()
    assert files.early_calls_waiting() == 0  # every early git call was the check's own
    click_code = cli_main.main(["check", *args])
    click_out = capsys.readouterr()
    return (fast_code, fast_out.out, fast_out.err), (click_code, click_out.out, click_out.err)


def _task(root: Path) -> str:
    result = run(root, "task", "new", SPEC, "--context", "src/words.py", "--json")
    assert result.exit_code == 0, result.output
    task: str = json.loads(result.output)["task"]
    return task


def _marked(root: Path, rel: str, task: str, number: int, *, record: bool = True) -> None:
    path = root / rel
    text = wrap_lines(path.read_text(), 1, 2, f"{task}.{number}", rel)
    path.write_text(text)
    if record:
        block = parse_blocks(text, rel).blocks[0]
        Ledger(Workspace.at(root)).append(
            BlockMarked.create(
                block_id=block.id,
                task_id=task,
                path=rel,
                content_hash=block.content_hash,
                begin_line=block.begin_line,
                end_line=block.end_line,
                author="Ada",
            )
        )


def _clean(root: Path) -> None:
    init_repo(root, {"src/words.py": WORDS})


def _unverified_block(root: Path) -> None:
    init_repo(root, {"src/words.py": WORDS, "README.md": "words\n"})
    _marked(root, "src/words.py", _task(root), 1)


def _block_without_record(root: Path) -> None:
    init_repo(root, {"src/words.py": WORDS})
    _marked(root, "src/words.py", _task(root), 1, record=False)


def _one_id_in_two_files(root: Path) -> None:
    init_repo(root, {"src/words.py": WORDS, "src/other.py": WORDS})
    task = _task(root)
    _marked(root, "src/words.py", task, 1)
    _marked(root, "src/other.py", task, 1, record=False)


def _invalid_workflow(root: Path) -> None:
    init_repo(root, {"src/words.py": WORDS})
    path = root / ".handrail" / "workflow.toml"
    path.write_text(path.read_text() + "\n[spec]\nmax_sentense = 3\n")


def _forged_ledger(root: Path) -> None:
    _unverified_block(root)
    folder = root / ".handrail" / "ledger"
    (folder / "forged.json").write_text('{"type": "verification_run", "passed": true}\n')
    (folder / "torn.json").write_text('{"type": "block_marked", "id": "x"')
    name = sorted(p for p in folder.iterdir() if p.name.startswith("0") or "-" in p.name)[0]
    data = json.loads(name.read_text())
    (folder / "dup.json").write_text(name.read_text().replace("{", '{"path":"x.py",', 1))
    assert data


def _ignored_and_untracked(root: Path) -> None:
    _unverified_block(root)
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    (root / "build" / "gen.py").write_text("# handrail:begin T-0000.9\nx = 1\n# handrail:end\n")
    (root / "new.py").write_text("# handrail:begin T-0000.8\nx = 1\n# handrail:end T-0000.8\n")
    wide = "# handrail:begin T-0000.7\nx = 1\n# handrail:end T-0000.7\n"
    (root / "wide.py").write_bytes(wide.encode("utf-16"))


def _committed(root: Path) -> None:
    _unverified_block(root)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "work")
    (root / "src" / "words.py").unlink()  # tracked, deleted from disk


def _verified_block(root: Path) -> None:
    """A block with a passing run recorded: the gate's clean path (HR301 where unmeasured)."""
    init_repo(root, {"src/words.py": WORDS})
    task = _task(root)
    _marked(root, "src/words.py", task, 1)
    record_passing_run(root, "src/words.py", task)


def _context_problems(root: Path) -> None:
    """A task whose context names a missing file and holds a secret (the context check)."""
    files = {"src/words.py": WORDS, "src/gone.py": "x = 1\n"}
    init_repo(root, {**files, "src/keys.py": 'AWS = "AKIAIOSFODNN7EXAMPLE"\n'})
    context = ["--context", "src/keys.py", "--context", "src/gone.py"]
    result = run(root, "task", "new", SPEC, *context, "--json")
    assert result.exit_code in (0, 1), result.output
    (root / "src" / "gone.py").unlink()


def _plain_folder(root: Path) -> None:
    """No git: the walk lists the files (and no early git call may start)."""
    _unverified_block(root)
    subprocess.run(["rm", "-rf", str(root / ".git")], check=True)


WORKSPACES: dict[str, Callable[[Path], None]] = {
    "clean": _clean,
    "unverified_block": _unverified_block,
    "block_without_record": _block_without_record,
    "one_id_in_two_files": _one_id_in_two_files,
    "invalid_workflow": _invalid_workflow,
    "forged_ledger": _forged_ledger,
    "ignored_and_untracked": _ignored_and_untracked,
    "committed_then_deleted": _committed,
    "plain_folder": _plain_folder,
    "verified_block": _verified_block,
    "context_problems": _context_problems,
}

ARGS = [
    [],
    ["--format", "json"],
    ["--format=sarif"],
    ["--format", "github", "--approved-by", "Bob", "--approved-by=Eve"],
    ["src"],
    ["src/words.py", "--no-color"],
    [".", "--docs-url", "https://docs.example.com/{code}"],
]


@pytest.mark.parametrize("name", sorted(WORKSPACES))
def test_fast_and_click_checks_agree(
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "repo"
    WORKSPACES[name](root)
    monkeypatch.chdir(root)
    for args in ARGS:
        if name == "committed_then_deleted" and "src/words.py" in args:
            continue  # no such file any more: click's error (see the test below)
        fast, slow = _both(capsys, monkeypatch, args)
        assert fast == slow, args


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py"], "missing.py: no such file or folder"),
        (["..", "../../.."], "is outside the workspace"),
        (["--docs-url", "ftp://docs"], "--docs-url 'ftp://docs'"),
        (["--format", "yaml"], "Invalid value for '--format'"),
        (["--color"], ""),  # colours asked for, output no terminal: click decides
    ],
)
def test_what_the_fast_path_declines_click_answers(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "repo"
    _unverified_block(root)
    (root / "src" / "sub").mkdir()
    monkeypatch.chdir(root / "src" / "sub")
    code = entry_main(["check", *args])
    out = capsys.readouterr()
    assert (code, out.out, out.err) == (cli_main.main(["check", *args]), *capsys.readouterr())
    assert message in out.err
    assert files.early_calls_waiting() == 0  # declined: the early git calls went too


_NAMES = st.sampled_from(["a.py", "b/c.py", "b/d.txt", "e/f/g.js", "h.md"])
_LINES = st.sampled_from(
    [
        "x = 1",
        "# handrail:begin {task}.1",
        "# handrail:end {task}.1",
        "# handrail:begin {task}.2",
        "# handrail:end {task}.2",
        "// handrail:begin {task}.3",
        "// handrail:end {task}.3",
        "# handrail:begin T-9999.1",
        "# handrail:end",
        "",
    ]
)


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tree=st.dictionaries(_NAMES, st.lists(_LINES, max_size=8), min_size=1, max_size=4),
    ignored=st.booleans(),
)
def test_fast_and_click_checks_agree_on_generated_trees(
    tree: dict[str, list[str]],
    ignored: bool,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path_factory.mktemp("tree") / "repo"
    init_repo(root, {"src/words.py": WORDS})
    task = _task(root)
    for rel, lines in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines).replace("{task}", task) + "\n")
    if ignored:
        (root / ".gitignore").write_text("b/\n")
    with monkeypatch.context() as here:
        here.chdir(root)
        for args in ([], ["--format", "json"]):
            fast, slow = _both(capsys, monkeypatch, args)
            assert fast == slow


_FAST = (
    "import sys\n"
    "from handrail.cli.entry import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stderr.write(f'click imported: {\"click\" in sys.modules}\\n')\n"
    "sys.exit(code)\n"
)
_CLICK = "import sys\nfrom handrail.cli.main import main\nsys.exit(main(sys.argv[1:]))\n"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_check_in_its_own_process_matches_click(fmt: str, tmp_path: Path) -> None:
    """Real streams, no capture: the console script's way against click's, byte for byte,
    and the fast one never imports click."""
    root = tmp_path / "repo"
    _forged_ledger(root)
    args = ["check", "--format", fmt]
    fast = subprocess.run([sys.executable, "-c", _FAST, *args], cwd=root, capture_output=True)
    slow = subprocess.run([sys.executable, "-c", _CLICK, *args], cwd=root, capture_output=True)
    *err, imported = fast.stderr.decode().splitlines(keepends=True)
    assert imported == "click imported: False\n"
    assert (fast.returncode, fast.stdout, "".join(err)) == (
        slow.returncode,
        slow.stdout,
        slow.stderr.decode(),
    )
    assert fast.returncode == 1 and b"HR309" in fast.stdout


@pytest.mark.parametrize("program", [_FAST, _CLICK])
def test_a_reader_that_goes_away_gets_no_traceback(program: str, tmp_path: Path) -> None:
    """`handrail check | head -1`: as click, a closed pipe ends the run quietly (exit 1, which
    the findings here give too, whichever comes first)."""
    root = tmp_path / "repo"
    _forged_ledger(root)
    proc = subprocess.Popen(
        [sys.executable, "-c", program, "check"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 1
    assert "Traceback" not in err and "Exception ignored" not in err
