"""Paths in reports, mapped once: to a workspace file, or dropped with a reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handrail.evidence.reports import DroppedPath, read_report
from handrail.evidence.reports.paths import SourceLocator, to_slashes


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for rel in ("src/a.js", "web/src/b.js", "web/coverage/.keep", "lib/c.ts"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x\n")
    (tmp_path / "outside.js").write_text("x\n")
    return root


def _lcov(*paths: str) -> str:
    return "".join(f"SF:{p}\nDA:1,1\nend_of_record\n" for p in paths)


def _read(report: Path, text: str, root: Path) -> tuple[set[str], list[DroppedPath]]:
    report.write_text(text)
    result = read_report(report, root)
    return set(result.coverage), list(result.dropped)


def test_absolute_paths_under_the_root(ws: Path) -> None:
    kept, dropped = _read(ws / "lcov.info", _lcov(f"{ws}/src/a.js", f"{ws}/web/src/b.js"), ws)
    assert (kept, dropped) == ({"src/a.js", "web/src/b.js"}, [])


def test_relative_paths_are_tried_from_the_reports_folder_up_to_the_root(ws: Path) -> None:
    # web/coverage/lcov.info from a tool run in web/: `src/b.js` is web/src/b.js;
    # `src/a.js` exists only at the root, the last folder tried.
    kept, dropped = _read(ws / "web/coverage/lcov.info", _lcov("src/b.js", "src/a.js"), ws)
    assert (kept, dropped) == ({"web/src/b.js", "src/a.js"}, [])


def test_outside_the_root_is_dropped_with_the_reason(ws: Path) -> None:
    kept, dropped = _read(
        ws / "lcov.info",
        _lcov(f"{ws.parent}/outside.js", "../outside.js", "/usr/lib/node/x.js", "src/a.js"),
        ws,
    )
    assert kept == {"src/a.js"}
    assert dropped == [
        DroppedPath(f"{ws.parent}/outside.js", "outside the workspace"),
        DroppedPath("../outside.js", "outside the workspace"),
        DroppedPath("/usr/lib/node/x.js", "outside the workspace"),
    ]


def test_dot_dot_climbs_that_stay_inside_are_followed(ws: Path) -> None:
    kept, dropped = _read(
        ws / "web/coverage/lcov.info",
        _lcov("../src/b.js", f"{ws}/web/../lib/./c.ts", "../../src/a.js"),
        ws,
    )
    assert (kept, dropped) == ({"web/src/b.js", "lib/c.ts", "src/a.js"}, [])


def test_windows_separators(ws: Path) -> None:
    kept, dropped = _read(
        ws / "lcov.info", _lcov("src\\a.js", "web\\src\\b.js", "C:\\elsewhere\\d.js"), ws
    )
    assert kept == {"src/a.js", "web/src/b.js"}
    assert dropped == [DroppedPath("C:\\elsewhere\\d.js", "outside the workspace")]


def test_file_urls(ws: Path) -> None:
    kept, dropped = _read(
        ws / "lcov.info", _lcov(f"file://{ws}/src/a.js", "file:///C:/elsewhere/d.js"), ws
    )
    assert kept == {"src/a.js"}
    assert dropped == [DroppedPath("file:///C:/elsewhere/d.js", "outside the workspace")]


def test_a_file_the_workspace_lacks_is_dropped_not_invented(ws: Path) -> None:
    kept, dropped = _read(ws / "lcov.info", _lcov("src/gone.js", "src/a.js"), ws)
    assert kept == {"src/a.js"}
    assert dropped == [DroppedPath("src/gone.js", "no such file in the workspace")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_a_symlink_leading_out_of_the_root_is_outside(ws: Path) -> None:
    (ws / "escape.js").symlink_to(ws.parent / "outside.js")
    kept, dropped = _read(ws / "lcov.info", _lcov("escape.js"), ws)
    assert (kept, dropped) == (set(), [DroppedPath("escape.js", "outside the workspace")])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_a_root_reached_through_a_symlink_matches_either_spelling(ws: Path) -> None:
    alias = ws.parent / "alias"
    alias.symlink_to(ws)
    # The tool saw the real path; we were given the alias (macOS /tmp -> /private/tmp).
    kept, _ = _read(alias / "lcov.info", _lcov(f"{ws}/src/a.js"), alias)
    assert kept == {"src/a.js"}
    # And the other way round.
    kept, _ = _read(ws / "lcov.info", _lcov(f"{alias}/src/a.js"), ws)
    assert kept == {"src/a.js"}


def test_the_same_file_under_two_spellings_is_merged(ws: Path) -> None:
    text = f"SF:src/a.js\nDA:1,0\nDA:2,0\nend_of_record\nSF:{ws}/src/a.js\nDA:2,3\nend_of_record\n"
    (ws / "lcov.info").write_text(text)
    lines = read_report(ws / "lcov.info", ws).coverage["src/a.js"]
    assert (lines.executable, lines.executed) == ({1, 2}, {2})


def test_cobertura_sources_relative_absolute_and_outside(ws: Path) -> None:
    def cobertura(sources: list[str], filename: str) -> str:
        listed = "".join(f"<source>{s}</source>" for s in sources)
        return (
            f"<coverage><sources>{listed}</sources><packages><package><classes>"
            f'<class filename="{filename}"><lines><line number="1" hits="1"/></lines></class>'
            "</classes></package></packages></coverage>"
        )

    report = ws / "coverage.xml"
    assert _read(report, cobertura([f"{ws}/web"], "src/b.js"), ws) == ({"web/src/b.js"}, [])
    assert _read(report, cobertura(["web"], "src/b.js"), ws) == ({"web/src/b.js"}, [])
    # The first source that holds the file wins; a source outside the root is skipped.
    assert _read(report, cobertura([str(ws.parent), "lib", "web"], "src/b.js"), ws)[0] == {
        "web/src/b.js"
    }
    assert _read(report, cobertura([str(ws.parent)], "outside.js"), ws) == (
        set(),
        [DroppedPath("outside.js", "no such file in the workspace")],
    )
    assert _read(report, cobertura(["C:\\ci\\build"], "web\\src\\b.js"), ws)[0] == {"web/src/b.js"}


def test_go_import_paths_through_go_mod_and_go_work(ws: Path) -> None:
    (ws / "go.work").write_text("go 1.19\n\nuse (\n\t./svc // the service\n)\nuse ./tools\n")
    for folder, module in (("svc", "example.com/svc"), ("tools", "example.com/svc/tools")):
        (ws / folder / "pkg").mkdir(parents=True)
        (ws / folder / "go.mod").write_text(f'module "{module}"\n')
        (ws / folder / "pkg" / "x.go").write_text("package pkg\n")
    text = (
        "mode: set\n"
        "example.com/svc/pkg/x.go:1.1,1.5 1 1\n"
        "example.com/svc/tools/pkg/x.go:1.1,1.5 1 0\n"  # the longer module wins
        "github.com/dep/y.go:1.1,1.5 1 1\n"
        f"_{ws}/svc/pkg/x.go:1.1,1.5 1 1\n"
    )
    (ws / "cover.out").write_text(text)
    result = read_report(ws / "cover.out", ws)
    assert set(result.coverage) == {"svc/pkg/x.go", "tools/pkg/x.go"}
    assert result.coverage["tools/pkg/x.go"].executed == frozenset()
    assert [d.raw for d in result.dropped] == ["github.com/dep/y.go"]
    assert "in no module of the workspace" in result.dropped[0].reason


def test_nothing_crashes_on_odd_paths(ws: Path) -> None:
    kept, dropped = _read(
        ws / "lcov.info", _lcov("x" * 5000, "/", ".", "src/", "\\\\server\\share\\a.js"), ws
    )
    assert kept == set()
    assert len(dropped) == 5


def test_windows_absolute_paths_match_a_windows_root_whatever_the_case(ws: Path) -> None:
    # Runs on POSIX too: the root is spelt as Windows spells it, as on a Windows machine.
    locator = SourceLocator(ws, ws / "lcov.info")
    locator._roots = ["C:/Work/Proj"]
    assert locator.relative_of_absolute(to_slashes("c:\\work\\proj\\src\\a.js")) == "src/a.js"
    assert locator.relative_of_absolute("C:/Work/Proj/../Other/a.js") is None
    assert locator.relative_of_absolute("C:/Work/Project/a.js") is None
    assert locator.relative_of_absolute("D:/Work/Proj/a.js") is None
