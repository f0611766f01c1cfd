"""Which comment syntax holds the block markers of a file, by extension and file name.

A marker must be a real comment in the file's language, so that marking never breaks a
build. Files whose language is unknown accept the common comment tokens; files whose
format has no comments at all (JSON, CSV) accept none and cannot be marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


class NoCommentSyntax(ValueError):
    """The file's format has no comments, so no marker can be written into it."""


@dataclass(frozen=True, slots=True)
class CommentStyle:
    """One comment syntax: a line token (``#``), a block pair (``/*`` ``*/``), or both."""

    line: str | None = None
    block_open: str | None = None
    block_close: str | None = None

    def __post_init__(self) -> None:
        if (self.block_open is None) != (self.block_close is None):
            raise ValueError("a block comment needs both its open and its close token")
        if self.line is None and self.block_open is None:
            raise ValueError("a comment style needs a line token or a block pair")

    def marker(self, verb: str, block_id: str) -> str:
        """The marker text (no indent, no line ending); a line comment is preferred."""
        if self.line is not None:
            return f"{self.line} handrail:{verb} {block_id}"
        return f"{self.block_open} handrail:{verb} {block_id} {self.block_close}"


@dataclass(frozen=True, slots=True)
class Language:
    name: str
    styles: tuple[CommentStyle, ...]
    extensions: tuple[str, ...] = ()
    filenames: tuple[str, ...] = ()


def _lang(name: str, styles: tuple[CommentStyle, ...], exts: str, names: str = "") -> Language:
    return Language(name, styles, tuple(exts.split()), tuple(names.split()))


_HASH = CommentStyle("#")
_SLASH = CommentStyle("//", "/*", "*/")
_CSS = CommentStyle(None, "/*", "*/")
_HTML = CommentStyle(None, "<!--", "-->")
_SEMI = CommentStyle(";")
_PERCENT = CommentStyle("%")
_DASH = CommentStyle("--")

LANGUAGES: tuple[Language, ...] = (
    _lang("Python", (_HASH,), "py pyi pyw pyx pxd", "SConstruct SConscript"),
    _lang("Starlark / Bazel", (_HASH,), "bzl bazel star", "BUILD WORKSPACE MODULE Tiltfile"),
    _lang("JavaScript", (_SLASH,), "js jsx mjs cjs", "Jakefile"),
    _lang("TypeScript", (_SLASH,), "ts tsx mts cts"),
    _lang("JSON with comments", (_SLASH,), "jsonc json5"),
    _lang("Go", (_SLASH,), "go", "go.mod go.work"),
    _lang("Rust", (_SLASH,), "rs"),
    _lang("Java", (_SLASH,), "java"),
    _lang("Kotlin", (_SLASH,), "kt kts"),
    _lang("Groovy / Gradle", (_SLASH,), "groovy gvy gradle", "Jenkinsfile"),
    _lang("C / C++", (_SLASH,), "c h cc cpp cxx c++ hpp hh hxx h++ ipp tpp inl ino cu cuh mm"),
    _lang("C#", (_SLASH,), "cs csx"),
    _lang("Swift", (_SLASH,), "swift"),
    _lang("Scala", (_SLASH,), "scala sc sbt"),
    _lang("Dart", (_SLASH,), "dart"),
    _lang("Zig", (CommentStyle("//"),), "zig"),
    _lang("Protocol Buffers", (_SLASH,), "proto"),
    _lang("Solidity", (_SLASH,), "sol"),
    _lang("GLSL / HLSL", (_SLASH,), "glsl vert frag hlsl wgsl"),
    _lang("SystemVerilog", (_SLASH,), "sv svh"),
    _lang(
        "Ruby",
        (_HASH,),
        "rb rake gemspec ru",
        "Rakefile Gemfile Podfile Vagrantfile Brewfile Guardfile Fastfile",
    ),
    # PHP templates mix PHP and HTML: outside `<?php ... ?>` the marker is an HTML comment.
    _lang("PHP", (_SLASH, _HASH, _HTML), "php phtml"),
    _lang(
        "Shell", (_HASH,), "sh bash zsh fish ksh", ".bashrc .bash_profile .zshrc .zprofile .profile"
    ),
    _lang("PowerShell", (CommentStyle("#", "<#", "#>"),), "ps1 psm1 psd1"),
    _lang("Batch", (CommentStyle("REM"), CommentStyle("::")), "bat cmd"),
    _lang("SQL", (CommentStyle("--", "/*", "*/"),), "sql pgsql plsql"),
    _lang("Lua", (CommentStyle("--", "--[[", "]]"),), "lua"),
    _lang("Haskell", (CommentStyle("--", "{-", "-}"),), "hs lhs cabal"),
    _lang("Elm / PureScript", (CommentStyle("--", "{-", "-}"),), "elm purs"),
    _lang("Ada / VHDL", (_DASH,), "adb ads vhd vhdl"),
    _lang("Elixir", (_HASH,), "ex exs"),
    _lang("Erlang", (_PERCENT,), "erl hrl"),
    # `;;` is the convention for a comment on its own line: editors move a single `;` comment
    # to the comment column. A single `;` is still accepted.
    _lang(
        "Lisp / Scheme / Clojure",
        (CommentStyle(";;"), _SEMI),
        "lisp lsp cl el asd scm ss sld rkt clj cljs cljc edn fnl",
    ),
    _lang("TeX / LaTeX", (_PERCENT,), "tex sty cls ltx dtx"),
    # `.m` is MATLAB/Octave or Objective-C: both comment syntaxes are accepted.
    _lang("MATLAB / Octave", (_PERCENT, _SLASH), "m"),
    _lang("HTML", (_HTML, _SLASH), "html htm xhtml shtml"),
    _lang(
        "XML",
        (_HTML,),
        "xml xsd xsl xslt svg plist xaml csproj vbproj fsproj props targets resx wsdl rss atom",
    ),
    _lang("Vue / Svelte / Astro", (_HTML, _SLASH), "vue svelte astro"),
    _lang("CSS", (_CSS,), "css"),
    _lang("SCSS / Less / Sass", (_SLASH,), "scss less sass"),
    _lang("Markdown", (_HTML,), "md markdown mkd mdown"),
    _lang("MDX", (CommentStyle(None, "{/*", "*/}"),), "mdx"),
    _lang("reStructuredText", (CommentStyle(".."),), "rst"),
    _lang("AsciiDoc", (CommentStyle("//"),), "adoc asciidoc"),
    _lang("Org", (_HASH,), "org"),
    _lang("YAML", (_HASH,), "yml yaml"),
    _lang("TOML", (_HASH,), "toml", "Pipfile"),
    _lang("INI", (_SEMI, _HASH), "ini"),
    _lang(
        "Config files",
        (_HASH, _SEMI),
        "cfg conf service socket timer desktop",
        ".editorconfig .gitconfig .npmrc",
    ),
    _lang("Java properties", (_HASH, CommentStyle("!")), "properties"),
    _lang("Dockerfile", (_HASH,), "dockerfile", "Dockerfile Containerfile"),
    _lang("Makefile", (_HASH,), "mk mak make", "Makefile makefile GNUmakefile Justfile justfile"),
    _lang("CMake", (_HASH,), "cmake", "CMakeLists.txt"),
    _lang("R", (_HASH,), "r rprofile", ".Rprofile"),
    _lang("Perl", (_HASH,), "pl pm psgi"),
    _lang("Terraform / HCL", (_HASH, _SLASH), "tf tfvars hcl nomad"),
    _lang("Julia", (_HASH,), "jl"),
    _lang("Nim", (_HASH,), "nim nims"),
    _lang("Crystal", (_HASH,), "cr"),
    _lang("Nix", (CommentStyle("#", "/*", "*/"),), "nix"),
    _lang("GraphQL", (_HASH,), "graphql gql"),
    _lang("Tcl / AWK", (_HASH,), "tcl awk"),
    _lang(
        "Ignore and env files",
        (_HASH,),
        "env",
        ".gitignore .dockerignore .gitattributes .npmignore .env requirements.txt",
    ),
    _lang("Fortran", (CommentStyle("!"),), "f90 f95 f03 f08"),
    _lang("Vim script", (CommentStyle('"'),), "vim", ".vimrc vimrc"),
    _lang("OCaml", (CommentStyle(None, "(*", "*)"),), "ml mli"),
    _lang("F#", (CommentStyle("//", "(*", "*)"),), "fs fsi fsx"),
    _lang("Pascal", (CommentStyle("//", "{", "}"), CommentStyle(None, "(*", "*)")), "pas"),
    _lang("Assembly", (_SEMI,), "asm nasm"),
    _lang("Jinja / Twig", (CommentStyle(None, "{#", "#}"),), "j2 jinja jinja2 twig"),
    _lang(
        "Handlebars / Mustache",
        (CommentStyle(None, "{{!--", "--}}"), CommentStyle(None, "{{!", "}}")),
        "hbs handlebars mustache",
    ),
    _lang("ERB", (CommentStyle(None, "<%#", "%>"),), "erb"),
)

UNKNOWN_STYLES: tuple[CommentStyle, ...] = (
    _HASH,
    _SLASH,
    _DASH,
    _SEMI,
    _PERCENT,
    _HTML,
)
"""Accepted in a file of unknown type; marking writes the first (``#``)."""

NO_COMMENT_EXTENSIONS = frozenset({"json", "ipynb", "geojson", "csv", "tsv"})
"""Formats without comments: a marker written there would corrupt the file."""

_BY_EXTENSION: dict[str, Language] = {}
_BY_FILENAME: dict[str, Language] = {}
_BY_LOWER_FILENAME: dict[str, Language] = {}
for _language in LANGUAGES:
    for _ext in _language.extensions:
        _BY_EXTENSION.setdefault(_ext, _language)
    for _name in _language.filenames:
        _BY_FILENAME.setdefault(_name, _language)
        _BY_LOWER_FILENAME.setdefault(_name.lower(), _language)


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def language_of(path: str) -> Language | None:
    """The known language of `path` by file name, then extension; None when unknown."""
    name = _basename(path)
    known = _BY_FILENAME.get(name) or _BY_LOWER_FILENAME.get(name.lower())
    if known is not None:
        return known
    for prefix in ("Dockerfile", "Containerfile"):
        if name.startswith(prefix + "."):
            return _BY_FILENAME[prefix]
    if name.startswith(".env."):
        return _BY_FILENAME[".env"]
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem.strip("."):
        return None
    return _BY_EXTENSION.get(ext.lower())


@lru_cache(maxsize=512)
def _styles_for_name(name: str) -> tuple[CommentStyle, ...]:
    known = language_of(name)
    if known is not None:
        return known.styles
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext.lower() in NO_COMMENT_EXTENSIONS:
        return ()
    return UNKNOWN_STYLES


def comment_styles_for(path: str) -> list[CommentStyle]:
    """The comment styles markers may use in `path`, the preferred one first.

    Empty for formats that have no comments (JSON, CSV, notebooks).
    """
    return list(_styles_for_name(_basename(path)))


def marker_lines(path: str, block_id: str) -> tuple[str, str]:
    """The begin and end marker text for `path` (no indent, no line ending).

    Raises NoCommentSyntax for a format without comments.
    """
    styles = _styles_for_name(_basename(path))
    if not styles:
        raise NoCommentSyntax(f"{path} has no comment syntax, so it cannot hold block markers")
    style = styles[0]
    return style.marker("begin", block_id), style.marker("end", block_id)


_EMBED_SCRIPT = re.compile(r"<(/?)(script|style)\b[^>]*>", re.IGNORECASE)
_PHP_TAG = re.compile(r"<\?(?:php\b|=)?|\?>", re.IGNORECASE)
_JS_STYLE = _SLASH


def style_at(path: str, before: str) -> CommentStyle:
    """The style for a marker written after the text `before` (the file up to that line).

    Files that embed other languages need the syntax of the part the marker lands in: a
    `<script>` section of an HTML or Vue file takes `//`, a `<style>` section `/* */`, the
    front matter of an Astro file `//`, and the HTML part of a PHP template `<!-- -->`.
    Raises NoCommentSyntax for a format without comments.
    """
    styles = _styles_for_name(_basename(path))
    if not styles:
        raise NoCommentSyntax(f"{path} has no comment syntax, so it cannot hold block markers")
    language = language_of(path)
    if language is None:
        return styles[0]
    if styles[0] == _HTML and _SLASH in styles:
        if language.name.startswith("Vue") and _in_astro_front_matter(path, before):
            return _JS_STYLE
        tags = list(_EMBED_SCRIPT.finditer(before))
        last = tags[-1] if tags else None
        if last is not None and not last.group(1):
            return _JS_STYLE if last.group(2).lower() == "script" else _CSS
        return styles[0]
    if language.name == "PHP":
        php = list(_PHP_TAG.finditer(before))
        tag = php[-1] if php else None
        if tag is None or tag.group(0) == "?>":
            return _HTML
    return styles[0]


def _in_astro_front_matter(path: str, before: str) -> bool:
    if not path.lower().endswith(".astro") or not before.startswith("---"):
        return False
    fences = sum(1 for line in before.splitlines() if line.rstrip() == "---")
    return fences % 2 == 1
