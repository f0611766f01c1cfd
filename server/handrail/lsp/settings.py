"""The editor settings of the language server: one typed model, validated once.

Settings arrive from ``initializationOptions`` (at start) and from ``workspace/configuration``
(section ``handrail``, pulled at start and on every ``workspace/didChangeConfiguration``).
Names are accepted in snake_case and camelCase (``debounce_ms`` or ``debounceMs``); unknown
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

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError


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
    docs_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("docs_base_url", "docsBaseUrl"),
        description="Where the pages of the diagnostic codes live; unset: the installed copy.",
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


FIELD_NAMES = {
    alias: name
    for name, info in Settings.model_fields.items()
    for alias in (
        info.validation_alias.choices if isinstance(info.validation_alias, AliasChoices) else [name]
    )
    if isinstance(alias, str)
}


def section(raw: object) -> dict[str, Any]:
    """The ``handrail`` part of what a client sent: ``{"handrail": {...}}`` or the bare table."""
    if not isinstance(raw, Mapping):
        return {}
    inner = raw.get("handrail")
    if isinstance(inner, Mapping):
        return dict(inner)
    return {str(k): v for k, v in raw.items()}


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
