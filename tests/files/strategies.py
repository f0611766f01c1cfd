"""Hypothesis strategies for small trees and gitignore lines (shared by the files tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

NAMES = [
    "a",
    "b",
    "ab",
    "c.txt",
    "d.log",
    "e.py",
    ".env",
    "node_modules",
    "build",
    "x y",
    "#h",
    "!n",
    "t ",
    "[x]",
    "f*",
    "é",
    "a\\b",
    "1.txt",
    "é.log",
    "n\nl",
    "x\ty",
]

SEGMENTS = [
    "a",
    "b",
    "ab",
    "*",
    "**",
    "?",
    "*.txt",
    "*.log",
    "c.txt",
    "node_modules",
    "build",
    "[a-c]",
    "[!a]*",
    "\\*",
    "x y",
    "e.py",
    ".env",
    "é",
    "a*",
    "*b",
    "#h",
    "\\#h",
    "\\!n",
    "t\\ ",
    "\\[x]",
    "a\\\\b",
    "***",
    "a**",
    "[[:digit:]]*",
    "[[:alpha:]]",
    "[[:bogus:]]",
    "[[:a]",
    "[z-ab]*",
    "[!]]*",
    "[a-]",
    "?*",
    "é?",
    "[é]*",
    "x\ty",
]

# Characters for free-form lines, the glob syntax included.
LINE_ALPHABET = "ab1*?/![]:^\\ #.-\t\ré"


@st.composite
def structured_lines(draw: st.DrawFn) -> str:
    negate = draw(st.sampled_from(["", "", "", "!"]))
    lead = draw(st.sampled_from(["", "", "/", "**/"]))
    segments = draw(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3))
    trail = draw(st.sampled_from(["", "", "", "/", " ", "  ", "\\ ", "\r", "\t", "/**", "/**/"]))
    return negate + lead + "/".join(segments) + trail


lines = st.one_of(
    structured_lines(),
    structured_lines(),
    st.text(alphabet=LINE_ALPHABET, max_size=8),
    st.sampled_from(["", "# comment", "!", "/", "\\", "!/", "*", "**", "*/", "**/"]),
)

gitignore_texts = st.lists(lines, max_size=6)


@dataclass
class Tree:
    files: list[str]
    ignores: dict[str, list[str]] = field(default_factory=dict)
    """folder ("" for the root) -> the lines of its .gitignore"""
    exclude: list[str] = field(default_factory=list)
    """.git/info/exclude"""

    def folders(self) -> set[str]:
        found = {""}
        for path in self.files:
            parts = path.split("/")
            for i in range(1, len(parts)):
                found.add("/".join(parts[:i]))
        return found

    def contents(self) -> dict[str, str]:
        out = {path: "x\n" for path in self.files}
        for folder, text_lines in self.ignores.items():
            out[f"{folder}/.gitignore" if folder else ".gitignore"] = render(text_lines)
        return out


def render(text_lines: list[str]) -> str:
    return "".join(line + "\n" for line in text_lines)


@st.composite
def trees(draw: st.DrawFn) -> Tree:
    raw = draw(
        st.lists(
            st.lists(st.sampled_from(NAMES), min_size=1, max_size=4).map("/".join),
            min_size=1,
            max_size=12,
            unique=True,
        )
    )
    # A path that is also a folder of another path becomes that folder: keep leaves only.
    paths = sorted(set(raw))
    files = [p for p in paths if not any(other.startswith(p + "/") for other in paths)]
    tree = Tree(files=files)
    folders = sorted(tree.folders())
    chosen = draw(st.lists(st.sampled_from(folders), max_size=3, unique=True))
    if "" not in chosen and draw(st.booleans()):
        chosen.append("")
    for folder in chosen:
        tree.ignores[folder] = draw(gitignore_texts)
    if draw(st.integers(0, 3)) == 0:
        tree.exclude = draw(gitignore_texts)
    return tree
