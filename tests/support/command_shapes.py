"""The server commands' result types (`handrail.lsp.features.command_results`) as JSON shapes:
what the contract tests check results against, and what the TypeScript types are generated
from (make_protocol.py).

A shape is plain JSON, so node's tests read the very same description:
``{"type": "string" | "integer" | "number" | "boolean" | "null" | "unknown"}``,
``{"type": "literal", "value": v}``, ``{"type": "array", "items": s}``,
``{"type": "map", "values": s}``, ``{"type": "union", "of": [s, ...]}`` and
``{"type": "ref", "name": N}`` for the object type N, whose fields are
``{"name": {"shape": s, "required": bool}}`` in `object_shapes`.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, NotRequired, Union, get_args, get_origin, is_typeddict

Shape = dict[str, Any]


def _shape(hint: Any, objects: dict[str, dict[str, Any]]) -> Shape:
    origin = get_origin(hint)
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is None or hint is type(None):
        return {"type": "null"}
    if hint is Any or hint is object:
        return {"type": "unknown"}
    if is_typeddict(hint):
        _object(hint, objects)
        return {"type": "ref", "name": hint.__name__}
    if origin is Literal:
        values = [{"type": "literal", "value": v} for v in get_args(hint)]
        return values[0] if len(values) == 1 else {"type": "union", "of": values}
    if origin in (Union, types.UnionType):
        return {"type": "union", "of": [_shape(a, objects) for a in get_args(hint)]}
    if origin is list:
        (item,) = get_args(hint)
        return {"type": "array", "items": _shape(item, objects)}
    if origin is dict:
        key, value = get_args(hint)
        assert key is str, f"JSON object keys are text, not {key}"
        return {"type": "map", "values": _shape(value, objects)}
    raise TypeError(f"no JSON shape for {hint!r}")


def _object(typed: Any, objects: dict[str, dict[str, Any]]) -> None:
    name = typed.__name__
    if name in objects:
        return
    objects[name] = {}  # placeholder: a type may refer to itself
    fields: dict[str, Any] = {}
    for key, hint in typing.get_type_hints(typed, include_extras=True).items():
        required = get_origin(hint) is not NotRequired
        if not required:
            (hint,) = get_args(hint)
        fields[key] = {"shape": _shape(hint, objects), "required": required}
    objects[name] = fields


def contract(results: dict[str, Any]) -> tuple[dict[str, Shape], dict[str, dict[str, Any]]]:
    """(each command's result shape, every object shape by name) for `results`."""
    objects: dict[str, dict[str, Any]] = {}
    commands = {command: _shape(typed, objects) for command, typed in sorted(results.items())}
    return commands, dict(sorted(objects.items()))


def shape_errors(
    value: Any, shape: Shape, objects: dict[str, dict[str, Any]], where: str = "result"
) -> list[str]:
    """What in `value` does not have `shape`: missing, extra or mistyped fields, by path."""
    kind = shape["type"]
    if kind == "unknown":
        return []
    if kind == "literal":
        return [] if value == shape["value"] else [f"{where}: {value!r} is not {shape['value']!r}"]
    if kind == "union":
        tried = [shape_errors(value, s, objects, where) for s in shape["of"]]
        return [] if any(not e for e in tried) else min(tried, key=len)
    if kind == "ref":
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object ({shape['name']})"]
        fields = objects[shape["name"]]
        errors = [f"{where}.{k}: not in {shape['name']}" for k in value if k not in fields]
        for key, field in fields.items():
            if key in value:
                errors += shape_errors(value[key], field["shape"], objects, f"{where}.{key}")
            elif field["required"]:
                errors.append(f"{where}.{key}: missing ({shape['name']})")
        return errors
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        return [
            e
            for i, v in enumerate(value)
            for e in shape_errors(v, shape["items"], objects, f"{where}[{i}]")
        ]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object"]
        return [
            e
            for k, v in value.items()
            for e in shape_errors(v, shape["values"], objects, f"{where}.{k}")
        ]
    ok = {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "null": value is None,
    }[kind]
    return [] if ok else [f"{where}: {value!r} is not of type {kind}"]


def result_errors(command: str, result: Any) -> list[str]:
    """What in `result` does not match the declared result type of server command `command`
    (nothing for a command the contract does not cover yet)."""
    from handrail.lsp.features.command_results import COMMAND_RESULTS

    if command not in COMMAND_RESULTS:
        return []
    commands, objects = contract(COMMAND_RESULTS)
    return shape_errors(result, commands[command], objects)
