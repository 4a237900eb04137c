"""The interface every log source implements, and the shapes of what it returns.

Two sources exist: the embedded DuckDB store (``duckdb_source``) and Datadog's Logs API
(``datadog_source``). Both take the same Datadog query string, unchanged, and aware UTC times, and
answer with the plain dataclasses below, so callers (API, CLI, the investigation workbench) never
know which one they talk to. Framework-free.

Field names (``fields``, ``group_by``, ``field``) are written as in queries: ``service``,
``status``, ``@http.status_code``, ``@error_code``; a leading ``@`` is optional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

Sort = Literal["desc", "asc"]


@dataclass(frozen=True)
class LogEvent:
    """One event: the lifted columns (``schema.COLUMNS`` minus ``attrs``) and the other attributes."""

    ts: datetime
    columns: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``ts`` as ISO-8601 with ``Z``, columns, and ``attrs`` nested."""
        return {"ts": iso_utc(self.ts), **self.columns, "attrs": self.attrs}


@dataclass(frozen=True)
class Page:
    """One page of events, newest first by default, and the cursor for the next (None at the end)."""

    events: list[LogEvent]
    next_cursor: str | None


@dataclass(frozen=True)
class FacetValue:
    value: str | None
    count: int


@dataclass(frozen=True)
class Bucket:
    """Events counted in ``[start, start + interval)``, per group when grouped (else ``group`` None)."""

    start: datetime
    group: str | None
    count: int


@dataclass(frozen=True)
class GroupValues:
    """Numbers computed over one group (``group`` None when not grouped)."""

    group: str | None
    values: dict[str, float | None]


class LogSource(Protocol):
    """Search and aggregate log events. Every method raises ``QuerySyntaxError`` on a bad query."""

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
        """Events matching ``query`` in ``[start, end)``, ``limit`` at a time."""
        ...

    def facets(
        self,
        query: str,
        start: datetime,
        end: datetime,
        *,
        fields: list[str],
        limit: int = 10,
    ) -> dict[str, list[FacetValue]]:
        """For each field, its most frequent values among the matching events, with counts."""
        ...

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
        """Matching events counted per interval (aligned to the epoch), optionally per group."""
        ...

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
        """Percentiles of a numeric field (keys ``p50`` ...), overall or per group."""
        ...

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
        """How many distinct values ``field`` takes (key ``distinct``), overall or per group."""
        ...


class SourceError(Exception):
    """The source failed for a reason that is not the query's fault (network, store busy)."""


def iso_utc(value: datetime) -> str:
    """``2025-01-06T05:00:00.393000Z`` for a naive-UTC or aware datetime."""
    from datetime import UTC

    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def field_name(name: str) -> str:
    """``@http.status_code`` -> ``http.status_code``; refuses an empty name."""
    cleaned = name.strip().removeprefix("@")
    if not cleaned:
        raise ValueError("a field name is empty")
    return cleaned


def check_window(start: datetime, end: datetime) -> None:
    """Both ends aware, start before end (a naive time would be read in the wrong zone)."""
    for label, value in (("start", start), ("end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{label} must be an aware datetime")
    if start >= end:
        raise ValueError("start must be before end")
