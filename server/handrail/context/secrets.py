"""Secret scanning of context text with detect-secrets, in-process, failing closed.

Three things about detect-secrets 1.5 shape this wrapper (RELIABILITY.md §3):

- Its settings are a process-global singleton that its own helpers mutate, so every scan
  runs behind one lock with settings configured once (and re-applied if anything else in
  the process changed them).
- It scans files by opening them again and returns "nothing found" for whatever it cannot
  decode. We scan the text already read and checked by `handrail.context.resolve`, which
  reports undecodable files as not scannable instead.
- It logs a skipped secret's value at INFO level. Records below WARNING from its logger are
  dropped, and a hit keeps only its type and line: the value never leaves this module.

Format detectors (AWS, GitHub, private keys, ...) block; the entropy and keyword heuristics
only warn, since lock file hashes, digests and test fixtures trip them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast, overload

from handrail.context._prefilter import LineIndex, combinable, combine, fold, required_literals
from handrail.context.cache import ContextCache, shared_cache
from handrail.context.resolve import split_lines, text_digest

# detect-secrets is imported on first scan: it pulls in requests and yaml, which a check with
# `scan_secrets = false` never needs.

HEURISTIC_TYPES = frozenset(
    {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"}
)
# An IP address is not a credential; in context files it is nearly always documentation.
_DISABLED_PLUGINS = frozenset({"IPPublicDetector"})
_DETECTORS_FILE = Path(__file__).resolve().with_name("_detectors.py")
_CUSTOM_PLUGINS = ("AnthropicKeyDetector", "OpenAIProjectKeyDetector")
_CUSTOM_FILTERS = (
    f"file://{_DETECTORS_FILE}::is_public_digest",
    f"file://{_DETECTORS_FILE}::is_indirect_reference",
)
_UNWANTED_FILTERS = (
    # These read the disk or the network: we scan text already read, and never verify a
    # key by calling its service.
    "detect_secrets.filters.common.is_invalid_file",
    "detect_secrets.filters.common.is_ignored_due_to_verification_policies",
    # Judges by file extension, but the text was already proven to be UTF-8: a key in a
    # file named `notes.png` must still be found.
    "detect_secrets.filters.heuristic.is_non_text_file",
    # Drops whole lines that contain a call, hiding `client(key="AKIA...")`; replaced by a
    # version that applies to the heuristic detectors only (see _detectors.py).
    "detect_secrets.filters.heuristic.is_indirect_reference",
)
# Bump when detectors or filters change, so cached results from older rules are not reused.
RULES_VERSION = 2


class SecretScanError(RuntimeError):
    """The scanner failed on a text: that text must be treated as not scannable.

    The message is the name of the underlying exception only, never its text.
    """


@dataclass(frozen=True, slots=True)
class SecretHit:
    """One suspected secret: its kind and line, never its value."""

    type: str
    line: int
    blocking: bool
    """True for format detectors (an error); False for heuristics (a warning)."""


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


_scan_lock = threading.Lock()
_configured_fingerprint: tuple[frozenset[str], frozenset[str]] | None = None
_scanner_id: str | None = None


def _configure() -> None:
    """Fix detect-secrets' global settings to ours, if anything changed them (lock held)."""
    global _configured_fingerprint
    from detect_secrets.core.log import log as ds_log
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import get_filters, get_plugins, get_settings

    settings = get_settings()
    current = (frozenset(settings.plugins), frozenset(settings.filters))
    if _configured_fingerprint is not None and current == _configured_fingerprint:
        return
    if not any(isinstance(f, _BelowWarning) for f in ds_log.filters):
        ds_log.addFilter(_BelowWarning())
    settings.clear()
    get_mapping_from_secret_type_to_class.cache_clear()
    plugin_classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    builtin = [
        {"name": cls.__name__}
        for cls in plugin_classes
        if cls.__name__ not in _DISABLED_PLUGINS and cls.__name__ not in _CUSTOM_PLUGINS
    ]
    custom = [{"name": name, "path": f"file://{_DETECTORS_FILE}"} for name in _CUSTOM_PLUGINS]
    settings.configure_plugins([*builtin, *custom])
    get_mapping_from_secret_type_to_class.cache_clear()
    settings.disable_filters(*_UNWANTED_FILTERS)
    for path in _CUSTOM_FILTERS:
        settings.filters[path] = {}
    get_plugins.cache_clear()
    get_filters.cache_clear()
    loaded = {type(p).__name__ for p in get_plugins()}
    missing = set(_CUSTOM_PLUGINS) - loaded
    if missing:
        raise RuntimeError(f"detect-secrets did not load Handrail's detectors {sorted(missing)}")
    _configured_fingerprint = (frozenset(settings.plugins), frozenset(settings.filters))


def _scanner_key() -> str:
    """Names the detector set in the persistent cache, so an upgrade never reuses old results."""
    global _scanner_id
    if _scanner_id is None:
        # From the installed metadata: importing detect_secrets.__version__ runs the package's
        # __init__ (requests and every plugin, ~0.25 s), which a run served from the cache
        # never needs.
        from importlib.metadata import version

        _scanner_id = f"detect-secrets {version('detect-secrets')}/handrail {RULES_VERSION}"
    return _scanner_id


class _NamedText(io.StringIO):
    """What detect-secrets' transformers expect of a file: text plus a `name`."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text, newline="")
        self.name = name


def _raw_hits(text: str, filename: str, *, reference: bool = False) -> Iterator[tuple[str, int]]:
    """(type, line) of every hit, as detect-secrets' `scan_file` would report them.

    `reference=True` runs detect-secrets' own line loop instead of the prefiltered one:
    the tests use it as the oracle the fast path must agree with.
    """
    from detect_secrets.transformers import get_transformed_file

    scan_lines = _reference_lines if reference else _prefiltered_lines
    # `NamedIO` is a nominal class there, but any text stream with a `name` does (cast).
    # The same two passes as detect-secrets' own scan_file: the structure-aware reading
    # first (YAML, INI), then the eager one only when the first found nothing.
    read = get_transformed_file if reference else _transformed
    lines: Sequence[str] = read(cast(Any, _NamedText(text, filename))) or (
        split_lines(text) if reference or "\r" in text or not text else _EndedLines(text)
    )
    found = False
    for hit in scan_lines(lines, filename):
        found = True
        yield hit
    if found:
        return
    eager = get_transformed_file(cast(Any, _NamedText(text, filename)), use_eager_transformers=True)
    if eager:
        yield from scan_lines(eager, filename)


def _transformed(file: Any) -> list[str] | None:
    """detect-secrets' `get_transformed_file` (not eager), without its doomed INI parse.

    Its INI reader is tried on every file whatever its name, and `configparser` fails
    (MissingSectionHeaderError, or no section at all) unless the first line that is neither
    blank nor a comment is a `[section]` header: that one line says so, for ~0.1 ms of
    parser set-up saved on every file of code.
    """
    from detect_secrets.transformers import get_transformers
    from detect_secrets.transformers.config import ConfigFileTransformer
    from detect_secrets.transformers.exceptions import ParsingError

    transformer: Any
    for transformer in get_transformers():
        if transformer.is_eager or not transformer.should_parse_file(file.name):
            continue
        if type(transformer) is ConfigFileTransformer and not _may_have_section(file):
            continue
        try:
            return cast("list[str] | None", transformer.parse_file(file))
        except ParsingError:
            pass
        finally:
            file.seek(0)
    return None


def _may_have_section(file: io.StringIO) -> bool:
    """False when `configparser` would find no section header before its first option."""
    try:
        for line in file:  # the lines configparser reads (universal newlines, kept)
            value = line.strip()
            # configparser's default full-line comment prefixes
            if value and not value.startswith(("#", ";")):
                return value.startswith("[")
        return False
    finally:
        file.seek(0)


class _EndedLines(Sequence[str]):
    """`split_lines` of a text without CR, made only for the few lines a snippet shows.

    Splitting 4 MB of code into lines that keep their endings (a regular expression) took
    a tenth of the scan; `str.split` on LF is ~8 times faster, and only the lines around a
    candidate need their ending back (detect-secrets' code snippets).
    """

    def __init__(self, text: str) -> None:
        self.parts = text.split("\n")
        if text.endswith("\n"):
            self.parts.pop()  # the empty string after the last line ending: no line
        self._last_ended = text.endswith("\n")

    def __len__(self) -> int:
        return len(self.parts)

    def _line(self, index: int) -> str:
        part = self.parts[index]
        ended = self._last_ended or index % len(self.parts) != len(self.parts) - 1
        return part + "\n" if ended else part

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._line(i) for i in range(*index.indices(len(self.parts)))]
        return self._line(index)


def _reference_lines(lines: Sequence[str], filename: str) -> Iterator[tuple[str, int]]:
    from detect_secrets.core.scan import _process_line_based_plugins

    for secret in _process_line_based_plugins(list(enumerate(lines, start=1)), filename):
        yield str(secret.type), int(secret.line_number)


def _plugin_patterns(plugin: Any) -> list[re.Pattern[str]] | None:
    """Every expression through which `plugin` can report a secret; None when unknown.

    See `handrail.context._prefilter` for why: these find the lines worth scanning.
    """
    from detect_secrets.plugins import keyword
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin

    if isinstance(plugin, keyword.KeywordDetector):
        # It picks one table of expressions by file type; take them all.
        tables = [
            *keyword.REGEX_BY_FILETYPE.values(),
            keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
        ]
        return list(dict.fromkeys(p for table in tables for p in table))
    if isinstance(plugin, HighEntropyStringsPlugin):
        # A string of n characters has at most log2(n) bits of entropy, and the plugin
        # reports only strings above its limit: shorter quoted strings cannot be hits.
        shortest = max(1, math.floor(2**plugin.entropy_limit))
        charset = re.escape(plugin.charset)
        return [re.compile(rf"(['\"])([{charset}]{{{shortest},}})(\1)")]
    if isinstance(plugin, RegexBasedDetector):
        return list(plugin.denylist)
    return None


def _line_test(plugin: Any, filename: str) -> Callable[[str], bool] | None:
    """A test true on every line on which `plugin` reports a secret; None when unknown.

    It asks the plugin itself (its own expressions and entropy limit), bypassing only
    detect-secrets' reflective call (~10 us) and its per-line filters, which run afterwards
    on the lines that pass: most lines holding a prefilter literal ("key", "token") report
    nothing, so this is where the scan saves most of its time.
    """
    from detect_secrets.plugins import keyword
    from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.util.filetype import determine_file_type

    kind = type(plugin)
    if kind is keyword.KeywordDetector:
        # The table its `analyze_line` picks for this file name.
        table = keyword.REGEX_BY_FILETYPE.get(
            determine_file_type(filename), keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP
        )
        words = _keyword_words(table)
        if words is None:
            return lambda line: _reports(plugin.analyze_string(line, denylist_regex_to_group=table))

        def keyword_test(line: str) -> bool:
            # ~2 us of `in` on the folded line before ~25 us of the table's expressions:
            # most lines with "key" in code have no api_key, password or secret.
            folded = fold(line)
            return any(word in folded for word in words) and _reports(
                plugin.analyze_string(line, denylist_regex_to_group=table)
            )

        return keyword_test
    if (
        isinstance(plugin, HighEntropyStringsPlugin)
        and kind.analyze_line is HighEntropyStringsPlugin.analyze_line
    ):
        # Its `analyze_line` keeps the strings above the limit (no eager search here).
        limit = plugin.entropy_limit
        entropy = plugin.calculate_shannon_entropy
        return lambda line: any(entropy(found) > limit for found in plugin.analyze_string(line))
    if isinstance(plugin, RegexBasedDetector) and kind.analyze_line is BasePlugin.analyze_line:
        return lambda line: _reports(plugin.analyze_string(line))
    return None


_DENYLIST_ENTRY = re.compile(r"[a-z\u00f1]+(?:_\?[a-z\u00f1]+)*")


def _keyword_words(table: dict[re.Pattern[str], int]) -> tuple[str, ...] | None:
    """The words, folded, one of which is in every line the keyword detector reports on.

    Each of its expressions contains its whole denylist alternation (`api_?key|...|secret`),
    so a match contains a denylist word; `fold` maps every character that the expressions'
    IGNORECASE equates with one of the words' letters onto it. None (no shortcut) when an
    upgrade of detect-secrets breaks that.
    """
    from detect_secrets.plugins import keyword

    denylist = tuple(keyword.DENYLIST)
    alternation = "|".join(denylist)
    if not all(alternation in pattern.pattern for pattern in table):
        return None
    words: list[str] = []
    for entry in denylist:
        if not _DENYLIST_ENTRY.fullmatch(entry):
            return None
        # "api_?key" -> "apikey", "api_key"
        variants = [""]
        for i, part in enumerate(entry.split("_?")):
            variants = (
                [v + part for v in variants]
                if i == 0
                else [v + sep + part for v in variants for sep in ("", "_")]
            )
        words.extend(variants)
    return tuple(dict.fromkeys(words))


def _reports(found: Iterator[str]) -> bool:
    return next(found, None) is not None


def _prefiltered_lines(lines: Sequence[str], filename: str) -> Iterator[tuple[str, int]]:
    """detect-secrets' `_process_line_based_plugins`, run only where a plugin reports."""
    from detect_secrets.core.scan import _is_filtered_out, _scan_line
    from detect_secrets.settings import get_plugins
    from detect_secrets.util.code_snippet import get_code_snippet

    if not lines:
        return
    # A line's trailing whitespace, its ending included, is stripped: the parts will do.
    index = LineIndex(lines.parts if isinstance(lines, _EndedLines) else lines)
    plan = _plan_for(tuple(get_plugins()))
    plugins = plan.plugins
    lines_of: dict[re.Pattern[str], set[int]] = {}
    if plan.combined is not None:
        found_any = index.lines_for_any(plan.combined)
        lines_of = dict.fromkeys(plan.combined_members, found_any)
    for pattern in plan.search_order:
        if pattern not in lines_of:
            lines_of[pattern] = index.lines_for(pattern)
    tests = plan.tests_for(filename)
    wanted: dict[int, list[int]] = {}
    for number, found in enumerate(plan.patterns):
        targets: set[int] = set()
        if found is None:
            targets = set(range(index.count))
        else:
            for pattern in found:
                targets |= lines_of[pattern]
        test = tests[number]
        for line_index in targets:
            if test is None or test(index.stripped[line_index]):
                wanted.setdefault(line_index, []).append(number)
    for line_index in sorted(wanted):
        line_number = line_index + 1
        line = index.stripped[line_index]
        snippet = get_code_snippet(lines=cast(Any, lines), line_number=line_number)
        if _is_filtered_out(
            required_filter_parameters=["line"],
            filename=filename,
            line=line,
            context=snippet,
        ):
            continue
        for number in wanted[line_index]:
            plugin = plugins[number]
            for secret in _scan_line(
                plugin=plugin,
                filename=filename,
                line=line,
                line_number=line_number,
                context=snippet,
            ):
                if not _is_filtered_out(
                    required_filter_parameters=["context"],
                    filename=secret.filename,
                    secret=secret.secret_value,
                    plugin=plugin,
                    line=line,
                    context=snippet,
                ):
                    yield str(secret.type), int(secret.line_number)


class _Plan:
    """What the scan needs to know about a set of plugins, worked out once per set."""

    def __init__(self, plugins: tuple[Any, ...]) -> None:
        self.plugins = plugins
        self.patterns = [_plugin_patterns(plugin) for plugin in plugins]
        # Shortest literals first, so that longer ones containing them reuse their lines.
        self.search_order = sorted(
            {p for found in self.patterns if found is not None for p in found},
            key=_literal_length,
        )
        # Detectors starting with a capital or a digit ("AKIA", "SK", "BEGIN RSA") searched in
        # one pass of one expression; the lines it finds are a candidate set for each of them.
        members = [p for p in self.search_order if combinable(p)]
        self.combined = combine(members) if len(members) > 1 else None
        self.combined_members = tuple(members) if self.combined is not None else ()
        self._tests: dict[object, list[Callable[[str], bool] | None]] = {}

    def tests_for(self, filename: str) -> list[Callable[[str], bool] | None]:
        from detect_secrets.util.filetype import determine_file_type

        # Only the keyword detector looks at the name, and only at its file type.
        kind = determine_file_type(filename)
        tests = self._tests.get(kind)
        if tests is None:
            tests = [_line_test(plugin, filename) for plugin in self.plugins]
            self._tests[kind] = tests
        return tests


_plan: _Plan | None = None


def _plan_for(plugins: tuple[Any, ...]) -> _Plan:
    """The plan for these plugin objects (a new one whenever the settings made new ones)."""
    global _plan
    if (
        _plan is None
        or len(_plan.plugins) != len(plugins)
        or any(a is not b for a, b in zip(_plan.plugins, plugins, strict=True))
    ):
        _plan = _Plan(plugins)
    return _plan


def _literal_length(pattern: re.Pattern[str]) -> int:
    literals = required_literals(pattern)
    return 0 if literals is None else min(len(s) for s in literals[0])


def _digest(text_sha256: bytes, filename: str) -> bytes:
    # Filters and transformers look at the file name (lock files, YAML, comment syntax),
    # so the same text under another name is another scan.
    h = hashlib.sha256(filename.encode("utf-8", "surrogatepass"))
    h.update(b"\0")
    h.update(text_sha256)
    return h.digest()


class SecretScanner:
    """Scans texts; results are cached by content (in memory and in the shared cache)."""

    def __init__(self, cache: ContextCache | None = None, *, use_cache: bool = True) -> None:
        self._cache = cache
        self._use_cache = use_cache
        self._memo: dict[bytes, tuple[tuple[str, int], ...]] = {}
        self._memo_lock = threading.Lock()
        self.scanned = 0
        """How many texts were actually scanned (the rest came from a cache)."""

    def _store(self) -> ContextCache | None:
        if not self._use_cache:
            return None
        return self._cache if self._cache is not None else shared_cache()

    def scan(
        self, text: str, *, filename: str, first_line: int = 1, digest: bytes | None = None
    ) -> list[SecretHit]:
        """Suspected secrets in `text`; lines are numbered from `first_line`.

        `digest` is the sha256 of `text` when the caller already has it.
        """
        digest = _digest(digest if digest is not None else text_digest(text), filename)
        with self._memo_lock:
            hits = self._memo.get(digest)
        store = self._store()
        if hits is None and store is not None:
            hits = _decode_cached(store.get_scan(_scanner_key(), digest))
        if hits is None:
            with _scan_lock:
                try:
                    _configure()
                    found = set(_raw_hits(text, filename))
                except Exception as exc:
                    # Only the type: an exception's text could quote the line it choked on.
                    raise SecretScanError(type(exc).__name__) from exc
                hits = tuple(sorted(found, key=lambda h: (h[1], h[0])))
                self.scanned += 1
            if store is not None:
                store.put_scan(_scanner_key(), digest, [list(h) for h in hits])
        with self._memo_lock:
            self._memo[digest] = hits
        return [
            SecretHit(type=kind, line=line + first_line - 1, blocking=kind not in HEURISTIC_TYPES)
            for kind, line in hits
        ]


def _decode_cached(value: object) -> tuple[tuple[str, int], ...] | None:
    if not isinstance(value, list):
        return None
    out: list[tuple[str, int]] = []
    for item in value:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], str)
            or not isinstance(item[1], int)
        ):
            return None
        out.append((item[0], item[1]))
    return tuple(out)


_default_scanner: SecretScanner | None = None
_default_lock = threading.Lock()


def default_scanner() -> SecretScanner:
    """The process-wide scanner (its memory cache survives between checks)."""
    global _default_scanner
    with _default_lock:
        if _default_scanner is None:
            _default_scanner = SecretScanner()
        return _default_scanner


def scan_text(text: str, *, filename: str, first_line: int = 1) -> list[SecretHit]:
    return default_scanner().scan(text, filename=filename, first_line=first_line)


_SHOWN = 5


def describe_hits(hits: Sequence[SecretHit]) -> str:
    """Kinds and lines only ("an AWS Access Key on line 3 and a JSON Web Token on line 9")."""
    parts = [f"{_article(h.type)} {h.type} on line {h.line}" for h in hits[:_SHOWN]]
    more = len(hits) - _SHOWN
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text + (f" (and {more} more)" if more > 0 else "")


def _article(kind: str) -> str:
    return "an" if kind[:1].upper() in "AEIOU" else "a"


def hits_data(hits: Sequence[SecretHit]) -> list[dict[str, Any]]:
    """The `secrets` of a finding's data: type and line, never the value."""
    return [{"type": h.type, "line": h.line} for h in hits]
