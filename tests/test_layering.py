"""The import layering of `server/handrail`: no import circles, no upward imports, and the engine
knows no front end.

The graph is built from the source with `ast`, never by importing, so the test sees every module
whether or not some start-up path loads it. An edge is an import, with its implied parent
packages: `import handrail.a.b` runs `handrail/a/__init__.py` too, so a package whose
`__init__` re-exports its modules is part of every import of them.

`if TYPE_CHECKING:` imports never run (they only name types for mypy) and are no edge at all.

Function-local imports run when the function is first called, after every module involved has
finished loading, so they cannot meet a half-initialised module: the circle check between
modules leaves them out. They are how the `handrail check` and `handrail lsp` start-up paths
stay fast (a command imports the heavy machinery it needs when it runs, not when the CLI loads),
and inside one package (the language server's features and its server) they are legitimate.
Between packages they still say which package sits on which, so there they count: a lazy import
from a package into one that (at module level) depends on it is an upward import, and makes a
circle between the two packages.

The rules:

1. No circle between modules (module-level imports).
2. No circle between packages (each `handrail.<name>` package or top-level module is one node),
   lazy imports included: no upward import.
3. Engine modules (everything but `handrail.lsp`, `handrail.cli` and the `__main__` entry)
   import neither the front ends nor pygls/lsprotocol, lazily or not: the language server and
   the CLI are thin layers over one engine (docs/architecture.md).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server"
FRONT_ENDS = ("handrail.lsp", "handrail.cli", "handrail.__main__")
FORBIDDEN_IN_ENGINE = ("handrail.lsp", "handrail.cli", "pygls", "lsprotocol")

"""Lazy imports from a package into one above it, left for a later change (see above)."""


@dataclass(frozen=True)
class Import:
    target: str
    line: int
    lazy: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SERVER).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((SERVER / "handrail").rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def walk(body: list[ast.stmt], lazy: bool) -> Iterator[Import]:
        for node in body:
            if isinstance(node, ast.If) and _is_type_checking(node):
                yield from walk(node.orelse, lazy)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(alias.name, node.lineno, lazy)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                for alias in node.names:
                    # `from handrail.x import y` imports the module `handrail.x.y` when y is one.
                    full = f"{source}.{alias.name}"
                    yield Import(full if full in known else source, node.lineno, lazy)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from walk(node.body, True)
            else:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        yield from walk([child], lazy)
                    elif isinstance(child, ast.ExceptHandler):
                        yield from walk(child.body, lazy)

    yield from walk(tree.body, False)


def _graph(*, lazy: bool = False) -> dict[str, set[str]]:
    """Module -> the handrail modules its imports run (parent packages included); function-local
    imports too with `lazy`."""
    known = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        edges = graph.setdefault(module, set())
        for found in _imports(module, path, known):
            if found.target not in known or (found.lazy and not lazy):
                continue
            if found.target != module:
                edges.add(found.target)
            parts = found.target.split(".")
            for end in range(2, len(parts)):
                parent = ".".join(parts[:end])
                # Implied parents that are the module's own ancestors are already being
                # initialised when it runs: importing a sibling is no edge to them.
                if parent in known and not module.startswith(parent + "."):
                    edges.add(parent)
    return graph


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _explain(cycle: list[str], graph: dict[str, set[str]]) -> str:
    members = set(cycle)
    edges = sorted(
        f"{source} -> {target}"
        for source in graph
        for target in graph[source]
        if source in members and target in members
    )
    return f"{cycle}: " + "; ".join(edges)


def test_cycle_finder_sees_a_circle_and_only_the_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_circle_between_modules() -> None:
    graph = _graph()
    assert [_explain(cycle, graph) for cycle in _cycles(graph)] == []


def test_no_import_circle_between_packages() -> None:
    modules = _graph(lazy=True)
    packages: dict[str, set[str]] = {}
    why: dict[tuple[str, str], str] = {}
    for source, targets in modules.items():
        packages.setdefault(_package(source), set())
        for target in targets:
            if _package(source) != _package(target):
                packages[_package(source)].add(_package(target))
                why.setdefault((_package(source), _package(target)), f"{source} -> {target}")
    problems = []
    for cycle in _cycles(packages):
        members = set(cycle)
        problems.append(
            f"{cycle}: "
            + "; ".join(
                sorted(text for (a, b), text in why.items() if a in members and b in members)
            )
        )
    assert problems == []


def test_engine_imports_no_front_end() -> None:
    known = _modules()
    offenders = []
    for module, path in known.items():
        if module.startswith(FRONT_ENDS):
            continue
        for found in _imports(module, path, known):
            if any(
                found.target == name or found.target.startswith(name + ".")
                for name in FORBIDDEN_IN_ENGINE
            ):
                offenders.append(f"{module}:{found.line} imports {found.target}")
    assert offenders == []


def test_only_init_loads_the_init_module() -> None:
    """`handrail.workflow.init` loads the packs and the workflow model (166 ms against 38 ms for
    `handrail.git`): a command that only needs the git identity (`git_owner`) must not pay for
    it. `review.tooling` borrows its create-new writer until the durable writer is one."""
    graph = _graph(lazy=True)
    importers = sorted(m for m, edges in graph.items() if "handrail.workflow.init" in edges)
    assert importers == ["handrail.cli.init_cmd", "handrail.review.tooling"]
