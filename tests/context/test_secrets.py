from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from ctxdata import (
    ALL_VALUES,
    ANTHROPIC_KEY,
    AWS_KEY,
    GITHUB_TOKEN,
    OPENAI_PROJECT_KEY,
    PEM,
)

import handrail.context.secrets as secrets_mod
from handrail.context.cache import ContextCache
from handrail.context.secrets import SecretHit, SecretScanner


def scanner(tmp_path: Path | None = None) -> SecretScanner:
    if tmp_path is None:
        return SecretScanner(use_cache=False)
    return SecretScanner(ContextCache(tmp_path))


def blocking_types(hits: list[SecretHit]) -> set[str]:
    return {h.type for h in hits if h.blocking}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f'aws_access_key_id = "{AWS_KEY}"\n', "AWS Access Key"),
        (f'token = "{GITHUB_TOKEN}"\n', "GitHub Token"),
        (PEM, "Private Key"),
        (f'ANTHROPIC_API_KEY = "{ANTHROPIC_KEY}"\n', "Anthropic API Key"),
        (f"client = OpenAI(api_key='{OPENAI_PROJECT_KEY}')\n", "OpenAI Project Key"),
        # detect-secrets alone drops any line with a call in it (its indirect-reference
        # filter), hiding keys passed as arguments.
        (f's3 = boto3.client("s3", aws_access_key_id="{AWS_KEY}")\n', "AWS Access Key"),
        # detect-secrets alone skips files by extension; the text is known to be text.
        (f"AWS_KEY={AWS_KEY}\n", "AWS Access Key"),
    ],
)
def test_format_detectors_block(text: str, kind: str) -> None:
    filename = "notes.png" if text.startswith("AWS_KEY=") else "src/settings.py"
    hits = scanner().scan(text, filename=filename)
    assert kind in blocking_types(hits)
    for hit in hits:
        for value in ALL_VALUES:
            assert value not in repr(hit)


def test_line_numbers_follow_the_file(tmp_path: Path) -> None:
    text = "x = 1\n\n" + f'key = "{AWS_KEY}"\n'
    hits = scanner().scan(text, filename="a.py")
    assert [(h.type, h.line) for h in hits if h.blocking] == [("AWS Access Key", 3)]
    # A line range starting at line 40 reports file lines, not range lines.
    offset = scanner().scan(text, filename="a.py", first_line=40)
    assert [h.line for h in offset if h.blocking] == [42]


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        (
            "package-lock.json",
            '    "integrity": "sha512-Mq3sA7ZpTQ8f0l2Yr9hH2T8y3r6nq4pP0JZtq1kT5xgXb0lW7p1mJbXbK5dJ'
            '+9mV0b8+FsQ7x2V4Yk3C0gJH+A==",\n',
        ),
        (
            "pnpm-lock.yaml",
            "    resolution: {integrity: sha512-Mq3sA7ZpTQ8f0l2Yr9hH2T8y3r6nq4pP0JZtq1kT5xgXb0lW7"
            "p1m"
            "JbXbK5dJ+9mV0b8+FsQ7x2V4Yk3C0gJH+A==}\n",
        ),
        ("ids.py", 'REQUEST_ID = "123e4567-e89b-12d3-a456-426614174000"\n'),
        (
            "checksums.py",
            'sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\n',
        ),
        ("config.py", 'API_KEY = os.environ["API_KEY"]\n'),
        ("config.py", "password = get_password()\n"),
        ("config.py", f'aws_access_key_id = "{AWS_KEY}"  # pragma: allowlist secret\n'),
    ],
)
def test_known_false_positives_do_not_block(filename: str, text: str) -> None:
    hits = scanner().scan(text, filename=filename)
    assert blocking_types(hits) == set()


def test_heuristics_only_warn() -> None:
    text = 'blob = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\n'
    text += 'password = "correct-horse-battery"\n'
    hits = scanner().scan(text, filename="c.py")
    assert hits
    assert not any(h.blocking for h in hits)
    assert {h.type for h in hits} <= secrets_mod.HEURISTIC_TYPES


def test_clean_text_has_no_hits() -> None:
    assert scanner().scan("def add(a, b):\n    return a + b\n", filename="m.py") == []


def test_yaml_values_are_scanned() -> None:
    text = f"aws:\n  key: {AWS_KEY}\n"
    assert "AWS Access Key" in blocking_types(scanner().scan(text, filename="c.yaml"))


def test_results_are_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = secrets_mod._raw_hits

    def spy(text: str, filename: str):  # type: ignore[no-untyped-def]
        calls.append(filename)
        return real(text, filename)

    monkeypatch.setattr(secrets_mod, "_raw_hits", spy)
    text = f'key = "{AWS_KEY}"\n'
    first = scanner(tmp_path).scan(text, filename="a.py")
    assert calls == ["a.py"]
    # Another scanner (another run) with the same cache folder: no scan at all.
    fresh = scanner(tmp_path)
    assert fresh.scan(text, filename="a.py") == first
    assert fresh.scanned == 0
    assert calls == ["a.py"]
    # Changed content is scanned again.
    fresh.scan(text + "\n", filename="a.py")
    assert calls == ["a.py", "a.py"]
    # The persistent cache holds types and lines only.
    db = (tmp_path / "context-cache.sqlite3").read_bytes()
    assert AWS_KEY.encode() not in db


def test_settings_changed_by_someone_else_are_restored() -> None:
    from detect_secrets.settings import get_settings

    text = f'k = "{ANTHROPIC_KEY}"\naws = "{AWS_KEY}"\n'
    s = scanner()
    assert {"Anthropic API Key", "AWS Access Key"} <= blocking_types(s.scan(text, filename="a"))
    get_settings().disable_plugins("AnthropicKeyDetector", "AWSKeyDetector")
    again = SecretScanner(use_cache=False).scan(text, filename="a")
    assert {"Anthropic API Key", "AWS Access Key"} <= blocking_types(again)


def test_secret_values_never_logged(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from detect_secrets.core.log import log as ds_log

    text = "\n".join(
        [
            f'aws = "{AWS_KEY}"',
            f'gh = "{GITHUB_TOKEN}"',
            f'ant = "{ANTHROPIC_KEY}"',
            f'proj = "{OPENAI_PROJECT_KEY}"',
            PEM,
            # Filtered out by detect-secrets' heuristics: it logs such values at INFO.
            'request_id = "9f2c1a4e-77b1-4c3e-9d1f-0a6b5c4d3e2f"',
            'secret = "${SECRET_FROM_TEMPLATE}"',
        ]
    )
    previous = ds_log.level
    ds_log.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG):
            hits = scanner().scan(text, filename="leaky.py")
    finally:
        ds_log.setLevel(previous)
    assert len(blocking_types(hits)) >= 5
    captured = capsys.readouterr()
    for value in (*ALL_VALUES, "9f2c1a4e-77b1-4c3e-9d1f-0a6b5c4d3e2f", "SECRET_FROM_TEMPLATE"):
        assert value not in caplog.text
        assert value not in captured.err
        assert value not in captured.out


def test_concurrent_scans_match_serial() -> None:
    texts = [
        f'k{i} = "{value}"\n' + "x = 1\n" * i
        for i, value in enumerate([AWS_KEY, GITHUB_TOKEN, ANTHROPIC_KEY, OPENAI_PROJECT_KEY] * 5)
    ]
    texts += [PEM, "nothing here\n", 'password = "hunter2hunter2"\n']
    serial = [
        SecretScanner(use_cache=False).scan(t, filename=f"f{i}.py") for i, t in enumerate(texts)
    ]
    results: dict[int, list[SecretHit]] = {}
    errors: list[BaseException] = []

    def work(indices: list[int]) -> None:
        try:
            for i in indices:
                results[i] = SecretScanner(use_cache=False).scan(texts[i], filename=f"f{i}.py")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(list(range(k, len(texts), 4)),)) for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert [results[i] for i in range(len(texts))] == serial
