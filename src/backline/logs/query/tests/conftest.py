"""A small in-memory DuckDB ``events`` table, built from ``schema.COLUMNS``, that queries run against.

Rows are named by their ``request_id`` (``r01`` .. ``r20``) so test tables can list expected matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest

from backline.logs import schema
from backline.logs.query import compile_query

MHV = "/my_health/v1"

# Only the columns that differ from the defaults are written out per row.
ROWS: list[dict[str, Any]] = [
    {
        "request_id": "r01",
        "status": "error",
        "message": "RX139: Prescription is not refillable",
        "user_id": "u-1",
        "http_method": "PATCH",
        "path": f"{MHV}/prescriptions/17/refill",
        "status_code": 400,
        "duration_ms": 120.0,
        "upstream": "mhv_api",
        "facility": "648",
        "data_source": "ORACLE_HEALTH",
        "error_code": "RX139",
        "attrs": {
            "payload": {"icn": "1012345678V123456", "rx_id": 17},
            "env": "prod",
            "upstream_endpoint": "/mhv-api/patient/v1/prescription/rxrefill",
            "tags": ["pharmacy", "refill"],
        },
    },
    {
        "request_id": "r02",
        "status": "warn",
        "message": "Upstream VistA slow response",
        "path": f"{MHV}/prescriptions",
        "status_code": 200,
        "duration_ms": 2500.0,
        "upstream": "vista",
        "facility": "358",
        "data_source": "VISTA",
        "attrs": {"env": "prod", "payload": {"icn": "1012345678V654321"}},
    },
    {
        "request_id": "r03",
        "status": "ERROR",
        "message": "Triage team does not exist",
        "path": f"{MHV}/messaging/threads",
        "status_code": 422,
        "duration_ms": 80.0,
        "upstream": "mhv_api",
        "facility": "663",
        "error_code": "SM119",
        "attrs": {"env": "staging", "retry": True},
    },
    {
        "request_id": "r04",
        "status": "err",
        "message": "User is blocked from the facility",
        "path": f"{MHV}/messaging/folders",
        "status_code": 422,
        "duration_ms": 95.0,
        "upstream": "mhv_api",
        "facility": "648",
        "error_code": "SM151",
        "attrs": {"env": "prod"},
    },
    {
        "request_id": "r05",
        "status": "info",
        "message": "Refill request accepted",
        "user_id": "u-1",
        "path": f"{MHV}/prescriptions/18/refill",
        "status_code": 200,
        "duration_ms": 300.0,
        "upstream": "vista",
        "facility": "358",
        "attrs": {"env": "prod", "payload": {"icn": "1012345678V123456"}},
    },
    {
        "request_id": "r06",
        "status": "critical",
        "message": "Identity service unavailable: MVI_503",
        "path": "/v0/user",
        "status_code": 503,
        "duration_ms": 30000.0,
        "upstream": "mpi",
        "error_code": "MVI_503",
        "attrs": {"env": "prod"},
    },
    {
        "request_id": "r07",
        "service": "mhv-api",
        "status": "error",
        "message": "Gateway timeout calling VistA",
        "status_code": 504,
        "duration_ms": 60000.0,
        "upstream": "vista",
        "facility": "358",
        "attrs": {"upstream_endpoint": "/vista/rx", "http": {"headers": {"x-request-id": "abc"}}},
    },
    {
        "request_id": "r08",
        "status": "debug",
        "message": "cache hit for prescriptions",
        "status_code": 200,
        "duration_ms": 3.5,
    },
    {
        "request_id": "r09",
        "status": "info",
        "message": "Hello World from the portal",
        "status_code": 200,
        "duration_ms": 12.0,
        "attrs": {"env": "dev"},
    },
    {
        "request_id": "r10",
        "status": "info",
        "message": "hello world",
        "status_code": 200,
        "duration_ms": 15.0,
    },
    {"request_id": "r11", "status": "info", "message": "50% of refills done_now"},
    {
        "request_id": "r12",
        "status": "warning",
        "message": "Session expired (005)",
        "status_code": 401,
        "attrs": {"code": "005"},
    },
    {
        "request_id": "r13",
        "service": "identity-proxy",
        "status": "error",
        "message": "Login.gov verification denied",
        "status_code": 403,
        "upstream": "logingov",
        "attrs": {"signin": {"code": "009", "provider": "logingov"}, "source": "python"},
    },
    # A bare event: nothing but its id and service, to check that missing values never match.
    {"request_id": "r14", "host": None, "version": None, "status": None, "message": None},
    {
        "request_id": "r15",
        "status": "info",
        "message": "note: hello:world",
        "status_code": 200,
        "attrs": {"my_attribute": "hello world", "weird": "a:b"},
    },
    {
        "request_id": "r16",
        "status": "error",
        "message": "RX99 generic upstream failure",
        "user_id": "u-2",
        "status_code": 502,
        "duration_ms": 1500.0,
        "upstream": "oracle_health",
        "facility": "757",
        "data_source": "ORACLE_HEALTH",
        "error_code": "RX99",
        "attrs": {"payload": {"icn": "1012345678V999999"}, "count": 5},
    },
    {
        "request_id": "r17",
        "status": "info",
        "message": "* literal star in message",
        "attrs": {"count": 5.0},
    },
    {
        "request_id": "r18",
        "status": "error",
        "message": "Prescription not found",
        "status_code": 404,
        "duration_ms": 200.0,
        "upstream": "vista",
        "facility": "648",
        "error_code": "RX138",
        "attrs": {"count": "12"},
    },
    {"request_id": "r19", "status": "3", "message": "syslog numbered error"},
    {
        "request_id": "r20",
        "status": "info",
        "message": "Messages listed",
        "path": f"{MHV}/messaging/threads",
        "status_code": 200,
        "duration_ms": 499.9,
        "attrs": {"tags": ["messaging"], "env": "prod"},
    },
]
ALL_IDS: frozenset[str] = frozenset(row["request_id"] for row in ROWS)

_START = datetime(2026, 11, 23, 14, 0)


def _full_row(index: int, row: dict[str, Any]) -> dict[str, Any]:
    full: dict[str, Any] = dict.fromkeys(schema.COLUMNS)
    full.update(
        ts=_START + timedelta(minutes=index),
        service="vets-api",
        host="web-1" if index < 10 else "web-2",
        version="abc123" if index < 10 else "def456",
    )
    full.update(row)
    # Stored as the ingest stores it: the canonical level, the raw spelling kept in attrs.
    raw_status = full["status"]
    full["status"] = schema.canonical_status(raw_status)
    if raw_status is not None and raw_status != full["status"]:
        full["attrs"] = {**(full["attrs"] or {}), schema.RAW_STATUS_ATTRIBUTE: raw_status}
    if full["attrs"] is not None:
        full["attrs"] = json.dumps(full["attrs"])
    return full


@pytest.fixture(scope="session")
def events_db() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database holding the ``events`` table and the rows above."""
    con = duckdb.connect()
    columns = ", ".join(f"{name} {kind}" for name, kind in schema.COLUMNS.items())
    con.execute(f"CREATE TABLE events ({columns})")
    names = list(schema.COLUMNS)
    placeholders = ", ".join("?" for _ in names)
    for index, row in enumerate(ROWS):
        full = _full_row(index, row)
        con.execute(
            f"INSERT INTO events ({', '.join(names)}) VALUES ({placeholders})",  # noqa: S608
            [full[name] for name in names],
        )
    yield con
    con.close()


def run_query(con: duckdb.DuckDBPyConnection, query: str) -> set[str]:
    """The ``request_id`` of every row the query matches."""
    compiled = compile_query(query)
    sql = f"SELECT request_id FROM events WHERE {compiled.sql_where}"  # noqa: S608
    return {row[0] for row in con.execute(sql, compiled.params).fetchall()}
