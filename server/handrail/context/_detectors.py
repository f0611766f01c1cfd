"""Detectors and filters that detect-secrets 1.5 lacks, loaded by it as a plugin file.

detect-secrets imports this file by path (its ``file://`` plugin mechanism), so it must stay
self-contained: no imports from handrail.
"""

from __future__ import annotations

import re
from typing import Any

from detect_secrets.plugins.base import RegexBasedDetector


class AnthropicKeyDetector(RegexBasedDetector):
    """Anthropic API and admin keys: ``sk-ant-api03-...``, ``sk-ant-admin01-...``."""

    secret_type = "Anthropic API Key"
    denylist = (re.compile(r"\bsk-ant-[a-z]{2,10}[0-9]{2}-[A-Za-z0-9_\-]{32,}"),)


class OpenAIProjectKeyDetector(RegexBasedDetector):
    """OpenAI project, service-account and admin keys.

    The built-in OpenAI detector requires the ``T3BlbkFJ`` marker of legacy keys, which
    current project keys do not always carry.
    """

    secret_type = "OpenAI Project Key"
    denylist = (re.compile(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}"),)


# A Subresource Integrity value, as in package-lock.json, yarn and pnpm lock files: a public
# hash of a published package, never a credential.
_SRI = re.compile(r"\bsha(?:1|256|384|512)-[A-Za-z0-9+/]{20,}={0,2}")
# Words that say a hex string next to them is a digest of something, not a key.
_DIGEST_WORDS = re.compile(
    r"(?i)(sha[-_]?(?:1|224|256|384|512)|md5|blake2|hash|digest|checksum|integrity|etag|"
    r"commit|revision|\brev\b|fingerprint)"
)
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128}")
_ENTROPY_TYPES = {"Base64 High Entropy String", "Hex High Entropy String"}
_HEURISTIC_TYPES = {*_ENTROPY_TYPES, "Secret Keyword"}
# detect-secrets' own pattern for `x = get_secret()` / `x = headers['key']`.
_INDIRECT = re.compile(r"([^\v=!:]*)\s*(:=?|[!=]{1,3})\s*([\w.-]+[\[\(][^\v]*[\]\)])")


def is_public_digest(secret: str = "", line: str = "", plugin: Any = None) -> bool:
    """True for entropy hits that are a lock file integrity hash or a labelled hex digest."""
    # detect-secrets also calls every filter that takes `line` once per line, without a
    # secret: the defaults make that call cheap instead of a caught TypeError.
    if not secret or plugin is None or getattr(plugin, "secret_type", None) not in _ENTROPY_TYPES:
        return False
    for match in _SRI.finditer(line):
        if secret in match.group(0):
            return True
    return bool(_HEX_DIGEST.fullmatch(secret) and _DIGEST_WORDS.search(line))


def is_indirect_reference(secret: str = "", line: str = "", plugin: Any = None) -> bool:
    """detect-secrets' indirect-reference filter, limited to the heuristic detectors.

    Upstream it drops the whole line before any detector runs, so a real key passed to a
    call, as in ``boto3.client("s3", aws_access_key_id="AKIA...")``, was never reported.
    """
    if not secret or plugin is None or getattr(plugin, "secret_type", None) not in _HEURISTIC_TYPES:
        return False
    # Same length guard as upstream: the pattern backtracks badly on very long lines.
    return len(line) <= 1000 and bool(_INDIRECT.search(line))
