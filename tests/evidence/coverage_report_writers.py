"""Write a LineCoverage in each report format, as the tools do: the other half of round trips."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from handrail.evidence.lines import LineCoverage

PathStyle = Callable[[str], str]
"""How a workspace-relative path is spelt in the report (absolute, `./x`, backslashes, ...)."""

GO_MODULE = "example.com/fixture"
JAVA_ROOT = "src/main/java/"


def as_is(rel: str) -> str:
    return rel


def write_lcov(coverage: LineCoverage, spell: PathStyle = as_is, *, fnl: bool = False) -> str:
    out = ["TN:"]
    for rel, lines in coverage.items():
        out.append(f"SF:{spell(rel)}")
        for index, fn in enumerate(lines.functions):
            if fnl:
                end = "" if fn.last_line is None else f",{fn.last_line}"
                out.append(f"FNL:{index},{fn.first_line}{end}")
                out.append(f"FNA:{index},{fn.hits},{fn.name}")
            else:
                end = "" if fn.last_line is None else f"{fn.last_line},"
                out.append(f"FN:{fn.first_line},{end}{fn.name}")
        if not fnl:
            out += [f"FNDA:{fn.hits},{fn.name}" for fn in lines.functions]
        for line in sorted(lines.executable):
            out.append(f"DA:{line},{1 if line in lines.executed else 0}")
        out.append(f"LF:{len(lines.executable)}")
        out.append(f"LH:{len(lines.executed)}")
        out.append("end_of_record")
    return "\n".join(out) + "\n"


def write_cobertura(coverage: LineCoverage, source: str, spell: PathStyle = as_is) -> str:
    """`source` is the `<source>` folder; `spell` gives each file's `filename` under it."""
    out = [
        '<?xml version="1.0" ?>',
        '<coverage version="7.17.5" line-rate="0">',
        f"\t<sources><source>{escape(source)}</source></sources>",
        '\t<packages><package name="p"><classes>',
    ]
    for rel, lines in coverage.items():
        out.append(f"\t<class name={quoteattr(rel)} filename={quoteattr(spell(rel))}>")
        out.append("\t\t<methods>")
        for fn in lines.functions:
            assert fn.last_line is not None
            out.append(f'\t\t\t<method name={quoteattr(fn.name)} signature=""><lines>')
            out.append(f'\t\t\t\t<line number="{fn.first_line}" hits="{fn.hits}"/>')
            if fn.last_line > fn.first_line:
                out.append(f'\t\t\t\t<line number="{fn.last_line}" hits="0"/>')
            out.append("\t\t\t</lines></method>")
        out.append("\t\t</methods>")
        out.append("\t\t<lines>")
        for line in sorted(lines.executable):
            hits = 1 if line in lines.executed else 0
            out.append(f'\t\t\t<line number="{line}" hits="{hits}"/>')
        out.append("\t\t</lines>")
        out.append("\t</class>")
    out.append("</classes></package></packages></coverage>")
    return "\n".join(out) + "\n"


def write_jacoco(coverage: LineCoverage) -> str:
    """Files must live under `src/main/java/`: JaCoCo names them by package path only."""
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">',
        '<report name="fixture">',
    ]
    for rel, lines in coverage.items():
        assert rel.startswith(JAVA_ROOT)
        package, name = posixpath.split(rel[len(JAVA_ROOT) :])
        stem = name.rsplit(".", 1)[0]
        out.append(f"<package name={quoteattr(package)}>")
        out.append(
            f"<class name={quoteattr(f'{package}/{stem}')} sourcefilename={quoteattr(name)}>"
        )
        for fn in lines.functions:
            covered = 1 if fn.hits else 0
            out.append(f'<method name={quoteattr(fn.name)} desc="()V" line="{fn.first_line}">')
            out.append(f'<counter type="INSTRUCTION" missed="1" covered="{covered}"/>')
            out.append(f'<counter type="METHOD" missed="{1 - covered}" covered="{covered}"/>')
            out.append("</method>")
        out.append("</class>")
        out.append(f"<sourcefile name={quoteattr(name)}>")
        for line in sorted(lines.executable):
            ci = 2 if line in lines.executed else 0
            out.append(f'<line nr="{line}" mi="{2 - ci}" ci="{ci}" mb="0" cb="0"/>')
        out.append("</sourcefile></package>")
    out.append("</report>")
    return "\n".join(out) + "\n"


def write_go(coverage: LineCoverage, mode: str = "count") -> str:
    """One block per line (col 1 to 20): the profile a formatter-free file would give."""
    out = [f"mode: {mode}"]
    for rel, lines in coverage.items():
        for line in sorted(lines.executable):
            count = 1 if line in lines.executed else 0
            out.append(f"{GO_MODULE}/{rel}:{line}.1,{line}.20 1 {count}")
    return "\n".join(out) + "\n"
