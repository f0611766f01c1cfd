"""Writing values into TOML test fixtures (workflow and task files)."""

from __future__ import annotations


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: quotes, backslashes and control characters escaped as
    `\\uXXXX`, so any text (a shell command, a spec) round-trips."""
    escaped = "".join(
        f"\\u{ord(c):04x}" if c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F else c for c in text
    )
    return f'"{escaped}"'
