"""Comment syntax per language: the markers written, and that they read back as blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from handrail.blocks.comments import (
    LANGUAGES,
    CommentStyle,
    NoCommentSyntax,
    comment_styles_for,
    language_of,
    marker_lines,
    style_at,
)
from handrail.blocks.mark import MarkError, remove_markers, wrap_lines
from handrail.blocks.markers import parse_blocks

BID = "k3f9qa.1"

# (path, the begin marker `marker_lines` gives): every language the contract names.
TABLE = [
    ("src/app.py", "# handrail:begin k3f9qa.1"),
    ("types.pyi", "# handrail:begin k3f9qa.1"),
    ("web/app.js", "// handrail:begin k3f9qa.1"),
    ("web/App.jsx", "// handrail:begin k3f9qa.1"),
    ("web/mod.mjs", "// handrail:begin k3f9qa.1"),
    ("web/mod.cjs", "// handrail:begin k3f9qa.1"),
    ("web/app.ts", "// handrail:begin k3f9qa.1"),
    ("web/App.tsx", "// handrail:begin k3f9qa.1"),
    ("main.go", "// handrail:begin k3f9qa.1"),
    ("src/lib.rs", "// handrail:begin k3f9qa.1"),
    ("Main.java", "// handrail:begin k3f9qa.1"),
    ("Main.kt", "// handrail:begin k3f9qa.1"),
    ("build.gradle.kts", "// handrail:begin k3f9qa.1"),
    ("x.c", "// handrail:begin k3f9qa.1"),
    ("x.h", "// handrail:begin k3f9qa.1"),
    ("x.cc", "// handrail:begin k3f9qa.1"),
    ("x.cpp", "// handrail:begin k3f9qa.1"),
    ("x.hpp", "// handrail:begin k3f9qa.1"),
    ("x.cxx", "// handrail:begin k3f9qa.1"),
    ("Program.cs", "// handrail:begin k3f9qa.1"),
    ("App.swift", "// handrail:begin k3f9qa.1"),
    ("App.scala", "// handrail:begin k3f9qa.1"),
    ("main.dart", "// handrail:begin k3f9qa.1"),
    ("lib/x.rb", "# handrail:begin k3f9qa.1"),
    ("Gemfile", "# handrail:begin k3f9qa.1"),
    ("index.php", "// handrail:begin k3f9qa.1"),
    ("run.sh", "# handrail:begin k3f9qa.1"),
    ("run.bash", "# handrail:begin k3f9qa.1"),
    ("run.zsh", "# handrail:begin k3f9qa.1"),
    ("config.fish", "# handrail:begin k3f9qa.1"),
    ("Build.ps1", "# handrail:begin k3f9qa.1"),
    ("schema.sql", "-- handrail:begin k3f9qa.1"),
    ("init.lua", "-- handrail:begin k3f9qa.1"),
    ("Main.hs", "-- handrail:begin k3f9qa.1"),
    ("lib/app.ex", "# handrail:begin k3f9qa.1"),
    ("test/app_test.exs", "# handrail:begin k3f9qa.1"),
    ("src/app.erl", "% handrail:begin k3f9qa.1"),
    ("core.lisp", ";; handrail:begin k3f9qa.1"),
    ("init.el", ";; handrail:begin k3f9qa.1"),
    ("core.clj", ";; handrail:begin k3f9qa.1"),
    ("paper.tex", "% handrail:begin k3f9qa.1"),
    ("solve.m", "% handrail:begin k3f9qa.1"),
    ("index.html", "<!-- handrail:begin k3f9qa.1 -->"),
    ("pom.xml", "<!-- handrail:begin k3f9qa.1 -->"),
    ("App.vue", "<!-- handrail:begin k3f9qa.1 -->"),
    ("App.svelte", "<!-- handrail:begin k3f9qa.1 -->"),
    ("site.css", "/* handrail:begin k3f9qa.1 */"),
    ("site.scss", "// handrail:begin k3f9qa.1"),
    ("site.less", "// handrail:begin k3f9qa.1"),
    ("README.md", "<!-- handrail:begin k3f9qa.1 -->"),
    ("ci.yml", "# handrail:begin k3f9qa.1"),
    ("ci.yaml", "# handrail:begin k3f9qa.1"),
    ("pyproject.toml", "# handrail:begin k3f9qa.1"),
    ("setup.ini", "; handrail:begin k3f9qa.1"),
    ("Dockerfile", "# handrail:begin k3f9qa.1"),
    ("Dockerfile.dev", "# handrail:begin k3f9qa.1"),
    ("web.dockerfile", "# handrail:begin k3f9qa.1"),
    ("Makefile", "# handrail:begin k3f9qa.1"),
    ("rules.mk", "# handrail:begin k3f9qa.1"),
    ("analysis.R", "# handrail:begin k3f9qa.1"),
    ("analysis.r", "# handrail:begin k3f9qa.1"),
    ("script.pl", "# handrail:begin k3f9qa.1"),
    ("Lib.pm", "# handrail:begin k3f9qa.1"),
    ("main.tf", "# handrail:begin k3f9qa.1"),
    ("vars.tfvars", "# handrail:begin k3f9qa.1"),
    ("notes.mdx", "{/* handrail:begin k3f9qa.1 */}"),
    ("page.j2", "{# handrail:begin k3f9qa.1 #}"),
    ("run.bat", "REM handrail:begin k3f9qa.1"),
    ("a.ml", "(* handrail:begin k3f9qa.1 *)"),
    ("unknown.weird", "# handrail:begin k3f9qa.1"),
    ("no_extension", "# handrail:begin k3f9qa.1"),
]


@pytest.mark.parametrize(("path", "begin"), TABLE)
def test_marker_text_per_language(path: str, begin: str) -> None:
    start, end = marker_lines(path, BID)
    assert start == begin
    assert end == begin.replace("handrail:begin", "handrail:end")


def _source(path: str) -> str:
    # PHP code lives after `<?php`; elsewhere any lines do.
    head = "<?php\n" if path.endswith(".php") else "first line\n"
    return head + "    alpha = 1\n\tbeta = 2\n    gamma\nlast line\n"


@pytest.mark.parametrize(("path", "begin"), TABLE)
def test_wrap_parse_and_unwrap_per_language(path: str, begin: str) -> None:
    original = _source(path)
    marked = wrap_lines(original, 2, 4, BID, path)
    lines = marked.split("\n")
    assert lines[1].strip() == begin
    assert lines[5].strip() == begin.replace("handrail:begin", "handrail:end")
    result = parse_blocks(marked, path)
    assert result.problems == []
    [block] = result.blocks
    assert (block.begin_line, block.end_line, block.content_line_count) == (2, 6, 3)
    assert remove_markers(marked, path, [BID]) == original


@pytest.mark.parametrize(
    "line",
    [
        "# handrail:begin k3f9qa.1",
        "// handrail:begin k3f9qa.1",
        "-- handrail:begin k3f9qa.1",
        "; handrail:begin k3f9qa.1",
        "% handrail:begin k3f9qa.1",
        "<!-- handrail:begin k3f9qa.1 -->",
        "/* handrail:begin k3f9qa.1 */",
    ],
)
def test_unknown_extension_accepts_the_common_tokens(line: str) -> None:
    end = line.replace("begin", "end")
    result = parse_blocks(f"{line}\nbody\n{end}\n", "data/thing.unknownext")
    assert [b.id for b in result.blocks] == [BID]
    assert result.problems == []


def test_known_language_ignores_a_foreign_token() -> None:
    # `//` is not a comment in Python: such a line is code (or a syntax error), not a marker.
    text = "// handrail:begin k3f9qa.1\nx\n// handrail:end k3f9qa.1\n"
    assert parse_blocks(text, "a.py").blocks == []
    assert parse_blocks(text, "a.py").problems == []


@pytest.mark.parametrize("path", ["data.json", "nb.ipynb", "table.csv", "table.tsv"])
def test_formats_without_comments(path: str) -> None:
    assert comment_styles_for(path) == []
    with pytest.raises(NoCommentSyntax):
        marker_lines(path, BID)
    text = '# handrail:begin k3f9qa.1\n{"a": 1}\n# handrail:end k3f9qa.1\n'
    assert parse_blocks(text, path).blocks == []
    with pytest.raises(MarkError, match="no comment syntax"):
        wrap_lines('{"a": 1}\n', 1, 1, BID, path)


def test_file_names_and_paths() -> None:
    assert language_of("deep/dir/Makefile") is language_of("GNUmakefile")
    assert language_of("C:\\work\\app.py") is language_of("app.py")
    assert language_of(".env.local") is language_of(".env")
    assert language_of("Containerfile.prod") is language_of("Dockerfile")
    assert language_of("MAKEFILE") is language_of("Makefile")
    assert language_of("archive.tar") is None
    assert language_of(".hidden") is None


def test_both_syntaxes_of_a_c_like_language() -> None:
    text = "/* handrail:begin k3f9qa.1 */\nint x;\n// handrail:end k3f9qa.1\n"
    assert [b.id for b in parse_blocks(text, "x.c").blocks] == [BID]


def test_lisp_single_and_triple_semicolons() -> None:
    text = "; handrail:begin k3f9qa.1\n(x)\n;;; handrail:end k3f9qa.1\n"
    assert [b.id for b in parse_blocks(text, "a.el").blocks] == [BID]


def test_comment_style_validation() -> None:
    with pytest.raises(ValueError):
        CommentStyle(None, "/*", None)
    with pytest.raises(ValueError):
        CommentStyle(None, None, None)


VUE = """<template>
  <div>{{ count }}</div>
</template>
<script setup lang="ts">
const count = ref(0)
</script>
<style scoped>
div { color: red; }
</style>
"""


def test_vue_sections_take_their_own_syntax() -> None:
    template = wrap_lines(VUE, 2, 2, "aaaaaa.1", "App.vue")
    assert "  <!-- handrail:begin aaaaaa.1 -->" in template
    script = wrap_lines(VUE, 5, 5, "aaaaaa.1", "App.vue")
    assert "// handrail:begin aaaaaa.1\nconst count" in script
    style = wrap_lines(VUE, 8, 8, "aaaaaa.1", "App.vue")
    assert "/* handrail:begin aaaaaa.1 */\ndiv" in style
    for marked in (template, script, style):
        assert len(parse_blocks(marked, "App.vue").blocks) == 1


def test_html_inline_script() -> None:
    html = "<p>hi</p>\n<script>\nlet a = 1;\n</script>\n<p>bye</p>\n"
    assert style_at("x.html", "<p>hi</p>\n<script>\n").line == "//"
    assert style_at("x.html", html).block_open == "<!--"
    marked = wrap_lines(html, 3, 3, "aaaaaa.1", "x.html")
    assert "// handrail:begin aaaaaa.1\nlet a" in marked


def test_php_template_html_part() -> None:
    php = "<h1>Title</h1>\n<?php\n$a = 1;\n?>\n<p>footer</p>\n"
    assert "// handrail:begin aaaaaa.1\n$a" in wrap_lines(php, 3, 3, "aaaaaa.1", "t.php")
    footer = wrap_lines(php, 5, 5, "aaaaaa.1", "t.php")
    assert "<!-- handrail:begin aaaaaa.1 -->\n<p>footer" in footer
    assert len(parse_blocks(footer, "t.php").blocks) == 1


def test_astro_front_matter() -> None:
    astro = "---\nconst title = 'x'\n---\n<h1>{title}</h1>\n"
    assert "// handrail:begin aaaaaa.1\nconst" in wrap_lines(astro, 2, 2, "aaaaaa.1", "p.astro")
    assert "<!-- handrail:begin aaaaaa.1 -->\n<h1>" in wrap_lines(
        astro, 4, 4, "aaaaaa.1", "p.astro"
    )


def test_every_language_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "markers.md").read_text("utf-8")
    for language in LANGUAGES:
        assert language.name in doc, language.name
