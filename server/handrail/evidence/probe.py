"""The probe: do a block's tests notice when the block breaks?

A green run says the tests passed; it does not say they would fail if the block were wrong.
The probe makes the block wrong on purpose (`handrail.evidence.mutants`), one small change
at a time, runs the tests that executed the block against each mutant, and records how many
they caught ("caught 9 of 11") in a `ProbeRun` ledger record for the block's content hash.
A survivor is a concrete gap: "changing `<` to `<=` on line 14 still passes every test".

Safety, because the probe runs the block's verification command many times:

- The user's files are never changed. Each worker gets its own temporary copy of the tree
  (`handrail.files.list_files`: tracked and untracked files, not ignored ones) and mutates
  that copy; the copy's folder holding the block comes first on `PYTHONPATH`, so an
  installed copy of the package cannot stand in for it.
- Exactly the trust gate of `handrail verify`: nothing runs unless the command is trusted
  (HR403 otherwise).
- Each mutant runs in a fresh process with `PYTHONDONTWRITEBYTECODE=1` and no `__pycache__`
  beside the mutated file, so a stale `.pyc` (same size, same second) can never run instead.
- Each mutant has a timeout of a few times the clean run; a timeout counts as caught (a test
  run that never ends noticed something). A time budget bounds the whole probe.
- If any mutant survives, a sentinel (the file replaced by one that raises on import) must be
  caught; if it is not, the tests never loaded the copied file and no result is recorded.

Which tests run is the caller's choice (`tests`: pytest node ids, or None for the block's
whole verification command), so the runner does not care where the list comes from.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, NotRequired, TypedDict

from handrail.blocks.markers import decode_source, normalise_newlines, parse_blocks
from handrail.evidence.forkserver import ForkResult, ForkServer, ForkServerError, pytest_args
from handrail.evidence.mutants import Mutant, apply, generate
from handrail.ledger.records import MutantOutcome, ProbedMutant, ProbeRun
from handrail.process import RunResult, run_command
from handrail.workspace import Workspace

DEFAULT_BUDGET_S = 300.0
"""How long one block's probe may take in all before the rest of its mutants are skipped."""
DEFAULT_WORKERS = 2
TIMEOUT_FACTOR = 3.0
"""A mutant's run may take this many times the clean run (plus `TIMEOUT_SLACK_S`)."""
TIMEOUT_SLACK_S = 5.0
_OUTPUT_BYTES = 16 * 1024
_SENTINEL = 'raise ImportError("handrail probe: this file was replaced to check the copy runs")\n'

PYTHON_SUFFIXES = frozenset({".py", ".pyw"})
_LANGUAGES = {
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    ".kt": "Kotlin",
    ".rb": "Ruby",
    ".c": "C",
    ".h": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".cs": "C#",
    ".php": "PHP",
    ".swift": "Swift",
    ".sh": "shell",
    ".sql": "SQL",
    ".pyi": "Python stub",
}

# pytest options that take the next argument as their value: that argument is not a path.
_PYTEST_VALUE_OPTIONS = frozenset(
    {
        "-p",
        "-k",
        "-m",
        "-c",
        "-o",
        "-W",
        "-r",
        "-n",
        "--rootdir",
        "--ignore",
        "--ignore-glob",
        "--deselect",
        "--basetemp",
        "--confcutdir",
        "--junitxml",
        "--junit-xml",
        "--log-file",
        "--cov",
        "--cov-report",
        "--cov-config",
        "--tb",
        "--durations",
        "--maxfail",
        "--import-mode",
        "--override-ini",
        "--config-file",
    }
)


def language_of(path: str) -> str | None:
    """None for a Python file (the probe works there), else the language's name."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in PYTHON_SUFFIXES:
        return None
    return _LANGUAGES.get(suffix, f"{suffix} files" if suffix else "files without a suffix")


# -- choosing what runs --------------------------------------------------------------------------


def _pytest_index(argv: Sequence[str]) -> int | None:
    """The index of the last argv item that belongs to starting pytest, or None."""
    for index, item in enumerate(argv):
        if item == "-m" and index + 1 < len(argv) and argv[index + 1] == "pytest":
            return index + 1
        if index == 0 and PurePosixPath(item).name in ("pytest", "py.test"):
            return 0
    return None


def narrowed_argv(argv: Sequence[str], tests: Sequence[str], root: Path) -> tuple[str, ...] | None:
    """`argv` running only `tests` (pytest node ids), or None when `argv` is not pytest.

    The command's own options stay; the test paths it names (arguments that are files or
    folders of the workspace, or node ids) are replaced by `tests`.
    """
    start = _pytest_index(argv)
    if start is None:
        return None
    kept = list(argv[: start + 1])
    rest = list(argv[start + 1 :])
    skip_value = False
    for item in rest:
        if skip_value:
            kept.append(item)
            skip_value = False
            continue
        if item.startswith("-"):
            kept.append(item)
            skip_value = item in _PYTEST_VALUE_OPTIONS
            continue
        if "::" in item or (root / item).exists():
            continue  # a test path: replaced by the chosen node ids
        kept.append(item)
    return (*kept, *tests)


def fail_fast(argv: Sequence[str]) -> tuple[str, ...]:
    """`argv` with pytest's `-x` (stop at the first failure) when it is a pytest command: one
    failing test is enough to call a mutant caught, so the rest need not run."""
    start = _pytest_index(argv)
    if start is None:
        return tuple(argv)
    return (*argv[: start + 1], "-x", *argv[start + 1 :])


def _node_id(text: str) -> str:
    """A node id from a coverage context: `tests/test_a.py::test_x|run` -> without `|run`."""
    return text.split("|", 1)[0].strip()


def covering_tests(run: Any, block_id: str) -> list[str] | None:
    """The pytest node ids a recorded run says executed `block_id`, or None: run the whole
    command (nothing recorded, not measured, or not every test named).

    Read defensively, so the runner does not depend on one record shape: the run's per-block
    `coverage` (block id -> an entry whose `tests` maps node id -> lines, with `more_tests`
    counting tests left unnamed), or a plain `tests` mapping of block id -> node ids.
    An empty list means "measured: no test executed it".
    """
    for name in ("coverage", "tests"):
        value = getattr(run, name, None)
        if not isinstance(value, dict) or block_id not in value:
            continue
        entry = value[block_id]
        found = entry.get("tests") if isinstance(entry, dict) else getattr(entry, "tests", entry)
        if getattr(entry, "outcome", None) == "not_measured" or getattr(entry, "more_tests", 0):
            return None
        if not isinstance(found, dict | list | tuple | set | frozenset):
            return None
        ids = sorted({i for i in (_node_id(str(t)) for t in found) if i})
        if not ids and getattr(entry, "executed", None):
            return None  # lines ran, but no per-test attribution was recorded
        return ids
    return None


# -- the copy ------------------------------------------------------------------------------------


def copy_tree(ws: Workspace, dest: Path) -> int:
    """Copy the workspace's files (tracked and untracked, not ignored) into `dest`.

    No `__pycache__` or `.pyc` is copied. Symlinks are copied as links. Returns the count.
    """
    from handrail.files import list_files

    count = 0
    for rel in list_files(ws):
        parts = rel.split("/")
        if "__pycache__" in parts or rel.endswith((".pyc", ".pyo")):
            continue
        source = ws.root / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if source.is_symlink():
                os.symlink(os.readlink(source), target)
            elif source.is_file():
                shutil.copy2(source, target)
            else:
                continue
        except OSError:
            continue  # a file that vanished or cannot be read is not the probe's concern
        count += 1
    return count


def import_root(root: Path, rel: str) -> str:
    """The folder (relative to `root`, "" for the root) that `rel`'s module is imported from.

    The parent of its outermost package: `src/pkg/sub/mod.py` with `__init__.py` in `pkg` and
    `pkg/sub` gives `src`.
    """
    folder = PurePosixPath(rel).parent
    while str(folder) not in ("", ".") and (root / folder / "__init__.py").is_file():
        folder = folder.parent
    text = str(folder)
    return "" if text == "." else text


def _runnable_argv(argv: Sequence[str], ws_root: Path, copy_root: Path) -> tuple[str, ...]:
    """`argv` for the copy: a program named by a path inside the workspace that the copy does
    not hold (an ignored `.venv/bin/python`) runs from the workspace."""
    first = argv[0]
    relative = "/" in first and not os.path.isabs(first)
    if relative and not (copy_root / first).exists() and (ws_root / first).exists():
        first = str(ws_root / first)
    return (first, *argv[1:])


# -- results -------------------------------------------------------------------------------------

ProbeStatus = Literal[
    "probed",
    "not_available",
    "no_mutants",
    "no_tests",
    "clean_failed",
    "not_loaded",
    "cancelled",
    "block_missing",
]


@dataclass(frozen=True, slots=True)
class MutantResult:
    mutant: Mutant
    outcome: MutantOutcome
    duration_s: float = 0.0


@dataclass(slots=True)
class ProbeResult:
    """What probing one block did. `status` "probed" means the counts are real."""

    block_id: str
    path: str
    status: ProbeStatus
    message: str
    content_hash: str = ""
    argv: tuple[str, ...] = ()
    tests: list[str] | None = None
    clean_duration_s: float = 0.0
    duration_s: float = 0.0
    complete: bool = True
    results: list[MutantResult] = field(default_factory=list)

    @property
    def caught(self) -> int:
        return sum(1 for r in self.results if r.outcome in ("caught", "timed_out"))

    @property
    def tried(self) -> int:
        return sum(1 for r in self.results if r.outcome != "not_run")

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if r.outcome == "survived"]

    def summary(self) -> str:
        """ "caught 9 of 11 mutants", or why there is no count."""
        if self.status != "probed":
            return self.message
        text = f"caught {self.caught} of {self.tried} mutants"
        skipped = len(self.results) - self.tried
        if skipped:
            text += f" ({skipped} not run: the time budget ran out)"
        return text

    def record(self, task_id: str, author: str | None) -> ProbeRun:
        return ProbeRun.create(
            block_id=self.block_id,
            task_id=task_id,
            path=self.path,
            content_hash=self.content_hash,
            command=list(self.argv),
            tests=self.tests,
            clean_duration_s=round(self.clean_duration_s, 3),
            duration_s=round(self.duration_s, 3),
            complete=self.complete,
            mutants=[
                ProbedMutant(
                    id=r.mutant.id,
                    operator=r.mutant.operator,
                    line=r.mutant.line,
                    column=r.mutant.column,
                    block_line=r.mutant.block_line,
                    original=r.mutant.original,
                    replacement=r.mutant.replacement,
                    outcome=r.outcome,
                    duration_s=round(r.duration_s, 3),
                )
                for r in self.results
            ],
            author=author,
        )


ProbeEventKind = Literal["clean", "mutant", "sentinel"]


@dataclass(frozen=True, slots=True)
class ProbeEvent:
    """For a progress display: the clean run ended, or mutant `index` of `total` did."""

    kind: ProbeEventKind
    block_id: str
    index: int = 0
    total: int = 0
    result: MutantResult | None = None
    duration_s: float = 0.0


ProbeProgress = Callable[[ProbeEvent], None]


def probe_event_text(event: ProbeEvent, *, name_block_on_mutants: bool = True) -> str | None:
    """One progress line for `event`, as the CLI prints it and the editor reports it; None for
    events that say nothing to a person. Without `name_block_on_mutants` a mutant's line is
    indented under the "probe BLOCK: …" line that announced it (the CLI's layout)."""
    if event.kind == "clean":
        return (
            f"probe {event.block_id}: the tests pass unchanged in {event.duration_s:.1f} s; "
            f"trying {event.total} mutants"
        )
    if event.kind == "mutant" and event.result is not None:
        result = event.result
        label = {"timed_out": "timed out (caught)", "not_run": "not run (budget)"}.get(
            result.outcome, result.outcome
        )
        where = f"probe {event.block_id}: " if name_block_on_mutants else "  "
        return (
            f"{where}[{event.index}/{event.total}] line {result.mutant.line}: "
            f"{result.mutant.change()}: {label}"
        )
    if event.kind == "sentinel":
        return f"probe {event.block_id}: checked that the tests load the mutated copy"
    return None


# -- running -------------------------------------------------------------------------------------


class _Worker:
    """One copy of the tree, the file in it that mutants are written to, and (for a plain
    `python -m pytest` command) a fork server that runs pytest there without restarting."""

    def __init__(self, ws: Workspace, base: Path, rel: str, encode: Callable[[str], bytes]) -> None:
        self.root = base
        copy_tree(ws, base)
        self.file = base / rel
        self.encode = encode
        self.pycache = self.file.parent / "__pycache__"
        self.original = self.file.read_bytes() if self.file.exists() else b""
        self.server: ForkServer | None = None
        self.fork_server = True
        env = dict(os.environ)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        folder = import_root(base, rel)
        paths = [str(base / folder) if folder else str(base)]
        if folder:
            paths.append(str(base))
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        self.env = env

    def start_server(self, argv: Sequence[str]) -> None:
        """Start the fork server (it imports pytest while other work goes on)."""
        parsed = pytest_args(argv)
        if parsed is not None and self.fork_server:
            with contextlib.suppress(ForkServerError):
                self.server = ForkServer(parsed[0], self.root, self.env)

    def server_ready(self) -> bool:
        if self.server is None:
            return False
        try:
            self.server.wait_ready()
        except ForkServerError:
            self.server = None
            return False
        return True

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def _write(self, text: str | None) -> None:
        data = self.original if text is None else self.encode(text)
        self.file.write_bytes(data)
        shutil.rmtree(self.pycache, ignore_errors=True)

    def run_fresh(
        self, text: str | None, argv: Sequence[str], timeout_s: float, cancel: threading.Event
    ) -> RunResult:
        """Run `argv` in a new process with the file holding `text` (None: the original)."""
        self._write(text)
        try:
            return run_command(
                argv,
                cwd=self.root,
                timeout_s=timeout_s,
                max_output_bytes=_OUTPUT_BYTES,
                cancel=cancel,
                env=self.env,
            )
        finally:
            self.file.write_bytes(self.original)

    def run(
        self, text: str | None, argv: Sequence[str], timeout_s: float, cancel: threading.Event
    ) -> ForkResult:
        """Run `argv` with the file holding `text`: through the fork server when there is
        one, else (or when it fails) in a new process."""
        if self.server is not None:
            parsed = pytest_args(argv)
            assert parsed is not None
            self._write(text)
            try:
                return self.server.run(parsed[1], timeout_s, cancel)
            except ForkServerError:
                self.stop_server()
            finally:
                self.file.write_bytes(self.original)
        fresh = self.run_fresh(text, argv, timeout_s, cancel)
        return ForkResult(fresh.exit_code, fresh.timed_out, fresh.cancelled, fresh.duration_s)


def probe_block(
    ws: Workspace,
    *,
    block_id: str,
    path: str,
    argv: Sequence[str],
    tests: Sequence[str] | None,
    timeout_s: float,
    budget_s: float = DEFAULT_BUDGET_S,
    workers: int = DEFAULT_WORKERS,
    progress: ProbeProgress | None = None,
    cancel: threading.Event | None = None,
    fork_server: bool = True,
) -> ProbeResult:
    """Probe block `block_id` of workspace file `path` with its verification command `argv`.

    `tests` (pytest node ids) narrows a pytest command to those tests; None runs the whole
    command. `fork_server` False runs every mutant as a new process even for a plain
    `python -m pytest` (the benchmark compares both). The caller has checked that `argv` is
    trusted. Nothing in the workspace is written; the result is not recorded (see `record`).
    """
    started = time.monotonic()
    cancel = cancel or threading.Event()

    def result(status: ProbeStatus, message: str, **extra: Any) -> ProbeResult:
        return ProbeResult(
            block_id, path, status, message, duration_s=time.monotonic() - started, **extra
        )

    language = language_of(path)
    if language is not None:
        return result("not_available", f"probe not available for {language} (Python only)")
    source = ws.root / path
    try:
        text, encoding = decode_source(source.read_bytes())
    except OSError as exc:
        return result("block_missing", f"{path} cannot be read ({exc.strerror or exc})")
    normal = normalise_newlines(text)
    block = parse_blocks(normal, path).block(block_id)
    if block is None:
        return result("block_missing", f"there is no block {block_id} in {path}")
    digest = block.content_hash
    try:
        mutants = generate(normal, block.first_content_line, block.last_content_line)
    except (SyntaxError, ValueError) as exc:
        return result(
            "no_mutants",
            f"{path} is not valid Python ({exc}): nothing to probe",
            content_hash=digest,
        )
    if not mutants:
        return result(
            "no_mutants",
            "the block has nothing the probe mutates (no comparison, operator, constant, "
            "condition or returned value)",
            content_hash=digest,
        )
    if tests is not None and not tests:
        return result(
            "no_tests",
            "no test executed the block in its latest run: there is nothing for the probe to run",
            content_hash=digest,
        )
    chosen = tuple(argv)
    used: list[str] | None = None
    if tests is not None:
        narrowed = narrowed_argv(argv, tests, ws.root)
        if narrowed is not None:  # not pytest: the whole command runs, and we say so
            chosen, used = narrowed, list(tests)

    with tempfile.TemporaryDirectory(prefix="handrail-probe-") as temp:
        count = max(1, min(workers, len(mutants)))
        pool = [_Worker(ws, Path(temp) / f"w{i}", path, encoding.encode) for i in range(count)]
        run_argv = _runnable_argv(chosen, ws.root, pool[0].root)
        for worker in pool:
            worker.fork_server = fork_server
        info: dict[str, Any] = {
            "content_hash": digest,
            "argv": run_argv,
            "tests": used,
        }
        try:
            return _probe_in(
                pool,
                normal,
                mutants,
                run_argv,
                timeout_s,
                started + budget_s,
                cancel,
                progress,
                block_id,
                path,
                result,
                info,
            )
        finally:
            for worker in pool:
                worker.stop_server()


def _probe_in(
    pool: list[_Worker],
    normal: str,
    mutants: list[Mutant],
    run_argv: tuple[str, ...],
    timeout_s: float,
    deadline: float,
    cancel: threading.Event,
    progress: ProbeProgress | None,
    block_id: str,
    path: str,
    result: Callable[..., ProbeResult],
    info: dict[str, Any],
) -> ProbeResult:
    for worker in pool:
        worker.start_server(run_argv)
    clean_s: float | None = None
    if all([w.server_ready() for w in pool]):
        # The fast path, if it passes the unchanged code, gives the clean time; otherwise
        # the real command decides (and its output says why it fails).
        fast = pool[0].run(None, run_argv, timeout_s, cancel)
        if fast.cancelled:
            return result("cancelled", "cancelled", **info)
        if fast.passed:
            clean_s = fast.duration_s
    if clean_s is None:
        for worker in pool:
            worker.stop_server()
        clean = pool[0].run_fresh(None, run_argv, timeout_s, cancel)
        if clean.cancelled:
            return result("cancelled", "cancelled", **info)
        if not clean.passed:
            how = "timed out" if clean.timed_out else f"exited with code {clean.exit_code}"
            tail = clean.tail_text().strip().splitlines()[-5:]
            return result(
                "clean_failed",
                f"the tests do not pass on an unchanged copy of the workspace ({how}), so "
                "mutants cannot be judged" + (": " + " / ".join(tail) if tail else ""),
                clean_duration_s=clean.duration_s,
                **info,
            )
        clean_s = clean.duration_s
    if progress is not None:
        progress(ProbeEvent("clean", block_id, 0, len(mutants), duration_s=clean_s))
    per_mutant = min(timeout_s, max(clean_s * TIMEOUT_FACTOR, clean_s + TIMEOUT_SLACK_S))
    mutant_argv = fail_fast(run_argv)
    results = _run_mutants(
        pool, normal, mutants, mutant_argv, per_mutant, deadline, cancel, progress, block_id
    )
    if cancel.is_set():
        return result("cancelled", "cancelled", clean_duration_s=clean_s, **info)
    if any(r.outcome == "survived" for r in results):
        sentinel = pool[0].run(_SENTINEL, run_argv, per_mutant, cancel)
        if progress is not None:
            progress(ProbeEvent("sentinel", block_id, duration_s=sentinel.duration_s))
        if sentinel.passed:
            return result(
                "not_loaded",
                f"the tests still pass with {path} replaced by a file that fails on import "
                "in the probe's copy: they do not load it from there (an installed, "
                "non-editable copy of the package?), so the probe cannot judge them",
                clean_duration_s=clean_s,
                **info,
            )
    complete = all(r.outcome != "not_run" for r in results)
    return result(
        "probed",
        "",
        clean_duration_s=clean_s,
        complete=complete,
        results=results,
        **info,
    )


def _run_mutants(
    pool: list[_Worker],
    text: str,
    mutants: list[Mutant],
    argv: tuple[str, ...],
    timeout_s: float,
    deadline: float,
    cancel: threading.Event,
    progress: ProbeProgress | None,
    block_id: str,
) -> list[MutantResult]:
    """Each mutant in its own process, one at a time per worker copy, all workers at once."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(mutants)):
        todo.put(index)
    outcomes: dict[int, MutantResult] = {}
    lock = threading.Lock()
    done = [0]

    def work(worker: _Worker) -> None:
        while not cancel.is_set():
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            mutant = mutants[index]
            if time.monotonic() >= deadline:
                found = MutantResult(mutant, "not_run")
            else:
                run = worker.run(apply(text, mutant), argv, timeout_s, cancel)
                if run.cancelled:
                    return
                outcome: MutantOutcome
                if run.timed_out:
                    outcome = "timed_out"
                elif run.passed:
                    outcome = "survived"
                else:
                    outcome = "caught"
                found = MutantResult(mutant, outcome, run.duration_s)
            with lock:
                outcomes[index] = found
                done[0] += 1
                count = done[0]
            if progress is not None:
                with contextlib.suppress(Exception):
                    progress(ProbeEvent("mutant", block_id, count, len(mutants), found))

    threads = [
        threading.Thread(target=work, args=(w,), name=f"handrail-probe-{i}", daemon=True)
        for i, w in enumerate(pool)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [outcomes.get(i, MutantResult(m, "not_run")) for i, m in enumerate(mutants)]


# -- probing the blocks of a target --------------------------------------------------------------


class MutantJson(TypedDict):
    """One mutant tried on a block, and what its tests did."""

    id: str
    operator: str
    line: int
    column: int
    original: str
    replacement: str
    outcome: MutantOutcome


class BlockProbeJson(TypedDict):
    """`BlockProbe.as_json`: the result fields are there only when the block was probed."""

    block: str
    path: str
    skipped: str | None
    record: str | None
    write_error: str | None
    whole_command: bool
    required: bool
    status: NotRequired[ProbeStatus]
    message: NotRequired[str | None]
    summary: NotRequired[str]
    caught: NotRequired[int]
    tried: NotRequired[int]
    command: NotRequired[list[str]]
    tests: NotRequired[list[str] | None]
    clean_duration_s: NotRequired[float]
    duration_s: NotRequired[float]
    mutants: NotRequired[list[MutantJson]]


@dataclass(frozen=True, slots=True)
class BlockProbe:
    """One block of a `probe` call: its result, or why it was not probed (`skipped`)."""

    block_id: str
    task_id: str
    path: str
    line: int
    result: ProbeResult | None
    skipped: str = ""
    record: ProbeRun | None = None
    write_error: str | None = None
    whole_command: bool = False
    """True when no covering tests were recorded: every mutant ran the whole command."""
    required: bool = False
    """The block's risk tier asks for the probe (HR313 is then an error)."""
    tier: str | None = None
    """The block's risk tier, if it has one."""

    def as_json(self) -> BlockProbeJson:
        """The block's probe as `verify --json` and the editor's verify answer report it."""
        data: BlockProbeJson = {
            "block": self.block_id,
            "path": self.path,
            "skipped": self.skipped or None,
            "record": self.record.id if self.record else None,
            "write_error": self.write_error,
            "whole_command": self.whole_command,
            "required": self.required,
        }
        result = self.result
        if result is not None:
            data.update(
                {
                    "status": result.status,
                    "message": result.message or None,
                    "summary": result.summary(),
                    "caught": result.caught,
                    "tried": result.tried,
                    "command": list(result.argv),
                    "tests": result.tests,
                    "clean_duration_s": round(result.clean_duration_s, 3),
                    "duration_s": round(result.duration_s, 3),
                    "mutants": [
                        {
                            "id": r.mutant.id,
                            "operator": r.mutant.operator,
                            "line": r.mutant.line,
                            "column": r.mutant.column,
                            "original": r.mutant.original,
                            "replacement": r.mutant.replacement,
                            "outcome": r.outcome,
                        }
                        for r in result.results
                    ],
                }
            )
        return data

    @property
    def caught_nothing(self) -> bool:
        """Its tests caught none of the mutants tried (HR313's main finding)."""
        return self.result is not None and self.result.tried > 0 and self.result.caught == 0


@dataclass(slots=True)
class ProbeReport:
    blocks: list[BlockProbe] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)
    """HR403 when a command is not trusted (then nothing ran)."""
    untrusted: bool = False
    cancelled: bool = False

    def as_json(self) -> list[BlockProbeJson]:
        return [b.as_json() for b in self.blocks]
