"""A repeated `handrail check` reuses the previous run's output only when every input it
consumed is unchanged (`gate.reuse`).

Each test records a run on a tree old enough to be recorded (a file changed within
`RACY_NS` before a run is never trusted by its signature), proves the next run reuses it (the
`HANDRAIL_DEBUG_REUSE` marker on stderr), changes one input, and proves the run after is a full
one whose output equals a run with reuse turned off. Leaving that input out of the manifest
would make the last run reuse the stale output: each test fails then.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from repo_helpers import GOOD_SPEC, init_repo, record_passing_run, run

import handrail
from handrail.blocks.mark import wrap_lines
from handrail.blocks.markers import parse_blocks
from handrail.gate import reuse
from handrail.ledger.records import BlockMarked
from handrail.ledger.store import Ledger
from handrail.workspace import Workspace

WORDS = "def words(text):\n    return text.split()\n\n\ndef count(text):\n    return 1\n"
MARKER = "handrail: reused the previous run's result\n"
NOTES = ("handrail: not reusable:", "handrail: not reused:")
"""The debug notes of `HANDRAIL_DEBUG_REUSE` on a full run: why it did not reuse or record."""

# The date the check sees comes from a file outside the workspace, read before Handrail is
# imported: the test changes the clock without changing the environment (which is in the key
# on its own).
RUNNER = """
import datetime, sys
day = open(sys.argv[1]).read().strip()
if day:
    real = datetime.date

    class FakeDate(real):
        @classmethod
        def today(cls):
            return real.fromisoformat(day)

    datetime.date = FakeDate
import atexit, os
modules_file = os.environ.get("REUSE_TEST_MODULES")
if modules_file:  # what the run imported, written once it is over
    atexit.register(lambda: open(modules_file, "w").write(" ".join(sorted(sys.modules))))
from handrail.cli.entry import main
sys.exit(main(sys.argv[2:]))
"""


def _outer_env() -> dict[str, str]:
    """This process's environment less what the mutations set (`.ci/run` runs with CI=true:
    setting it again would change nothing, and the run after would rightly reuse)."""
    return {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}


class Tree:
    """A workspace with a task, a recorded block, a context file and a cadence; in a git
    repository, or (`in_git=False`) a plain folder whose files Handrail lists itself."""

    def __init__(self, root: Path, *, in_git: bool = True) -> None:
        self.root = root
        self.day_file = root.parent / "today.txt"
        self.day_file.write_text("2026-06-01")
        self.env: dict[str, str] = {}
        self.why: list[str] = []
        self.cwd = root
        self.watched: list[Path] = []
        """Folders outside the tree whose files the runs read (aged with it)."""
        init_repo(
            root,
            {
                "src/words.py": WORDS,
                "src/extra.py": "def extra():\n    return 2\n",
                "docs/notes.md": "Words are split on blanks.\n",
            },
        )
        wf = Workspace.at(root).workflow_path
        text = wf.read_text()
        # Due on 2026-06-01: the run "today" has no cadence finding, a run two days later has.
        for key, value in (("reviewed", "2026-05-02"), ("review_every_days", "30")):
            start = text.index(f"\n{key} = ") + 1
            end = text.index("\n", start)
            text = text[:start] + f"{key} = {value}" + text[end:]
        wf.write_text(text)
        result = run(
            root, "task", "new", GOOD_SPEC, "--context", "src/words.py", "--context",
            "docs/notes.md", "--json",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        self.task = json.loads(result.output)["task"]
        self.block = self.mark("src/words.py", 1)
        self.mark("src/extra.py", 2)
        _verified(self, "src/words.py")
        if not in_git:
            shutil.rmtree(root / ".git")
        # The first run in a new cache folder builds the tokenizer's copy there (importing
        # an HTTP client that probes a socket): not reusable, and not what these tests are about.
        self.check(reuse_on=False)

    def mark(self, rel: str, number: int, *, record: bool = True) -> str:
        path = self.root / rel
        text = wrap_lines(path.read_text(), 1, 2, f"{self.task}.{number}", rel)
        path.write_text(text)
        block = parse_blocks(text, rel).blocks[0]
        if record:
            Ledger(Workspace.at(self.root)).append(
                BlockMarked.create(
                    block_id=block.id,
                    task_id=self.task,
                    path=rel,
                    content_hash=block.content_hash,
                    begin_line=block.begin_line,
                    end_line=block.end_line,
                    author="Ada",
                )
            )
        return block.id

    def age(self) -> None:
        """Wait until every file of the tree is older than the racy window (polling the clock:
        what decides the test is the recorded signatures, never how long a run takes)."""
        cache = Path(os.environ["HANDRAIL_CACHE_DIR"])
        newest = max(
            max(p.stat().st_mtime_ns, p.stat().st_ctime_ns)
            for folder in [self.root, cache, *self.watched]
            for p in [folder, *folder.rglob("*")]
            if not p.is_symlink()
        )
        while time.time_ns() <= newest + reuse.RACY_NS:
            time.sleep(0.1)

    def check(self, *args: str, reuse_on: bool = True) -> tuple[tuple[int, str, str], bool]:
        """((exit code, stdout, stderr), whether the run reused an earlier one)."""
        env = {**_outer_env(), **self.env, reuse.DEBUG_ENV: "1"}
        if not reuse_on:
            env[reuse.DISABLE_ENV] = "1"
        done = subprocess.run(
            # -P: as the console script, the current folder is not on the import path.
            [sys.executable, "-P", "-c", RUNNER, str(self.day_file), "check", *args],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        reused = MARKER in done.stderr
        self.why = [
            line
            for line in done.stderr.splitlines()
            if line.startswith(("handrail: not reusable:", "handrail: not reused:"))
        ]
        err = "".join(
            line
            for line in done.stderr.replace(MARKER, "").splitlines(keepends=True)
            if not line.startswith(("handrail: not reusable:", "handrail: not reused:"))
        )
        return (done.returncode, done.stdout, err), reused

    def recorded(self, *args: str) -> tuple[int, str, str]:
        """Record a run, and prove the next one reuses it; the output."""
        self.age()
        first, reused = self.check(*args)
        assert not reused
        second, reused = self.check(*args)
        assert reused, f"an unchanged tree was not reused: {self.why}"
        assert second == first
        return first

    def assert_fresh(self, *args: str) -> tuple[int, str, str]:
        """The next run is a full one, and prints what a run without reuse prints."""
        got, reused = self.check(*args)
        assert not reused, "a changed input was missed: the stale result was reused"
        want, _ = self.check(*args, reuse_on=False)
        assert got == want
        return got


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path / "repo")


def _edit_block(t: Tree) -> None:
    path = t.root / "src/words.py"
    path.write_text(path.read_text().replace("text.split()", "text.split(' ')"))


def _new_marked_file(t: Tree) -> None:
    (t.root / "src/new.py").write_text("def new():\n    return 3\n")
    t.mark("src/new.py", 3, record=False)


def _new_marked_file_in_new_folder(t: Tree) -> None:
    (t.root / "src" / "deep").mkdir()
    (t.root / "src/deep/new.py").write_text("def new():\n    return 3\n")
    t.mark("src/deep/new.py", 3, record=False)


def _delete_file(t: Tree) -> None:
    (t.root / "src/extra.py").unlink()


def _ignore_file(t: Tree) -> None:
    with (t.root / ".gitignore").open("a") as handle:
        handle.write("src/extra.py\n")


def _verified(t: Tree, rel: str = "src/extra.py") -> None:
    record_passing_run(t.root, rel, t.task, started="2026-05-30T10:00:00+00:00")


def _edit_workflow(t: Tree) -> None:
    wf = Workspace.at(t.root).workflow_path
    wf.write_text(wf.read_text().replace("review_every_days = 30", "review_every_days = 7"))


def _edit_task(t: Tree) -> None:
    (task_file,) = (t.root / ".handrail" / "tasks").glob(f"{t.task}*.toml")
    # A spec too vague to build from: the gate says so (HR10x).
    task_file.write_text(task_file.read_text().replace(GOOD_SPEC, "Make it better."))


def _edit_context(t: Tree) -> None:
    with (t.root / "docs/notes.md").open("a") as handle:
        handle.write("aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'\n")


def _past_deadline(t: Tree) -> None:
    t.day_file.write_text("2026-06-03")


def _ci(t: Tree) -> None:
    t.env["CI"] = "true"


def _no_color(t: Tree) -> None:
    t.env["NO_COLOR"] = "1"


MUTATIONS: dict[str, Callable[[Tree], None]] = {
    "block content edited": _edit_block,
    "new untracked file with markers": _new_marked_file,
    "new marked file in a new folder": _new_marked_file_in_new_folder,
    "file deleted": _delete_file,
    ".gitignore ignores a marked file": _ignore_file,
    "verification recorded": _verified,
    "workflow edited": _edit_workflow,
    "task file edited": _edit_task,
    "context file edited": _edit_context,
    "date past the cadence deadline": _past_deadline,
    "CI set": _ci,
    "NO_COLOR set": _no_color,
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_changed_input_is_never_reused(tree: Tree, name: str) -> None:
    # The text format names the local documentation except in CI: the JSON one never does.
    args = () if name in ("CI set", "NO_COLOR set") else ("--format", "json")
    before = tree.recorded(*args)
    MUTATIONS[name](tree)
    after = tree.assert_fresh(*args)
    if name not in ("NO_COLOR set",):  # the others change what the gate says
        assert after != before, f"{name}: the test's change should change the result"


OUTSIDE_GIT = [
    "block content edited",
    "new untracked file with markers",
    "new marked file in a new folder",
    "file deleted",
    ".gitignore ignores a marked file",
    "verification recorded",
]


@pytest.mark.parametrize("name", OUTSIDE_GIT)
def test_a_changed_input_is_never_reused_outside_git(tmp_path: Path, name: str) -> None:
    # No git answer to compare: the folders Handrail walked and the files it read are all
    # there is, so a new file is seen only by its folder's times.
    tree = Tree(tmp_path / "plain", in_git=False)
    assert not (tree.root / ".git").exists()
    before = tree.recorded("--format", "json")
    MUTATIONS[name](tree)
    after = tree.assert_fresh("--format", "json")
    assert after != before, f"{name}: the test's change should change the result"


def test_a_run_that_scans_a_changed_context_file_is_recorded(tree: Tree) -> None:
    # The scan of a changed file imports detect-secrets, and with it urllib3, which binds a
    # loopback socket to learn whether IPv6 works: that reads nothing, and the run records.
    tree.recorded("--format", "json")
    _edit_context(tree)
    tree.age()
    first, reused = tree.check("--format", "json")
    assert not reused
    assert not any("not reusable" in why for why in tree.why), tree.why
    again, reused = tree.check("--format", "json")
    assert reused and again == first


def test_a_socket_that_connects_is_never_recorded(
    tmp_path: Path, recorder_in: Callable[[Path], reuse.Recorder]
) -> None:
    import socket

    root = tmp_path / "ws"
    root.mkdir()
    recorder = recorder_in(root)
    recorder.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        assert recorder.reusable, recorder.why
        probe.connect(("127.0.0.1", 9))
    recorder.stop()
    assert not recorder.reusable and recorder.why == "socket.connect"


def test_a_replay_imports_none_of_the_engine(tree: Tree, tmp_path: Path) -> None:
    # What makes it 2.3x its floor instead of 11x (bench/README.md): no pydantic, no engine,
    # not even the option parser. (The file is outside the tree, written after the run.)
    modules = tmp_path / "modules.txt"
    tree.env["REUSE_TEST_MODULES"] = str(modules)
    tree.recorded("--format", "json")  # the second run of the two replays
    loaded = set(modules.read_text().split())
    assert "handrail.gate.reuse" in loaded
    heavy = {"pydantic", "click", "handrail.analysis", "handrail.gate.run", "handrail.files"}
    assert not heavy & loaded, sorted(heavy & loaded)


def test_text_output_is_reused_and_other_argv_is_not(tree: Tree) -> None:
    text = tree.recorded()
    assert tree.assert_fresh("--format", "json") != text
    assert tree.check()[0] == text


def test_a_handrail_source_change_is_never_reused(tree: Tree, tmp_path: Path) -> None:
    # A copy of the package (an editable install changes without a version bump), first on
    # the path for both runs.
    copy = tmp_path / "pkg" / "handrail"
    shutil.copytree(Path(handrail.__file__).parent, copy, symlinks=False)
    tree.env["PYTHONPATH"] = str(copy.parent)
    tree.watched.append(copy)
    before = tree.recorded("--format", "json")
    assert str(copy) in json.dumps(_manifest(tree))
    report = copy / "report" / "json_format.py"
    report.write_text(report.read_text() + "\nimport sys\nsys.stdout.write('patched\\n')\n")
    after = tree.assert_fresh("--format", "json")
    assert after[1].startswith("patched") and not before[1].startswith("patched")


def _manifest_files(tree: Tree) -> list[Path]:
    folder = Path(os.environ["HANDRAIL_CACHE_DIR"]) / "check-reuse"
    return sorted(folder.glob("*.json"))


def _manifest(tree: Tree) -> dict[str, object]:
    (path,) = _manifest_files(tree)
    loaded = json.loads(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_manifest_lives_in_the_cache_folder_never_the_repository(tree: Tree) -> None:
    tree.recorded()
    assert _manifest_files(tree)
    assert not [p for p in tree.root.rglob("*") if "check-reuse" in str(p)]


def test_a_cache_folder_inside_the_workspace_is_never_used(tree: Tree) -> None:
    # A manifest that came with the repository (planted there) must not decide the gate.
    tree.env["HANDRAIL_CACHE_DIR"] = str(tree.root / ".cache")
    tree.age()
    tree.check()
    tree.assert_fresh()
    assert not (tree.root / ".cache" / "check-reuse").exists()


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_manifest_means_a_full_run(tree: Tree, damage: str) -> None:
    tree.recorded("--format", "json")
    (path,) = _manifest_files(tree)
    data = path.read_bytes()
    path.write_bytes(b"\x00\xff not json" if damage == "garbage" else data[: len(data) // 2])
    tree.assert_fresh("--format", "json")
    assert tree.check("--format", "json")[1], "the full run wrote a new manifest"


@pytest.mark.parametrize("damage", ["writable by others", "owned by another user", "other key"])
def test_a_manifest_not_trusted_is_never_replayed(tree: Tree, damage: str) -> None:
    # The manifest's output is what a replay prints: one someone else could have written, or
    # one of another key, must never be printed (here it says "forged").
    tree.recorded("--format", "json")
    (path,) = _manifest_files(tree)
    manifest = json.loads(path.read_text())
    manifest["output"] = [[1, "forged\n"]]
    if damage == "other key":
        manifest["key"]["argv"] = ["--format", "text"]
    path.write_text(json.dumps(manifest))
    if damage == "writable by others":
        path.chmod(0o666)
    elif damage == "owned by another user":
        if os.getuid() != 0:
            pytest.skip("only root can give a file to another user")
        os.chown(path, 4242, -1)
    got = tree.assert_fresh("--format", "json")
    assert "forged" not in got[1]


def test_a_manifest_in_the_cache_folder_is_trusted(tree: Tree) -> None:
    # The other side of the test above: the user's own manifest is believed as it is (the
    # cache folder is the user's, like their shell history), so the checks above are what
    # keep a forged one out.
    tree.recorded("--format", "json")
    (path,) = _manifest_files(tree)
    manifest = json.loads(path.read_text())
    manifest["output"] = [[1, "forged\n"]]
    path.write_text(json.dumps(manifest))
    (_, out, _), reused = tree.check("--format", "json")
    assert reused and out == "forged\n"


def test_a_new_workspace_root_below_is_never_reused(tree: Tree) -> None:
    # Run from src/: the workspace is the repository. A `.handrail/` made in src/ makes src/
    # the workspace; only a stat said it was missing before.
    tree.cwd = tree.root / "src"
    before = tree.recorded("--format", "json")
    (tree.root / "src" / ".handrail").mkdir()
    after = tree.assert_fresh("--format", "json")
    assert after != before


def test_a_reader_gone_away_is_exit_1_without_a_traceback(tree: Tree) -> None:
    # `handrail check | head` on a replay: as a full run, exit 1 and no second error. The
    # pipe's reading end is closed before the run starts, so every write fails.
    tree.recorded("--format", "json")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-c", RUNNER, str(tree.day_file), "check", "--format", "json"],
            cwd=tree.cwd,
            env={**_outer_env(), **tree.env},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Error" not in done.stderr


def test_options_that_write_never_reuse(tree: Tree) -> None:
    tree.recorded()
    _, reused = tree.check("--commits", "HEAD")
    assert not reused


def _hypothesis_tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    return Tree(tmp_path_factory.mktemp("hyp") / "repo")


STEPS = [*MUTATIONS, "nothing"]


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=3))
def test_every_run_prints_what_a_fresh_run_prints(
    tmp_path_factory: pytest.TempPathFactory, steps: list[str]
) -> None:
    tree = _hypothesis_tree(tmp_path_factory)
    tree.age()
    tree.check("--format", "json")
    for step in steps:
        if step != "nothing":
            MUTATIONS[step](tree)
        tree.age()
        got, reused = tree.check("--format", "json")
        want, _ = tree.check("--format", "json", reuse_on=False)
        assert got == want, (steps, step, reused)
        if step == "nothing":
            assert reused


# -- the recorder's rules, in this process ---------------------------------------------------


@pytest.fixture
def recorder_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Path], reuse.Recorder]]:
    """A recorder for a run in `root` (the cache folder beside it), stopped after the test."""
    monkeypatch.setenv("HANDRAIL_CACHE_DIR", str(tmp_path / "cache"))
    made: list[reuse.Recorder] = []

    def make(root: Path) -> reuse.Recorder:
        monkeypatch.chdir(root)
        recorder = reuse.Recorder(["--format", "json"])
        recorder.root = root
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.stop()


def _old_file(path: Path, text: str) -> None:
    path.write_text(text)
    while time.time_ns() <= path.stat().st_ctime_ns + reuse.RACY_NS:
        time.sleep(0.02)


def test_a_file_changed_after_the_run_read_it_is_never_replayed(
    tmp_path: Path, recorder_in: Callable[[Path], reuse.Recorder]
) -> None:
    # Each signature is taken before the run reads the file, and there is no second look at
    # the end: a change made while the run goes on must still show at the next run.
    root = tmp_path / "ws"
    root.mkdir()
    _old_file(root / "a.txt", "one\n")
    recorder = recorder_in(root)
    recorder.start()
    recorder.capture_output()
    assert (root / "a.txt").read_text() == "one\n"
    (root / "a.txt").write_text("two\n")  # same size: only the times and ctime move
    recorder.finish(0)
    recorder.stop()
    assert recorder.save() is None
    manifest = reuse.load(recorder.key)
    assert manifest is not None
    assert reuse._first_change(manifest) == f"{root / 'a.txt'} changed"


def test_a_folder_entry_stat_is_an_input(
    tmp_path: Path, recorder_in: Callable[[Path], reuse.Recorder]
) -> None:
    # A folder is recorded by its own times; a run that asks an entry for its size or times reads
    # the file's signature, so the file is recorded like one it opened.
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    _old_file(root / "sub" / "big.bin", "x" * 10)
    _old_file(root / "sub" / "other.bin", "y")
    recorder = recorder_in(root)
    recorder.start()
    with os.scandir(root / "sub") as entries:
        sizes = {e.name: e.stat().st_size for e in entries if e.name == "big.bin"}
    recorder.stop()
    assert sizes == {"big.bin": 10}
    assert str(root / "sub" / "big.bin") in recorder.files
    assert str(root / "sub" / "other.bin") not in recorder.files
    assert str(root / "sub") in recorder.dirs
    assert recorder.reusable, recorder.why


def test_whole_second_times_widen_the_racy_window() -> None:
    now = time.time_ns()
    fine = now - 5 * reuse.RACY_NS + 1  # well before the window
    assert reuse._newest_of(fine, fine) == fine
    whole = (now // 1_000_000_000 - 1) * 1_000_000_000  # a second ago, to the second
    assert reuse._newest_of(whole, whole) > now - reuse.RACY_NS


MOUNTS = """\
20 1 253:0 / / rw,relatime - ext4 /dev/vda rw
40 20 0:45 / /mnt/shared rw,relatime - nfs4 server:/export rw
41 40 253:16 / /mnt/shared/local rw - xfs /dev/vdb rw
42 20 0:50 / /mnt/my\\040fuse rw - fuse.sshfs sshfs rw
"""


@pytest.mark.parametrize(
    ("path", "trusted"),
    [
        ("/home/ada/repo", True),
        ("/mnt/shared/repo", False),
        ("/mnt/shared/local/repo", True),
        ("/mnt/sharedness/repo", True),  # a prefix of the name is not the mount point
        ("/mnt/my fuse/repo", False),
    ],
)
def test_reuse_is_recorded_only_on_local_file_systems(
    tmp_path: Path, path: str, trusted: bool
) -> None:
    mounts = tmp_path / "mountinfo"
    mounts.write_text(MOUNTS)
    why = reuse.local_file_system(path, reuse.mount_table(str(mounts)))
    assert (why is None) == trusted, why


@pytest.mark.parametrize("before_ms", [50, 150])
def test_an_input_changed_just_before_the_run_is_not_vouched_for(
    tmp_path: Path, recorder_in: Callable[[Path], reuse.Recorder], before_ms: int
) -> None:
    # Changed within the racy window before the run: the same clock tick could hold another
    # change that leaves the signature as it is, so the run records nothing. The run's start
    # is set from the file's own change time, so no scheduling delay decides the test.
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text("new\n")
    changed = max((root / "sub").stat().st_ctime_ns, (root / "sub" / "a.txt").stat().st_ctime_ns)
    recorder = recorder_in(root)
    recorder.started_ns = changed + before_ms * 1_000_000
    recorder.start()
    assert (root / "sub" / "a.txt").read_text() == "new\n"
    recorder.stop()
    if before_ms * 1_000_000 < reuse.RACY_NS:
        assert not recorder.reusable
        assert recorder.why == f"{root / 'sub' / 'a.txt'} changed just before the run"
    else:
        assert recorder.reusable, recorder.why
    recorder = recorder_in(root)
    recorder.started_ns = changed + before_ms * 1_000_000
    recorder.start()
    with os.scandir(root / "sub") as entries:
        names = [e.name for e in entries]
    recorder.stop()
    assert names == ["a.txt"]
    assert recorder.reusable == (before_ms * 1_000_000 >= reuse.RACY_NS), recorder.why


def test_only_python_s_library_folders_are_left_to_the_key(
    tmp_path: Path, recorder_in: Callable[[Path], reuse.Recorder]
) -> None:
    # A workspace may lie under Python's prefix (`/usr/src/app` with `/usr/bin/python3`):
    # only the library folders are covered by the key, and a workspace in one never records.
    folders = reuse._library_folders()
    assert os.path.join(os.path.abspath(sys.prefix), "") not in folders
    assert os.path.join(os.path.abspath(sys.base_prefix), "") not in folders
    root = tmp_path / "lib" / "ws"
    (root / ".venv").mkdir(parents=True)
    _old_file(root / ".venv" / "mod.py", "x = 1\n")
    _old_file(tmp_path / "lib" / "other.py", "y = 2\n")
    recorder = recorder_in(root)
    recorder._outside = (os.path.join(str(root / ".venv"), ""), str(tmp_path / "lib") + os.sep)
    recorder.start()
    (root / ".venv" / "mod.py").read_text()
    (tmp_path / "lib" / "other.py").read_text()
    recorder.stop()
    # In the workspace: an input, even in a library folder; outside it: left to the key.
    assert str(root / ".venv" / "mod.py") in recorder.files
    assert str(tmp_path / "lib" / "other.py") not in recorder.files
    recorder.finish(0)
    recorder.capture_output()
    recorder.stop()
    assert recorder.save() == "the workspace lies in Python's library folders"


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm")
def test_a_workspace_under_dev_is_recorded_and_devices_are_not(
    recorder_in: Callable[[Path], reuse.Recorder],
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        root = Path(folder)
        _old_file(root / "a.py", "x = 1\n")
        recorder = recorder_in(root)
        recorder.start()
        (root / "null.py").symlink_to(os.devnull)
        os.utime(root / "null.py", (0, 0), follow_symlinks=False)
        (root / "a.py").read_text()
        with open(os.devnull, "w") as null:
            null.write("nothing")
        recorder.stop()
        assert str(root / "a.py") in recorder.files
        assert os.devnull not in recorder.files
        assert recorder.reusable, recorder.why
        # The link, not what it points to: pointed elsewhere, it is another link.
        link = str(root / "null.py")
        recorder.files.pop(link, None)
        recorder.start()
        (root / "null.py").read_text()
        recorder.stop()
        assert len(recorder.files[link]) == 1
        assert reuse.file_signatures(link) == recorder.files[link]


class _Both:
    """stdout and stderr at once, as a terminal shows them: one list, in write order."""

    def __init__(self, number: int, seen: list[tuple[int, str]]) -> None:
        self.number = number
        self.seen = seen

    def write(self, text: str) -> int:
        self.seen.append((self.number, text))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_a_replay_writes_both_streams_in_the_order_the_run_did(
    tmp_path: Path,
    recorder_in: Callable[[Path], reuse.Recorder],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    seen: list[tuple[int, str]] = []
    monkeypatch.setattr(sys, "stdout", _Both(1, seen))
    monkeypatch.setattr(sys, "stderr", _Both(2, seen))
    recorder = recorder_in(root)
    recorder.start()
    recorder.capture_output()
    for number, text in [(1, "a\n"), (2, "warning\n"), (1, "b\n"), (1, "c\n")]:
        (sys.stdout if number == 1 else sys.stderr).write(text)
    recorder.finish(1)
    recorder.stop()
    assert recorder.save() is None
    manifest = reuse.load(recorder.key)
    assert manifest is not None
    written = list(seen)
    seen.clear()
    assert reuse.replay(manifest) == 1
    assert seen == [(1, "a\n"), (2, "warning\n"), (1, "b\nc\n")]
    assert "".join(t for _, t in seen) == "".join(t for _, t in written)


MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 27 0:45 / /mnt/shared rw,relatime shared:30 - nfs4 server:/export rw
41 27 0:46 / /mnt/fast rw,relatime - tmpfs tmpfs rw
"""


def test_local_devices_are_read_from_the_mount_table(tmp_path: Path) -> None:
    table = tmp_path / "mountinfo"
    table.write_text(MOUNTINFO)
    read = reuse.mount_table(str(table))
    assert reuse.local_devices(read) == {os.makedev(8, 1), os.makedev(0, 46)}
    assert reuse.mount_table(str(tmp_path / "missing")) is None
    assert reuse.local_devices(None) == set()


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no second file system to read")
def test_an_input_on_a_file_system_not_known_local_is_never_recorded(
    tmp_path: Path,
    recorder_in: Callable[[Path], reuse.Recorder],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A network share inside the workspace, or behind a symlink: its times may not move when
    # its content does. Here /dev/shm stands in for it (the mount table is made to know no
    # local file system, so only the workspace's own device is trusted).
    import tempfile

    root = tmp_path / "ws"
    root.mkdir()
    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        if os.stat(folder).st_dev == os.stat(root).st_dev:
            pytest.skip("/dev/shm is on the workspace's file system here")
        _old_file(Path(folder) / "shared.py", "x = 1\n")
        (root / "shared.py").symlink_to(Path(folder) / "shared.py")
        made = os.lstat(root / "shared.py").st_ctime_ns
        while time.time_ns() <= made + reuse.RACY_NS:
            time.sleep(0.02)
        recorder = recorder_in(root)
        recorder.start()
        recorder.capture_output()
        (root / "shared.py").read_text()
        recorder.finish(0)
        recorder.stop()
        monkeypatch.setattr(reuse, "local_devices", lambda table: set())
        assert recorder.save() == f"{root / 'shared.py'} is on a file system reuse cannot trust"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_place_of_a_manifest_is_a_full_run_not_a_hang(tree: Tree) -> None:
    tree.recorded("--format", "json")
    (path,) = _manifest_files(tree)
    path.unlink()
    os.mkfifo(path, 0o600)
    tree.assert_fresh("--format", "json")
