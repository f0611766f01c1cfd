"""The editor settings of the language server: one typed model, validated once.

Settings arrive from ``initializationOptions`` (at start) and from ``workspace/configuration``
(section ``handrail``, pulled at start and on every ``workspace/didChangeConfiguration``).
Names are accepted in snake_case and camelCase (``debounce_ms`` or ``debounceMs``), and
``lens.acceptedCode`` nested as VS Code sends it (``{"lens": {"acceptedCode": true}}``); unknown
names are ignored, because clients send their own keys in the same section. A bad value is
reported in plain words and that setting keeps its default: the server never stops over a
setting.

``trusted`` is taken from ``initializationOptions`` only: workspace configuration can come
from the repository itself (``.vscode/settings.json``), and a repository must never be able
to declare itself trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)


class Settings(BaseModel):
    """What an editor can set. Every field has a default."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    debounce_ms: int = Field(
        default=200,
        ge=0,
        le=60_000,
        validation_alias=AliasChoices("debounce_ms", "debounceMs"),
        description="Wait this long after the last edit before analysing (0: at once).",
    )
    accepted_code_lens: bool = Field(
        default=False,
        strict=True,
        validation_alias=AliasChoices(
            "accepted_code_lens", "acceptedCodeLens", "lens.acceptedCode", "lens.accepted_code"
        ),
        description="A lens on the first line of each accepted block still in the file.",
    )
    docs_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("docs_base_url", "docsBaseUrl"),
        description="The documentation's root (http or https; pages at `<url>/codes/HR300.md`, "
        "or `{code}` replaced); unset: the workflow's [docs] url, else the published docs.",
    )
    max_document_bytes: int = Field(
        default=5_000_000,
        ge=1,
        validation_alias=AliasChoices("max_document_bytes", "maxDocumentBytes"),
        description="A larger document is not analysed (one info diagnostic says so).",
    )
    max_closed_files: int = Field(
        default=200,
        ge=0,
        validation_alias=AliasChoices("max_closed_files", "maxClosedFiles"),
        description="For clients without workspace diagnostics: push the gate's findings of "
        "at most this many files that are not open (0: none).",
    )
    trusted: bool = Field(
        default=False,
        strict=True,
        description="The editor trusts this workspace (initializationOptions only).",
    )

    @field_validator("docs_base_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        from handrail.codes import docs_url_problem

        if not value:
            return None
        problem = docs_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


FIELD_NAMES = {
    alias: name
    for name, info in Settings.model_fields.items()
    for alias in (
        info.validation_alias.choices if isinstance(info.validation_alias, AliasChoices) else [name]
    )
    if isinstance(alias, str)
}


_NESTED = ("lens",)
"""Tables whose keys are read as ``table.key``: VS Code sends ``handrail.lens.acceptedCode``
as ``{"lens": {"acceptedCode": true}}``."""


def section(raw: object) -> dict[str, Any]:
    """The ``handrail`` part of what a client sent: ``{"handrail": {...}}`` or the bare table,
    with the nested tables of `_NESTED` flattened to dotted names."""
    if not isinstance(raw, Mapping):
        return {}
    inner = raw.get("handrail")
    table = dict(inner) if isinstance(inner, Mapping) else {str(k): v for k, v in raw.items()}
    for name in _NESTED:
        nested = table.get(name)
        if isinstance(nested, Mapping):
            del table[name]
            table.update({f"{name}.{key}": value for key, value in nested.items()})
    return table


def parse_settings(
    init_options: object, configuration: object = None
) -> tuple[Settings, list[str]]:
    """The settings from both sources (configuration wins over initializationOptions,
    except for ``trusted``), and a plain sentence for each value that was refused."""
    merged = section(init_options)
    trusted = merged.get("trusted", False)
    merged.update(section(configuration))
    merged["trusted"] = trusted
    problems: list[str] = []
    for _ in range(len(FIELD_NAMES) + 1):
        try:
            return Settings.model_validate(merged), problems
        except ValidationError as exc:
            removed = False
            for error in exc.errors():
                key = str(error["loc"][0]) if error["loc"] else ""
                if key not in merged:
                    continue
                name = FIELD_NAMES.get(key, key)
                default = Settings.model_fields[name].default
                problems.append(
                    f"Handrail setting {name} = {merged[key]!r} is invalid "
                    f"({error['msg'].lower()}); using the default {default!r}."
                )
                del merged[key]
                removed = True
            if not removed:
                break
    return Settings(), problems
