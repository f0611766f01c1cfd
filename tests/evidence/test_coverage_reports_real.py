"""Reports written by the real tools, read back: which lines of which function ran.

Each fixture has a function the tests call and one they never call. Declaration lines may
count as executed (a module runs its `def` / `function` lines when it loads), so the
assertions are about body lines and function records.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handrail.evidence.reports import parse_report, read_report

FIXTURES = Path(__file__).parent / "fixtures"
NODE = shutil.which("node")
GO = shutil.which("go")

CALC_JS = """\
function add(a, b) {
  const sum = a + b;
  return sum;
}

function unused(a) {
  const doubled = a * 2;
  return doubled;
}

const one = (x) => x;

module.exports = { add, unused, one };
"""

CALC_TEST_JS = """\
const test = require('node:test');
const assert = require('node:assert');
const { add } = require('../src/calc.js');

test('add', () => {
  assert.strictEqual(add(1, 2), 3);
});
"""


def _node_package(folder: Path) -> None:
    (folder / "src").mkdir(parents=True)
    (folder / "test").mkdir()
    (folder / "package.json").write_text('{"name": "fixture", "version": "1.0.0"}\n')
    (folder / "src" / "calc.js").write_text(CALC_JS)
    (folder / "test" / "calc.test.js").write_text(CALC_TEST_JS)


def _run_node_tests(cwd: Path, destination: str) -> None:
    assert NODE is not None
    done = subprocess.run(
        [
            NODE,
            "--test",
            "--experimental-test-coverage",
            "--test-reporter=lcov",
            f"--test-reporter-destination={destination}",
            "test/calc.test.js",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(NODE is None, reason="node is not installed: no real LCOV to read")
def test_node_test_runner_lcov_tells_the_tested_function_from_the_untested(tmp_path: Path) -> None:
    _node_package(tmp_path)
    _run_node_tests(tmp_path, "lcov.info")

    coverage = parse_report(tmp_path / "lcov.info", tmp_path)

    calc = coverage["src/calc.js"]
    assert {2, 3} <= calc.executed  # add's body
    assert {7, 8} <= calc.executable - calc.executed  # unused's body: measured, never run
    hits = {fn.name: fn.hits for fn in calc.functions}
    assert hits["add"] == 1
    assert hits["unused"] == 0
    # The pitfall: node counts a one-line function's only line as run when the module loads,
    # while its function record says it was never called.
    one = next(fn for fn in calc.functions if fn.name == "one")
    assert one.first_line == 11 and one.hits == 0
    assert 11 in calc.executed


@pytest.mark.skipif(NODE is None, reason="node is not installed: no real LCOV to read")
def test_node_run_in_a_subfolder_maps_its_relative_paths_into_that_folder(tmp_path: Path) -> None:
    # A monorepo: the package lives in web/, its tests run there, LCOV says `SF:src/calc.js`.
    _node_package(tmp_path / "web")
    (tmp_path / "web" / "coverage").mkdir()
    _run_node_tests(tmp_path / "web", "coverage/lcov.info")

    result = read_report(tmp_path / "web" / "coverage" / "lcov.info", tmp_path)

    assert result.format == "lcov"
    assert set(result.coverage) == {"web/src/calc.js", "web/test/calc.test.js"}
    assert result.dropped == ()
    assert {2, 3} <= result.coverage["web/src/calc.js"].executed


def _coverage_py(workspace: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("COVERAGE_PROCESS_START", None)
    done = subprocess.run(
        [sys.executable, "-m", "coverage", *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _python_project(workspace: Path) -> None:
    package = workspace / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "calc.py").write_text(
        "def add(a, b):\n"
        "    total = a + b\n"
        "    return total\n"
        "\n"
        "\n"
        "def unused(a):\n"
        "    doubled = a * 2\n"
        "    return doubled\n"
    )
    (workspace / "check_calc.py").write_text(
        "import sys\nsys.path.insert(0, 'src')\nfrom pkg.calc import add\nassert add(1, 2) == 3\n"
    )


@pytest.mark.parametrize("relative_files", [False, True])
def test_coverage_py_cobertura_xml(tmp_path: Path, relative_files: bool) -> None:
    pytest.importorskip("coverage")
    _python_project(tmp_path)
    (tmp_path / ".coveragerc").write_text(f"[run]\nrelative_files = {relative_files}\n")
    _coverage_py(tmp_path, "run", "--source=src", "check_calc.py")
    (tmp_path / "reports").mkdir()
    _coverage_py(tmp_path, "xml", "-o", "reports/coverage.xml")

    result = read_report(tmp_path / "reports" / "coverage.xml", tmp_path)

    assert result.format == "cobertura"
    assert result.dropped == ()
    calc = result.coverage["src/pkg/calc.py"]
    assert {2, 3} <= calc.executed
    assert {7, 8} <= calc.executable - calc.executed
    assert 6 in calc.executed  # `def unused` ran at import: judge bodies, not declarations
    # Measured with nothing to execute: present and empty, unlike a file never measured.
    init = result.coverage["src/pkg/__init__.py"]
    assert init.executable == frozenset()


def _copy_fixture(name: str, to: Path) -> Path:
    shutil.copytree(FIXTURES / name, to / name)
    return to / name


def test_go_coverprofile_maps_import_paths_through_go_mod(tmp_path: Path) -> None:
    workspace = _copy_fixture("go", tmp_path)

    result = read_report(workspace / "cover.out", workspace)

    assert result.format == "go"
    calc = result.coverage["calc/calc.go"]
    assert {4, 5, 6, 7} <= calc.executed  # Add: its block runs from the `{` of line 4
    assert set(range(10, 16)) <= calc.executable - calc.executed  # Unused, all its blocks
    assert {19, 20, 23} <= calc.executed  # Clamp(5) ...
    assert 21 in calc.executable - calc.executed  # ... never took `return 0`
    assert 2 not in calc.executable  # a comment is in no block


@pytest.mark.skipif(GO is None, reason="go is not installed: the committed profile is read instead")
def test_go_test_coverprofile_live(tmp_path: Path) -> None:
    assert GO is not None
    workspace = _copy_fixture("go", tmp_path)
    (workspace / "cover.out").unlink()
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOCACHE": str(tmp_path / "c")}
    done = subprocess.run(
        [GO, "test", "-covermode=count", "-coverprofile=cover.out", "./..."],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    calc = parse_report(workspace / "cover.out", workspace)["calc/calc.go"]

    assert {5, 6} <= calc.executed
    assert {11, 12} <= calc.executable - calc.executed


def test_jacoco_xml_finds_sources_under_the_maven_root(tmp_path: Path) -> None:
    workspace = _copy_fixture("jacoco", tmp_path)

    result = read_report(workspace / "target" / "site" / "jacoco" / "jacoco.xml", workspace)

    assert result.format == "jacoco"
    assert result.dropped == ()
    calc = result.coverage["src/main/java/com/example/calc/Calc.java"]
    assert calc.executed == {5, 6}  # add's body
    assert calc.executable - calc.executed == {3, 10, 11}  # the implicit constructor, unused
    hits = {fn.name: (fn.first_line, fn.hits) for fn in calc.functions}
    assert hits == {"<init>": (3, 0), "add": (5, 1), "unused": (10, 0)}


def test_jacoco_xml_in_a_module_of_a_multi_module_build(tmp_path: Path) -> None:
    # core/target/site/jacoco/jacoco.xml names com/example/calc/Calc.java: core/src/main/java.
    workspace = tmp_path / "ws"
    shutil.copytree(FIXTURES / "jacoco", workspace / "core")

    result = read_report(workspace / "core/target/site/jacoco/jacoco.xml", workspace)

    assert set(result.coverage) == {"core/src/main/java/com/example/calc/Calc.java"}


def test_jacoco_xml_elsewhere_finds_the_source_by_its_unique_suffix(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "lib" / "java" / "com" / "example" / "calc").mkdir(parents=True)
    shutil.copy(
        FIXTURES / "jacoco/src/main/java/com/example/calc/Calc.java",
        workspace / "lib/java/com/example/calc/Calc.java",
    )
    shutil.copy(FIXTURES / "jacoco/target/site/jacoco/jacoco.xml", workspace / "jacoco.xml")

    result = read_report(workspace / "jacoco.xml", workspace)

    assert set(result.coverage) == {"lib/java/com/example/calc/Calc.java"}

    # A second file with the same package path: which one is meant cannot be told.
    (workspace / "old" / "com" / "example" / "calc").mkdir(parents=True)
    shutil.copy(
        workspace / "lib/java/com/example/calc/Calc.java",
        workspace / "old/com/example/calc/Calc.java",
    )
    result = read_report(workspace / "jacoco.xml", workspace)
    assert result.coverage == {}
    assert [d.raw for d in result.dropped] == ["com/example/calc/Calc.java"]
    assert "ambiguous" in result.dropped[0].reason


COVERLET = """\
<?xml version="1.0" encoding="utf-8"?>
<coverage line-rate="0.6" branch-rate="1" version="1.9" timestamp="1764900000">
  <sources>
    <source>C:\\agent\\_work\\1\\s\\</source>
  </sources>
  <packages>
    <package name="Calc" line-rate="0.6" branch-rate="1" complexity="2">
      <classes>
        <class name="Calc.Calculator" filename="src\\Calc\\Calculator.cs" line-rate="0.6">
          <methods>
            <method name="Add" signature="(System.Int32,System.Int32)" line-rate="1">
              <lines>
                <line number="6" hits="1" branch="False" />
                <line number="7" hits="1" branch="False" />
                <line number="8" hits="1" branch="False" />
              </lines>
            </method>
            <method name="Unused" signature="(System.Int32)" line-rate="0">
              <lines>
                <line number="11" hits="0" branch="False" />
                <line number="12" hits="0" branch="False" />
              </lines>
            </method>
          </methods>
          <lines>
            <line number="6" hits="1" branch="False" />
            <line number="7" hits="1" branch="False" />
            <line number="8" hits="1" branch="False" />
            <line number="11" hits="0" branch="False" />
            <line number="12" hits="0" branch="False" />
          </lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
"""


def test_coverlet_cobertura_from_a_windows_build_agent(tmp_path: Path) -> None:
    # Written by coverlet on a Windows CI agent (hand-made in its shape: no .NET here). The
    # <source> is another machine's folder; the filename still names a workspace file.
    (tmp_path / "src" / "Calc").mkdir(parents=True)
    (tmp_path / "src" / "Calc" / "Calculator.cs").write_text("// C#\n")
    (tmp_path / "coverage.cobertura.xml").write_text(COVERLET, encoding="utf-8")

    result = read_report(tmp_path / "coverage.cobertura.xml", tmp_path)

    calc = result.coverage["src/Calc/Calculator.cs"]
    assert (calc.executed, calc.executable - calc.executed) == ({6, 7, 8}, {11, 12})
    assert [(f.name, f.first_line, f.last_line, f.hits) for f in calc.functions] == [
        ("Add", 6, 8, 1),
        ("Unused", 11, 12, 0),
    ]
