"""No import circle inside `handrail.lsp`, and every module imports on its own.

The graph counts every import statement of a module, at its top or inside a function, except
those under ``if TYPE_CHECKING:`` (annotations only). Feature modules are loaded by name
(`features.FEATURES`), as esbonio loads its own, so the factory in `server` does not import
the modules that import the server class.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import handrail.lsp

LSP_DIR = Path(handrail.lsp.__file__).parent
PREFIX = "handrail.lsp"


def _module_name(path: Path) -> str:
    rel = path.relative_to(LSP_DIR).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join([PREFIX, *parts])


MODULES = {_module_name(p): p for p in sorted(LSP_DIR.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """The `handrail.lsp` modules `path` imports when it runs (TYPE_CHECKING blocks aside)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    edges: set[str] = set()
    for name in found:
        # Importing a module runs its packages' __init__ first.
        parts = name.split(".")
        for end in range(3, len(parts) + 1):
            candidate = ".".join(parts[:end])
            if candidate in MODULES:
                edges.add(candidate)
    return edges


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph`, as a path, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)) is not None:
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_inside_lsp() -> None:
    graph = {name: _imports(path) - {name} for name, path in MODULES.items()}
    # Each package's __init__ is part of the graph through its submodules' names.
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_components_do_not_import_the_server() -> None:
    """The components get narrow collaborators, not the server: they do not import it, not
    even for annotations."""
    components = ("analysis_cache", "diagnostics", "registry", "insertion_hints", "transport")
    for name in (*components, "protocol", "disk_changes", "workspace_diagnostics", "state"):
        source = MODULES[f"{PREFIX}.{name}"].read_text(encoding="utf-8")
        assert "handrail.lsp.server" not in source, name


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    """One interpreter for all (one per module would cost a second each on a busy machine):
    with no cycle in the graph above, the order they are imported in cannot matter."""
    imports = "; ".join(f"import {module}" for module in sorted(MODULES))
    result = subprocess.run(
        [sys.executable, "-c", imports], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
