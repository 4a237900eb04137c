"""Business-time arithmetic: when is a calendar open, and when has N hours of business time passed.

This module owns the time math of business calendars and nothing else: it knows no database, no
tickets and no framework (the stored calendars in models.py build a `BusinessCalendar` from this
module). Every instant taken in must be timezone-aware; every instant handed back is in UTC.

The rules (also written out in docs/sla-calendars.md):

* A calendar is a time zone, weekly opening hours in local wall-clock time, and holiday dates on
  which it stays closed all day. A close of 00:00 means midnight at the end of the day (24:00).
* A wall-clock boundary happens at the first instant the local clock reads that time or later:
  a time inside the spring-forward gap happens at the first instant after the gap, and a time that
  occurs twice in autumn happens at its first occurrence (fold=0). An interval runs from its
  opening instant to its closing instant in real elapsed time, so 01:00-03:00 on the autumn night
  is three real hours and on the spring night one real hour.
* Pauses are half-open [start, end) intervals of real time during which business time does not
  count; they may overlap and come in any order.

Work is proportional to the number of local days crossed, never to the number of minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package

__all__ = ["SEARCH_HORIZON", "BusinessCalendar", "Interval", "us_federal_holidays"]

Interval = tuple[datetime, datetime]

# Searches forward (add, next_open, next_close) give up after this long instead of looping forever
# on a calendar whose open hours are all swallowed by holidays or pauses.
SEARCH_HORIZON = timedelta(days=20 * 366)

_DAY = timedelta(days=1)
_WHOLE_DAY = timedelta(hours=24)
_ONE_MICROSECOND = timedelta(microseconds=1)
_ZERO = timedelta(0)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# One weekday's opening hours as offsets from local midnight: (open, close), 0 <= open < close <= 24h.
_DayHours = tuple[tuple[timedelta, timedelta], ...]


def _require_aware(value: object, name: str) -> datetime:
    """Return `value` in UTC, or raise if it is not a datetime or carries no offset."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _load_zone(tz: object) -> ZoneInfo:
    if not isinstance(tz, str):
        raise TypeError(f"tz must be an IANA zone name (str), got {type(tz).__name__}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"tz must be an IANA zone name such as 'America/New_York', got {tz!r}"
        ) from exc


def _offset_of_day(value: object, weekday: int, role: str) -> timedelta:
    if not isinstance(value, time):
        raise TypeError(
            f"{_WEEKDAY_NAMES[weekday]} {role} must be a datetime.time, got {type(value).__name__}"
        )
    if value.tzinfo is not None:
        raise ValueError(
            f"{_WEEKDAY_NAMES[weekday]} {role} must be a naive wall-clock time (the zone comes "
            f"from tz), got {value.isoformat()}"
        )
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _normalize_weekly_hours(
    weekly_hours: Mapping[int, Sequence[tuple[time, time]]],
) -> tuple[_DayHours, ...]:
    """Validate weekly hours and return them per weekday, sorted, with touching intervals joined."""
    if not isinstance(weekly_hours, Mapping):
        raise TypeError("weekly_hours must map weekday numbers (0=Monday..6=Sunday) to intervals")
    days: list[_DayHours] = [() for _ in range(7)]
    for weekday, intervals in weekly_hours.items():
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(f"weekly_hours keys must be weekdays 0 (Monday) to 6, got {weekday!r}")
        name = _WEEKDAY_NAMES[weekday]
        spans: list[tuple[timedelta, timedelta]] = []
        for pair in intervals:
            try:
                opens, closes = pair
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name} intervals must be (open, close) pairs, got {pair!r}"
                ) from None
            open_at = _offset_of_day(opens, weekday, "open")
            close_at = _offset_of_day(closes, weekday, "close")
            if close_at == _ZERO:
                close_at = _WHOLE_DAY  # a close of 00:00 is midnight at the end of the day
            if open_at >= close_at:
                raise ValueError(
                    f"{name} interval {opens.isoformat()}-{closes.isoformat()} must open before "
                    "it closes (use 00:00 as the close for midnight at the end of the day)"
                )
            spans.append((open_at, close_at))
        spans.sort()
        joined: list[tuple[timedelta, timedelta]] = []
        for open_at, close_at in spans:
            if joined and open_at < joined[-1][1]:
                raise ValueError(
                    f"{name} intervals overlap: one closes at {_format_offset(joined[-1][1])} "
                    f"after the next opens at {_format_offset(open_at)}"
                )
            if joined and open_at == joined[-1][1]:
                joined[-1] = (joined[-1][0], close_at)
            else:
                joined.append((open_at, close_at))
        days[weekday] = tuple(joined)
    if not any(days):
        raise ValueError("a business calendar needs open hours on at least one weekday")
    return tuple(days)


def _format_offset(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _offset_to_time(offset: timedelta) -> time:
    if offset >= _WHOLE_DAY:
        return time(0)
    return (datetime.min + offset).time()


def _wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at which the local clock in `zone` reads `wall` or later.

    For an ordinary time that is simply its instant; for an ambiguous (autumn) time it is the
    first occurrence, fold=0; for a time inside the spring gap it is the instant the gap ends.
    """
    earlier = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if earlier.astimezone(zone).replace(tzinfo=None) == wall:
        return earlier
    # `wall` does not exist. fold=0 read it with the offset before the jump, which lands after the
    # jump; fold=1 read it with the offset after, which lands before. The jump is in between, and
    # zoneinfo does not expose it, so bisect to the microsecond for the first instant whose local
    # clock is past `wall`.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = earlier
    while after - before > _ONE_MICROSECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).replace(tzinfo=None) > wall:
            after = middle
        else:
            before = middle
    return after


def _normalize_pauses(paused: Iterable[tuple[datetime, datetime]]) -> list[Interval]:
    """Pauses in UTC, empty ones dropped, sorted and merged where they overlap or touch."""
    spans: list[Interval] = []
    for index, pause in enumerate(paused):
        try:
            pause_start, pause_end = pause
        except (TypeError, ValueError):
            raise ValueError(
                f"paused[{index}] must be a (start, end) pair, got {pause!r}"
            ) from None
        start = _require_aware(pause_start, f"paused[{index}] start")
        end = _require_aware(pause_end, f"paused[{index}] end")
        if start < end:
            spans.append((start, end))
    spans.sort()
    merged: list[Interval] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _without_pauses(
    intervals: Iterable[Interval], pauses: Sequence[Interval]
) -> Iterator[Interval]:
    """The parts of sorted, disjoint `intervals` outside sorted, merged `pauses`."""
    first = 0
    for start, end in intervals:
        while first < len(pauses) and pauses[first][1] <= start:
            first += 1
        cursor = start
        index = first
        while index < len(pauses) and pauses[index][0] < end:
            pause_start, pause_end = pauses[index]
            if pause_start > cursor:
                yield cursor, pause_start
            cursor = max(cursor, pause_end)
            if cursor >= end:
                break
            index += 1
        if cursor < end:
            yield cursor, end


class BusinessCalendar:
    """Opening hours in one IANA time zone, minus holidays; immutable and hashable.

    `weekly_hours` maps weekday (0=Monday..6=Sunday) to (open, close) local wall-clock intervals; a
    close of time(0, 0) means midnight at the end of the day. Weekdays left out are closed.
    Intervals must open before they close and must not overlap (touching ones are joined).
    `holidays` are local dates on which the calendar is closed all day.
    """

    __slots__ = ("_holidays", "_hours", "_tz", "_zone")

    _tz: str
    _zone: ZoneInfo
    _hours: tuple[_DayHours, ...]
    _holidays: frozenset[date]

    def __init__(
        self,
        *,
        tz: str,
        weekly_hours: Mapping[int, Sequence[tuple[time, time]]],
        holidays: Iterable[date] = (),
    ) -> None:
        zone = _load_zone(tz)
        hours = _normalize_weekly_hours(weekly_hours)
        days_off: set[date] = set()
        for day in holidays:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"holidays must be dates (not datetimes), got {day!r}")
            days_off.add(day)
        object.__setattr__(self, "_tz", tz)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_hours", hours)
        object.__setattr__(self, "_holidays", frozenset(days_off))

    @classmethod
    def always_open(cls, tz: str = "UTC") -> BusinessCalendar:
        """A calendar open around the clock, every day (24x7), with no holidays."""
        return cls(tz=tz, weekly_hours={day: [(time(0), time(0))] for day in range(7)})

    @classmethod
    def weekdays(
        cls,
        *,
        tz: str = "America/New_York",
        start: time = time(9),
        end: time = time(17),
        days: Iterable[int] = range(5),
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """The same hours, start to end, on each of `days` (default Monday to Friday 09:00-17:00)."""
        return cls(
            tz=tz,
            weekly_hours={day: [(start, end)] for day in days},
            holidays=holidays,
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("BusinessCalendar is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("BusinessCalendar is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return (self._tz, self._hours, self._holidays) == (other._tz, other._hours, other._holidays)

    def __hash__(self) -> int:
        return hash((self._tz, self._hours, self._holidays))

    def __repr__(self) -> str:
        hours = {
            day: [(o.isoformat(), c.isoformat()) for o, c in spans]
            for day, spans in self.weekly_hours.items()
        }
        return (
            f"BusinessCalendar(tz={self._tz!r}, weekly_hours={hours!r}, "
            f"holidays=<{len(self._holidays)} dates>)"
        )

    @property
    def tz(self) -> str:
        """The IANA zone name the weekly hours and holidays are read in."""
        return self._tz

    @property
    def zone(self) -> ZoneInfo:
        """The time zone as a ZoneInfo."""
        return self._zone

    @property
    def weekly_hours(self) -> dict[int, tuple[tuple[time, time], ...]]:
        """Open weekdays to their sorted (open, close) intervals; a close of 00:00 means 24:00."""
        return {
            day: tuple((_offset_to_time(o), _offset_to_time(c)) for o, c in spans)
            for day, spans in enumerate(self._hours)
            if spans
        }

    @property
    def holidays(self) -> frozenset[date]:
        """Local dates on which the calendar is closed all day."""
        return self._holidays

    @property
    def is_24x7(self) -> bool:
        """True when the calendar never closes: every day open 00:00-24:00 and no holidays."""
        return not self._holidays and all(day == ((_ZERO, _WHOLE_DAY),) for day in self._hours)

    def add(
        self,
        start: datetime,
        duration: timedelta,
        *,
        paused: Sequence[tuple[datetime, datetime]] = (),
    ) -> datetime:
        """The instant (UTC) at which `duration` of business time has passed since `start`.

        Business time inside the `paused` intervals does not count. With a zero duration this is
        the first open, unpaused instant at or after `start`. A positive duration that runs out
        exactly at a closing time returns that closing time, not the next opening. Raises
        ValueError when the duration cannot be reached within SEARCH_HORIZON.
        """
        begin = _require_aware(start, "start")
        if not isinstance(duration, timedelta):
            raise TypeError(f"duration must be a timedelta, got {type(duration).__name__}")
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        pauses = _normalize_pauses(paused)
        remaining = duration
        for open_at, close_at in _without_pauses(
            self._open_pieces(begin, begin + SEARCH_HORIZON), pauses
        ):
            available = close_at - open_at
            if remaining <= available:
                return open_at + remaining
            remaining -= available
        raise ValueError(
            f"{duration} of business time is not reached within {SEARCH_HORIZON.days} days "
            f"after {begin.isoformat()} (calendar closed or paused throughout)"
        )

    def elapsed(
        self,
        start: datetime,
        end: datetime,
        *,
        paused: Sequence[tuple[datetime, datetime]] = (),
    ) -> timedelta:
        """Business time inside [start, end), minus the `paused` intervals; zero if end <= start."""
        begin = _require_aware(start, "start")
        finish = _require_aware(end, "end")
        pauses = _normalize_pauses(paused)
        total = _ZERO
        if finish <= begin:
            return total
        for open_at, close_at in _without_pauses(self._open_pieces(begin, finish), pauses):
            total += close_at - open_at
        return total

    def is_open(self, at: datetime) -> bool:
        """Whether the calendar is open at the instant `at`."""
        instant = _require_aware(at, "at")
        return next(self._open_pieces(instant, instant + _ONE_MICROSECOND), None) is not None

    def next_open(self, at: datetime) -> datetime:
        """`at` (in UTC) if the calendar is open then, else the instant it next opens."""
        instant = _require_aware(at, "at")
        for open_at, _ in self._open_pieces(instant, instant + SEARCH_HORIZON):
            return open_at
        raise ValueError(f"the calendar does not open within {SEARCH_HORIZON.days} days of {at}")

    def next_close(self, at: datetime) -> datetime:
        """The end of the open period containing `at`, or of the next one if closed at `at`.

        Open periods that touch (Monday to 24:00, then Tuesday from 00:00) count as one. Raises
        ValueError for a calendar that stays open for the whole SEARCH_HORIZON, such as 24x7.
        """
        instant = _require_aware(at, "at")
        if self.is_24x7:
            raise ValueError("a 24x7 calendar never closes")
        close: datetime | None = None
        for open_at, close_at in self._open_pieces(instant, instant + SEARCH_HORIZON):
            if close is not None and open_at != close:
                return close
            close = close_at
        raise ValueError(f"the calendar does not close within {SEARCH_HORIZON.days} days of {at}")

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Open periods clipped to [start, end), in time order, in UTC, touching ones merged."""
        begin = _require_aware(start, "start")
        finish = _require_aware(end, "end")
        return self._merged_pieces(begin, finish)

    def _merged_pieces(self, begin: datetime, finish: datetime) -> Iterator[Interval]:
        current: Interval | None = None
        for open_at, close_at in self._open_pieces(begin, finish):
            if current is not None and open_at == current[1]:
                current = (current[0], close_at)
                continue
            if current is not None:
                yield current
            current = (open_at, close_at)
        if current is not None:
            yield current

    def _open_pieces(self, begin: datetime, finish: datetime) -> Iterator[Interval]:
        """Each local day's open intervals clipped to [begin, finish), in order, not merged.

        Earlier days need no look: every interval of an earlier day ends by the instant the clock
        first reads midnight of `begin`'s local date, which is not after `begin`. A later day can
        matter when the clock falls back across midnight, so the walk runs one day past `finish`'s
        local date and stops at the first interval opening at or after `finish`.
        """
        if finish <= begin:
            return
        day = begin.astimezone(self._zone).date()
        last_day = finish.astimezone(self._zone).date() + _DAY
        while day <= last_day:
            for open_at, close_at in self._day_intervals(day):
                if close_at <= begin:
                    continue
                if open_at >= finish:
                    return
                yield max(open_at, begin), min(close_at, finish)
            day += _DAY

    def _day_intervals(self, day: date) -> list[Interval]:
        if day in self._holidays:
            return []
        midnight = datetime.combine(day, time(0))
        intervals: list[Interval] = []
        for open_offset, close_offset in self._hours[day.weekday()]:
            open_at = _wall_to_utc(midnight + open_offset, self._zone)
            close_at = _wall_to_utc(midnight + close_offset, self._zone)
            # An interval entirely inside the spring gap opens and closes at the same instant.
            if open_at < close_at:
                intervals.append((open_at, close_at))
        return intervals


def us_federal_holidays(years: Iterable[int]) -> list[date]:
    """US federal holidays falling in `years`, as the `holidays` package lists them, sorted.

    Both the legal date and the observed weekday are included when they differ (2021-07-04, a
    Sunday, and 2021-07-05, its observed Monday), so a weekend-open calendar closes on both. An
    observed day belongs to the year it falls in: the observed New Year's Day of 2022 is
    2021-12-31 and comes with year 2021.
    """
    wanted = sorted(set(years))
    if not wanted:
        return []
    found = holidays_package.country_holidays("US", years=wanted, observed=True)
    return sorted(day for day in found if day.year in wanted)
