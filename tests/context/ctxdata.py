"""Shared data of the context tests (imported by name: the test folders are not packages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pathspec

from handrail.workflow.model import ContextRules, Workflow

# Example credentials: the AWS documentation key, and made-up tokens in real formats.
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_" + "Zx9Qw3Er5Ty7Ui1Op3As5Df7Gh9Jk1Lz3Xc5"
ANTHROPIC_KEY = (
    "sk-ant-api03-"
    + "Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7jKl0nOp3rSt6vWx9zAb2dEf5hIj8lMn1pQr4tUv7xYz0bCd3f"
    + "Gh6jKl9nOp-AA"
)
OPENAI_PROJECT_KEY = "sk-proj-" + "Qm4nRt7vYx0zBc3eGh6jKm9pRs2uWx5zAc8fHj1lNp4rTv7xZa0cEg3iKm6"
PEM_BODY = "MIIEpAIBAAKCAQEA7bq98ZbTq3bO0k5Kp2yqk8M1wR9vM0bWJ3ZcQm9Yk1xq0Hh2lRkz"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\n"
ALL_VALUES = (AWS_KEY, GITHUB_TOKEN, ANTHROPIC_KEY, OPENAI_PROJECT_KEY, PEM_BODY)


@dataclass(frozen=True)
class FakeMatch:
    source: str
    pattern: str


class FakeIgnore:
    """gitignore-style matching with pathspec, one pattern at a time to name the match."""

    def __init__(self, patterns: list[str], source: str = "[context].ignore") -> None:
        self.source = source
        self.specs = [(p, pathspec.GitIgnoreSpec.from_lines([p])) for p in patterns]
        self.calls: list[tuple[str, bool]] = []

    def match(self, rel_path: str, *, is_dir: bool = False) -> FakeMatch | None:
        self.calls.append((rel_path, is_dir))
        probe = rel_path + "/" if is_dir else rel_path
        for pattern, spec in self.specs:
            if spec.match_file(probe):
                return FakeMatch(self.source, pattern)
        return None


def make_workflow(**context: Any) -> Workflow:
    severity = context.pop("severity", {})
    return Workflow(context=ContextRules(**context), severity=severity)
