"""Line coverage per test for a Python verification command the team wrote, unchanged.

The command stays exactly as written (`python -m pytest -q`, `make test`, `tox -e py`). Its
environment gets three additions: a folder first on PYTHONPATH whose `sitecustomize.py`
starts coverage.py in every Python process the command starts (then runs the team's own
`sitecustomize`, if any), `COVERAGE_PROCESS_START` naming an rcfile handrail writes in a
temporary folder (data there too, never the team's `.coverage`), and `PYTEST_PLUGINS` adding a
small plugin that switches coverage's context to each test's node id and writes each test's
outcome. The team's own coverage configuration is never read or written by this layer, so their
`coverage run`/`--cov` runs and reports are untouched (nested under ours, theirs wins: see
docs/verification.md).

Only the files holding the blocks the run covers are measured (`[run] include`): it is cheaper
and it is all the evidence needs.

Which coverage core measures: on Python 3.12+ coverage's `sys.monitoring` core (`core =
sysmon`), which costs next to nothing, where the C tracer costs ~3x on a call-heavy suite
(bench/evidence_overhead.py). That core reports each line once and then disables it, so on
its own it cannot tell which test ran a line: the plugin re-arms the disabled events
(`sys.monitoring.restart_events()`) as each test starts. On 3.11 coverage falls back to its C
tracer by itself (our rcfile silences that warning). A core the team chose (`COVERAGE_CORE`
in the environment, `[run] core` in their coverage configuration) is used as is.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from handrail.evidence.lines import FileLines, LineCoverage

SITE_DIR = Path(__file__).resolve().parent / "site"
PLUGIN = "handrail_evidence_plugin"
_QUIET = (
    "no-data-collected, module-not-imported, module-not-measured, include-ignored, "
    "no-ctracer, couldnt-parse, already-imported, module-not-python, no-sysmon, "
    "no-sysmon-context"
)
FAST_CORE = "sysmon"
"""coverage's `sys.monitoring` core: used on 3.12+, ignored (C tracer) before."""


@dataclass(frozen=True, slots=True)
class PythonEvidence:
    """What the layer learned from one run."""

    coverage: LineCoverage
    """The measured block files (absent: the run never imported that file)."""
    tests: Mapping[str, str]
    """Node id -> passed, failed, error or skipped (the worst of its phases)."""
    collect_errors: tuple[str, ...] = ()
    pytest_exit: int | None = None
    """pytest's own exit status, when pytest ran under the plugin."""
    problem: str | None = None
    """Why the layer could not measure (coverage missing or crashed): the run "could not run"."""
    interpreters_without_coverage: tuple[str, ...] = ()


_SEVERITY = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


@dataclass(slots=True)
class PythonLayer:
    """One run's measuring set-up in `folder` (a fresh temporary folder the caller owns)."""

    folder: Path
    root: Path
    files: tuple[str, ...]
    """Workspace-relative `.py` files to measure."""
    _paths: dict[str, str] = field(default_factory=dict)

    @classmethod
    def prepare(cls, folder: Path, root: Path, files: Sequence[str]) -> PythonLayer:
        layer = cls(folder, root, tuple(sorted(set(files))))
        site = folder / "site"
        site.mkdir(parents=True)
        for name in ("sitecustomize.py", f"{PLUGIN}.py"):
            shutil.copyfile(SITE_DIR / name, site / name)
        for sub in ("data", "markers", "outcomes"):
            (folder / sub).mkdir()
        include: list[str] = []
        for rel in layer.files:
            for base in {str(root), os.path.realpath(root)}:
                path = os.path.join(base, *rel.split("/"))
                include.append(path)
                layer._paths[path] = rel
        rc = [
            "[run]",
            f"core = {_team_core(root) or FAST_CORE}",
            "parallel = true",
            f"data_file = {folder / 'data' / '.coverage'}",
            "include =",
            *(f"    {p}" for p in include),
            f"disable_warnings = {_QUIET}",
            # Save the data on SIGTERM too: `Pool.terminate()` ends workers that way (best
            # effort: a worker blocked outside Python may still lose its lines).
            "sigterm = true",
            "",
        ]
        (folder / "coveragerc").write_text("\n".join(rc), encoding="utf-8")
        return layer

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: ours) with the layer's additions; everything else unchanged."""
        env = dict(os.environ if base is None else base)
        site = str(self.folder / "site")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p)
        env["COVERAGE_PROCESS_START"] = str(self.folder / "coveragerc")
        env["HANDRAIL_EVIDENCE_DIR"] = str(self.folder)
        plugins = [p for p in env.get("PYTEST_PLUGINS", "").split(",") if p.strip()]
        env["PYTEST_PLUGINS"] = ",".join([*plugins, PLUGIN])
        return env

    def collect(self) -> PythonEvidence:
        """Read what the run left: markers, outcomes and the combined coverage data."""
        markers: dict[str, list[str]] = {}
        for path in sorted((self.folder / "markers").iterdir()):
            kind = path.name.rsplit(".", 1)[0]
            markers.setdefault(kind, []).append(_read(path))
        tests, collect_errors, exits = self._outcomes()
        try:
            coverage = self._coverage()
        except Exception as exc:  # coverage's own failure is the layer's, not the code's
            return PythonEvidence(
                {},
                tests,
                collect_errors,
                max(exits, default=None),
                problem=f"the coverage layer failed while reading its data ({exc})",
            )
        problem: str | None = None
        if markers.get("coverage-error"):
            problem = f"the coverage layer failed to start ({markers['coverage-error'][0]})"
        missing = tuple(sorted(set(markers.get("no-coverage", []))))
        if missing and not self._any_data():
            problem = (
                f"coverage is not installed in {missing[0]}, which runs the tests: install it "
                f"there (`{missing[0]} -m pip install coverage`)"
            )
        return PythonEvidence(
            coverage, tests, collect_errors, max(exits, default=None), problem, missing
        )

    def _any_data(self) -> bool:
        return any((self.folder / "data").iterdir())

    def _outcomes(self) -> tuple[dict[str, str], tuple[str, ...], list[int]]:
        tests: dict[str, str] = {}
        errors: list[str] = []
        exits: list[int] = []
        for path in sorted((self.folder / "outcomes").iterdir()):
            for line in _read(path).splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(entry, dict):
                    continue
                if isinstance(entry.get("test"), str) and entry.get("outcome") in _SEVERITY:
                    name, outcome = entry["test"], entry["outcome"]
                    old = tests.get(name)
                    if old is None or _SEVERITY[outcome] > _SEVERITY[old]:
                        tests[name] = outcome
                elif isinstance(entry.get("collect_error"), str):
                    errors.append(entry["collect_error"])
                elif isinstance(entry.get("exit"), int):
                    exits.append(entry["exit"])
        return tests, tuple(dict.fromkeys(errors)), exits

    def _coverage(self) -> LineCoverage:
        if not self._any_data():
            return {}
        import coverage

        rc = str(self.folder / "coveragerc")
        cov = coverage.Coverage(config_file=rc, data_file=str(self.folder / "data" / ".coverage"))
        excludes = _team_excludes(self.root)
        if excludes:
            cov.set_option("report:exclude_lines", excludes)
        cov.combine(data_paths=[str(self.folder / "data")], strict=False, keep=False)
        data = cov.get_data()
        found: dict[str, FileLines] = {}
        for measured in data.measured_files():
            rel = self._paths.get(measured) or self._paths.get(os.path.abspath(measured))
            if rel is None or rel in found:
                continue
            _name, statements, *_ = cov.analysis2(measured)
            executable = frozenset(statements) - _declaration_lines(Path(measured))
            # Every line that ran under any context (the empty one included): the same set as
            # `data.lines()`, without decoding every context's line bits a second time.
            contexts = data.contexts_by_lineno(measured)
            found[rel] = FileLines(
                executable=executable,
                executed=frozenset(contexts),
                tests_by_line={
                    line: frozenset(c for c in names if c)
                    for line, names in contexts.items()
                    if any(names)
                },
            )
        return found


_TEAM_CONFIGS = (".coveragerc", "setup.cfg", "tox.ini", "pyproject.toml")


def _team_excludes(root: Path) -> list[str]:
    """The line-exclusion patterns of the team's own coverage configuration (`exclude_lines`,
    `exclude_also`), so a line the team excluded (`pragma: no cover`, `if TYPE_CHECKING:`)
    is not counted as executable here either. Read, never written."""
    import coverage

    found: list[str] = []
    for name in _TEAM_CONFIGS:
        path = root / name
        if not path.is_file():
            continue
        try:
            team = coverage.Coverage(config_file=str(path), data_file=None)
            for option in ("report:exclude_lines", "report:exclude_also"):
                value = team.get_option(option)
                if isinstance(value, list):
                    found.extend(str(v) for v in value)
        except Exception:
            # Their configuration is theirs to fix; ours stands without it.
            continue
    return list(dict.fromkeys(found))


def _team_core(root: Path) -> str | None:
    """The coverage core the team's own configuration names (`[run] core`), if any. Read,
    never written; `COVERAGE_CORE` in the environment overrides every rcfile by itself."""
    import coverage

    for name in _TEAM_CONFIGS:
        path = root / name
        if not path.is_file():
            continue
        try:
            value = coverage.Coverage(config_file=str(path), data_file=None).get_option("run:core")
        except Exception:
            continue
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _declaration_lines(path: Path) -> frozenset[int]:
    """The header lines of every `def` and `class` (decorators included): they run when the
    module is imported, so they prove nothing about the body having run."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return frozenset()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            body = node.body[0].lineno if node.body else node.lineno + 1
            # `def f(): return 1` keeps its line: the body shares it.
            lines.update(range(first, body if body > node.lineno else node.lineno))
    return frozenset(lines)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
