"""``LogSource`` over Datadog's Logs API, through the official ``datadog-api-client``.

The query string goes to Datadog unchanged (Backline's language is Datadog's). Events come from
"Search logs" (``list_logs``, cursor paging); counts, cardinality and percentiles from "Aggregate
events" (``aggregate_logs``). Answers are mapped onto the same dataclasses the DuckDB source
returns. Framework-free; the adapter is the only module that knows Datadog's shapes.

``site`` is a Datadog site (``datadoghq.com``, ``us3.datadoghq.com``, ``ddog-gov.com``) or a full
``http(s)://`` URL, which tests use to point the client at a local server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.logs_api import LogsApi
from datadog_api_client.v2.model.logs_aggregate_request import LogsAggregateRequest
from datadog_api_client.v2.model.logs_aggregation_function import LogsAggregationFunction
from datadog_api_client.v2.model.logs_compute import LogsCompute
from datadog_api_client.v2.model.logs_compute_type import LogsComputeType
from datadog_api_client.v2.model.logs_group_by import LogsGroupBy
from datadog_api_client.v2.model.logs_list_request import LogsListRequest
from datadog_api_client.v2.model.logs_list_request_page import LogsListRequestPage
from datadog_api_client.v2.model.logs_query_filter import LogsQueryFilter
from datadog_api_client.v2.model.logs_sort import LogsSort

from backline.logs import schema
from backline.logs.source import (
    Bucket,
    FacetValue,
    GroupValues,
    LogEvent,
    Page,
    Sort,
    SourceError,
    check_window,
    field_name,
)

# Datadog offers these percentiles only.
PERCENTILE_FUNCTIONS: dict[int, LogsAggregationFunction] = {
    50: LogsAggregationFunction.MEDIAN,
    75: LogsAggregationFunction.PERCENTILE_75,
    90: LogsAggregationFunction.PERCENTILE_90,
    95: LogsAggregationFunction.PERCENTILE_95,
    98: LogsAggregationFunction.PERCENTILE_98,
    99: LogsAggregationFunction.PERCENTILE_99,
}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _facet(name: str) -> str:
    """Datadog's facet spelling: reserved attributes bare, everything else with ``@``."""
    attribute = field_name(name)
    return attribute if attribute in schema.RESERVED else "@" + attribute


def _interval(step: timedelta) -> str:
    seconds = int(step.total_seconds())
    if seconds <= 0:
        raise ValueError("interval must be positive")
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class DatadogSource:
    """Datadog Logs API v2 as a ``LogSource``."""

    def __init__(self, *, site: str, api_key: str, app_key: str, timeout: float = 30.0) -> None:
        host = site if site.startswith(("http://", "https://")) else f"https://api.{site}"
        self.configuration = Configuration(host=host.rstrip("/"))  # type: ignore[no-untyped-call]
        self.configuration.api_key["apiKeyAuth"] = api_key
        self.configuration.api_key["appKeyAuth"] = app_key
        self.configuration.enable_retry = False
        self.timeout = timeout

    def _call(self, method: str, body: Any) -> dict[str, Any]:
        with ApiClient(self.configuration) as client:
            api = LogsApi(client)  # type: ignore[no-untyped-call]
            try:
                response = getattr(api, method)(body=body)
            except ApiException as exc:
                raise SourceError(f"Datadog answered {exc.status}: {exc.reason}") from exc
            except OSError as exc:
                raise SourceError(f"cannot reach Datadog: {exc}") from exc
        result: dict[str, Any] = response.to_dict()
        return result

    def search(
        self,
        query: str,
        start: datetime,
        end: datetime,
        *,
        limit: int = 50,
        cursor: str | None = None,
        sort: Sort = "desc",
    ) -> Page:
        """One page of "Search logs"; the next cursor is Datadog's ``meta.page.after``."""
        check_window(start, end)
        page = LogsListRequestPage(limit=max(1, min(limit, 1000)))
        if cursor:
            page.cursor = cursor
        body = LogsListRequest(
            filter=LogsQueryFilter(query=query or "*", _from=_iso(start), to=_iso(end)),
            page=page,
            sort=LogsSort.TIMESTAMP_DESCENDING if sort == "desc" else LogsSort.TIMESTAMP_ASCENDING,
        )
        data = self._call("list_logs", body)
        events = [_event(item) for item in data.get("data", [])]
        after = data.get("meta", {}).get("page", {}).get("after")
        return Page(events=events, next_cursor=after or None)

    def _aggregate(
        self,
        query: str,
        start: datetime,
        end: datetime,
        computes: list[LogsCompute],
        group_by: list[LogsGroupBy] | None,
    ) -> list[dict[str, Any]]:
        check_window(start, end)
        body = LogsAggregateRequest(
            compute=computes,
            filter=LogsQueryFilter(query=query or "*", _from=_iso(start), to=_iso(end)),
        )
        if group_by:
            body.group_by = group_by
        buckets: list[dict[str, Any]] = (
            self._call("aggregate_logs", body).get("data", {}).get("buckets", [])
        )
        return buckets

    def facets(
        self,
        query: str,
        start: datetime,
        end: datetime,
        *,
        fields: list[str],
        limit: int = 10,
    ) -> dict[str, list[FacetValue]]:
        """One aggregate call per field (Datadog nests several group-bys instead)."""
        result: dict[str, list[FacetValue]] = {}
        for name in fields:
            facet = _facet(name)
            buckets = self._aggregate(
                query,
                start,
                end,
                [LogsCompute(aggregation=LogsAggregationFunction.COUNT)],
                [LogsGroupBy(facet=facet, limit=limit)],
            )
            values = [
                FacetValue(value=_text(bucket.get("by", {}).get(facet)), count=_count(bucket))
                for bucket in buckets
            ]
            result[name] = sorted(values, key=lambda v: -v.count)
        return result

    def timeseries(
        self,
        query: str,
        start: datetime,
        end: datetime,
        *,
        interval: timedelta,
        group_by: str | None = None,
        limit: int = 10,
    ) -> list[Bucket]:
        compute = LogsCompute(
            aggregation=LogsAggregationFunction.COUNT,
            type=LogsComputeType.TIMESERIES,
            interval=_interval(interval),
        )
        facet = _facet(group_by) if group_by else None
        buckets = self._aggregate(
            query,
            start,
            end,
            [compute],
            [LogsGroupBy(facet=facet, limit=limit)] if facet else None,
        )
        points: list[Bucket] = []
        for bucket in buckets:
            group = _text(bucket.get("by", {}).get(facet)) if facet else None
            for point in bucket.get("computes", {}).get("c0", []) or []:
                points.append(
                    Bucket(start=_parse_time(point["time"]), group=group, count=int(point["value"]))
                )
        return sorted(points, key=lambda b: (b.start, b.group or ""))

    def percentiles(
        self,
        query: str,
        start: datetime,
        end: datetime,
        *,
        field: str,
        ps: tuple[int, ...] = (50, 95, 99),
        group_by: str | None = None,
        limit: int = 10,
    ) -> list[GroupValues]:
        unknown = [p for p in ps if p not in PERCENTILE_FUNCTIONS]
        if unknown:
            offered = ", ".join(str(p) for p in PERCENTILE_FUNCTIONS)
            raise ValueError(f"Datadog computes only these percentiles: {offered}")
        metric = _facet(field)
        computes = [LogsCompute(aggregation=PERCENTILE_FUNCTIONS[p], metric=metric) for p in ps]
        return self._grouped(query, start, end, computes, group_by, limit, [f"p{p}" for p in ps])

    def count_distinct(
        self,
        query: str,
        start: datetime,
        end: datetime,
        *,
        field: str,
        group_by: str | None = None,
        limit: int = 10,
    ) -> list[GroupValues]:
        compute = LogsCompute(aggregation=LogsAggregationFunction.CARDINALITY, metric=_facet(field))
        return self._grouped(query, start, end, [compute], group_by, limit, ["distinct"])

    def _grouped(
        self,
        query: str,
        start: datetime,
        end: datetime,
        computes: list[LogsCompute],
        group_by: str | None,
        limit: int,
        names: list[str],
    ) -> list[GroupValues]:
        facet = _facet(group_by) if group_by else None
        buckets = self._aggregate(
            query,
            start,
            end,
            computes,
            [LogsGroupBy(facet=facet, limit=limit)] if facet else None,
        )
        rows: list[GroupValues] = []
        for bucket in buckets:
            found = bucket.get("computes", {})
            values = {name: _number(found.get(f"c{index}")) for index, name in enumerate(names)}
            group = _text(bucket.get("by", {}).get(facet)) if facet else None
            rows.append(GroupValues(group=group, values=values))
        return rows


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _count(bucket: dict[str, Any]) -> int:
    value = bucket.get("computes", {}).get("c0")
    return int(value) if isinstance(value, int | float) else 0


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _lookup(attributes: dict[str, Any], dotted: str) -> Any:
    node: Any = attributes
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _event(item: dict[str, Any]) -> LogEvent:
    """A Datadog ``Log`` (``attributes`` with reserved fields and nested ``attributes``)."""
    outer = item.get("attributes", {}) or {}
    inner: dict[str, Any] = dict(outer.get("attributes", {}) or {})
    columns: dict[str, Any] = {}
    for name in ("service", "host", "status", "message"):
        if outer.get(name) is not None:
            columns[name] = outer[name]
    for column, paths in schema.SOURCE_PATHS.items():
        if column in columns or column == "ts":
            continue
        for path in paths:
            value = _lookup(inner, path)
            if value is not None and not isinstance(value, dict | list):
                columns[column] = value
                break
    if outer.get("tags"):
        inner.setdefault("tags", outer["tags"])
    timestamp = outer.get("timestamp")
    ts = _parse_time(timestamp) if timestamp else datetime.now(UTC)
    return LogEvent(ts=ts, columns=columns, attrs=inner)
