"""The embedded log store: one DuckDB file, many reading processes, one writer at a time.

This module owns the file (``logs.duckdb``), its table ``events`` and the rules for opening it. It
imports nothing from Django: callers pass the path (the Django side uses ``settings.VAR_DIR``).

DuckDB lets one process open a file read-write, or several processes open it read-only, never both
at once. Backline has several web workers, a task worker and command-line imports, so access is
coordinated with two ``fcntl`` lock files next to the store:

1. ``logs.duckdb.intent`` says "a writer is waiting". A writer takes it exclusively first, so new
   readers queue behind the writer instead of starving it.
2. ``logs.duckdb.lock`` guards the file itself: readers hold it shared for as long as their
   read-only connection is open, a writer holds it exclusively while its read-write connection is
   open.
3. A reader keeps its connection between queries (opening one costs ~15 ms, more than most
   queries). Before each query it checks the intent lock without blocking; a watcher thread does
   the same every ``poll_seconds`` while the process is idle. When a writer is waiting, the reader
   closes its connection as soon as no query of its own is running and releases its shared lock.
4. The writer gets the exclusive lock, opens read-write, writes in one transaction, closes and
   releases both locks. Readers then reopen on their next query.

So a write waits at most for the queries already running plus one poll interval, and a query waits
at most for one write batch (``read_timeout`` bounds it; past that ``LogStoreBusy`` is raised).
Writes are short because intake spools payloads to files and loads them in batches (``ingest``).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from backline.logs import schema

STORE_FILENAME = "logs.duckdb"


class LogStoreError(Exception):
    """The log store cannot do what was asked; the message says why."""


class LogStoreBusy(LogStoreError):
    """A write held the store for longer than a reader was willing to wait."""


def create_table_sql() -> str:
    """``CREATE TABLE`` for ``events``, built from ``schema.COLUMNS`` (constants only)."""
    columns = ", ".join(
        f"{name} {sql_type} {schema.COLUMN_OPTIONS.get(name, '')}".rstrip()
        for name, sql_type in schema.COLUMNS.items()
    )
    return f"CREATE TABLE IF NOT EXISTS events ({columns})"


# Spool files already loaded, recorded in the same transaction as their events so that a crash
# between the commit and the file's removal never loads a payload twice.
_SPOOL_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS loaded_spool_files (name VARCHAR PRIMARY KEY, loaded_at TIMESTAMP)"
)


@contextlib.contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``BEGIN`` / ``COMMIT`` around the block on ``connection``; rolled back if it raises."""
    connection.execute("BEGIN TRANSACTION")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _configure(connection: duckdb.DuckDBPyConnection) -> None:
    # Timestamps are stored as naive UTC; casting a zoned string must not apply the machine zone.
    connection.execute("SET TimeZone = 'UTC'")


class _FileLock:
    """One ``flock`` on one file, taken shared or exclusive, optionally with a timeout."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, exclusive: bool, timeout: float | None = None) -> bool:
        """Take the lock; False if ``timeout`` seconds passed first (None waits for ever)."""
        if self._fd is not None:
            raise LogStoreError(f"lock {self.path} is already held by this object")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            if timeout is None:
                fcntl.flock(fd, mode)
            else:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        fcntl.flock(fd, mode | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            os.close(fd)
                            return False
                        time.sleep(0.005)
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        # Closing the descriptor drops the flock held through it.
        os.close(fd)


class LogStore:
    """Access to one store file from this process. Use ``open_store`` to share one per path.

    ``read()`` gives a cursor on a shared read-only connection; ``write()`` gives the read-write
    connection inside a transaction. Both are context managers and safe to use from several
    threads (each ``read()`` gets its own cursor).
    """

    def __init__(
        self, path: Path, *, read_timeout: float = 30.0, poll_seconds: float = 0.05
    ) -> None:
        self.path = Path(path)
        self.read_timeout = read_timeout
        self.poll_seconds = poll_seconds
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._data_lock = _FileLock(self.path.with_name(self.path.name + ".lock"))
        self._intent_path = self.path.with_name(self.path.name + ".intent")
        self._mutex = threading.Condition()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._in_flight = 0
        self._writing = False
        self._watcher: threading.Thread | None = None
        self._closed = False
        self._ensure_created()

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The read-write connection, inside ``BEGIN`` / ``COMMIT`` (rolled back on error)."""
        with self.exclusive() as connection, transaction(connection):
            yield connection

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The read-write connection without a transaction: the caller runs its own.

        For work that commits in several steps while every reader stays locked out (an import
        and then its signatures), or that a transaction refuses (``CHECKPOINT``).

        Steps: take the intent lock (new readers now wait), close this process's own reader
        connection, take the data lock exclusively (other processes' readers let go within one
        poll interval), open read-write, run the caller's statements, close, release.
        """
        intent = _FileLock(self._intent_path)
        with self._mutex:
            while self._writing:
                self._mutex.wait()
            self._writing = True
        try:
            intent.acquire(exclusive=True)
            try:
                with self._mutex:
                    while self._in_flight:
                        self._mutex.wait()
                    self._close_reader()
                self._data_lock.acquire(exclusive=True)
                try:
                    connection = duckdb.connect(str(self.path))
                    try:
                        _configure(connection)
                        connection.execute("SET preserve_insertion_order = false")
                        yield connection
                    finally:
                        connection.close()
                finally:
                    self._data_lock.release()
            finally:
                intent.release()
        finally:
            with self._mutex:
                self._writing = False
                self._mutex.notify_all()

    # -- reading ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on this process's read-only connection, (re)opened when needed."""
        with self._mutex:
            while self._writing:
                self._mutex.wait()
            if self._connection is not None and self._in_flight == 0 and self._writer_waiting():
                self._close_reader()
            if self._connection is None:
                self._open_reader()
            assert self._connection is not None
            cursor = self._connection.cursor()
            self._in_flight += 1
        try:
            yield cursor
        finally:
            cursor.close()
            with self._mutex:
                self._in_flight -= 1
                self._mutex.notify_all()

    def close(self) -> None:
        """Close this process's reader connection and stop its watcher."""
        with self._mutex:
            self._closed = True
            while self._in_flight:
                self._mutex.wait()
            self._close_reader()
            self._mutex.notify_all()

    def _open_reader(self) -> None:
        # Called with the mutex held. Queue behind a waiting writer (intent, shared), then take
        # the data lock shared and let the next writer announce itself.
        intent = _FileLock(self._intent_path)
        if not intent.acquire(exclusive=False, timeout=self.read_timeout):
            raise LogStoreBusy(
                f"the log store is being written to; no read possible within {self.read_timeout:g}s"
            )
        try:
            if not self._data_lock.acquire(exclusive=False, timeout=self.read_timeout):
                raise LogStoreBusy(
                    f"the log store is locked; no read possible within {self.read_timeout:g}s"
                )
        finally:
            intent.release()
        try:
            self._connection = duckdb.connect(str(self.path), read_only=True)
        except BaseException:
            self._data_lock.release()
            raise
        self._closed = False
        self._start_watcher()

    def _close_reader(self) -> None:
        # Called with the mutex held and no query in flight.
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._data_lock.release()

    def _writer_waiting(self) -> bool:
        probe = _FileLock(self._intent_path)
        if probe.acquire(exclusive=False, timeout=0):
            probe.release()
            return False
        return True

    def _start_watcher(self) -> None:
        if self._watcher is not None and self._watcher.is_alive():
            return
        self._watcher = threading.Thread(
            target=self._watch, name=f"logstore-watch-{self.path.name}", daemon=True
        )
        self._watcher.start()

    def _watch(self) -> None:
        """Let go of the shared lock when another process wants to write and we are idle."""
        while True:
            time.sleep(self.poll_seconds)
            with self._mutex:
                if self._connection is None:
                    self._watcher = None
                    return
                if self._in_flight == 0 and self._writer_waiting():
                    self._close_reader()
                    self._watcher = None
                    return

    def _ensure_created(self) -> None:
        if self.path.exists():
            return
        with self.write() as connection:
            connection.execute(create_table_sql())
            connection.execute(_SPOOL_TABLE_SQL)

    # -- maintenance -----------------------------------------------------------------------

    def count(self) -> int:
        """How many events the store holds."""
        with self.read() as cursor:
            row = cursor.execute("SELECT count(*) FROM events").fetchone()
        return int(row[0]) if row else 0

    def prune(self, *, before: datetime) -> int:
        """Delete events older than ``before`` (aware); return how many were deleted."""
        if before.tzinfo is None:
            raise ValueError("prune(before=...) needs an aware datetime")
        cutoff = _naive_utc(before)
        with self.write() as connection:
            row = connection.execute(
                "SELECT count(*) FROM events WHERE ts < ?", [cutoff]
            ).fetchone()
            deleted = int(row[0]) if row else 0
            if deleted:
                connection.execute("DELETE FROM events WHERE ts < ?", [cutoff])
        if deleted:
            # Reclaim space outside the transaction: CHECKPOINT cannot run inside one.
            with self.exclusive() as connection:
                connection.execute("CHECKPOINT")
        return deleted


def _naive_utc(value: datetime) -> datetime:
    """An aware instant as the naive UTC value the ``ts`` column stores."""
    return value.astimezone(UTC).replace(tzinfo=None)


_STORES: dict[Path, LogStore] = {}
_STORES_LOCK = threading.Lock()


def open_store(path: str | os.PathLike[str], **options: Any) -> LogStore:
    """The one ``LogStore`` of this process for ``path`` (created with its table if missing).

    One object per path matters: two objects in one process would hold separate flocks and a
    writer would wait for this very process's reader for ever.
    """
    resolved = Path(path).resolve()
    with _STORES_LOCK:
        store = _STORES.get(resolved)
        if store is None:
            store = LogStore(resolved, **options)
            _STORES[resolved] = store
        return store


def close_all_stores() -> None:
    """Close every store this process opened. Registered to run at exit: DuckDB objects still
    alive when the interpreter tears down are reported as leaks on stderr after every command."""
    with _STORES_LOCK:
        stores = list(_STORES.values())
        _STORES.clear()
    for store in stores:
        store.close()


atexit.register(close_all_stores)


def forget_store(path: str | os.PathLike[str]) -> None:
    """Close and drop this process's store object for ``path`` (tests use fresh files)."""
    resolved = Path(path).resolve()
    with _STORES_LOCK:
        store = _STORES.pop(resolved, None)
    if store is not None:
        store.close()
