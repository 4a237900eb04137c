"""Sources: DuckDB against a real store (checked with Python oracles), Datadog against a local
HTTP server that answers with the documented shapes of "Search logs" and "Aggregate events"."""

from __future__ import annotations

import json
import statistics
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from backline.logs.datadog_source import DatadogSource
from backline.logs.duckdb_source import DuckDBSource
from backline.logs.ingest import import_file
from backline.logs.query import QuerySyntaxError
from backline.logs.store import LogStore
from backline.logs.tests.conftest import write_lines

T0 = datetime(2025, 1, 6, 5, 0, tzinfo=UTC)
END = T0 + timedelta(hours=1)


def _events() -> list[dict[str, Any]]:
    events = []
    for i in range(120):
        events.append(
            {
                "timestamp": (T0 + timedelta(seconds=30 * i)).isoformat(),
                "service": "vets-api" if i % 3 else "mhv-api",
                "status": "error" if i % 4 == 0 else "info",
                "message": f"request {i} " + ("RX139 refill failed" if i % 4 == 0 else "ok"),
                "user_uuid": f"user-{i % 7}",
                "duration_ms": float(i),
                "facility": ["648", "589", "757"][i % 3],
                "error_code": "RX139" if i % 4 == 0 else None,
                "payload": {"icn": f"10123456{i:02d}V123456"},
            }
        )
    return events


@pytest.fixture
def source(store: LogStore, tmp_path: Path) -> DuckDBSource:
    import_file(store, write_lines(tmp_path / "e.jsonl", _events()))
    return DuckDBSource(store)


def test_search_pages_with_a_cursor_until_every_match_is_seen_once(source: DuckDBSource) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = source.search("status:error", T0, END, limit=7, cursor=cursor)
        seen += [e.columns["message"] for e in page.events]
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = [e["message"] for e in reversed(_events()) if e["status"] == "error"]
    assert seen == expected


def test_search_ascending_and_window_is_half_open(source: DuckDBSource) -> None:
    page = source.search("", T0, T0 + timedelta(seconds=60), sort="asc")
    assert [e.columns["message"].split(" ")[1] for e in page.events] == ["0", "1"]
    assert page.events[0].attrs["payload"] == {"icn": "1012345600V123456"}


def test_a_cursor_for_the_other_order_or_garbage_is_refused(source: DuckDBSource) -> None:
    page = source.search("", T0, END, limit=5)
    with pytest.raises(ValueError, match="other sort order"):
        source.search("", T0, END, cursor=page.next_cursor, sort="asc")
    with pytest.raises(ValueError, match="not one this server"):
        source.search("", T0, END, cursor="nonsense!")


def test_syntax_errors_come_from_the_query_language(source: DuckDBSource) -> None:
    with pytest.raises(QuerySyntaxError):
        source.search("service:(vets-api", T0, END)


def test_facets_count_values_like_a_counter(source: DuckDBSource) -> None:
    facets = source.facets("*", T0, END, fields=["service", "@facility", "@payload.icn"], limit=2)
    services = {v.value: v.count for v in facets["service"]}
    assert services == {"vets-api": 80, "mhv-api": 40}
    assert [v.count for v in facets["@facility"]] == [40, 40]
    assert len(facets["@payload.icn"]) == 2


def test_timeseries_counts_per_bucket_and_group(source: DuckDBSource) -> None:
    buckets = source.timeseries("status:error", T0, END, interval=timedelta(minutes=15))
    assert [b.count for b in buckets] == [8, 7, 8, 7]
    grouped = source.timeseries(
        "", T0, END, interval=timedelta(minutes=30), group_by="service", limit=1
    )
    assert {(b.group, b.count) for b in grouped} == {("vets-api", 40)}


def test_percentiles_match_statistics_quantiles(source: DuckDBSource) -> None:
    rows = source.percentiles("*", T0, END, field="@duration_ms", ps=(50, 95), group_by="facility")
    events = _events()
    for row in rows:
        values = sorted(e["duration_ms"] for e in events if e["facility"] == row.group)
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        assert row.values["p50"] == pytest.approx(cuts[49])
        assert row.values["p95"] == pytest.approx(cuts[94])
    assert len(rows) == 3


def test_count_distinct_users_per_error_code(source: DuckDBSource) -> None:
    rows = source.count_distinct("status:error", T0, END, field="@user_uuid", group_by="error_code")
    users = {e["user_uuid"] for e in _events() if e["status"] == "error"}
    assert [(r.group, r.values["distinct"]) for r in rows] == [("RX139", float(len(users)))]


# -- Datadog -------------------------------------------------------------------------------------


class _Datadog(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Datadog.requests.append((self.path, body, dict(self.headers)))
        if self.path == "/api/v2/logs/events/search":
            answer = _search_answer(body)
        elif self.path == "/api/v2/logs/analytics/aggregate":
            answer = _aggregate_answer(body)
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _search_answer(body: dict[str, Any]) -> dict[str, Any]:
    first = body.get("page", {}).get("cursor") is None
    return {
        "data": [
            {
                "id": "AAAAAWgN8Xwgr1vKDQAAAABBV2dOOFh3ZzZobm1mWXJFYTR0OA",
                "type": "log",
                "attributes": {
                    "timestamp": "2025-01-06T05:10:00.000Z" if first else "2025-01-06T05:00:00Z",
                    "service": "vets-api",
                    "host": "web-1",
                    "status": "error",
                    "message": "RX139 refill failed",
                    "tags": ["env:production"],
                    "attributes": {
                        "user_uuid": "user-1",
                        "http": {"status_code": 502, "method": "POST"},
                        "error_code": "RX139",
                        "payload": {"icn": "1012345678V123456"},
                    },
                },
            }
        ],
        "links": {"next": "https://api.datadoghq.com/api/v2/logs/events?page[cursor]=abc"},
        "meta": {
            "elapsed": 132,
            "page": {"after": "eyJzdGFydEF0IjoiQVFBQUFY"} if first else {},
            "request_id": "MWlFUjVaWGZTTTZPYzM0VXp1OXU2d3xLSVpEMjZKQ0VKUm1ZT09XbE5TSWVn",
            "status": "done",
        },
    }


def _aggregate_answer(body: dict[str, Any]) -> dict[str, Any]:
    computes = body["compute"]
    group = body.get("group_by", [{}])[0].get("facet") if body.get("group_by") else None
    if computes[0].get("type") == "timeseries":
        value: Any = [
            {"time": "2025-01-06T05:00:00.000Z", "value": 3},
            {"time": "2025-01-06T05:05:00.000Z", "value": 1},
        ]
        return {
            "data": {
                "buckets": [{"by": {group: "vets-api"} if group else {}, "computes": {"c0": value}}]
            },
            "meta": {"status": "done"},
        }
    buckets = []
    for name, number in (("RX139", 4), ("SM151", 2)):
        values = {f"c{i}": float(number * (i + 1)) for i in range(len(computes))}
        buckets.append({"by": {group: name} if group else {}, "computes": values})
    return {"data": {"buckets": buckets}, "meta": {"elapsed": 12, "status": "done"}}


@pytest.fixture
def datadog() -> Iterator[DatadogSource]:
    _Datadog.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Datadog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield DatadogSource(
            site=f"http://127.0.0.1:{server.server_address[1]}", api_key="k", app_key="a"
        )
    finally:
        server.shutdown()
        server.server_close()


def test_datadog_search_passes_the_query_unchanged_and_pages_with_after(
    datadog: DatadogSource,
) -> None:
    query = 'service:vets-api @http.status_code:>=500 -"timeout" @payload.icn:1012*'
    page = datadog.search(query, T0, END, limit=10)
    path, body, headers = _Datadog.requests[0]
    assert path == "/api/v2/logs/events/search"
    assert body["filter"] == {
        "query": query,
        "from": "2025-01-06T05:00:00Z",
        "to": "2025-01-06T06:00:00Z",
    }
    assert body["sort"] == "-timestamp" and body["page"]["limit"] == 10
    assert headers["DD-API-KEY"] == "k" and headers["DD-APPLICATION-KEY"] == "a"
    event = page.events[0]
    assert event.columns["user_id"] == "user-1" and event.columns["status_code"] == 502
    assert event.attrs["payload"]["icn"] == "1012345678V123456"
    assert page.next_cursor == "eyJzdGFydEF0IjoiQVFBQUFY"
    last = datadog.search(query, T0, END, cursor=page.next_cursor)
    assert _Datadog.requests[1][1]["page"]["cursor"] == "eyJzdGFydEF0IjoiQVFBQUFY"
    assert last.next_cursor is None


def test_datadog_aggregates_map_onto_the_same_shapes(datadog: DatadogSource) -> None:
    facets = datadog.facets("status:error", T0, END, fields=["@error_code"])
    assert [(v.value, v.count) for v in facets["@error_code"]] == [("RX139", 4), ("SM151", 2)]
    request = _Datadog.requests[-1][1]
    assert request["group_by"][0]["facet"] == "@error_code"
    assert request["compute"] == [{"aggregation": "count"}]

    distinct = datadog.count_distinct(
        "status:error", T0, END, field="@user_uuid", group_by="@error_code"
    )
    assert distinct[0].group == "RX139" and distinct[0].values == {"distinct": 4.0}
    assert _Datadog.requests[-1][1]["compute"] == [
        {"aggregation": "cardinality", "metric": "@user_uuid"}
    ]

    rows = datadog.percentiles(
        "*", T0, END, field="@duration_ms", ps=(50, 95), group_by="@facility"
    )
    assert [c["aggregation"] for c in _Datadog.requests[-1][1]["compute"]] == ["median", "pc95"]
    assert rows[0].values == {"p50": 4.0, "p95": 8.0}

    series = datadog.timeseries("*", T0, END, interval=timedelta(minutes=5), group_by="service")
    assert _Datadog.requests[-1][1]["compute"][0]["interval"] == "5m"
    assert [(b.start.minute, b.group, b.count) for b in series] == [
        (0, "vets-api", 3),
        (5, "vets-api", 1),
    ]


def test_datadog_refuses_percentiles_it_cannot_compute(datadog: DatadogSource) -> None:
    with pytest.raises(ValueError, match="only these percentiles"):
        datadog.percentiles("*", T0, END, field="@duration_ms", ps=(42,))
