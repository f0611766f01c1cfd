"""The persistent cache behind token counts and secret scans (sqlite3, WAL).

Keyed by content hash, so an unchanged file is never encoded or scanned twice, across runs
and across processes (the language server and a CLI in a git hook share it). The cache is an
optimisation only: a corrupt database is moved aside and rebuilt, and any other failure
(read-only home, full disk, a lock held too long) degrades to "no cache", never to an error.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

DB_NAME = "context-cache.sqlite3"
# Bump when the meaning of a stored row changes, so old rows are never misread.
SCHEMA_VERSION = 1
# sqlite's default limit on bound parameters is 999 on old builds; stay well below it.
_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    encoding TEXT NOT NULL,
    digest BLOB NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (encoding, digest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scans (
    scanner TEXT NOT NULL,
    digest BLOB NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (scanner, digest)
) WITHOUT ROWID;
"""


def default_cache_dir() -> Path:
    """`$HANDRAIL_CACHE_DIR`, else the platform's per-user cache folder."""
    configured = os.environ.get("HANDRAIL_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(platformdirs.user_cache_dir("handrail"))


class ContextCache:
    """Token counts and scan results by content digest; thread-safe; never fatal."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else default_cache_dir()
        self.path = self.directory / DB_NAME
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._opened = False
        self.note: str | None = None
        """Why the cache is not in use, or what was repaired; None when all is well."""

    # -- opening and repair ------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection | None:
        # Opened on first use so that a check whose counts all hit the in-memory layer
        # never touches the disk.
        if not self._opened:
            self._opened = True
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection | None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.note = f"token cache disabled: cannot create {self.directory} ({exc.strerror})"
            log.warning(self.note)
            return None
        for attempt in range(3):
            try:
                return self._connect()
            except sqlite3.OperationalError as exc:
                # Locked by another process, read-only, disk I/O: the file is not at fault,
                # so it is left alone.
                if attempt == 2:
                    self.note = f"token cache unavailable: {exc}"
                    log.warning(self.note)
                    return None
                time.sleep(0.05 * (attempt + 1))
            except sqlite3.DatabaseError as exc:
                # "file is not a database", a torn header, a foreign schema: set it aside
                # for anyone who wants to look, and start again.
                aside = self._move_aside()
                self.note = (
                    f"the cache database was unreadable ({exc}); moved to {aside} and rebuilt"
                )
                log.warning(self.note)
                break
        try:
            return self._connect()
        except (sqlite3.Error, OSError) as exc:
            self.note = f"token cache disabled: {exc}"
            log.warning(self.note)
            return None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=5.0, check_same_thread=False, isolation_level=None
        )
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                # WAL lets readers and a writer work at once across processes; the mode is
                # stored in the file, so only the connection that creates it switches it.
                with contextlib.suppress(sqlite3.OperationalError):
                    conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif row[0] != str(SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"cache schema {row[0]}, expected {SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{os.getpid()}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            try:
                os.replace(src, Path(str(aside) + suffix))
            except FileNotFoundError:
                continue
            except OSError:
                # Cannot rename (another process holds it on Windows, say): remove instead.
                with contextlib.suppress(OSError):
                    src.unlink()
        return aside

    def _failed(self, exc: sqlite3.Error) -> None:
        # A database that breaks mid-run is repaired once; after that the run continues
        # without a cache rather than retrying on every call.
        if isinstance(exc, sqlite3.OperationalError):
            log.warning("token cache unavailable for this operation: %s", exc)
            return
        log.warning("token cache failed (%s); rebuilding it", exc)
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None
        aside = self._move_aside()
        self.note = f"the cache database failed ({exc}); moved to {aside} and rebuilt"
        try:
            self._conn = self._connect()
        except (sqlite3.Error, OSError) as again:
            self.note = f"token cache disabled: {again}"
            self._conn = None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            self._conn = None

    # -- token counts ------------------------------------------------------------------

    def get_tokens(self, encoding: str, digests: Sequence[bytes]) -> dict[bytes, int]:
        """The stored counts for whichever of `digests` are known under `encoding`."""
        found: dict[bytes, int] = {}
        if not digests:
            return found
        with self._lock:
            conn = self._connection()
            if conn is None:
                return found
            try:
                for start in range(0, len(digests), _CHUNK):
                    chunk = list(digests[start : start + _CHUNK])
                    marks = ",".join("?" * len(chunk))
                    rows = conn.execute(
                        "SELECT digest, count FROM tokens"
                        f" WHERE encoding = ? AND digest IN ({marks})",
                        (encoding, *chunk),
                    )
                    for digest, count in rows:
                        found[bytes(digest)] = int(count)
            except sqlite3.Error as exc:
                self._failed(exc)
        return found

    def put_tokens(self, encoding: str, counts: Iterable[tuple[bytes, int]]) -> None:
        rows = [(encoding, digest, count) for digest, count in counts]
        if rows:
            self._write(
                "INSERT OR REPLACE INTO tokens (encoding, digest, count) VALUES (?, ?, ?)", rows
            )

    # -- scan results ------------------------------------------------------------------

    def get_scan(self, scanner: str, digest: bytes) -> object | None:
        """A stored scan result (decoded JSON), or None when unknown."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return None
            try:
                row = conn.execute(
                    "SELECT result FROM scans WHERE scanner = ? AND digest = ?", (scanner, digest)
                ).fetchone()
            except sqlite3.Error as exc:
                self._failed(exc)
                return None
        if row is None:
            return None
        try:
            value: object = json.loads(row[0])
        except ValueError:
            return None
        return value

    def put_scan(self, scanner: str, digest: bytes, result: object) -> None:
        text = json.dumps(result, sort_keys=True, separators=(",", ":"))
        self._write(
            "INSERT OR REPLACE INTO scans (scanner, digest, result) VALUES (?, ?, ?)",
            [(scanner, digest, text)],
        )

    def _write(self, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        """`sql` for every row in one transaction; a failure disables the cache, never raises."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return
            try:
                with _transaction(conn):
                    conn.executemany(sql, rows)
            except sqlite3.Error as exc:
                self._failed(exc)


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT/ROLLBACK on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")


_shared: dict[Path, ContextCache] = {}
_shared_lock = threading.Lock()


def shared_cache(directory: Path | None = None) -> ContextCache:
    """One `ContextCache` per folder per process, so every counter and scanner shares it."""
    folder = (directory if directory is not None else default_cache_dir()).absolute()
    with _shared_lock:
        cache = _shared.get(folder)
        if cache is None:
            cache = _shared[folder] = ContextCache(folder)
        return cache
