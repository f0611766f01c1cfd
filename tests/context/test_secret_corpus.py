"""The scanner's findings equal detect-secrets' own `scan_file` on a corpus of files.

The corpus: files full of known secrets in many shapes and file types, and clean code (a
slice of the standard library, which is full of "key", "token" and quoted hex strings).
The oracle is detect-secrets reading the same file from disk with Handrail's settings, so
a faster scan that lost or invented a finding fails here, whatever path it takes.

Lock files and swagger files are left out: detect-secrets' `scan_file` skips them by name,
while Handrail scans context text whatever its name (is_public_digest keeps lock files
quiet instead).
"""

from __future__ import annotations

import itertools
import sysconfig
from pathlib import Path

import pytest
from ctxdata import ANTHROPIC_KEY, AWS_KEY, GITHUB_TOKEN, OPENAI_PROJECT_KEY, PEM

import handrail.context.secrets as secrets_mod
from handrail.context.secrets import SecretScanner

VALUES = [
    AWS_KEY,
    GITHUB_TOKEN,
    ANTHROPIC_KEY,
    OPENAI_PROJECT_KEY,
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "glpat-" + "AbCdEfGhIjKlMnOpQrSt",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "npm_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "AKCp" + "8jQ3XyZ9aBcDeFgHiJkL",
    "1234567890:" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345678",
    "SG." + "AbCdEfGhIjKlMnOpQrStUv" + "." + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG",
    "sq0csp-" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG",
    "AC" + "0123456789abcdef0123456789abcdef",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG9m",
    "hunter2hunter2",
    # Each of the remaining detectors detect-secrets enables by default: Discord,
    "M" + "TIzNDU2Nzg5MDEyMzQ1Njc4" + "." + "AbCdEf" + "." + "AbCdEfGhIjKlMnOpQrStUvWxYz0",
    "0123456789abcdef0123456789abcdef" + "-us12",  # Mailchimp
    "AccountKey=" + "AbCd" * 22,  # Azure storage
    "pypi-AgEIcHlwaS5vcmc" + "AbCdEfGhIj" * 7,  # PyPI
    "sk-" + "AbCdEfGhIjKlMnOpQrSt" + "T3BlbkFJ" + "AbCdEfGhIjKlMnOpQrSt",  # OpenAI (legacy)
    "Zx9Qw3Er5Ty7Ui1Op3As5Df7Gh9Jk1Lz3Xc5Vb7Nm2Pq",  # IBM Cloud IAM (44, not sequential)
    "//registry.npmjs.org/:_authToken=" + "npm_Zx9Qw3Er5Ty7Ui1Op3As5Df7Gh9Jk1Lz3Xc5",  # .npmrc
    "0123456789abcdef" * 3,  # IBM COS HMAC (48 hex)
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
]
SHAPES = [
    '{k} = "{v}"',
    "{k}: {v}",
    "{k}={v}",
    "call({v!r})",
    '{k} := "{v}"',
    '"{k}": "{v}",',
    "    {v}",
    "if {k} == '{v}':",
    'char {k}[] = "{v}";',
    "url = 'https://user:{v}@example.com/x'",
    '{k} = "{v}"  # pragma: allowlist secret',
    # Hard cases: a keyword and its value on two lines, trailing whitespace, non-ASCII text
    # around the value (the case-folding path), an allowlist comment on the line before.
    '{k} = (\n    "{v}"\n)',
    "{k}:\n  {v}",
    '{k} = "{v}"   \t',
    '# contrase\u00f1a \u00fc\u00df\n{k} = "{v}"  # \u00e9t\u00e9',
    "# pragma: allowlist nextline secret\n{k} = '{v}'",
]
KEYS = [
    "password",
    "api_key",
    "secret",
    "token",
    "db_pass",
    "x",
    "AWS_SECRET_ACCESS_KEY",
    "ibm_cloud_iam_key",
    "cloudant_password",
    "softlayer_api_key",
    "ibm_cos_hmac_secret_access_key",
    "PA\u017f\u017fWORD",
]
NAMES = ["conf.py", "main.go", "app.js", "conf.yaml", "setup.cfg", "x.env", "m.cpp", "notes.txt"]
# Clean code: modules that talk about keys, tokens, passwords, hashes and URLs.
CLEAN = [
    "hashlib.py",
    "hmac.py",
    "secrets.py",
    "tokenize.py",
    "netrc.py",
    "smtplib.py",
    "ftplib.py",
    "uuid.py",
    "base64.py",
    "urllib/request.py",
    "urllib/parse.py",
    "http/cookiejar.py",
    "email/_header_value_parser.py",
    "configparser.py",
    "ssl.py",
]


def known_secret_files() -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []
    for i, name in enumerate(NAMES):
        lines = [
            shape.format(k=key, v=value)
            for shape, key, value in itertools.product(SHAPES, KEYS[i % 3 :: 3], VALUES)
        ]
        lines.insert(len(lines) // 2, PEM.strip())
        files.append((name, "\n".join(lines) + "\n"))
    # An INI file with sections, read by detect-secrets' config transformer.
    ini = "[db]\n" + "".join(f"{k} = {v}\n" for k, v in zip(KEYS, VALUES, strict=False))
    files.append(("service.ini", ini))
    # The same secrets with CRLF and CR line endings (the split-on-LF path must not apply).
    name, text = files[0]
    files.append(("crlf_" + name, text.replace("\n", "\r\n")))
    files.append(("cr_" + name, text.replace("\n", "\r")))
    return files


def clean_files() -> list[tuple[str, str]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = [(rel.replace("/", "_"), stdlib / rel) for rel in CLEAN]
    return [(name, path.read_text(encoding="utf-8")) for name, path in found if path.is_file()]


def detect_secrets_own(path: Path) -> set[tuple[str, int]]:
    from detect_secrets.core.scan import scan_file

    with secrets_mod._scan_lock:
        secrets_mod._configure()
        return {(str(s.type), int(s.line_number)) for s in scan_file(str(path))}


def ours(text: str, name: str) -> set[tuple[str, int]]:
    hits = SecretScanner(use_cache=False).scan(text, filename=name)
    return {(h.type, h.line) for h in hits}


@pytest.mark.parametrize(("name", "text"), known_secret_files(), ids=lambda v: str(v)[:12])
def test_known_secrets_match_detect_secrets(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    expected = detect_secrets_own(path)
    assert ours(text, name) == expected
    # The corpus is worth something only if it finds plenty.
    assert len(expected) >= 5


def test_clean_code_matches_detect_secrets(tmp_path: Path) -> None:
    files = clean_files()
    assert len(files) >= 10
    for name, text in files:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8", newline="")
        assert ours(text, name) == detect_secrets_own(path), name


def test_the_corpus_exercises_every_detector() -> None:
    # Each detector Handrail enables must find something in the corpus, or the comparison
    # above says nothing about it.
    from detect_secrets.settings import get_plugins

    with secrets_mod._scan_lock:
        secrets_mod._configure()
        wanted = {str(plugin.secret_type) for plugin in get_plugins()}
    found: set[str] = set()
    for name, text in known_secret_files():
        found |= {kind for kind, _line in ours(text, name)}
    assert wanted - found == set()
