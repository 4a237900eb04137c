"""Loading JSON-lines files into the store's ``events`` table with DuckDB's own JSON reader.

This module owns the mapping from an incoming Datadog-style JSON object to a row: which path fills
which column (``schema.SOURCE_PATHS``, the first present wins), how timestamps are read, and what
is left in ``attrs``. It is framework-free.

Speed comes from parsing each line once in DuckDB (``read_ndjson_objects`` and one multi-path
``json_extract_string``) instead of in Python, and from storing each line's text as it arrived as
``attrs``: the whole event, the lifted fields included, as Datadog's own ``attributes`` keep them.
Removing the lifted fields from ``attrs`` (a JSON rewrite of every line) was the largest single
cost of the ingest; keeping them costs store size instead (docs/benchmarks.md). Queries read the
lifted fields from their columns either way. ``status`` is stored as its canonical level
(``schema.canonical_status``, Datadog's status remapper); a raw value that differs from its level
is also added to ``attrs`` as ``raw_status``, so ``@raw_status:ERROR`` finds what arrived that way.

Error signatures: the warn-and-above rows of one load get their template id, the hook called
once with each distinct message before the load commits; the ids are written in a second
transaction under the same write lock (``_load_and_sign`` says why).

Bad lines: the fast path loads a whole file in one statement. When that fails (broken JSON) or
leaves rows without a timestamp (not an object, no readable timestamp), the transaction is rolled
back and the file goes through ``check_lines``, which reads it in Python, names every bad line, and
writes the good ones to a clean file that the fast path then loads.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import duckdb

from backline.logs import schema
from backline.logs.store import LogStore, LogStoreError, transaction

# Messages in, one signature per message out (the pattern miner's template ids).
SignatureHook = Callable[[list[str]], list[str]]

_LIFTED = [column for column in schema.COLUMNS if column in schema.SOURCE_PATHS]
_NUMERIC = {"INTEGER", "BIGINT", "DOUBLE"}


def _json_path(dotted: str) -> str:
    # Source paths are constants from schema.py; quoting each key keeps "@timestamp" valid.
    return "$." + ".".join(f'"{key}"' for key in dotted.split("."))


def _all_paths() -> list[tuple[str, str]]:
    return [(column, path) for column in _LIFTED for path in schema.SOURCE_PATHS[column]]


def _status_sql(raw: str) -> str:
    """``schema.canonical_status_sql`` with a shortcut for a value that already is a level.

    Nearly every event arrives with a canonical status, and one ``IN`` test is much cheaper than
    the remapper's chain of prefix tests (each lowers and trims the value again).
    """
    levels = ", ".join(f"'{level}'" for level, _ in schema.STATUS_LEVELS)
    return f"(CASE WHEN {raw} IN ({levels}) THEN {raw} ELSE {schema.canonical_status_sql(raw)} END)"


def _timestamp_sql(values: list[str]) -> str:
    """Epoch milliseconds (digits) or an ISO-8601 string; a string without zone is UTC.

    The first present path wins, as for every column. Deciding by the text rather than
    ``json_type`` keeps to one JSON parse per line.
    """
    raw = values[0] if len(values) == 1 else "COALESCE(" + ", ".join(values) + ")"
    return (
        f"CASE WHEN regexp_full_match({raw}, '-?[0-9]{{1,15}}') "
        f"THEN epoch_ms(CAST({raw} AS BIGINT)) "
        f"ELSE TRY_CAST(TRY_CAST({raw} AS TIMESTAMPTZ) AS TIMESTAMP) END"
    )


def select_sql() -> str:
    """The ``SELECT`` that turns ``read_ndjson_objects`` rows (column ``json``) into event rows.

    Expects a relation named ``source`` with a JSON column ``json`` and a parameter-free FROM;
    callers wrap it. Built only from schema constants. Three layers: the paths extracted in one
    parse; the columns (status reduced to its canonical level) and ``attrs``, the line itself;
    then the raw status added to ``attrs`` on the few rows where it differs from its level.
    """
    pairs = _all_paths()
    path_list = "[" + ", ".join("'" + _json_path(path) + "'" for _, path in pairs) + "]"
    index = {pair: number + 1 for number, pair in enumerate(pairs)}
    ts_paths = [path for column, path in pairs if column == "ts"]
    ts_values = [f"v[{index[('ts', path)]}]" for path in ts_paths]

    def first_present(column: str) -> str:
        values = [f"v[{index[(column, path)]}]" for path in schema.SOURCE_PATHS[column]]
        return values[0] if len(values) == 1 else "COALESCE(" + ", ".join(values) + ")"

    middle = []
    for column, column_type in schema.COLUMNS.items():
        if column == "attrs":
            middle.append("json AS attrs")
        elif column == "ts":
            middle.append(f"{_timestamp_sql(ts_values)} AS ts")
        elif column == "status":
            raw = first_present(column)
            middle.append(f"{raw} AS raw_status")
            middle.append(f"{_status_sql(raw)} AS status")
        elif column in schema.SOURCE_PATHS:
            value = first_present(column)
            if column_type in _NUMERIC:
                value = f"TRY_CAST({value} AS {column_type})"
            middle.append(f"{value} AS {column}")
        else:
            middle.append(f"NULL::{column_type} AS {column}")
    raw_key = schema.RAW_STATUS_ATTRIBUTE
    outer = [
        (
            "CASE WHEN raw_status IS DISTINCT FROM status "
            f"THEN json_merge_patch(attrs, json_object('{raw_key}', raw_status)) "
            "ELSE attrs END AS attrs"
        )
        if column == "attrs"
        else column
        for column in schema.COLUMNS
    ]
    # Every piece comes from schema constants; no value from an event reaches the text.
    return (
        "SELECT " + ", ".join(outer) + " FROM (SELECT " + ", ".join(middle) + " FROM "  # noqa: S608
        f"(SELECT json, json_extract_string(json, {path_list}) AS v FROM source))"
    )


_SELECT_SQL = select_sql()


@dataclass
class BadLine:
    """One line that could not be imported, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class LoadResult:
    """What one load did: events stored, and the lines refused with their reasons."""

    events: int = 0
    bad: list[BadLine] = field(default_factory=list)


def _load_statement(files: list[str], default_ts: datetime | None) -> tuple[str, list[object]]:
    reader = "read_ndjson_objects(?, compression = 'auto_detect', maximum_object_size = 16777216)"
    select = f"WITH source AS (SELECT json FROM {reader}) {_SELECT_SQL}"  # noqa: S608
    columns = ", ".join(schema.COLUMNS)
    if default_ts is None:
        return f"INSERT INTO events ({columns}) {select}", [files]
    # Intake semantics: an event without a timestamp happened when it was received.
    outer = ", ".join(
        "COALESCE(ts, ?) AS ts" if column == "ts" else column for column in schema.COLUMNS
    )
    statement = f"INSERT INTO events ({columns}) SELECT {outer} FROM ({select})"  # noqa: S608
    return statement, [default_ts, files]


@dataclass(frozen=True)
class Loaded:
    """Rows one statement inserted, and how many of them have no readable timestamp."""

    inserted: int
    undated: int


def load_files(
    connection: duckdb.DuckDBPyConnection,
    files: list[str],
    *,
    default_ts: datetime | None = None,
) -> Loaded | None:
    """Insert every line of ``files`` with one statement, inside the caller's transaction.

    None when DuckDB cannot parse some line (the statement inserted nothing). Otherwise the rows
    are in, and ``undated`` counts those without a timestamp (rows with a NULL ``ts``; the store
    never keeps such rows, so the caller deletes them or rolls back).
    """
    sql, params = _load_statement(files, default_ts)
    try:
        row = connection.execute(sql, params).fetchone()
    except duckdb.InvalidInputException:
        return None
    inserted = int(row[0]) if row else 0
    missing = connection.execute("SELECT count(*) FROM events WHERE ts IS NULL").fetchone()
    return Loaded(inserted=inserted, undated=int(missing[0]) if missing else 0)


def open_lines(path: Path) -> IO[bytes]:
    """A file opened for reading bytes, gunzipped when it starts with the gzip magic number."""
    handle = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    magic = handle.read(2)
    handle.seek(0)
    if magic == b"\x1f\x8b":
        handle.close()
        return cast(IO[bytes], gzip.open(path, "rb"))
    return handle


def _has_timestamp(event: dict[str, Any]) -> str | None:
    """None when the event carries a usable timestamp, else the reason it does not."""
    for path in schema.SOURCE_PATHS["ts"]:
        value = event.get(path)
        if value is None:
            continue
        if isinstance(value, bool):
            return f"{path} is not a time: {value!r}"
        if isinstance(value, int | float):
            return None
        if isinstance(value, str):
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return f"{path} is not an ISO-8601 time: {value[:40]!r}"
            return None
        return f"{path} is not a time: {type(value).__name__}"
    return "no timestamp (expected one of: " + ", ".join(schema.SOURCE_PATHS["ts"]) + ")"


def check_lines(
    name: str, lines: Iterable[bytes], out: IO[bytes], *, need_timestamp: bool = True
) -> tuple[int, list[BadLine]]:
    """Copy good JSON-object lines to ``out``; return (good count, bad lines with reasons)."""
    good = 0
    bad: list[BadLine] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            event = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            bad.append(BadLine(name, number, f"not valid JSON ({exc})"))
            continue
        if not isinstance(event, dict):
            bad.append(BadLine(name, number, f"not a JSON object (a {type(event).__name__})"))
            continue
        if need_timestamp:
            reason = _has_timestamp(event)
            if reason is not None:
                bad.append(BadLine(name, number, reason))
                continue
        out.write(text + b"\n")
        good += 1
    return good, bad


def _iter_lines(path: Path) -> Iterator[bytes]:
    with open_lines(path) as handle:
        yield from handle


_Loaded = TypeVar("_Loaded")


def _load_and_sign(
    store: LogStore,
    load: Callable[[duckdb.DuckDBPyConnection], _Loaded],
    hook: SignatureHook | None,
) -> _Loaded:
    """Run ``load`` in one transaction and sign its rows in a second, under one write lock.

    1. Take the store's write lock: readers wait (``LogStore.exclusive``) until step 4.
    2. Transaction one: ``load`` inserts the rows. The hook is called with their distinct
       warn-and-above messages before this commits, so a failing hook loads nothing.
    3. Transaction two: one ``UPDATE`` writes the signatures. It is separate because DuckDB
       rewrites, at commit, rows that one transaction both inserted and updated: about a third
       more CPU for the whole load (docs/benchmarks.md). Updating committed rows costs only the
       signature column at the next checkpoint.
    4. Close the connection (DuckDB checkpoints) and release the lock.

    No reader ever sees the load without its signatures; only a crash between the two commits
    leaves the load's rows unsigned, like an import with ``--no-signatures``.
    """
    with store.exclusive() as connection:
        with transaction(connection):
            watermark = row_watermark(connection)
            result = load(connection)
            signatures = signatures_for_new_rows(connection, hook, watermark) if hook else {}
        if signatures:
            with transaction(connection):
                store_signatures(connection, signatures, after_rowid=watermark)
    return result


class _NeedsCheck(Exception):
    """Raised inside a write to roll it back: the file has bad lines to name one by one."""


def import_file(
    store: LogStore,
    path: Path,
    *,
    display_name: str | None = None,
    signature_hook: SignatureHook | None = None,
) -> LoadResult:
    """Load one JSON-lines file (plain or gzip) into the store; report its bad lines.

    Good lines are stored even when others are bad. A file that cannot be read at all raises
    ``OSError``.
    """
    name = display_name or str(path)
    with open(path, "rb"):
        pass  # a missing or unreadable file raises OSError here, named by Python
    try:
        if any(char in str(path) for char in "*?[{"):
            raise _NeedsCheck  # DuckDB would read the name as a glob pattern

        def load_clean(connection: duckdb.DuckDBPyConnection) -> Loaded:
            loaded = load_files(connection, [str(path)])
            if loaded is None or loaded.undated:
                raise _NeedsCheck
            return loaded

        return LoadResult(events=_load_and_sign(store, load_clean, signature_hook).inserted)
    except _NeedsCheck:
        pass

    # Slow path, outside the write lock: read in Python, keep the good lines in a clean file.
    handle, clean = tempfile.mkstemp(suffix=".jsonl", prefix="backline-import-")
    try:
        with os.fdopen(handle, "wb") as out:
            _, bad = check_lines(name, _iter_lines(path), out)
        result = LoadResult(bad=bad)

        def load_checked(connection: duckdb.DuckDBPyConnection) -> Loaded:
            loaded = load_files(connection, [clean])
            if loaded is None:
                raise LogStoreError(f"{name}: DuckDB refused lines that Python read as JSON")
            if loaded.undated:
                # Lines Python could date but DuckDB could not (e.g. a year out of its range).
                connection.execute("DELETE FROM events WHERE ts IS NULL")
            return loaded

        loaded = _load_and_sign(store, load_checked, signature_hook)
        if loaded.undated:
            result.bad.append(
                BadLine(name, 0, f"{loaded.undated} line(s) have a timestamp out of range")
            )
        result.events = loaded.inserted - loaded.undated
        return result
    finally:
        os.unlink(clean)


def load_spooled(
    store: LogStore,
    files: list[Path],
    *,
    signature_hook: SignatureHook | None = None,
    received: datetime | None = None,
) -> int:
    """Load intake spool files (already validated JSON lines) and record them as loaded.

    Exactly once: the events and the file names are committed together, and names already
    recorded are skipped, so a crash between commit and unlink loads nothing twice. Intake
    writes a timestamp into every entry; ``received`` (naive UTC) is only a last resort.
    """
    if not files:
        return 0
    names = [file.name for file in files]

    def load_new(connection: duckdb.DuckDBPyConnection) -> int:
        done = {
            row[0]
            for row in connection.execute(
                "SELECT name FROM loaded_spool_files WHERE list_contains(?, name)", [names]
            ).fetchall()
        }
        todo = [file for file in files if file.name not in done]
        if not todo:
            return 0
        loaded = load_files(connection, [str(file) for file in todo], default_ts=received)
        if loaded is None or loaded.undated:
            raise LogStoreError("a spool file holds a line the store cannot read")
        connection.execute(
            "INSERT INTO loaded_spool_files SELECT unnest(?), now()::TIMESTAMP",
            [[file.name for file in todo]],
        )
        return loaded.inserted

    inserted = _load_and_sign(store, load_new, signature_hook)
    for file in files:
        file.unlink(missing_ok=True)
    return inserted


def canonicalise_statuses(store: LogStore) -> int:
    """Migrate a store written before statuses were canonical at ingest; return rows changed.

    Each non-canonical status becomes its level and the raw value moves to ``attrs.raw_status``,
    exactly as the ingest does now. Safe to run twice (the second run changes nothing).
    """
    level = schema.canonical_status_sql("status")
    key = schema.RAW_STATUS_ATTRIBUTE
    with store.write() as connection:
        row = connection.execute(
            f"UPDATE events SET status = {level}, "  # noqa: S608 - schema constants only
            f"attrs = json_merge_patch(coalesce(attrs, '{{}}'), json_object('{key}', status)) "
            f"WHERE status IS NOT NULL AND status <> {level}"
        ).fetchone()
    return int(row[0]) if row else 0


# Levels whose events get an error signature: warn and above. Signing only these keeps the
# miner's input small (a few percent of the events) and the ingest fast.
SIGNED_LEVELS: tuple[str, ...] = ("emergency", "alert", "critical", "error", "warn")
_UNSIGNED = "rowid > ? AND signature IS NULL AND list_contains(?, status)"


def row_watermark(connection: duckdb.DuckDBPyConnection) -> int:
    """The highest ``rowid`` in ``events`` (-1 when empty): rows appended later lie above it."""
    row = connection.execute("SELECT coalesce(max(rowid), -1) FROM events").fetchone()
    return int(row[0]) if row else -1


def signatures_for_new_rows(
    connection: duckdb.DuckDBPyConnection, hook: SignatureHook, after_rowid: int = -1
) -> dict[str, str]:
    """Message -> signature for the unsigned warn-and-above events above ``after_rowid``.

    The hook sees each distinct message once (a file repeats its error messages thousands of
    times), in one call.
    """
    messages = [
        str(row[0])
        for row in connection.execute(
            f"SELECT DISTINCT coalesce(message, '') FROM events WHERE {_UNSIGNED}",  # noqa: S608
            [after_rowid, list(SIGNED_LEVELS)],
        ).fetchall()
    ]
    if not messages:
        return {}
    signatures = hook(messages)
    if len(signatures) != len(messages):
        raise ValueError(
            f"signature hook returned {len(signatures)} signatures for {len(messages)} messages"
        )
    return dict(zip(messages, signatures, strict=True))


def store_signatures(
    connection: duckdb.DuckDBPyConnection, signatures: dict[str, str], *, after_rowid: int = -1
) -> int:
    """Write ``signatures`` (message -> signature) into the unsigned warn-and-above events above
    ``after_rowid``; return how many events were signed."""
    if not signatures:
        return 0
    connection.execute(
        "CREATE TEMP TABLE IF NOT EXISTS new_signatures (message VARCHAR, signature VARCHAR)"
    )
    connection.execute("DELETE FROM new_signatures")
    connection.execute(
        "INSERT INTO new_signatures SELECT unnest(?), unnest(?)",
        [list(signatures), list(signatures.values())],
    )
    row = connection.execute(
        "UPDATE events SET signature = new_signatures.signature FROM new_signatures "
        "WHERE events.rowid > ? AND events.signature IS NULL "
        "AND list_contains(?, events.status) "
        "AND coalesce(events.message, '') = new_signatures.message",
        [after_rowid, list(SIGNED_LEVELS)],
    ).fetchone()
    return int(row[0]) if row else 0


def apply_signatures(
    connection: duckdb.DuckDBPyConnection, hook: SignatureHook, *, after_rowid: int = -1
) -> int:
    """Sign the warn-and-above events above ``after_rowid`` that have no signature yet, in the
    caller's transaction (``signatures_for_new_rows`` then ``store_signatures``)."""
    signatures = signatures_for_new_rows(connection, hook, after_rowid)
    return store_signatures(connection, signatures, after_rowid=after_rowid)
