"""Gitignore-style matching: the workflow's `[context].ignore` patterns plus every `.gitignore`.

The answer is git's, pattern for pattern (the tests hold it to `git check-ignore`):

- the workflow's patterns act like a `.gitignore` at the workspace root, read after the root
  `.gitignore` itself (so within the root, they win over it);
- every `.gitignore` applies to its folder and below; a deeper file wins over a shallower one,
  and within one file the last matching line wins, `!` lines included;
- `.git/info/exclude` comes last (lowest precedence), as in git;
- a path inside an excluded folder is excluded, whatever a later line says about the path:
  git never looks inside an excluded folder, so it cannot re-include anything there.

Each line is translated to a regular expression that matches exactly the paths git's
`wildmatch` matches, and every `.gitignore` becomes one pathspec `PathSpec` on the re2 backend:
one re2 set match per file and path returns the last matching line. pathspec's own
`GitIgnoreSpec` translation is not used: it disagrees with git on lines the property tests
generate (`?` against non-ASCII names, `a/**/`, `***`, `!/`, reversed ranges, `[[:digit:]]`,
trailing tabs) and decides between folder and file patterns by its own priority rather than by
git's "last matching line".

git matches bytes: `?` is one byte, so it does not match `é` (two bytes in UTF-8). Patterns and
paths are therefore matched in a "byte view" (the UTF-8 bytes, one character per byte), which
also gives names that are not valid UTF-8 (decoded with surrogateescape) a faithful match.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec import PathSpec
from pathspec.pattern import RegexPattern

from handrail.workspace import PathEscapesWorkspace, Workspace

log = logging.getLogger(__name__)

WORKFLOW_SOURCE = "[context].ignore"
"""The `source` of an `IgnoreMatch` made by one of the workflow's own patterns."""

GITIGNORE = ".gitignore"

_BOM = b"\xef\xbb\xbf"
# git skips pattern files larger than this (dir.c, PATTERN_MAX_FILE_SIZE).
MAX_IGNORE_FILE_BYTES = 100 * 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# A FIFO named .gitignore must not block the reader; the type is checked once it is open.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True)
class IgnoreMatch:
    """Why a path is ignored: the pattern and where it was written."""

    source: str
    """`[context].ignore` for the workflow's patterns, else `file:line` (`sub/.gitignore:12`)."""
    pattern: str
    """The pattern as written (trailing spaces trimmed the way git trims them)."""


Edges = tuple[frozenset[str] | None, frozenset[str] | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One usable gitignore line."""

    text: str
    """The line as git keeps it (see `git_trim`), `!` included."""
    source: str
    negated: bool
    dir_only: bool
    regex: str
    """Matches the path (relative to the file's folder, in byte view) exactly as git does,
    without its end anchor (`$` for re2, `\\Z` for Python's re)."""
    literal: str | None
    """None for a pattern matched against the name alone; else the literal start every
    matching path (relative to the file's folder, byte view) begins with."""
    folders: tuple[str, ...] = ()
    """Names every matching path has among its folders (the pattern's literal segments
    before the last one), for a pattern with a `/`."""
    edges: Edges = (None, None)
    """For a pattern matched against the name alone: the characters a matching name can
    start and end with (byte view); None where any can."""


Translated = tuple[str, str | None, tuple[str, ...], Edges]


def byte_view(text: str) -> str:
    """`text` with one character per UTF-8 byte, the way git sees names and patterns."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _backend() -> tuple[str, str]:
    """pathspec's backend and the end anchor its regex engine needs."""
    try:
        PathSpec([RegexPattern(re.compile("^a$"), True)], backend="re2")
    except Exception as exc:  # the google-re2 wheel is missing or broken
        log.warning("pathspec's re2 backend is unavailable (%s); ignore matching is slower", exc)
        return "simple", r"\Z"
    # re2's `$` is the end of the text (Python's also matches before a final newline).
    return "re2", "$"


_BACKEND, _END = _backend()


def _path_spec(rules: Sequence[Rule]) -> PathSpec[RegexPattern] | None:
    if not rules:
        return None
    patterns = [
        RegexPattern(re.compile("(?s)" + rule.regex + _END), not rule.negated) for rule in rules
    ]
    return PathSpec(patterns, backend=_BACKEND)


Lookup = Callable[[str], tuple[bool | None, int | None]]
"""(include, index of the last matching rule) for a path, as pathspec's backends answer."""


def _lookup(spec: PathSpec[RegexPattern] | None) -> Lookup | None:
    if spec is None:
        return None
    # The walker asks once per directory entry: going to the backend directly skips
    # check_file's path normalising and result object, a third of the cost per call.
    backend_match = getattr(getattr(spec, "_backend", None), "match_file", None)
    if callable(backend_match):
        return backend_match  # type: ignore[no-any-return]

    def via_check_file(path: str) -> tuple[bool | None, int | None]:
        result = spec.check_file(path, separators=())
        return result.include, result.index

    return via_check_file


class _Lookup:
    """One PathSpec over some of a level's rules, answering in the level's rule indices."""

    __slots__ = ("indices", "lookup")

    def __init__(self, rules: list[Rule], indices: list[int]) -> None:
        self.indices = indices
        lookup = _lookup(_path_spec([rules[i] for i in indices]))
        assert lookup is not None
        self.lookup = lookup

    def last(self, path: str) -> int:
        index = self.lookup(path)[1]
        return -1 if index is None else self.indices[index]


def _lookups(rules: list[Rule], keep: Callable[[Rule], bool]) -> _Lookup | None:
    indices = [i for i, rule in enumerate(rules) if keep(rule)]
    return _Lookup(rules, indices) if indices else None


_NAME_CACHE_LIMIT = 65536


class _NameFilter:
    """A quick "no rule can match this name" from the first and last characters."""

    __slots__ = ("firsts", "lasts")

    def __init__(self, firsts: frozenset[str], lasts: frozenset[str]) -> None:
        self.firsts = firsts
        self.lasts = lasts

    @classmethod
    def of(cls, rules: list[Rule]) -> _NameFilter | None:
        """The filter for `rules`, or None when some rule can match names of any shape."""
        firsts: set[str] = set()
        lasts: set[str] = set()
        for rule in rules:
            first, last = rule.edges
            if last is not None:
                lasts |= last  # a name this rule matches ends with one of these
            elif first is not None:
                firsts |= first
            else:
                return None
        return cls(frozenset(firsts), frozenset(lasts))

    def may_match(self, name: str) -> bool:
        return name[-1:] in self.lasts or name[:1] in self.firsts


class _Level:
    """The rules that apply at one folder, in file order (the last matching rule wins).

    Rules matched against the name alone (`*.log`, `node_modules/`: most of them) are looked
    up by name once and remembered. When a rule with a `/` may match, one lookup over all the
    rules on the whole path answers instead; a walker knows, per folder, when the literal
    start of every such rule rules that out.
    """

    __slots__ = ("add", "alls", "edges", "literals", "name_cache", "names", "rules", "strip")

    def __init__(self, rules: list[Rule], *, strip: int, add: str) -> None:
        self.rules = rules
        self.strip = strip
        self.add = add
        # [for files, for folders]: folder-only rules never match a file
        self.names = (
            _lookups(rules, lambda r: r.literal is None and not r.dir_only),
            _lookups(rules, lambda r: r.literal is None),
        )
        self.alls = (
            _lookups(rules, lambda r: not r.dir_only),
            _lookups(rules, lambda r: True),
        )
        self.literals = [(r.literal, r.folders) for r in rules if r.literal is not None]
        # Most names neither start nor end with a character some rule's names can: such a
        # name needs no lookup.
        self.edges = (
            _NameFilter.of([r for r in rules if r.literal is None and not r.dir_only]),
            _NameFilter.of([r for r in rules if r.literal is None]),
        )
        self.name_cache: dict[tuple[str, bool], int] = {}

    def paths_possible(self, folder_prefix: str) -> bool:
        """Whether a rule with a `/` can match some entry of the folder at `folder_prefix`
        (the entries' local paths start with it)."""
        components = set(folder_prefix.split("/"))
        for literal, folders in self.literals:
            common = min(len(literal), len(folder_prefix))
            if literal[:common] == folder_prefix[:common] and components.issuperset(folders):
                return True
        return False

    def decide(self, rel: str, is_dir: bool) -> Rule | None:
        """The last rule matching `rel` itself (negations included), or None: no say here.

        `rel` is in byte view (`byte_view`), as are `strip` and `add`.
        """
        local = self.add + rel[self.strip :]
        return self.decide_local(local, local.rpartition("/")[2], is_dir, check_paths=True)

    def decide_local(
        self, local: str, name: str, is_dir: bool, *, check_paths: bool
    ) -> Rule | None:
        if check_paths and self.literals:
            # Some rule needs the whole path: one lookup over all rules answers.
            every = self.alls[is_dir]
            best = -1 if every is None else every.last(local)
        else:
            names = self.names[is_dir]
            if names is None:
                return None
            edges = self.edges[is_dir]
            if edges is not None and not edges.may_match(name):
                return None
            key = (name, is_dir)
            known = self.name_cache.get(key)
            if known is None:
                if len(self.name_cache) >= _NAME_CACHE_LIMIT:
                    self.name_cache.clear()
                known = self.name_cache[key] = names.last(name)
            best = known
        return self.rules[best] if best >= 0 else None


EntryCheck = Callable[[str, bool], "IgnoreMatch | None"]
"""For the entries of one folder: (name, is a folder) -> the match that ignores it, or None."""


Chain = tuple[_Level, ...]


class IgnoreMatcher:
    """Answers "is this workspace-relative path ignored, and by which pattern?".

    Build it with `for_workspace`. `.gitignore` files are read lazily, folder by folder, the
    first time a path below them is asked about; `.gitignore` files inside symlinked folders
    and `.gitignore` files that are themselves symlinks are never read.
    """

    def __init__(
        self,
        root: Path,
        top: Chain,
        *,
        use_gitignore: bool,
        root_excluded: IgnoreMatch | None = None,
    ) -> None:
        self._root = root
        self._use_gitignore = use_gitignore
        # folder -> (levels that apply to its entries, deepest first; folder is a real folder)
        self._chains: dict[str, tuple[Chain, bool]] = {"": (top, True)}
        # folder -> what excludes it (itself or a parent), None when it is not excluded; the
        # root itself is excluded when it is an ignored folder of an enclosing repository.
        self._folders: dict[str, IgnoreMatch | None] = {"": root_excluded}

    @classmethod
    def for_workspace(
        cls, ws: Workspace, patterns: Sequence[str], *, use_gitignore: bool
    ) -> IgnoreMatcher:
        """The matcher for `ws`: the workflow's `patterns`, plus git's files if `use_gitignore`."""
        root = ws.root
        root_rules = _file_rules(root / GITIGNORE, GITIGNORE) if use_gitignore else []
        for text in patterns:
            rule = parse_rule(text, WORKFLOW_SOURCE)
            if rule is not None:
                root_rules.append(rule)
        levels: list[_Level] = []
        if root_rules:
            levels.append(_Level(root_rules, strip=0, add=""))
        root_excluded = None
        if use_gitignore:
            outer, root_excluded = _outer_levels(root)
            levels.extend(outer)
        return cls(root, tuple(levels), use_gitignore=use_gitignore, root_excluded=root_excluded)

    def match(self, rel_path: str, *, is_dir: bool = False) -> IgnoreMatch | None:
        """The pattern that ignores `rel_path`, or None when the path is not ignored.

        `rel_path` is workspace-relative with `/` (a trailing `/` means a folder). A path
        inside an ignored folder reports the folder's pattern, as `git check-ignore` does.
        Raises `PathEscapesWorkspace` for an absolute path or one that leaves the root.
        """
        rel = _normalise(rel_path)
        if rel_path.endswith("/"):
            is_dir = True
        if not rel:
            return self._folders[""]
        parent = rel.rpartition("/")[0]
        inherited = self._folder_match(parent)
        if inherited is not None:
            return inherited
        if is_dir:
            return self._folder_match(rel)
        return self._own_match(rel, is_dir=False, chain=self._chain(parent))

    def is_ignored(self, rel_path: str, *, is_dir: bool = False) -> bool:
        return self.match(rel_path, is_dir=is_dir) is not None

    # -- for a walker that prunes ignored folders (handrail.files) ------------------------

    def enter_folder(self, rel_dir: str, *, has_gitignore: bool) -> EntryCheck:
        """For a walker that entered real folder `rel_dir` (after its parent): its entry check.

        The walker knows what `match` would have to look up: the folder is no symlink, it is
        not ignored (the walker prunes), and whether its listing holds a `.gitignore`. The
        returned function takes an entry's name and whether it is a folder.
        """
        known = self._chains.get(rel_dir)
        if known is None:
            parent = rel_dir.rpartition("/")[0]
            chain, real = self._chain_entry(parent)
            if self._use_gitignore and real and has_gitignore:
                level = _inner_level(self._root, rel_dir)
                if level is not None:
                    chain = (level, *chain)
            self._chains[rel_dir] = (chain, real)
            self._folders.setdefault(rel_dir, None)
        else:
            chain = known[0]
        head = byte_view(rel_dir) + "/" if rel_dir else ""
        plan = []
        for level in chain:
            prefix = level.add + head[level.strip :]
            plan.append((prefix, level, level.paths_possible(prefix)))

        def check(name: str, is_dir: bool) -> IgnoreMatch | None:
            view = name if name.isascii() else byte_view(name)
            for prefix, level, check_paths in plan:
                local = prefix + view if check_paths else view
                rule = level.decide_local(local, view, is_dir, check_paths=check_paths)
                if rule is not None:
                    return None if rule.negated else IgnoreMatch(rule.source, rule.text)
            return None

        return check

    # -- internals -------------------------------------------------------------------------

    def _own_match(self, rel: str, *, is_dir: bool, chain: Chain) -> IgnoreMatch | None:
        view = rel if rel.isascii() else byte_view(rel)
        for level in chain:
            rule = level.decide(view, is_dir)
            if rule is not None:
                return None if rule.negated else IgnoreMatch(rule.source, rule.text)
        return None

    def _folder_match(self, folder: str) -> IgnoreMatch | None:
        known = self._folders.get(folder, _UNKNOWN)
        if known is not _UNKNOWN:
            return known  # type: ignore[return-value]
        # Top-down from the nearest known folder, iteratively: paths can be deep.
        parts = folder.split("/")
        result = self._folders[""]
        for i in range(1, len(parts) + 1):
            current = "/".join(parts[:i])
            cached = self._folders.get(current, _UNKNOWN)
            if cached is not _UNKNOWN:
                result = cached  # type: ignore[assignment]
            elif result is None:
                parent = "/".join(parts[: i - 1])
                result = self._own_match(current, is_dir=True, chain=self._chain(parent))
            self._folders[current] = result
        return result

    def _chain(self, folder: str) -> Chain:
        return self._chain_entry(folder)[0]

    def _chain_entry(self, folder: str) -> tuple[Chain, bool]:
        known = self._chains.get(folder)
        if known is not None:
            return known
        parts = folder.split("/")
        entry = self._chains[""]
        for i in range(1, len(parts) + 1):
            current = "/".join(parts[:i])
            cached = self._chains.get(current)
            if cached is not None:
                entry = cached
                continue
            chain, real = entry
            if self._use_gitignore:
                # Never read a .gitignore through a symlinked folder: git does not follow
                # them, and the target may be outside the workspace.
                real = real and _is_real_folder(self._root / current)
                if real:
                    level = _inner_level(self._root, current)
                    if level is not None:
                        chain = (level, *chain)
            entry = (chain, real)
            self._chains[current] = entry
        return entry


_UNKNOWN = object()


def _normalise(rel_path: str) -> str:
    if rel_path.startswith("/") or has_drive(rel_path):
        raise PathEscapesWorkspace(rel_path)
    rel = posixpath.normpath(rel_path) if rel_path else ""
    if rel == ".":
        return ""
    if rel == ".." or rel.startswith("../"):
        raise PathEscapesWorkspace(rel_path)
    return rel


def has_drive(path: str) -> bool:
    """A Windows drive prefix (`C:`): absolute there, an ordinary name elsewhere."""
    return os.name == "nt" and len(path) > 1 and path[1] == ":"


def _is_real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _inner_level(root: Path, rel_dir: str) -> _Level | None:
    rules = _file_rules(root / rel_dir / GITIGNORE, f"{rel_dir}/{GITIGNORE}")
    if not rules:
        return None
    return _Level(rules, strip=len(byte_view(rel_dir)) + 1, add="")


def _outer_levels(root: Path) -> tuple[list[_Level], IgnoreMatch | None]:
    """The enclosing repository's rules for the workspace, and what excludes the root itself.

    The levels are the `.gitignore` files between the repository's top and the root (the
    workspace may be a folder inside a repository), then `info/exclude`. The root itself is
    excluded when one of its folders below the top is: git lists nothing untracked there.
    """
    top = _git_top(root)
    if top is None:
        return [], None
    # (folder, its level) from the root's parent up to the top, deepest first
    above: list[tuple[Path, _Level]] = []
    folder = root
    while folder != top:
        folder = folder.parent
        source = posixpath.relpath((folder / GITIGNORE).as_posix(), root.as_posix())
        rules = _file_rules(folder / GITIGNORE, source)
        if rules:
            prefix = byte_view(root.relative_to(folder).as_posix() + "/")
            above.append((folder, _Level(rules, strip=0, add=prefix)))
    exclude_level = None
    exclude = _info_exclude(top)
    if exclude is not None:
        source = posixpath.relpath(exclude.as_posix(), root.as_posix())
        rules = _file_rules(exclude, source, follow=True)
        if rules:
            inside = "" if top == root else root.relative_to(top).as_posix() + "/"
            exclude_level = _Level(rules, strip=0, add=byte_view(inside))
    levels = [level for _, level in above]
    if exclude_level is not None:
        levels.append(exclude_level)
    return levels, _root_exclusion(root, top, above, exclude_level)


def _root_exclusion(
    root: Path, top: Path, above: list[tuple[Path, _Level]], exclude_level: _Level | None
) -> IgnoreMatch | None:
    """What excludes the root or one of its folders below `top`, checked top-down as git does."""
    if top == root:
        return None
    parts = root.relative_to(top).parts
    for depth in range(1, len(parts) + 1):
        folder = top.joinpath(*parts[:depth])
        name = byte_view(parts[depth - 1])
        for owner, level in above:
            if owner == folder or owner not in folder.parents:
                continue  # a folder's own .gitignore does not apply to the folder
            local = byte_view(folder.relative_to(owner).as_posix())
            rule = level.decide_local(local, name, True, check_paths=True)
            if rule is not None:
                if not rule.negated:
                    return IgnoreMatch(rule.source, rule.text)
                break
        else:
            if exclude_level is not None:
                local = byte_view(folder.relative_to(top).as_posix())
                rule = exclude_level.decide_local(local, name, True, check_paths=True)
                if rule is not None and not rule.negated:
                    return IgnoreMatch(rule.source, rule.text)
    return None


def _git_top(root: Path) -> Path | None:
    for folder in (root, *root.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return None


def _info_exclude(top: Path) -> Path | None:
    """`info/exclude` of the repository at `top` (a `.git` folder, or a worktree's `.git` file)."""
    dot_git = top / ".git"
    if dot_git.is_dir():
        return dot_git / "info" / "exclude"
    # Read as an ignore file is: a `.git` that is a FIFO (a hostile folder's) must not hang.
    text = read_ignore_file(dot_git, follow=True)
    if text is None or not text.startswith("gitdir:"):
        return None
    git_dir = (top / text[len("gitdir:") :].strip()).resolve()
    common = git_dir
    common_rel = read_ignore_file(git_dir / "commondir", follow=True)
    if common_rel is not None:
        common = (git_dir / common_rel.strip()).resolve()
    return common / "info" / "exclude"


def read_ignore_file(path: Path, *, follow: bool = False) -> str | None:
    """The text of an ignore file as git reads it, or None when it cannot be read.

    Bytes that are not UTF-8 are kept as surrogate escapes, so that patterns match the same
    bytes git matches; `IgnoreMatch.pattern` shows them as replacement characters. A leading
    BOM is dropped, as git does. Unless `follow`, a symlink is not read (git refuses
    symlinked `.gitignore` files); like git, a file over 100 MiB is not read either.
    """
    flags = os.O_RDONLY | _NONBLOCK | (0 if follow else _NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > MAX_IGNORE_FILE_BYTES:
            log.warning(
                "ignoring %s: larger than %d bytes, as git does", path, MAX_IGNORE_FILE_BYTES
            )
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    return data.decode("utf-8", errors="surrogateescape")


def _file_rules(path: Path, source: str, *, follow: bool = False) -> list[Rule]:
    text = read_ignore_file(path, follow=follow)
    if text is None:
        return []
    rules = []
    for number, line in iter_ignore_lines(text):
        rule = parse_rule(line, f"{source}:{number}")
        if rule is not None:
            rules.append(rule)
    return rules


def iter_ignore_lines(text: str) -> Iterable[tuple[int, str]]:
    """(1-based line number, line) for every line of an ignore file that may hold a pattern."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if line and not line.startswith("#"):
            yield number, line


def git_trim(line: str) -> str:
    """`line` as git keeps it: one trailing CR dropped, then unescaped trailing spaces.

    Only spaces are trimmed (a trailing tab stays part of the pattern), and a space after a
    backslash is kept, as in git's `trim_trailing_spaces`.
    """
    if line.endswith("\r"):
        line = line[:-1]
    last_space = -1
    i = 0
    n = len(line)
    while i < n:
        char = line[i]
        if char == " ":
            if last_space < 0:
                last_space = i
        elif char == "\\":
            i += 1
            if i >= n:
                return line
            last_space = -1
        else:
            last_space = -1
        i += 1
    return line[:last_space] if last_space >= 0 else line


def parse_rule(line: str, source: str) -> Rule | None:
    """One gitignore line as a rule, or None for a blank line, a comment or a dead pattern.

    A dead pattern is one git can never match (an unterminated `[`, a trailing backslash, an
    unknown `[:class:]`, a lone `/`): leaving it out changes nothing.
    """
    text = git_trim(line)
    if not text or text.startswith("#"):
        return None
    negated = text.startswith("!")
    body = byte_view(text[1:] if negated else text)
    dir_only = body.endswith("/")
    translated = translate_pattern(body[:-1] if dir_only else body)
    if translated is None:
        return None
    shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return Rule(shown, source, negated, dir_only, *translated)


def translate_pattern(pattern: str) -> Translated | None:
    """(regex without end anchor, literal start, folder names, name edges) for a pattern
    without its `!` and trailing `/`; None when git can never match it. The literal start is
    None for a pattern matched against the name alone; see `Rule` for the other two.

    This is git's dir.c: a pattern without `/` is matched against the name alone
    (`match_basename`); one with a `/` against the path below the ignore file's folder, after
    a leading `/` is dropped, comparing the literal start first and wildcard-matching the rest
    on its own (`match_pathname`). That split matters: the rest's `**` counts as "at the start"
    of a pattern, so `a**/*` matches `a` itself.
    """
    if "/" not in pattern:
        name = _wildmatch(pattern, pathname=False)
        if name is None or not pattern:
            return None
        return "^(?:.*/)?" + name, None, (), _name_edges(pattern)
    if pattern.startswith("/"):
        pattern = pattern[1:]
    if not pattern:
        return None
    cut = next((i for i, char in enumerate(pattern) if char in "*?[\\"), len(pattern))
    rest = _wildmatch(pattern[cut:], pathname=True)
    if rest is None:
        return None
    regex = "^" + "".join(_literal(char) for char in pattern[:cut]) + rest
    segments = pattern.split("/")
    if any("**" in segment and segment != "**" for segment in segments):
        # A `**` glued to other characters can let a literal segment match part of a name
        # (`a**/x/y` matches `ax/y`): no folder names to rely on.
        return regex, pattern[:cut], (), (None, None)
    if len(segments) == 2 and segments[0] == "**" and "**" not in segments[1]:
        # `**/name` is `name`: matched against the name alone
        return regex, None, (), _name_edges(segments[1])
    folders = tuple(segment for segment in segments[:-1] if segment and not _has_wildcard(segment))
    return regex, pattern[:cut], folders, (None, None)


def _name_edges(pattern: str) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """The characters a name matching `pattern` (no `/`, not dead) can start and end with;
    None where any character can."""
    tokens: list[frozenset[str] | None] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            tokens.append(frozenset(pattern[i + 1 : i + 2]))
            i += 2
        elif char in "*?":
            tokens.append(None)
            i += 1
        elif char == "[":
            parsed = _parse_bracket(pattern, i)
            if parsed is None:
                return None, None
            negated, ranges, i = parsed
            if negated:
                tokens.append(None)
            else:
                codes = (code for lo, hi in ranges for code in range(lo, hi + 1))
                tokens.append(frozenset(chr(code) for code in codes if code != 0x2F))
        else:
            tokens.append(frozenset(char))
            i += 1
    if not tokens:
        return None, None
    return tokens[0], tokens[-1]


def _has_wildcard(text: str) -> bool:
    return any(char in "*?[\\" for char in text)


def _literal(char: str) -> str:
    if (char.isalnum() and char.isascii()) or char == "_":
        return char
    # \xHH reads the same in re2 and Python's re (byte view: every char is below U+0100).
    return f"\\x{ord(char):02x}"


def _wildmatch(pattern: str, *, pathname: bool) -> str | None:
    """git's `wildmatch` as a regex, or None when no text can match (git's WM_ABORT_ALL).

    With `pathname` (WM_PATHNAME) `*`, `?` and brackets never match `/`, and a run of two or
    more stars between slashes (or at the pattern's ends) matches across folders. Without it
    the text is a name (no `/`), so every star run is one `*`.
    """
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            if i + 1 >= n:
                return None
            out.append(_literal(pattern[i + 1]))
            i += 2
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "*":
            j = i
            while j < n and pattern[j] == "*":
                j += 1
            at_boundary = i == 0 or pattern[i - 1] == "/"
            if pathname and j - i >= 2 and at_boundary:
                if j == n:
                    out.append(".*")
                    i = j
                    continue
                if pattern[j] == "/":
                    out.append("(?:.*/)?")  # `**/`: zero or more folders
                    i = j + 1
                    continue
                if pattern.startswith("\\/", j):
                    out.append(".*")
                    i = j
                    continue
            out.append("[^/]*")
            i = j
        elif char == "[":
            bracket = _bracket(pattern, i)
            if bracket is None:
                return None
            regex, i = bracket
            out.append(regex)
        else:
            out.append(_literal(char))
            i += 1
    return "".join(out)


# git's own ASCII-only ctype (git-compat-util.h, ctype.c): bytes above 0x7f are in no class.
_CLASSES: dict[str, list[tuple[int, int]]] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0A), (0x0D, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}


def _parse_bracket(pattern: str, start: int) -> tuple[bool, list[tuple[int, int]], int] | None:
    """(negated, code point ranges, index after it) for the bracket at `pattern[start]`.

    Follows wildmatch's loop: `!` or `^` negates, a `]` right after the opening is literal,
    `a-z` is a range (a reversed one matches nothing), `\\` escapes, `[:name:]` is an ASCII
    class. None for an unterminated bracket or an unknown class name: no match at all.
    """
    n = len(pattern)
    j = start + 1
    if j >= n:
        return None
    negated = pattern[j] in "!^"
    if negated:
        j += 1
    ranges: list[tuple[int, int]] = []
    prev: str | None = None
    first = True
    while True:
        if j >= n:
            return None
        char = pattern[j]
        if char == "]" and not first:
            break
        first = False
        if char == "\\":
            j += 1
            if j >= n:
                return None
            prev = pattern[j]
            ranges.append((ord(prev), ord(prev)))
        elif char == "-" and prev is not None and j + 1 < n and pattern[j + 1] != "]":
            j += 1
            high = pattern[j]
            if high == "\\":
                j += 1
                if j >= n:
                    return None
                high = pattern[j]
            if ord(prev) <= ord(high):
                ranges.append((ord(prev), ord(high)))
            prev = None
        elif char == "[" and j + 1 < n and pattern[j + 1] == ":":
            name_start = j + 2
            close = pattern.find("]", name_start)
            if close < 0:
                return None
            if close - name_start - 1 < 0 or pattern[close - 1] != ":":
                ranges.append((ord("["), ord("[")))  # no `:]`: a plain `[`
                prev = "["
            else:
                members = _CLASSES.get(pattern[name_start : close - 1])
                if members is None:
                    return None
                ranges.extend(members)
                prev = None
                j = close
        else:
            ranges.append((ord(char), ord(char)))
            prev = char
        j += 1
    return negated, ranges, j + 1


def _bracket(pattern: str, start: int) -> tuple[str, int] | None:
    """The regex class for the bracket at `pattern[start]` and the index after it, or None.

    A bracket never matches `/`.
    """
    parsed = _parse_bracket(pattern, start)
    if parsed is None:
        return None
    negated, ranges, after = parsed
    slash = ord("/")
    if negated:
        body = "".join(_class_range(lo, hi) for lo, hi in ranges)
        return f"[^{body}\\x2f]", after
    # Take `/` out of every range.
    kept: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if lo <= slash <= hi:
            if lo < slash:
                kept.append((lo, slash - 1))
            if slash < hi:
                kept.append((slash + 1, hi))
        else:
            kept.append((lo, hi))
    if not kept:
        return None
    return "[" + "".join(_class_range(lo, hi) for lo, hi in kept) + "]", after


def _class_range(lo: int, hi: int) -> str:
    if lo == hi:
        return f"\\x{lo:02x}"
    return f"\\x{lo:02x}-\\x{hi:02x}"
