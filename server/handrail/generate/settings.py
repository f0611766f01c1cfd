"""The user's own generation settings: endpoint, model and the name of the key's variable.

They live in the user's config folder (``platformdirs.user_config_dir("handrail")``, which
honours ``XDG_CONFIG_HOME``) and never in the repository: a cloned repository must not be able
to send a developer's code and key to an endpoint of its choosing.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from handrail.toml.problems import TomlSyntaxError
from handrail.toml.problems import parse as parse_toml

SETTINGS_FILE = "settings.toml"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KNOWN_KEYS = frozenset({"base_url", "model", "api_key_env", "timeout_s"})
_EXAMPLE = (
    "[generate]\n"
    'base_url = "https://api.openai.com/v1"\n'
    'model = "gpt-4.1-mini"\n'
    'api_key_env = "OPENAI_API_KEY"\n'
)


class SettingsError(Exception):
    """The settings file is missing, unreadable or wrong; the message says what to do."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True, slots=True)
class GenerateSettings:
    base_url: str
    """Up to and including the API version, e.g. ``https://api.openai.com/v1``."""
    model: str
    api_key_env: str | None = None
    """The NAME of the environment variable holding the key; None for a keyless local server."""
    timeout_s: float = 120.0

    def api_key(self) -> str | None:
        """The key from the environment; raises `SettingsError` when the named variable is unset."""
        if self.api_key_env is None:
            return None
        value = os.environ.get(self.api_key_env, "").strip()
        if not value:
            raise SettingsError(
                f"the environment variable {self.api_key_env} (named by api_key_env in "
                f"{settings_path()}) is not set: export your API key in it",
                path=settings_path(),
            )
        return value


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir("handrail")) / SETTINGS_FILE


def load_settings(path: Path | None = None) -> GenerateSettings:
    """The ``[generate]`` table of the user's settings file; `SettingsError` when unusable."""
    where = path if path is not None else settings_path()
    try:
        data = parse_toml(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            f"no generation settings yet: create {where} with\n{_EXAMPLE}"
            "(api_key_env is the NAME of the variable holding your key, not the key)",
            path=where,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {where}: {exc}", path=where) from exc
    except TomlSyntaxError as exc:
        line = exc.problem.span.line
        raise SettingsError(
            f"{where} is not valid TOML (line {line}): {exc.problem.message}", path=where
        ) from exc
    return parse_settings(data, where)


def parse_settings(data: dict[str, Any], where: Path) -> GenerateSettings:
    table = data.get("generate")
    if not isinstance(table, dict):
        raise SettingsError(f"{where} has no [generate] table; add one:\n{_EXAMPLE}", path=where)
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise SettingsError(
            f"{where}: unknown key {unknown[0]!r} in [generate] "
            f"(known: {', '.join(sorted(_KNOWN_KEYS))})",
            path=where,
        )
    base_url = _text(table, "base_url", where)
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"{where}: base_url must start with http:// or https://, got {base_url!r}", path=where
        )
    model = _text(table, "model", where)
    key_env = table.get("api_key_env")
    if key_env is not None:
        if not isinstance(key_env, str) or not _ENV_NAME.match(key_env):
            raise SettingsError(
                f"{where}: api_key_env must be the NAME of an environment variable, such as "
                "OPENAI_API_KEY (never the key itself)",
                path=where,
            )
        if key_env.startswith(("sk-", "sk_")):
            raise SettingsError(
                f"{where}: api_key_env looks like a key, not a variable name; put the key in an "
                "environment variable and name that variable here",
                path=where,
            )
    timeout = table.get("timeout_s", 120.0)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or not 0 < timeout <= 3600
    ):
        raise SettingsError(
            f"{where}: timeout_s must be a number of seconds between 0 and 3600", path=where
        )
    return GenerateSettings(base_url.rstrip("/"), model, key_env, float(timeout))


def _text(table: dict[str, Any], key: str, where: Path) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{where}: [generate] needs {key} as a non-empty string", path=where)
    return value.strip()
