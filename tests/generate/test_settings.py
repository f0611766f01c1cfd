"""The user's generation settings: only from the user's config folder, checked strictly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.generate.settings import SettingsError, load_settings, parse_settings, settings_path


def test_the_settings_live_under_xdg_config_home() -> None:
    assert settings_path() == Path(os.environ["XDG_CONFIG_HOME"]) / "handrail" / "settings.toml"


def test_a_missing_file_says_what_to_write() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "[generate]" in caught.value.message and "api_key_env" in caught.value.message


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        '[generate]\nbase_url = "http://localhost:11434/v1/"\nmodel = "qwen"\n'
        'api_key_env = "MY_KEY"\ntimeout_s = 30\n'
    )
    settings = load_settings(path)
    assert settings.base_url == "http://localhost:11434/v1"
    assert (settings.model, settings.api_key_env, settings.timeout_s) == ("qwen", "MY_KEY", 30.0)


def test_the_key_comes_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = parse_settings(
        {"generate": {"base_url": "https://x/v1", "model": "m", "api_key_env": "K1"}}, Path("s")
    )
    with pytest.raises(SettingsError, match="K1"):
        settings.api_key()
    monkeypatch.setenv("K1", " secret ")
    assert settings.api_key() == "secret"


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({}, "no [generate] table"),
        ({"generate": {"model": "m"}}, "base_url"),
        ({"generate": {"base_url": "ftp://x", "model": "m"}}, "http://"),
        ({"generate": {"base_url": "http://x", "model": ""}}, "model"),
        ({"generate": {"base_url": "http://x", "model": "m", "api_key": "sk-1"}}, "unknown key"),
        ({"generate": {"base_url": "http://x", "model": "m", "api_key_env": "sk_abc"}}, "looks"),
        ({"generate": {"base_url": "http://x", "model": "m", "api_key_env": "A B"}}, "NAME"),
        ({"generate": {"base_url": "http://x", "model": "m", "timeout_s": 0}}, "timeout_s"),
        ({"generate": {"base_url": "http://x", "model": "m", "timeout_s": True}}, "timeout_s"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(table: dict[str, object], words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(table, Path("settings.toml"))
    assert words in caught.value.message


def test_broken_toml_is_a_settings_error(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[generate\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(path)


@given(
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(st.text(max_size=20), st.integers(), st.floats()),
        max_size=5,
    )
)
def test_any_table_loads_or_is_a_settings_error(table: dict[str, object]) -> None:
    try:
        settings = parse_settings({"generate": table}, Path("s"))
    except SettingsError:
        return
    assert settings.base_url.startswith(("http://", "https://")) and settings.model
