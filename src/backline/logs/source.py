"""The interface every log source implements, and the shapes of what it returns.

Two sources exist: the embedded DuckDB store (``duckdb_source``) and Datadog's Logs API
(``datadog_source``). Both take the same Datadog query string, unchanged, and aware UTC times, and
answer with the plain dataclasses below, so callers (API, CLI, the investigation workbench) never
know which one they talk to. Framework-free.

Field names (``fields``, ``group_by``, ``field``) are written as in queries: ``service``,
``status``, ``@http.status_code``, ``@error_code``; a leading ``@`` is optional.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

Sort = Literal["desc", "asc"]


class LogEvent:
    """One event: the lifted columns (``schema.COLUMNS`` minus ``attrs``) and the other attributes.

    Built from plain values (``LogEvent(ts=..., columns=..., attrs=...)``) or, by the store,
    lazily from a result row (``from_row``): a page of events is often only counted, filtered or
    partly shown, so the columns dict and the parsed ``attrs`` are made on first use. Treat it
    as immutable.
    """

    __slots__ = ("_attrs", "_attrs_json", "_columns", "_names", "_row", "ts")

    def __init__(
        self, ts: datetime, columns: dict[str, Any], attrs: dict[str, Any] | None = None
    ) -> None:
        self.ts = ts
        self._columns: dict[str, Any] | None = columns
        self._attrs: dict[str, Any] | None = {} if attrs is None else attrs
        self._attrs_json: str | None = None
        self._names: Sequence[str] = ()
        self._row: Sequence[Any] = ()

    @classmethod
    def from_row(
        cls, ts: datetime, names: Sequence[str], row: Sequence[Any], attrs_json: str | None
    ) -> LogEvent:
        """An event over ``row`` (values named by ``names``; a "" name or a value past the last
        name is not a column) and ``attrs`` as JSON text."""
        event = cls.__new__(cls)
        event.ts = ts
        event._columns = None
        event._names = names
        event._row = row
        event._attrs = None
        event._attrs_json = attrs_json or "{}"
        return event

    @property
    def columns(self) -> dict[str, Any]:
        """The column values that are not NULL."""
        if self._columns is None:
            self._columns = {
                name: value
                for name, value in zip(self._names, self._row, strict=False)
                if value is not None and name
            }
        return self._columns

    @property
    def attrs(self) -> dict[str, Any]:
        """The other attributes, nested as they arrived."""
        if self._attrs is None:
            parsed = json.loads(self._attrs_json or "{}")
            self._attrs = parsed if isinstance(parsed, dict) else {}
        return self._attrs

    @property
    def attrs_json(self) -> str:
        """``attrs`` as JSON text: the stored text itself when the event came from the store."""
        if self._attrs_json is None:
            self._attrs_json = json.dumps(self._attrs, separators=(",", ":"), default=str)
        return self._attrs_json

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``ts`` as ISO-8601 with ``Z``, columns, and ``attrs`` nested."""
        return {"ts": iso_utc(self.ts), **self.columns, "attrs": self.attrs}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogEvent):
            return NotImplemented
        return (self.ts, self.columns, self.attrs) == (other.ts, other.columns, other.attrs)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and the dicts are mutable

    def __repr__(self) -> str:
        return f"LogEvent(ts={self.ts!r}, columns={self.columns!r}, attrs={self.attrs!r})"


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
