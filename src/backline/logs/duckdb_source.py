"""``LogSource`` over the embedded store: the query compiler's ``WHERE`` plus a time window.

Owns the SQL of searches and aggregations. SQL text is built only from constants, column names in
``schema.COLUMNS`` and the compiler's placeholders; every user value (query values, JSON paths,
times) is a ``?`` parameter. Two kinds of number are written into the SQL instead, after being
forced to ``int`` or ``float`` and range-checked here: row limits and percentile fractions. A
``LIMIT ?`` keeps DuckDB from planning ``ORDER BY ... LIMIT`` as a top-N (measured: 30% slower
on a grouped percentile), and a literal cannot carry anything but a number. Framework-free.

Paging uses a keyset cursor ``(ts, rowid)``: stable while events are added, because new rows never
sort between two rows already returned for a window that ended in the past. (A retention prune in
between may shift ``rowid``; the worst case is a repeated or skipped event at a page boundary.)
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from backline.logs import schema
from backline.logs.query import compile_query
from backline.logs.query.compile import json_path
from backline.logs.source import (
    Bucket,
    FacetValue,
    GroupValues,
    LogEvent,
    Page,
    Sort,
    check_window,
    field_name,
)
from backline.logs.store import LogStore

_EVENT_COLUMNS = [name for name in schema.COLUMNS if name != "attrs"]
_SELECT_EVENT = ", ".join([*_EVENT_COLUMNS, "attrs", "rowid"])
# A search row's names for ``LogEvent.from_row``: ``ts`` is the event's own field (named "" so it
# is skipped); ``attrs`` and ``rowid`` come after the last name, so they are never zipped in.
_ROW_NAMES = ("", *_EVENT_COLUMNS[1:])
MAX_LIMIT = 1000
MAX_GROUPS = 1000


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _field_sql(name: str, *, numeric: bool = False) -> tuple[str, list[object]]:
    """SQL for a field's value (text, or DOUBLE when ``numeric``) and its parameters."""
    attribute = field_name(name)
    column = schema.ATTRIBUTE_COLUMNS.get(attribute)
    if column is not None:
        column_type = schema.COLUMNS[column]
        if numeric:
            if column_type in ("INTEGER", "BIGINT", "DOUBLE"):
                return column, []
            return f"TRY_CAST({column} AS DOUBLE)", []
        if column_type == "VARCHAR":
            return column, []
        return f"CAST({column} AS VARCHAR)", []
    try:
        path = json_path(attribute)
    except ValueError:
        raise ValueError(f"not a valid field name: {name!r}") from None
    expression = "json_extract_string(attrs, ?)"
    if numeric:
        expression = f"TRY_CAST({expression} AS DOUBLE)"
    return expression, [path]


def _clamp(limit: int, maximum: int) -> int:
    """``limit`` as a plain ``int`` in ``[1, maximum]``; safe to write into SQL text."""
    limit = int(limit)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return min(limit, maximum)


def encode_cursor(ts: datetime, rowid: int, sort: Sort) -> str:
    raw = json.dumps({"t": ts.isoformat(), "r": rowid, "s": sort}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[datetime, int]:
    """Read a cursor made by ``encode_cursor``; ``ValueError`` names a bad or mismatched one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        ts = datetime.fromisoformat(data["t"])
        rowid = int(data["r"])
        cursor_sort = data["s"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ValueError("the cursor is not one this server handed out") from None
    if cursor_sort != sort:
        raise ValueError("the cursor was made for the other sort order")
    return ts, rowid


class DuckDBSource:
    """Search and aggregate the events in one ``LogStore``."""

    def __init__(self, store: LogStore) -> None:
        self.store = store

    def _where(self, query: str, start: datetime, end: datetime) -> tuple[str, list[object]]:
        check_window(start, end)
        compiled = compile_query(query)
        return (
            f"ts >= ? AND ts < ? AND {compiled.sql_where}",
            [_naive(start), _naive(end), *compiled.params],
        )

    def _rows(self, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
        with self.store.read() as cursor:
            return cursor.execute(sql, params).fetchall()

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
        """Events in time order (newest first for ``desc``), ``limit`` per page."""
        limit = _clamp(limit, MAX_LIMIT)
        where, params = self._where(query, start, end)
        direction = "DESC" if sort == "desc" else "ASC"
        if cursor is not None:
            after_ts, after_row = decode_cursor(cursor, sort)
            beyond = "<" if sort == "desc" else ">"
            where += f" AND (ts {beyond} ? OR (ts = ? AND rowid {beyond} ?))"
            params += [after_ts, after_ts, after_row]
        sql = (
            f"SELECT {_SELECT_EVENT} FROM events WHERE {where} "  # noqa: S608 - constants only
            f"ORDER BY ts {direction}, rowid {direction} LIMIT {limit + 1}"
        )
        rows = self._rows(sql, params)
        more = len(rows) > limit
        rows = rows[:limit]
        # Wrapping a fetched tuple is all the per-row Python work: the columns dict and the
        # parsed attrs are made only if a caller reads them (the attrs stay JSON text).
        attrs_at = len(_EVENT_COLUMNS)
        events = [LogEvent.from_row(_aware(row[0]), _ROW_NAMES, row, row[attrs_at]) for row in rows]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            next_cursor = encode_cursor(last[0], int(last[-1]), sort)
        return Page(events=events, next_cursor=next_cursor)

    def facets(
        self,
        query: str,
        start: datetime,
        end: datetime,
        *,
        fields: list[str],
        limit: int = 10,
    ) -> dict[str, list[FacetValue]]:
        """Top values per field, most frequent first (ties by value)."""
        limit = _clamp(limit, MAX_GROUPS)
        where, params = self._where(query, start, end)
        result: dict[str, list[FacetValue]] = {}
        for name in fields:
            expression, field_params = _field_sql(name)
            sql = (
                f"SELECT {expression} AS value, count(*) AS n FROM events "  # noqa: S608
                f"WHERE {where} GROUP BY 1 ORDER BY n DESC, value NULLS LAST LIMIT {limit}"
            )
            rows = self._rows(sql, [*field_params, *params])
            result[name] = [FacetValue(value=row[0], count=int(row[1])) for row in rows]
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
        """Counts per ``interval`` bucket; with ``group_by``, for its ``limit`` biggest groups."""
        if interval <= timedelta(0):
            raise ValueError("interval must be positive")
        where, params = self._where(query, start, end)
        if group_by is None:
            sql = (
                "SELECT time_bucket(?, ts) AS bucket, count(*) FROM events "  # noqa: S608
                f"WHERE {where} GROUP BY 1 ORDER BY 1"
            )
            rows = self._rows(sql, [interval, *params])
            return [Bucket(start=_aware(row[0]), group=None, count=int(row[1])) for row in rows]
        expression, field_params = _field_sql(group_by)
        sql = (
            f"WITH matched AS (SELECT time_bucket(?, ts) AS bucket, {expression} AS grp "  # noqa: S608
            f"FROM events WHERE {where}), "
            "top AS (SELECT grp FROM matched GROUP BY grp ORDER BY count(*) DESC, grp "
            f"LIMIT {_clamp(limit, MAX_GROUPS)}) "
            "SELECT bucket, grp, count(*) FROM matched WHERE grp IN (SELECT grp FROM top) "
            "OR (grp IS NULL AND EXISTS (SELECT 1 FROM top WHERE grp IS NULL)) "
            "GROUP BY 1, 2 ORDER BY 1, 2 NULLS LAST"
        )
        rows = self._rows(sql, [interval, *field_params, *params])
        return [Bucket(start=_aware(row[0]), group=row[1], count=int(row[2])) for row in rows]

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
        """Continuous percentiles (linear interpolation) of a numeric field, per group."""
        if not ps or any(not 0 <= p <= 100 for p in ps):
            raise ValueError("percentiles must be between 0 and 100")
        value_sql, value_params = _field_sql(field, numeric=True)
        fractions = ", ".join(repr(float(p) / 100) for p in ps)
        rows = self._aggregate(
            query,
            start,
            end,
            f"quantile_cont({value_sql}, [{fractions}])",
            value_params,
            group_by,
            limit,
            value_sql,
            value_params,
        )
        return [
            GroupValues(
                group=group,
                values={
                    f"p{p}": (None if value is None or value[i] is None else float(value[i]))
                    for i, p in enumerate(ps)
                },
            )
            for group, value in rows
        ]

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
        """Exact distinct counts of a field's values, per group (biggest first)."""
        value_sql, value_params = _field_sql(field)
        rows = self._aggregate(
            query,
            start,
            end,
            f"count(DISTINCT {value_sql})",
            value_params,
            group_by,
            limit,
            value_sql,
            value_params,
        )
        return [
            GroupValues(group=group, values={"distinct": float(value or 0)})
            for group, value in rows
        ]

    def _aggregate(
        self,
        query: str,
        start: datetime,
        end: datetime,
        aggregate_sql: str,
        aggregate_params: list[object],
        group_by: str | None,
        limit: int,
        value_sql: str,
        value_params: list[object],
    ) -> list[tuple[str | None, Any]]:
        """One aggregate over events that have the field, overall or per group (biggest first).

        Events without the field are left out, as in Datadog, so a group never shows a
        percentile of nothing.
        """
        where, params = self._where(query, start, end)
        where = f"{where} AND {value_sql} IS NOT NULL"
        params = [*params, *value_params]
        if group_by is None:
            sql = f"SELECT {aggregate_sql} FROM events WHERE {where}"  # noqa: S608
            rows = self._rows(sql, [*aggregate_params, *params])
            if not rows or rows[0][0] is None:
                return []
            return [(None, rows[0][0])]
        group_sql, group_params = _field_sql(group_by)
        sql = (
            f"SELECT {group_sql} AS grp, {aggregate_sql}, count(*) AS n FROM events "  # noqa: S608
            f"WHERE {where} GROUP BY 1 ORDER BY n DESC, grp NULLS LAST "
            f"LIMIT {_clamp(limit, MAX_GROUPS)}"
        )
        rows = self._rows(sql, [*group_params, *aggregate_params, *params])
        return [(row[0], row[1]) for row in rows]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)
