"""Loading the workflow: shipped packs, the workspace's overrides, and HR400 for every mistake.

A workspace's ``.handrail/workflow.toml`` extends a shipped pack (or another TOML file inside
the workspace) and overrides any field. Tables merge key by key; every other value, arrays
included, replaces the inherited one, so a team that writes its own ``ignore`` list owns the
whole list. The merged tree is validated once by the pydantic model, in strict mode: TOML is
typed, and ``max_tokens = "24000"`` is a mistake worth pointing at, not a value to coerce.

Nothing here raises on bad input. Every problem becomes an HR400 finding with the line (and,
where it can be found, the column) to fix, and each bad value falls back to the inherited one so
that every other check keeps working while the gate fails on the HR400.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

import handrail
from handrail.findings import Finding
from handrail.toml.index import Loc, Span, TomlIndex, find_line
from handrail.toml.index import index as toml_index
from handrail.toml.problems import (
    MISSING,
    Invalid,
    TomlSyntaxError,
    capital,
    dotted,
    get,
    or_list,
    sentence,
    show,
    subject,
)
from handrail.toml.problems import parse as parse_toml
from handrail.workflow.model import Workflow
from handrail.workspace import (
    FileTooLarge,
    NotARegularFile,
    PathEscapesWorkspace,
    Workspace,
    read_regular_file,
)

RULES_DIR = Path(handrail.__file__).parent / "rules"
"""The shipped packs: a symlink to the repository's rules/ in a checkout, a folder in a wheel."""

DEFAULT_PACK = "default"
MAX_WORKFLOW_BYTES = 1 << 20
"""A workflow file is a page of settings; anything this large is a mistake, not read."""

# The deepest legitimate value is risk_tiers[i].requires[j]; anything far deeper is refused
# before the recursive merge, deepcopy and validation could exhaust the stack on it.
_MAX_DEPTH = 32
_MAX_SALVAGE_ROUNDS = 8


# ---------------------------------------------------------------------------------------------
# Shipped packs
# ---------------------------------------------------------------------------------------------


class PackError(ValueError):
    """A shipped pack that is missing or broken (a packaging bug, or an unknown pack name)."""

    def __init__(self, message: str, *, path: Path | None = None, line: int = 1) -> None:
        self.path, self.line = path, line
        where = f"{path}:{line}: " if path is not None else ""
        super().__init__(f"{where}{message}")


class UnknownPackError(PackError):
    """No shipped pack has this name."""


@lru_cache(maxsize=1)
def pack_names() -> tuple[str, ...]:
    """The shipped packs, by name (the file name without .toml)."""
    try:
        return tuple(sorted(p.stem for p in RULES_DIR.glob("*.toml") if p.is_file()))
    except OSError:
        return ()


def _pack_reference(name: str) -> bool:
    """True when an `extends` value names a shipped pack rather than a file."""
    return not (name.endswith(".toml") or "/" in name or "\\" in name)


@cache
def _pack_tree(name: str, _visiting: tuple[str, ...] = ()) -> Mapping[str, Any]:
    """The raw merged tree of pack `name` (its own `extends` chain applied). Treat as read-only."""
    if name not in pack_names():
        raise UnknownPackError(
            f"no shipped pack is called {name!r}; the packs are {', '.join(pack_names())}"
        )
    if name in _visiting:
        raise PackError(f"pack {name!r} extends itself through {' -> '.join(_visiting)}")
    path = RULES_DIR / f"{name}.toml"
    try:
        source = path.read_text(encoding="utf-8")
        data = parse_toml(source)
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(f"cannot read the pack: {exc}", path=path) from exc
    except TomlSyntaxError as exc:
        problem = exc.problem
        raise PackError(problem.message, path=path, line=problem.span.line) from exc
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str) or not _pack_reference(parent):
        line = find_line(source, ("extends",))
        raise PackError("a shipped pack can only extend another shipped pack", path=path, line=line)
    merged = copy.deepcopy(dict(_pack_tree(parent, (*_visiting, name))))
    _merge(merged, data, {}, 0)
    return merged


@cache
def load_pack(name: str) -> Workflow:
    """The shipped pack `name`, validated (cached: packs never change while running).

    Raises UnknownPackError for a name no pack has, PackError for a pack that does not load.
    """
    tree = _pack_tree(name)
    try:
        return Workflow.model_validate(tree, strict=True)
    except ValidationError as exc:
        path = RULES_DIR / f"{name}.toml"
        first = exc.errors()[0]
        raise PackError(f"{dotted(first['loc'])}: {first['msg']}", path=path) from exc


def _safe_pack(name: str) -> Workflow:
    # A broken shipped pack is a packaging bug; the model's own defaults keep checks running.
    try:
        return load_pack(name)
    except PackError:
        try:
            return load_pack(DEFAULT_PACK)
        except PackError:
            return Workflow()


# ---------------------------------------------------------------------------------------------
# The loaded workflow
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadedWorkflow:
    """The effective workflow of a workspace and what went wrong loading it.

    `findings` holds only HR400 findings (on the workspace file, or on a file it extends); when
    there are any, `workflow` holds the inherited value in place of every bad one (or, when the
    file cannot be read at all, the pack it extends, else the default pack).
    """

    workflow: Workflow
    path: Path | None
    """The workspace file, None when the workspace has none (the default pack applies)."""
    findings: list[Finding]
    source_text: str | None
    """The workspace file's text, None when absent or not readable as UTF-8."""
    pack: str = DEFAULT_PACK
    """The shipped pack at the bottom of the `extends` chain."""
    parsed: bool = False
    """True when the workspace file exists and parsed as TOML (its values were used)."""

    @property
    def valid(self) -> bool:
        return not self.findings


@dataclass(frozen=True, slots=True)
class _Problem:
    path: str
    span: Span
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Layer:
    """One TOML file of the extends chain, as written."""

    rel: str
    real: Path
    source: str
    data: dict[str, Any]

    @property
    def index(self) -> TomlIndex:
        return toml_index(self.source)


@dataclass(frozen=True, slots=True)
class _ReadFailure:
    message: str
    span: Span | None = None
    """Where in the file itself; None when the problem is about the file as a whole."""
    data: dict[str, Any] = field(default_factory=dict)


def load_workflow(ws: Workspace, *, text: str | None = None) -> LoadedWorkflow:
    """The effective workflow of `ws`: a shipped pack plus `.handrail/workflow.toml`.

    `text` stands in for the workspace file's content (an editor's unsaved buffer). Without a
    workspace file the default pack applies and nothing is reported. Never raises on bad input.
    """
    path = ws.workflow_path
    if text is None and not os.path.lexists(path):
        return LoadedWorkflow(_safe_pack(DEFAULT_PACK), None, [], None)
    rel = ws.relative(path)
    problems: list[_Problem] = []
    if text is None:
        read = _read_text(ws, rel)
        if isinstance(read, _ReadFailure):
            span = read.span or Span(1, 1, 1, 1)
            problems.append(_Problem(rel, span, read.message, read.data))
            return _finish(path, None, _safe_pack(DEFAULT_PACK), DEFAULT_PACK, False, problems)
        text = read
    text = text.removeprefix("\ufeff")
    data = _parse(text, rel, problems)
    if data is None:
        return _finish(path, text, _safe_pack(DEFAULT_PACK), DEFAULT_PACK, False, problems)
    top = _Layer(rel, _real_or_lexical(ws, rel), text, data)
    layers, pack = _extends_chain(ws, top, problems)
    for layer in layers:
        _backspace_traps(layer, problems)
    workflow = _merge_and_validate(layers, pack, problems)
    return _finish(path, text, workflow, pack, True, problems)


def _finish(
    path: Path,
    text: str | None,
    workflow: Workflow,
    pack: str,
    parsed: bool,
    problems: list[_Problem],
) -> LoadedWorkflow:
    severity = workflow.severity_of("HR400")
    findings: list[Finding] = []
    if severity is not None:
        for problem in problems:
            span = problem.span
            findings.append(
                Finding(
                    code="HR400",
                    severity=severity,
                    message=problem.message,
                    path=problem.path,
                    line=span.line,
                    column=span.column,
                    end_line=span.end_line,
                    end_column=span.end_column,
                    data=problem.data,
                )
            )
    findings.sort(key=Finding.sort_key)
    return LoadedWorkflow(workflow, path, findings, text, pack, parsed)


def _real_or_lexical(ws: Workspace, rel: str) -> Path:
    try:
        return ws.resolve_inside(rel)
    except (PathEscapesWorkspace, OSError):
        return ws.root / rel


class WorkflowUnreadable(Exception):
    """The workflow file cannot be used as it is; the message is the HR400 sentence."""


def read_workflow_bytes(ws: Workspace) -> bytes | None:
    """The bytes of `ws`'s workflow file, read as `check` reads them; None when there is none.

    For `handrail trust`, which must hash and approve exactly the file `check` accepts: the same
    refusals (not a regular file, too large, outside the workspace) with the same sentence.
    Raises `WorkflowUnreadable`.
    """
    if not os.path.lexists(ws.workflow_path):
        return None
    read = _read_bytes(ws, ws.relative(ws.workflow_path))
    if isinstance(read, _ReadFailure):
        raise WorkflowUnreadable(read.message)
    return read


def _read_text(ws: Workspace, rel: str) -> str | _ReadFailure:
    """The UTF-8 text of workspace-relative `rel`, refusing what is not a small regular file."""
    read = _read_bytes(ws, rel)
    return read if isinstance(read, _ReadFailure) else _decode(read, rel)


def _read_bytes(ws: Workspace, rel: str) -> bytes | _ReadFailure:
    try:
        real = ws.resolve_inside(rel)
    except PathEscapesWorkspace:
        return _ReadFailure(
            f"The file {rel} leads outside the workspace (through a link or ..); Handrail "
            "reads workflow rules only from files inside the repository.",
            data={"kind": "outside"},
        )
    except OSError as exc:
        return _ReadFailure(
            f"The file {rel} cannot be read: {exc.strerror or exc}.", data={"kind": "io"}
        )
    if not real.exists():
        return _ReadFailure(f"The file {rel} does not exist.", data={"kind": "missing"})
    try:
        return read_regular_file(real, MAX_WORKFLOW_BYTES, follow_symlinks=False)
    except NotARegularFile:
        return _ReadFailure(
            f"The file {rel} is not a regular file; it must be a TOML text file.",
            data={"kind": "not_a_file"},
        )
    except FileTooLarge as exc:
        return _ReadFailure(
            f"The file {rel} is {exc.size} bytes; a workflow file over {MAX_WORKFLOW_BYTES} "
            "bytes is not read. Keep only settings in it.",
            data={"kind": "too_large"},
        )
    except OSError as exc:
        return _ReadFailure(
            f"The file {rel} cannot be read: {exc.strerror or exc}.", data={"kind": "io"}
        )


def _decode(raw: bytes, rel: str) -> str | _ReadFailure:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            detail = "it is saved as UTF-16"
        else:
            detail = f"the byte 0x{raw[exc.start]:02x} at line {line}, column {column} is not UTF-8"
        return _ReadFailure(
            f"The file {rel} is not UTF-8 text: {detail}. Save it as UTF-8; until then "
            f"Handrail uses the `{DEFAULT_PACK}` pack.",
            span=Span(line, column, line, column + 1),
            data={"kind": "encoding"},
        )


def _parse(text: str, rel: str, problems: list[_Problem]) -> dict[str, Any] | None:
    try:
        data = parse_toml(text)
    except TomlSyntaxError as exc:
        problem = exc.problem
        problems.append(
            _Problem(
                rel,
                problem.span,
                f"Not valid TOML: {problem.message}. Until this is fixed, Handrail uses the "
                f"`{DEFAULT_PACK}` pack.",
                {"kind": "syntax"},
            )
        )
        return None
    if _depth(data) > _MAX_DEPTH:
        found = toml_index(text)
        line = found.position(found.trouble)[0] if found.trouble is not None else 1
        problems.append(
            _Problem(
                rel,
                found.line_span(line),
                f"Values are nested more than {_MAX_DEPTH} levels deep; no workflow setting "
                f"needs that. Until this is fixed, Handrail uses the `{DEFAULT_PACK}` pack.",
                {"kind": "syntax"},
            )
        )
        return None
    return data


# Where the workflow holds patterns (regular expressions or gitignore-style globs): `#` is an
# array position, `*` any table key.
_PATTERN_FIELDS: tuple[tuple[str, ...], ...] = (
    ("spec", "placeholders", "#"),
    ("spec", "required", "*"),
    ("context", "ignore", "#"),
    ("verification", "by_path", "#", "pattern"),
    ("risk_tiers", "#", "paths", "#"),
)


def _is_pattern_field(loc: Loc) -> bool:
    def fits(part: str | int, shape: str) -> bool:
        if shape == "#":
            return isinstance(part, int)
        return isinstance(part, str) and shape in ("*", part)

    return any(len(loc) == len(shape) and all(map(fits, loc, shape)) for shape in _PATTERN_FIELDS)


def _backspace_traps(layer: _Layer, problems: list[_Problem]) -> None:
    """HR400 for a pattern holding a backspace: a regex's \\b written in a "..." string.

    TOML reads "\\bTODO\\b" as backspace-TODO-backspace, which is valid and silently never
    matches; the shipped packs write patterns in '...' literal strings for this reason.
    """
    stack: list[tuple[Any, Loc]] = [(layer.data, ())]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, dict):
            stack.extend(((child, (*loc, key)) for key, child in value.items()))
        elif isinstance(value, list):
            stack.extend(((child, (*loc, number)) for number, child in enumerate(value)))
        elif isinstance(value, str) and "\b" in value and _is_pattern_field(loc):
            problems.append(
                _Problem(
                    layer.rel,
                    layer.index.locate(loc, value=True),
                    f"{capital(subject(loc, layer.data))} holds a backspace character: inside "
                    '"..." the escape \\b is a backspace, not a regular-expression word boundary. '
                    "Write the pattern in single quotes, like '\\bTODO\\b', which keep "
                    "backslashes as they are.",
                    {"kind": "backspace", "loc": list(loc)},
                )
            )


def _depth(value: Any) -> int:
    """How deeply `value` nests tables and arrays, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Iterator[Any] = iter(item.values())
        elif isinstance(item, list):
            children = iter(item)
        else:
            continue
        deepest = max(deepest, level)
        if deepest > _MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _extends_chain(
    ws: Workspace, top: _Layer, problems: list[_Problem]
) -> tuple[list[_Layer], str]:
    """The files of the `extends` chain, nearest first, and the shipped pack beneath them.

    A broken link ends the chain on the default pack, with an HR400 on the `extends` line.
    """
    layers = [top]
    while True:
        layer = layers[-1]
        target = layer.data.get("extends", DEFAULT_PACK)
        found = _follow(ws, layer, target, layers, problems)
        if isinstance(found, str):
            return layers, found
        layers.append(found)


def _follow(
    ws: Workspace, layer: _Layer, target: Any, layers: list[_Layer], problems: list[_Problem]
) -> _Layer | str:
    """The next file of the chain, or the name of the shipped pack the chain ends on."""
    fallback = f" Until this is fixed, Handrail extends the `{DEFAULT_PACK}` pack."

    def refuse(message: str, kind: str, **extra: Any) -> str:
        where = layer.index.locate(("extends",), value=True)
        data = {"kind": kind, "loc": ["extends"], **extra}
        problems.append(_Problem(layer.rel, where, message + fallback, data))
        return DEFAULT_PACK

    if not isinstance(target, str) or not target.strip():
        return refuse(
            f"`extends` must name a shipped pack ({or_list(pack_names())}) or a .toml file in "
            f"the workspace, in quotes; got {show(target)}.",
            "type",
        )
    if _pack_reference(target):
        if target in pack_names():
            return target
        close = difflib.get_close_matches(target, pack_names(), n=1)
        hint = f"; did you mean `{close[0]}`?" if close else "."
        return refuse(
            f"`extends` names an unknown pack `{target}`{hint} The shipped packs are "
            f"{or_list(pack_names(), 'and')}; a file of your own must be a workspace-relative "
            "path ending in .toml.",
            "unknown_pack",
            suggestion=close[0] if close else None,
        )
    written = target.replace("\\", "/")
    read = _read_text(ws, written)
    if isinstance(read, _ReadFailure):
        if read.span is not None:  # the file is there but its bytes are not text
            rel = ws.relative(_real_or_lexical(ws, written))
            problems.append(_Problem(rel, read.span, read.message, read.data))
            return DEFAULT_PACK
        stem = PurePosixPath(written).stem
        hint = (
            f' To extend the shipped pack, write extends = "{stem}".'
            if read.data.get("kind") == "missing" and stem in pack_names()
            else ""
        )
        return refuse(
            f"`extends` names a file Handrail cannot use. {read.message}{hint}",
            str(read.data.get("kind", "io")),
        )
    real = _real_or_lexical(ws, written)
    rel = ws.relative(real)
    if any(item.real == real for item in layers):
        chain = [*(item.rel for item in layers), rel]
        return refuse(
            f"`extends` makes a cycle: {' -> '.join(chain)}. Make one of these files extend a "
            "shipped pack instead.",
            "cycle",
            chain=chain,
        )
    text = read.removeprefix("\ufeff")
    data = _parse(text, rel, problems)
    if data is None:
        return DEFAULT_PACK
    return _Layer(rel, real, text, data)


# ---------------------------------------------------------------------------------------------
# Merging and validating
# ---------------------------------------------------------------------------------------------

_PACK_LAYER = -1


def _merge(
    base: dict[str, Any], over: Mapping[str, Any], owners: dict[Loc, int], layer: int
) -> None:
    """Merge `over` into `base`: tables key by key, any other value replaces (arrays too).

    `owners` records, for every key path `over` touches, that `layer` was the last to set it.
    """
    stack: list[tuple[dict[str, Any], Mapping[str, Any], Loc]] = [(base, over, ())]
    while stack:
        target, source, prefix = stack.pop()
        for key, value in source.items():
            path = (*prefix, key)
            owners[path] = layer
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                stack.append((target[key], value, path))
            else:
                target[key] = copy.deepcopy(value)
                if isinstance(value, dict):
                    _own_all(value, path, owners, layer)


def _copy_tables(tree: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `tree` whose tables are new and whose other values are shared.

    Merging and salvaging only ever add, replace or delete keys of tables, so the cached pack's
    arrays and scalars can be shared; a full deepcopy was most of the cost of a load.
    """
    return {
        key: _copy_tables(value) if isinstance(value, dict) else value
        for key, value in tree.items()
    }


def _own_all(value: Mapping[str, Any], prefix: Loc, owners: dict[Loc, int], layer: int) -> None:
    stack = [(value, prefix)]
    while stack:
        table, path = stack.pop()
        for key, child in table.items():
            owners[(*path, key)] = layer
            if isinstance(child, dict):
                stack.append((child, (*path, key)))


def _merge_and_validate(layers: list[_Layer], pack: str, problems: list[_Problem]) -> Workflow:
    fallback = _safe_pack(pack)
    try:
        pack_tree = _pack_tree(pack)
    except PackError:
        return fallback
    merged = _copy_tables(pack_tree)
    owners: dict[Loc, int] = {}
    _own_all(merged, (), owners, _PACK_LAYER)
    for number in range(len(layers) - 1, -1, -1):
        _merge(merged, layers[number].data, owners, number)
    top_extends = layers[0].data.get("extends", DEFAULT_PACK)
    merged["extends"] = top_extends if isinstance(top_extends, str) and top_extends else pack

    first_errors: list[_Error] = []
    for round_number in range(_MAX_SALVAGE_ROUNDS):
        try:
            workflow = Workflow.model_validate(merged, strict=True)
        except ValidationError as exc:
            errors = [_Error.tied(raw, owners, layers) for raw in exc.errors()]
            if round_number == 0:
                first_errors = errors
            # Every error gets its salvage this round (a list, not any(): no short-circuit).
            if not [error for error in errors if _salvage(merged, error, pack_tree)]:
                break
        else:
            problems.extend(
                _describe(error, layers, pack_tree, pack, True) for error in first_errors
            )
            problems.extend(_pattern_problems(workflow, owners, layers))
            return workflow
    problems.extend(_describe(error, layers, pack_tree, pack, False) for error in first_errors)
    return fallback


def _pattern_problems(
    workflow: Workflow, owners: Mapping[Loc, int], layers: list[_Layer]
) -> Iterator[_Problem]:
    """HR400 for gitignore-style patterns pathspec refuses ("!", a trailing backslash).

    The model only knows they are text; the ignore matcher and the risk tiers would skip them,
    so a team's intent would silently shrink.
    """
    found: list[tuple[Loc, str]] = []
    found += [(("context", "ignore", i), p) for i, p in enumerate(workflow.context.ignore)]
    found += [
        (("verification", "by_path", i, "pattern"), rule.pattern)
        for i, rule in enumerate(workflow.verification.by_path)
    ]
    found += [
        (("risk_tiers", i, "paths", j), p)
        for i, tier in enumerate(workflow.risk_tiers)
        for j, p in enumerate(tier.paths)
    ]
    for loc, pattern in found:
        layer = next((owners[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in owners), -1)
        if layer == _PACK_LAYER:
            continue  # the shipped packs' patterns are tested with the packs
        from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

        try:
            GitIgnoreSpecPattern.pattern_to_regex(pattern)
        except ValueError:
            pass
        else:
            continue
        source = layers[layer]
        yield _Problem(
            source.rel,
            source.index.locate(loc, value=True),
            f"{capital(subject(loc, source.data))} is not a valid gitignore-style pattern: "
            f"{show(pattern)} (a pattern cannot be a lone ! or end in a single backslash). "
            "Fix or remove it; until then it matches nothing.",
            {"kind": "pattern", "loc": list(loc), "got": pattern},
        )


@dataclass(slots=True)
class _Error(Invalid):
    """One pydantic error, tied to the file that wrote the value.

    `focus` is `loc` narrowed to the key or item a table-level error is about (see _narrow).
    """

    layer: int = _PACK_LAYER
    """Index into the layers (nearest first), or _PACK_LAYER when a shipped pack set it."""

    @classmethod
    def tied(
        cls, raw: Mapping[str, Any], owners: Mapping[Loc, int], layers: list[_Layer]
    ) -> _Error:
        invalid = Invalid.of(raw)
        loc = invalid.loc
        layer = _PACK_LAYER
        for size in range(len(loc), 0, -1):
            if loc[:size] in owners:
                layer = owners[loc[:size]]
                break
        focus = loc
        if layer != _PACK_LAYER:
            focus = _narrow(loc, invalid.message, get(layers[layer].data, loc))
        return cls(invalid.kind, loc, invalid.message, invalid.input, invalid.ctx, focus, layer)


def _narrow(loc: Loc, message: str, value: Any) -> Loc:
    """The key or item of table/array `value` that an error message about it names.

    A model-level check reports on the whole table ("hard_max_sentences (3) is below
    max_sentences (5)", "unknown diagnostic code 'HR999'"); pointing at the line that holds the
    named key, or the item whose text is quoted, is what lets the user find it.
    """
    if isinstance(value, dict):
        for key in value:
            if re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", message):
                return (*loc, key)
        for key, item in value.items():
            if isinstance(item, str) and repr(item) in message:
                return (*loc, key)
    elif isinstance(value, list):
        for number, item in enumerate(value):
            if isinstance(item, str) and repr(item) in message:
                return (*loc, number)
    return loc


def _salvage(merged: dict[str, Any], error: _Error, pack_tree: Mapping[str, Any]) -> bool:
    """Put the inherited value (or the model default) where `error` is; True if that changed it.

    Arrays are replaced whole: an item cannot be borrowed from an inherited array whose other
    items differ. The narrowed path goes first, then the whole table the error is about.
    """
    for loc in (error.focus, error.loc):
        path = _table_path(loc)
        if not path:
            continue
        parent = get(merged, path[:-1])
        if not isinstance(parent, dict):
            continue
        inherited = get(pack_tree, path)
        current = parent.get(path[-1], MISSING)
        if inherited is MISSING:
            if current is MISSING:
                continue
            del parent[path[-1]]
            return True
        if current is MISSING or not _identical(current, inherited):
            parent[path[-1]] = copy.deepcopy(inherited)
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Validation errors as plain sentences
# ---------------------------------------------------------------------------------------------


def _identical(left: Any, right: Any) -> bool:
    """Equal and of the same types all the way down (unlike ==, 1 is not True here)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_identical(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_identical, left, right))
    return bool(left == right)


def _describe(
    error: _Error, layers: list[_Layer], pack_tree: Mapping[str, Any], pack: str, salvaged: bool
) -> _Problem:
    layer = layers[error.layer] if error.layer != _PACK_LAYER else layers[0]
    kind = error.kind
    key_error = kind in ("extra_forbidden", "missing")
    focus = error.focus if error.layer != _PACK_LAYER else ("extends",)
    span = layer.index.locate(focus, value=not key_error)
    data: dict[str, Any] = {"kind": kind, "loc": list(error.loc)}
    message = _sentence(error, layer.data, data)
    if error.layer == _PACK_LAYER:
        message += f" The value comes from the `{pack}` pack."
    if not salvaged:
        message += f" Until this is fixed, Handrail uses the `{pack}` pack as it ships."
    else:
        message += " " + _meanwhile(error, pack_tree)
    return _Problem(layer.rel, span, message, data)


def _meanwhile(error: _Error, pack_tree: Mapping[str, Any]) -> str:
    """What Handrail uses in place of the bad value (mirrors _salvage's first choice)."""
    restored = _table_path(error.focus)
    inherited = get(pack_tree, restored) if restored else MISSING
    if error.kind == "extra_forbidden" or inherited is MISSING:
        return "Until this is fixed, the setting is ignored."
    if isinstance(inherited, str | int | float | bool | dt.date):
        return f"Until this is fixed, Handrail uses the inherited value {show(inherited)}."
    return f"Until this is fixed, Handrail uses the inherited {subject(restored, pack_tree)}."


def _table_path(loc: Loc) -> tuple[str, ...]:
    """`loc` up to its first array position: arrays are inherited or replaced whole."""
    cut = next((i for i, part in enumerate(loc) if isinstance(part, int)), len(loc))
    return tuple(str(part) for part in loc[:cut])


def _sentence(error: _Error, tree: Mapping[str, Any], data: dict[str, Any]) -> str:
    code = re.fullmatch(r"unknown diagnostic code '(.*)'", error.message)
    if error.kind == "value_error" and code:
        from handrail.codes import CODES

        close = difflib.get_close_matches(code.group(1), list(CODES), n=1)
        data["got"] = show(error.input)
        data["suggestion"] = close[0] if close else None
        hint = f"; did you mean `{close[0]}`?" if close else " (codes run from HR100 to HR403)."
        return f"[severity] names an unknown diagnostic code `{code.group(1)}`{hint}"
    return sentence(error, tree, Workflow, data)
