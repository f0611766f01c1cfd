"""Taking the code out of a model's answer: its fenced code blocks, read as CommonMark does.

A fence is three or more backticks or tildes, indented at most three spaces; it closes at a
line of the same character, at least as long, with nothing after it. An unclosed fence runs
to the end of the answer. Prose outside fences is never taken for code: an answer without a
fence has no code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")

# Info-string words that name the language of a file suffix (lower case).
_ALIASES: dict[str, frozenset[str]] = {
    suffix: frozenset(names.split())
    for suffix, names in {
        ".py": "python py python3 py3", ".pyi": "python py", ".js": "javascript js node",
        ".mjs": "javascript js", ".cjs": "javascript js", ".jsx": "jsx javascript js",
        ".ts": "typescript ts", ".tsx": "tsx typescript ts", ".go": "go golang",
        ".rs": "rust rs", ".java": "java", ".kt": "kotlin kt", ".c": "c", ".h": "c cpp",
        ".cc": "cpp c++", ".cpp": "cpp c++", ".hpp": "cpp c++", ".cs": "csharp cs c#",
        ".rb": "ruby rb", ".php": "php", ".sh": "bash sh shell zsh", ".sql": "sql",
        ".lua": "lua", ".swift": "swift", ".html": "html", ".css": "css", ".scss": "scss",
        ".yaml": "yaml yml", ".yml": "yaml yml", ".toml": "toml", ".md": "markdown md",
    }.items()
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CodeBlock:
    language: str
    """The first word of the info string, lower case ("" when none)."""
    code: str
    """The lines between the fences, each ending with a newline."""
    line: int
    """The 1-based line of the answer holding the opening fence."""
    closed: bool


def code_blocks(answer: str) -> list[CodeBlock]:
    """Every fenced code block of `answer`, in order."""
    lines = [m.group(0) for m in _LINE.finditer(answer)]
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        opened = _OPEN.match(lines[i].rstrip("\r\n"))
        if opened is None or (opened.group(2)[0] == "`" and "`" in opened.group(3)):
            i += 1
            continue
        indent, fence, info = len(opened.group(1)), opened.group(2), opened.group(3)
        start = i
        body: list[str] = []
        i += 1
        closed = False
        while i < len(lines):
            text = lines[i].rstrip("\r\n")
            if _closes(text, fence):
                closed = True
                i += 1
                break
            body.append(_dedent(text, indent) + "\n")
            i += 1
        words = info.strip().split()
        blocks.append(
            CodeBlock(words[0].lower() if words else "", "".join(body), start + 1, closed)
        )
    return blocks


def _closes(text: str, fence: str) -> bool:
    stripped = text.lstrip(" ")
    if len(text) - len(stripped) > 3:
        return False
    run = len(stripped) - len(stripped.lstrip(fence[0]))
    return run >= len(fence) and not stripped[run:].strip(" \t")


def _dedent(text: str, indent: int) -> str:
    # CommonMark removes up to the opening fence's indentation from each content line.
    spaces = len(text) - len(text.lstrip(" "))
    return text[min(spaces, indent) :]


def extract_code(answer: str, path: str | None = None) -> str | None:
    """The code to insert, or None when the answer holds no non-blank fenced code.

    With several blocks, those tagged with the language of `path` win (an answer often adds a
    usage example in another language or a shell command); among those, the longest, since
    the prompt asks for one block and the rest are usually short illustrations.
    """
    blocks = [b for b in code_blocks(answer) if b.code.strip()]
    if not blocks:
        return None
    if path is not None:
        names = _ALIASES.get(PurePosixPath(path).suffix.lower())
        if names:
            matching = [b for b in blocks if b.language in names]
            blocks = matching or [b for b in blocks if b.language == ""] or blocks
    best = max(blocks, key=lambda b: (len(b.code.splitlines()), -b.line))
    return best.code
