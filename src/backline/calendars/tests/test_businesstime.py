"""Business-time math: published cases, holidays, DST, pauses, validation, and an oracle.

The oracle below is deliberately naive. It walks UTC one minute at a time and calls a minute open
when the local wall clock's high-water mark (the latest wall time the clock has shown so far) lies
inside that weekday's hours on a day that is no holiday. Reading the high-water mark is the
documented DST rule stated another way: a wall-clock boundary happens the first time the clock
reads that time or later, so after the autumn fall-back nothing opens or closes until the clock
passes the latest time it already showed, and a boundary inside the spring gap happens when the gap
ends. It shares no code with the module and has no cleverness to get wrong; it is only slow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.calendars.businesstime import (
    SEARCH_HORIZON,
    BusinessCalendar,
    us_federal_holidays,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def new_york(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=NEW_YORK)


def new_york_weekdays(years: range) -> BusinessCalendar:
    return BusinessCalendar.weekdays(tz="America/New_York", holidays=us_federal_holidays(years))


# --- published cases ----------------------------------------------------------------------------


def test_berlin_office_hours_first_response_and_resolution_targets() -> None:
    calendar = BusinessCalendar.weekdays(tz="Europe/Berlin", start=time(9), end=time(17))
    created = utc(2013, 3, 21, 9, 30)  # Thursday, 10:30 in Berlin (CET)
    assert calendar.add(created, timedelta(minutes=60)) == utc(2013, 3, 21, 10, 30)
    assert calendar.add(created, timedelta(minutes=240)) == utc(2013, 3, 21, 13, 30)


def test_berlin_every_day_with_a_pause_pushes_the_response_target() -> None:
    calendar = BusinessCalendar.weekdays(
        tz="Europe/Berlin", start=time(9), end=time(18), days=range(7)
    )
    opened = utc(2013, 6, 4, 9)
    paused = [(utc(2013, 6, 4, 10), utc(2013, 6, 4, 15))]
    assert calendar.add(opened, timedelta(minutes=120), paused=paused) == utc(2013, 6, 4, 16)
    assert calendar.add(opened, timedelta(minutes=120)) == utc(2013, 6, 4, 11)
    assert calendar.elapsed(opened, utc(2013, 6, 4, 16), paused=paused) == 2 * HOUR


# --- weekends and US federal holidays -----------------------------------------------------------


def test_friday_observed_independence_day_is_skipped_with_the_weekend() -> None:
    # 2020-07-04 was a Saturday, so federal offices closed on Friday 2020-07-03.
    calendar = new_york_weekdays(range(2020, 2021))
    assert not calendar.is_open(new_york(2020, 7, 3, 12))
    due = calendar.add(new_york(2020, 7, 2, 16), 2 * HOUR)
    assert due == new_york(2020, 7, 6, 10).astimezone(UTC)
    assert due.tzinfo is UTC


def test_thursday_independence_day_resumes_on_friday() -> None:
    calendar = new_york_weekdays(range(2024, 2025))
    assert calendar.add(new_york(2024, 7, 3, 16, 30), 4 * HOUR) == new_york(2024, 7, 5, 12, 30)


def test_thanksgiving_is_closed_but_the_day_after_is_a_business_day() -> None:
    calendar = new_york_weekdays(range(2024, 2025))
    assert calendar.add(new_york(2024, 11, 27, 16), 3 * HOUR) == new_york(2024, 11, 29, 11)
    assert calendar.elapsed(new_york(2024, 11, 27), new_york(2024, 11, 30)) == 16 * HOUR
    assert calendar.next_open(new_york(2024, 11, 28, 10)) == new_york(2024, 11, 29, 9)


def test_ten_business_days_across_christmas_and_new_year() -> None:
    calendar = new_york_weekdays(range(2024, 2026))
    # Dec 20, 23, 24, 26, 27, 30, 31, Jan 2, 3, 6: Christmas and New Year's Day are skipped.
    assert calendar.add(new_york(2024, 12, 20, 9), 80 * HOUR) == new_york(2025, 1, 6, 17)


def test_a_year_of_business_time_counts_every_working_weekday() -> None:
    calendar = new_york_weekdays(range(2023, 2026))
    federal = set(us_federal_holidays([2024]))
    working_days = sum(
        1
        for offset in range(366)
        if (day := date(2024, 1, 1) + timedelta(days=offset)).weekday() < 5 and day not in federal
    )
    assert working_days == 251
    total = calendar.elapsed(new_york(2024, 1, 1), new_york(2025, 1, 1))
    assert total == working_days * 8 * HOUR


def test_us_federal_holidays_include_observed_days_in_the_year_they_fall() -> None:
    days = us_federal_holidays([2021])
    assert days == sorted(days)
    for expected in (
        date(2021, 1, 1),
        date(2021, 6, 18),  # Juneteenth (Saturday) observed on Friday
        date(2021, 7, 4),
        date(2021, 7, 5),  # Independence Day (Sunday) observed on Monday
        date(2021, 11, 25),
        date(2021, 12, 24),
        date(2021, 12, 31),  # New Year's Day 2022 (Saturday) observed
    ):
        assert expected in days
    assert date(2021, 11, 26) not in days
    assert date(2021, 12, 31) not in us_federal_holidays([2022])
    assert len(us_federal_holidays([2024])) == 11
    assert us_federal_holidays([]) == []


# --- daylight saving time in New York -----------------------------------------------------------


def test_weekday_hours_keep_local_time_across_the_spring_change() -> None:
    calendar = BusinessCalendar.weekdays(tz="America/New_York")
    # Friday 16:00 EST is 21:00 UTC; Monday 10:00 EDT is 14:00 UTC.
    assert calendar.add(utc(2024, 3, 8, 21), 2 * HOUR) == utc(2024, 3, 11, 14)


def test_weekday_hours_keep_local_time_across_the_autumn_change() -> None:
    calendar = BusinessCalendar.weekdays(tz="America/New_York")
    # Friday 16:00 EDT is 20:00 UTC; Monday 10:00 EST is 15:00 UTC.
    assert calendar.add(utc(2024, 11, 1, 20), 2 * HOUR) == utc(2024, 11, 4, 15)


def sunday_hours(opens: time, closes: time) -> BusinessCalendar:
    return BusinessCalendar(tz="America/New_York", weekly_hours={6: [(opens, closes)]})


def test_spring_night_hours_count_real_time() -> None:
    spring_day = (utc(2024, 3, 10), utc(2024, 3, 11))
    # 00:00-06:00 on the night the clock skips 02:00-03:00 is five real hours.
    assert sunday_hours(time(0), time(6)).elapsed(*spring_day) == 5 * HOUR
    # 01:00 EST to 03:00 EDT is one real hour.
    assert sunday_hours(time(1), time(3)).elapsed(*spring_day) == HOUR
    # An opening inside the gap happens when the gap ends (03:00 EDT = 07:00 UTC).
    late_opening = sunday_hours(time(2, 30), time(4))
    assert list(late_opening.open_intervals(*spring_day)) == [
        (utc(2024, 3, 10, 7), utc(2024, 3, 10, 8))
    ]
    assert late_opening.next_open(utc(2024, 3, 10, 5)) == utc(2024, 3, 10, 7)
    # Hours wholly inside the gap never happen that night, but do the week before and after.
    ghost = sunday_hours(time(2), time(2, 30))
    assert ghost.elapsed(*spring_day) == timedelta(0)
    assert ghost.next_open(utc(2024, 3, 10)) == new_york(2024, 3, 17, 2)
    assert ghost.elapsed(utc(2024, 3, 3), utc(2024, 3, 4)) == 30 * MINUTE


def test_autumn_night_hours_count_real_time_and_use_the_first_occurrence() -> None:
    autumn_day = (utc(2024, 11, 3), utc(2024, 11, 4))
    # 00:00-06:00 on the night 01:00-02:00 happens twice is seven real hours.
    assert sunday_hours(time(0), time(6)).elapsed(*autumn_day) == 7 * HOUR
    # 01:00-01:30 happens once, at the first occurrence (EDT, 05:00-05:30 UTC).
    once = sunday_hours(time(1), time(1, 30))
    assert list(once.open_intervals(*autumn_day)) == [
        (utc(2024, 11, 3, 5), utc(2024, 11, 3, 5, 30))
    ]
    assert once.is_open(utc(2024, 11, 3, 5, 15))
    assert not once.is_open(utc(2024, 11, 3, 6, 15))  # 01:15 EST, the second time round
    # Open from the first 01:30 to 03:00: the repeated half hour stays open, 2.5 real hours.
    across = sunday_hours(time(1, 30), time(3))
    assert across.elapsed(*autumn_day) == 2 * HOUR + 30 * MINUTE
    assert across.next_close(utc(2024, 11, 3, 6, 15)) == utc(2024, 11, 3, 8)


def test_changes_at_midnight_join_saturday_night_to_sunday_morning() -> None:
    # Beirut changes the clock at midnight: in spring 00:00 becomes 01:00, in autumn 00:00 (UTC+3)
    # becomes 23:00 on Saturday again (UTC+2).
    late_shift = BusinessCalendar(
        tz="Asia/Beirut",
        weekly_hours={5: [(time(23), time(0))], 6: [(time(0), time(2))]},
    )
    # Spring: Saturday 23:00 (21:00 UTC) until the midnight that never shows, which is the end of
    # the gap at 01:00 (22:00 UTC), then Sunday's 00:00 opening at the same instant until 02:00.
    spring = (utc(2024, 3, 30, 12), utc(2024, 3, 31, 12))
    assert list(late_shift.open_intervals(*spring)) == [
        (utc(2024, 3, 30, 21), utc(2024, 3, 30, 23))
    ]
    # Autumn: Saturday 23:00 first happens at 20:00 UTC; the clock first reads Sunday 00:00 at
    # 22:00 UTC, after Saturday's 23:00-24:00 has passed twice.
    autumn = (utc(2024, 10, 26, 12), utc(2024, 10, 27, 12))
    assert list(late_shift.open_intervals(*autumn)) == [
        (utc(2024, 10, 26, 20), utc(2024, 10, 27, 0))
    ]
    assert late_shift.is_open(utc(2024, 10, 26, 21, 30))  # Saturday 23:30, second time round
    assert late_shift.next_close(utc(2024, 10, 26, 21, 30)) == utc(2024, 10, 27, 0)
    assert late_shift.elapsed(*autumn) == 4 * HOUR


def test_always_open_counts_real_hours_across_dst() -> None:
    calendar = BusinessCalendar.always_open("America/New_York")
    assert calendar.is_24x7
    assert calendar.elapsed(new_york(2024, 3, 10), new_york(2024, 3, 11)) == 23 * HOUR
    assert calendar.elapsed(new_york(2024, 11, 3), new_york(2024, 11, 4)) == 25 * HOUR
    start = new_york(2024, 3, 9, 22, 17, 5, 123)
    # Add in UTC: adding to a datetime in its own zone is wall-clock arithmetic in Python.
    assert calendar.add(start, 26 * HOUR) == start.astimezone(UTC) + 26 * HOUR


# --- 24x7, lunch breaks, overnight --------------------------------------------------------------


def test_always_open_is_one_interval_and_pauses_simply_add_up() -> None:
    calendar = BusinessCalendar.always_open()
    assert calendar.is_24x7
    assert calendar.tz == "UTC"
    assert list(calendar.open_intervals(utc(2024, 1, 1, 3), utc(2024, 1, 11, 4))) == [
        (utc(2024, 1, 1, 3), utc(2024, 1, 11, 4))
    ]
    paused = [(utc(2024, 1, 1, 5), utc(2024, 1, 1, 7)), (utc(2024, 1, 1, 6), utc(2024, 1, 1, 8))]
    # Five hours before the pauses, three hours paused (05:00-08:00), one more hour after.
    assert calendar.add(utc(2024, 1, 1), 6 * HOUR, paused=paused) == utc(2024, 1, 1, 9)
    assert calendar.next_open(utc(2024, 1, 1, 9)) == utc(2024, 1, 1, 9)
    with pytest.raises(ValueError, match="never closes"):
        calendar.next_close(utc(2024, 1, 1))


def test_a_holiday_makes_an_every_day_calendar_not_24x7() -> None:
    calendar = BusinessCalendar(
        tz="UTC",
        weekly_hours={day: [(time(0), time(0))] for day in range(7)},
        holidays=[date(2024, 1, 3)],
    )
    assert not calendar.is_24x7
    assert calendar.next_close(utc(2024, 1, 1, 12)) == utc(2024, 1, 3)
    assert calendar.next_open(utc(2024, 1, 3, 12)) == utc(2024, 1, 4)


def test_lunch_break_is_skipped() -> None:
    calendar = BusinessCalendar(
        tz="America/New_York",
        weekly_hours={day: [(time(13), time(17)), (time(9), time(12))] for day in range(5)},
    )
    monday = (2024, 4, 15)
    assert calendar.add(new_york(*monday, 11, 30), HOUR) == new_york(*monday, 13, 30)
    assert calendar.add(new_york(*monday, 11, 30), 30 * MINUTE) == new_york(*monday, 12)
    assert calendar.elapsed(new_york(*monday), new_york(*monday, 23)) == 7 * HOUR
    assert not calendar.is_open(new_york(*monday, 12, 30))
    assert calendar.is_open(new_york(*monday, 13))
    assert not calendar.is_open(new_york(*monday, 17))
    assert calendar.next_open(new_york(*monday, 12, 30)) == new_york(*monday, 13)
    assert calendar.next_close(new_york(*monday, 10)) == new_york(*monday, 12)
    assert calendar.next_close(new_york(*monday, 12, 30)) == new_york(*monday, 17)
    assert calendar.weekly_hours[0] == ((time(9), time(12)), (time(13), time(17)))


def test_overnight_shift_closing_at_midnight_joins_the_next_morning() -> None:
    night_shift = BusinessCalendar(
        tz="America/Chicago",
        weekly_hours={
            0: [(time(18), time(0))],
            1: [(time(0), time(6)), (time(18), time(0))],
            2: [(time(0), time(6))],
        },
    )
    chicago = ZoneInfo("America/Chicago")
    monday = datetime(2024, 4, 15, tzinfo=chicago)
    assert night_shift.add(monday + 23 * HOUR, 2 * HOUR) == monday + 25 * HOUR
    assert night_shift.next_close(monday + 20 * HOUR) == monday + 30 * HOUR
    assert list(night_shift.open_intervals(monday + 17 * HOUR, monday + 60 * HOUR)) == [
        (monday + 18 * HOUR, monday + 30 * HOUR),
        (monday + 42 * HOUR, monday + 54 * HOUR),
    ]
    assert night_shift.weekly_hours[0] == ((time(18), time(0)),)


def test_touching_intervals_are_joined() -> None:
    split = BusinessCalendar(
        tz="UTC", weekly_hours={0: [(time(9), time(12)), (time(12), time(17))]}
    )
    assert split == BusinessCalendar(tz="UTC", weekly_hours={0: [(time(9), time(17))]})
    assert hash(split) == hash(BusinessCalendar(tz="UTC", weekly_hours={0: [(time(9), time(17))]}))


# --- pauses, zero durations, exact boundaries ---------------------------------------------------


def test_pauses_may_overlap_come_unsorted_and_be_empty() -> None:
    calendar = BusinessCalendar.weekdays(tz="UTC")
    monday = (2024, 4, 15)
    paused = [
        (utc(*monday, 14), utc(*monday, 15)),
        (utc(*monday, 10), utc(*monday, 12)),
        (utc(*monday, 11), utc(*monday, 13)),
        (utc(*monday, 16), utc(*monday, 16)),  # empty: ignored
        (utc(*monday, 16), utc(*monday, 15)),  # reversed: empty, ignored
    ]
    # Open 09-17 minus paused 10-13 and 14-15 leaves 09-10, 13-14, 15-17.
    assert calendar.elapsed(utc(*monday), utc(*monday, 23), paused=paused) == 4 * HOUR
    assert calendar.add(utc(*monday, 9), 2 * HOUR + 30 * MINUTE, paused=paused) == utc(
        *monday, 15, 30
    )


def test_zero_duration_is_the_first_open_unpaused_instant() -> None:
    calendar = BusinessCalendar.weekdays(tz="UTC")
    saturday = utc(2024, 4, 13, 10)
    assert calendar.add(saturday, timedelta(0)) == utc(2024, 4, 15, 9)
    open_now = utc(2024, 4, 15, 10, 0, 0, 5)
    assert calendar.add(open_now, timedelta(0)) == open_now
    paused = [(utc(2024, 4, 15, 8), utc(2024, 4, 15, 11))]
    assert calendar.add(open_now, timedelta(0), paused=paused) == utc(2024, 4, 15, 11)
    # A pause running to the close pushes the zero-duration answer to the next opening.
    until_close = [(utc(2024, 4, 15, 8), utc(2024, 4, 15, 17))]
    assert calendar.add(open_now, timedelta(0), paused=until_close) == utc(2024, 4, 16, 9)


def test_a_duration_used_up_at_closing_time_ends_at_the_close() -> None:
    calendar = BusinessCalendar.weekdays(tz="UTC")
    assert calendar.add(utc(2024, 4, 15, 9), 8 * HOUR) == utc(2024, 4, 15, 17)
    assert calendar.add(utc(2024, 4, 15, 9), 8 * HOUR + timedelta(microseconds=1)) == utc(
        2024, 4, 16, 9, 0, 0, 1
    )


def test_microseconds_are_exact() -> None:
    calendar = BusinessCalendar.weekdays(tz="Europe/Berlin")
    start = utc(2024, 4, 15, 14, 59, 59, 999_999)  # 16:59:59.999999 in Berlin
    due = calendar.add(start, timedelta(microseconds=2))
    assert due == utc(2024, 4, 16, 7, 0, 0, 1)
    assert calendar.elapsed(start, due) == timedelta(microseconds=2)


def test_inputs_in_any_zone_mean_the_same_instant() -> None:
    calendar = BusinessCalendar.weekdays(tz="America/New_York")
    in_berlin = datetime(2024, 4, 15, 16, tzinfo=BERLIN)  # 10:00 in New York
    assert calendar.add(in_berlin, HOUR) == new_york(2024, 4, 15, 11)
    assert calendar.is_open(in_berlin)


def test_elapsed_is_zero_when_the_end_is_not_after_the_start() -> None:
    calendar = BusinessCalendar.always_open()
    assert calendar.elapsed(utc(2024, 1, 2), utc(2024, 1, 1)) == timedelta(0)
    assert calendar.elapsed(utc(2024, 1, 2), utc(2024, 1, 2)) == timedelta(0)
    assert list(calendar.open_intervals(utc(2024, 1, 2), utc(2024, 1, 1))) == []


def test_search_gives_up_at_the_horizon_instead_of_looping() -> None:
    calendar = BusinessCalendar.weekdays(tz="UTC")
    start = utc(2024, 1, 1)
    forever = [(start, start + SEARCH_HORIZON + timedelta(days=30))]
    with pytest.raises(ValueError, match="not reached"):
        calendar.add(start, HOUR, paused=forever)


# --- validation ---------------------------------------------------------------------------------


def test_naive_datetimes_are_refused_everywhere() -> None:
    calendar = BusinessCalendar.weekdays()
    naive = datetime(2024, 4, 15, 10)
    aware = utc(2024, 4, 15, 10)
    calls: list[Callable[[], object]] = [
        lambda: calendar.add(naive, HOUR),
        lambda: calendar.add(aware, HOUR, paused=[(naive, aware + HOUR)]),
        lambda: calendar.add(aware, HOUR, paused=[(aware, naive + HOUR)]),
        lambda: calendar.elapsed(naive, aware),
        lambda: calendar.elapsed(aware, naive),
        lambda: calendar.is_open(naive),
        lambda: calendar.next_open(naive),
        lambda: calendar.next_close(naive),
        lambda: calendar.open_intervals(naive, aware),
        lambda: calendar.open_intervals(aware, naive),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


@pytest.mark.parametrize(
    ("weekly_hours", "message"),
    [
        ({0: [(time(17), time(9))]}, "must open before it closes"),
        ({0: [(time(9), time(9))]}, "must open before it closes"),
        ({0: [(time(9), time(13)), (time(12), time(17))]}, "overlap"),
        ({0: [(time(20), time(0)), (time(23), time(23, 30))]}, "overlap"),
        ({7: [(time(9), time(17))]}, "weekdays 0"),
        ({True: [(time(9), time(17))]}, "weekdays 0"),
        ({0: [(time(9, tzinfo=UTC), time(17))]}, "naive wall-clock"),
        ({0: [(time(9),)]}, "pairs"),
        ({}, "at least one weekday"),
        ({day: [] for day in range(7)}, "at least one weekday"),
    ],
)
def test_bad_weekly_hours_are_refused(
    weekly_hours: dict[int, list[tuple[time, ...]]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(tz="UTC", weekly_hours=weekly_hours)  # type: ignore[arg-type]


def test_other_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="IANA"):
        BusinessCalendar.weekdays(tz="Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="IANA"):
        BusinessCalendar.weekdays(tz="")
    with pytest.raises(ValueError, match="not datetimes"):
        BusinessCalendar.weekdays(holidays=[datetime(2024, 7, 4, tzinfo=UTC)])
    with pytest.raises(ValueError, match="must open before"):
        BusinessCalendar.weekdays(start=time(17), end=time(9))
    with pytest.raises(ValueError, match="at least one weekday"):
        BusinessCalendar.weekdays(days=[])
    calendar = BusinessCalendar.weekdays()
    with pytest.raises(ValueError, match="negative"):
        calendar.add(utc(2024, 1, 2), -MINUTE)
    with pytest.raises(TypeError, match="timedelta"):
        calendar.add(utc(2024, 1, 2), 60)  # type: ignore[arg-type]


def test_calendar_is_immutable() -> None:
    calendar = BusinessCalendar.weekdays()
    with pytest.raises(AttributeError, match="immutable"):
        calendar._tz = "UTC"
    with pytest.raises(AttributeError, match="immutable"):
        del calendar._holidays
    assert calendar.tz == "America/New_York"
    assert "America/New_York" in repr(calendar)


# --- the oracle ---------------------------------------------------------------------------------

ORACLE_ZONES = ("America/New_York", "Europe/Berlin", "America/Chicago")


@dataclass(frozen=True)
class Spec:
    """A calendar as plain data: zone, per-weekday (open, close) minutes of the day, holidays."""

    tz: str
    hours: tuple[tuple[tuple[int, int], ...], ...]  # minutes since local midnight, close <= 1440
    holidays: frozenset[date]

    def calendar(self) -> BusinessCalendar:
        def as_time(minutes: int) -> time:
            return time(0) if minutes == 1440 else time(minutes // 60, minutes % 60)

        return BusinessCalendar(
            tz=self.tz,
            weekly_hours={
                day: [(as_time(o), as_time(c)) for o, c in spans]
                for day, spans in enumerate(self.hours)
            },
            holidays=self.holidays,
        )

    def weekly_minutes(self) -> int:
        return sum(c - o for spans in self.hours for o, c in spans)


class MinuteOracle:
    """Walks UTC minute by minute; see the module docstring for the rule it encodes."""

    limit = timedelta(days=60)

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.tz)
        # open_minutes[weekday][m] says whether minute m of that local day is inside its hours.
        self.open_minutes = []
        for spans in spec.hours:
            flags = [False] * 1440
            for o, c in spans:
                flags[o:c] = [True] * (c - o)
            self.open_minutes.append(flags)

    def wall_clock_is_open(self, wall: datetime) -> bool:
        if wall.date() in self.spec.holidays:
            return False
        return self.open_minutes[wall.weekday()][wall.hour * 60 + wall.minute]

    def minutes(self, start: datetime) -> Iterator[tuple[datetime, bool]]:
        """(minute start in UTC, open?) for every minute from `start` on, for at most `limit`."""
        start = start.astimezone(UTC)  # step in UTC: stepping a local datetime steps the wall clock
        # The clock never falls back by more than an hour in these zones, so three hours of
        # history are enough to know the high-water mark at `start`.
        moment = start - 3 * HOUR
        high_water = moment.astimezone(self.zone).replace(tzinfo=None)
        while moment < start + self.limit:
            wall = moment.astimezone(self.zone).replace(tzinfo=None)
            high_water = max(high_water, wall)
            if moment >= start:
                yield moment, self.wall_clock_is_open(high_water)
            moment += MINUTE

    def add(
        self, start: datetime, minutes: int, paused: list[tuple[datetime, datetime]]
    ) -> datetime:
        counted = 0
        for moment, is_open in self.minutes(start):
            if not is_open or any(a <= moment < b for a, b in paused):
                continue
            if minutes == 0:
                return moment
            counted += 1
            if counted == minutes:
                return moment + MINUTE
        raise AssertionError("oracle ran past its limit")


def dst_change_dates(tz: str, year: int) -> list[date]:
    """The local dates on which the UTC offset changes, found by comparing successive noons."""
    zone = ZoneInfo(tz)
    found = []
    day = date(year, 1, 1)
    while day.year == year:
        today = datetime.combine(day, time(12), zone).utcoffset()
        tomorrow = datetime.combine(day + timedelta(days=1), time(12), zone).utcoffset()
        if today != tomorrow:
            found.append(day + timedelta(days=1))
        day += timedelta(days=1)
    return found


DST_CHANGES = {
    tz: [d for y in range(2010, 2036) for d in dst_change_dates(tz, y)] for tz in ORACLE_ZONES
}

# Minutes of the day that sit on or next to the 02:00-03:00 changes of all three zones.
DST_EDGE_MINUTES = [0, 30, 60, 90, 119, 120, 121, 150, 179, 180, 181, 210, 1440]
minute_of_day = st.one_of(st.sampled_from(DST_EDGE_MINUTES), st.integers(0, 1440))


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    points = sorted(draw(st.sets(minute_of_day, max_size=4)))
    if len(points) % 2:
        points.pop()
    return tuple(zip(points[::2], points[1::2], strict=True))


@dataclass(frozen=True)
class Case:
    """A calendar, a whole-minute start in UTC, and the same instant as it is handed in."""

    spec: Spec
    start: datetime
    given: datetime


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A random calendar and a start that is usually within days of one of its zone's DST changes."""
    tz = draw(st.sampled_from(ORACLE_ZONES))
    hours = tuple(draw(day_hours()) for _ in range(7))
    if not any(hours):
        hours = ((9 * 60, 17 * 60),), *hours[1:]
    if draw(st.booleans()):
        anchor = datetime.combine(draw(st.sampled_from(DST_CHANGES[tz])), time(0), UTC)
        start = anchor + draw(st.integers(-4 * 1440, 2 * 1440)) * MINUTE
    else:
        start = draw(st.datetimes(datetime(2010, 1, 1), datetime(2035, 12, 31))).replace(
            second=0, microsecond=0, tzinfo=UTC
        )
    holidays = frozenset(
        start.date() + timedelta(days=offset)
        for offset in draw(st.sets(st.integers(-1, 10), max_size=3))
    )
    # Half of the time the start is handed over in the calendar's own zone: only the instant counts.
    given = start.astimezone(ZoneInfo(tz)) if draw(st.booleans()) else start
    return Case(Spec(tz=tz, hours=hours, holidays=holidays), start, given)


def business_minutes(spec: Spec) -> st.SearchStrategy[int]:
    # At most two days, and at most half a week of this calendar's hours, so the oracle's walk
    # stays within a week or two of real time even with holidays.
    return st.integers(0, min(2 * 1440, spec.weekly_minutes() // 2))


@st.composite
def pauses_near(draw: st.DrawFn, start: datetime) -> list[tuple[datetime, datetime]]:
    """Up to three pauses around `start`; some empty or reversed, which must be ignored."""
    offsets = st.integers(-600, 5 * 1440)
    pairs = draw(st.lists(st.tuples(offsets, offsets), max_size=3))
    return [(start + a * MINUTE, start + b * MINUTE) for a, b in pairs]


oracle_settings = settings(max_examples=100, deadline=None)


@oracle_settings
@given(data=st.data())
def test_add_agrees_with_the_minute_oracle(data: st.DataObject) -> None:
    case = data.draw(cases())
    minutes = data.draw(business_minutes(case.spec))
    expected = MinuteOracle(case.spec).add(case.start, minutes, [])
    assert case.spec.calendar().add(case.given, minutes * MINUTE) == expected


@oracle_settings
@given(data=st.data())
def test_add_with_pauses_agrees_with_the_oracle_that_skips_paused_minutes(
    data: st.DataObject,
) -> None:
    case = data.draw(cases())
    minutes = data.draw(business_minutes(case.spec))
    paused = data.draw(pauses_near(case.start))
    expected = MinuteOracle(case.spec).add(case.start, minutes, paused)
    assert case.spec.calendar().add(case.given, minutes * MINUTE, paused=paused) == expected


@oracle_settings
@given(data=st.data())
def test_open_intervals_is_open_and_elapsed_agree_with_the_oracle(data: st.DataObject) -> None:
    case = data.draw(cases())
    end = case.start + data.draw(st.integers(0, 2 * 1440)) * MINUTE
    paused = data.draw(pauses_near(case.start))
    calendar = case.spec.calendar()

    expected: list[tuple[datetime, datetime]] = []
    unpaused_open_minutes = 0
    for moment, is_open in MinuteOracle(case.spec).minutes(case.start):
        if moment >= end:
            break
        if moment.minute % 37 == 0:
            assert calendar.is_open(moment) == is_open, moment
        if not is_open:
            continue
        if expected and expected[-1][1] == moment:
            expected[-1] = (expected[-1][0], moment + MINUTE)
        else:
            expected.append((moment, moment + MINUTE))
        if not any(a <= moment < b for a, b in paused):
            unpaused_open_minutes += 1

    assert list(calendar.open_intervals(case.given, end)) == expected
    assert calendar.elapsed(case.given, end, paused=paused) == unpaused_open_minutes * MINUTE
    for (_, close), (next_opening, _) in pairwise(expected):
        assert calendar.next_close(close - MINUTE) == close
        assert calendar.next_open(close) == next_opening


# --- algebraic properties (microsecond inputs, no oracle needed) --------------------------------

MICROSECOND = timedelta(microseconds=1)
# Up to five days either side of the start, to the microsecond.
offsets_around_start = st.integers(-5 * 86_400 * 10**6, 5 * 86_400 * 10**6).map(
    lambda us: us * MICROSECOND
)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_elapsed_until_add_gives_back_the_duration(data: st.DataObject) -> None:
    case = data.draw(cases())
    start = case.given + data.draw(st.integers(0, 59_999_999)) * MICROSECOND
    duration = data.draw(st.integers(0, 3 * 86_400 * 10**6)) * MICROSECOND
    paused = data.draw(pauses_near(case.start))
    calendar = case.spec.calendar()
    due = calendar.add(start, duration, paused=paused)
    assert due.tzinfo is UTC
    assert due >= start
    assert calendar.elapsed(start, due, paused=paused) == duration
    # `due` is the earliest such instant: a microsecond earlier is not enough.
    if duration:
        assert calendar.elapsed(start, due - MICROSECOND, paused=paused) < duration


@settings(max_examples=200, deadline=None)
@given(data=st.data(), offsets=st.lists(offsets_around_start, min_size=3, max_size=3))
def test_elapsed_is_additive(data: st.DataObject, offsets: list[timedelta]) -> None:
    case = data.draw(cases())
    paused = data.draw(pauses_near(case.start))
    calendar = case.spec.calendar()
    a, b, c = sorted(case.start + offset for offset in offsets)
    first = calendar.elapsed(a, b, paused=paused)
    second = calendar.elapsed(b, c, paused=paused)
    assert first + second == calendar.elapsed(a, c, paused=paused)
