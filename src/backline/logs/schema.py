"""The shape of a stored log event, shared by intake, the store, the query language and the simulator.

A log event arrives as a Datadog-style JSON object. A few attributes that investigations filter and
group on are lifted into typed columns (``COLUMNS``); everything else stays in the ``attrs`` JSON
column and is still searchable with ``@path.to.attr:value``.

``ATTRIBUTE_COLUMNS`` maps the attribute paths people type in queries (after ``@``, or reserved words
such as ``service:``) to the column that holds them. Several paths may name one column, so that both
the portal's own names (``user_uuid``) and Datadog's standard attributes (``usr.id``) work.

This module is framework-free: it imports nothing from Django or DuckDB.
"""

from __future__ import annotations

from typing import Final

# Column name -> DuckDB type. ``ts`` is stored as UTC TIMESTAMP (microseconds, no zone).
COLUMNS: Final[dict[str, str]] = {
    "ts": "TIMESTAMP",
    "service": "VARCHAR",
    "host": "VARCHAR",
    "status": "VARCHAR",  # canonical level (STATUS_LEVELS); the raw value, if different, in attrs
    "message": "VARCHAR",
    "user_id": "VARCHAR",  # the portal user's UUID (protected)
    "request_id": "VARCHAR",
    "trace_id": "VARCHAR",
    "http_method": "VARCHAR",
    "path": "VARCHAR",
    "status_code": "INTEGER",
    "duration_ms": "DOUBLE",
    "upstream": "VARCHAR",  # mhv_api | vista | oracle_health | mpi | idme | logingov
    "facility": "VARCHAR",  # VA station number, e.g. "648"
    "data_source": "VARCHAR",  # VISTA | ORACLE_HEALTH
    "error_code": "VARCHAR",  # RX139, SM151, MVI_503 ...
    "version": "VARCHAR",  # deployed git SHA
    "signature": "VARCHAR",  # error-signature (template) id, filled by the pattern miner
    "attrs": "JSON",  # every other attribute, nested as it arrived
}

# Per-column storage options. ``attrs`` is the biggest column by far; zstd makes it about five
# times smaller than DuckDB's default string compression and is cheaper to write (measured on
# simulated events, docs/benchmarks.md), and only the rows of a result page are ever decompressed.
COLUMN_OPTIONS: Final[dict[str, str]] = {"attrs": "USING COMPRESSION zstd"}

# Where the raw status goes in ``attrs`` when it differs from its canonical level.
RAW_STATUS_ATTRIBUTE: Final = "raw_status"

# Datadog's status remapper, in order: a status starting with one of the prefixes maps to the
# level. Digits are syslog severities. Anything else is ``info``, as in Datadog.
STATUS_LEVELS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("emergency", ("emerg", "f")),
    ("alert", ("a",)),
    ("critical", ("c",)),
    ("error", ("err",)),
    ("warn", ("w",)),
    ("notice", ("n",)),
    ("info", ("i",)),
    ("debug", ("d", "t", "v")),
    ("ok", ("o", "s")),
)
SYSLOG_SEVERITIES: Final[tuple[str, ...]] = (
    "emergency",
    "alert",
    "critical",
    "error",
    "warn",
    "notice",
    "info",
    "debug",
)
STATUS_FALLBACK: Final = "info"


def status_level(value: str) -> str | None:
    """The level a raw status names (``ERROR``, ``err``, ``3`` -> ``error``); None if none."""
    lowered = value.strip().lower()
    if len(lowered) == 1 and lowered in "01234567":
        return SYSLOG_SEVERITIES[int(lowered)]
    for level, prefixes in STATUS_LEVELS:
        if lowered.startswith(prefixes):
            return level
    return None


def canonical_status(value: str | None) -> str | None:
    """What the store keeps in ``status``: the level, ``info`` for an unknown word, None for none."""
    if value is None:
        return None
    return status_level(value) or STATUS_FALLBACK


def canonical_status_sql(raw: str) -> str:
    """The SQL twin of ``canonical_status`` over the SQL expression ``raw`` (constants only)."""
    lowered = f"lower(trim({raw}))"
    whens = [f"WHEN {raw} IS NULL THEN NULL"]
    for severity, level in enumerate(SYSLOG_SEVERITIES):
        whens.append(f"WHEN {lowered} = '{severity}' THEN '{level}'")
    for level, prefixes in STATUS_LEVELS:
        tests = " OR ".join(f"starts_with({lowered}, '{prefix}')" for prefix in prefixes)
        whens.append(f"WHEN {tests} THEN '{level}'")
    return "(CASE " + " ".join(whens) + f" ELSE '{STATUS_FALLBACK}' END)"


# Where each column's value is read from in an incoming JSON object: the first path present wins.
SOURCE_PATHS: Final[dict[str, tuple[str, ...]]] = {
    "ts": ("timestamp", "date", "@timestamp"),
    "service": ("service",),
    "host": ("host", "hostname"),
    "status": ("status", "level"),
    "message": ("message", "msg"),
    "user_id": ("user_uuid", "usr.id"),
    "request_id": ("named_tags.request_id", "request_id", "http.request_id"),
    "trace_id": ("dd.trace_id", "trace_id"),
    "http_method": ("http.method",),
    "path": ("http.url_details.path", "http.path", "path"),
    "status_code": ("http.status_code", "status_code"),
    "duration_ms": ("duration_ms",),
    "upstream": ("upstream",),
    "facility": ("facility", "station_number"),
    "data_source": ("data_source_system",),
    "error_code": ("error_code", "error.code"),
    "version": ("version", "named_tags.ref"),
    "signature": ("signature",),
}

# Query attribute (as typed after ``@`` or as a reserved word) -> column.
ATTRIBUTE_COLUMNS: Final[dict[str, str]] = {
    "service": "service",
    "host": "host",
    "status": "status",
    "message": "message",
    "version": "version",
    "trace_id": "trace_id",
    **{path: column for column, paths in SOURCE_PATHS.items() for path in paths},
}

# Reserved attributes: written without ``@`` in the Datadog syntax.
RESERVED: Final[frozenset[str]] = frozenset(
    {"service", "host", "status", "source", "version", "trace_id", "env", "message"}
)

# Columns and attribute paths that hold patient identifiers. Values found there are always masked
# for viewers without access, in addition to identifiers recognised inside free text.
PROTECTED_COLUMNS: Final[frozenset[str]] = frozenset({"user_id"})
PROTECTED_ATTRIBUTES: Final[frozenset[str]] = frozenset(
    {
        "user_uuid",
        "usr.id",
        "usr.email",
        "icn",
        "edipi",
        "ssn",
        "birth_date",
        "email",
        "phone",
        "mhv_id",
        "mhv_correlation_id",
        "payload.icn",
        "payload.edipi",
        "payload.mhv_id",
        "payload.mhv_correlation_id",
        "payload.email",
        "payload.phone",
    }
)
