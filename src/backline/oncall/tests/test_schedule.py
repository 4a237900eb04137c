"""Rotation arithmetic: worked DST cases, overrides, coverage, and property tests against an oracle.

The oracle below is deliberately naive: it finds a local handoff instant by scanning UTC in
15-minute steps for the first moment the wall clock reads the handoff time or later, walks
turns one by one from the start, and decides who is on call at an instant by reading the
override list front to back. It is slow and has no cleverness to get wrong.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.calendars.businesstime import BusinessCalendar, us_federal_holidays
from backline.oncall.schedule import (
    DAILY,
    WEEKLY,
    Override,
    Rotation,
    Shift,
    ShiftLength,
    fairness,
    gaps,
    gaps_for_role,
    handoffs_between,
    local_handoff_instant,
    next_on_call,
    on_call_at,
    shifts_between,
    turn_at,
)

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def chicago(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# --- worked cases -----------------------------------------------------------------------------


def test_weekly_shift_is_167_hours_across_spring_change_and_169_across_autumn() -> None:
    rotation = Rotation(
        ("ana", "ben", "cy"),
        "America/Chicago",
        date(2017, 1, 1),
        handoff_time=time(8),
        handoff_weekday=4,  # Friday
    )
    spring = on_call_at(rotation, [], chicago(2017, 3, 12, 12)).shift
    autumn = on_call_at(rotation, [], chicago(2017, 11, 5, 12)).shift
    assert spring is not None and autumn is not None
    assert spring.start == chicago(2017, 3, 10, 8)
    assert spring.end == chicago(2017, 3, 17, 8)
    assert spring.duration == 167 * HOUR
    assert autumn.start == chicago(2017, 11, 3, 8)
    assert autumn.end == chicago(2017, 11, 10, 8)
    assert autumn.duration == 169 * HOUR
    # The handoff stays at 08:00 local on either side of each change.
    for shift in (spring, autumn):
        for instant in (shift.start, shift.end):
            local = instant.astimezone(CHICAGO)
            assert (local.weekday(), local.time()) == (4, time(8))


def test_daily_handoff_inside_spring_gap_happens_when_the_gap_ends() -> None:
    rotation = Rotation((1, 2), "America/Chicago", date(2020, 3, 6), time(2, 30), DAILY)
    handoffs = handoffs_between(rotation, chicago(2020, 3, 6, 12), chicago(2020, 3, 9, 12))
    local = [(h.at.astimezone(CHICAGO), h.at.astimezone(CHICAGO).tzname()) for h in handoffs]
    assert [(t.replace(tzinfo=None), name) for t, name in local] == [
        (datetime(2020, 3, 7, 2, 30), "CST"),
        (datetime(2020, 3, 8, 3, 0), "CDT"),
        (datetime(2020, 3, 9, 2, 30), "CDT"),
    ]
    assert [(h.outgoing, h.incoming, h.turn) for h in handoffs] == [(1, 2, 1), (2, 1, 2), (1, 2, 3)]
    assert all(h.at.tzinfo is UTC for h in handoffs)


def test_ambiguous_handoff_time_uses_first_occurrence() -> None:
    # 2020-11-01 01:30 happens twice in Chicago: first CDT (06:30 UTC), then CST (07:30 UTC).
    rotation = Rotation((1, 2), "America/Chicago", date(2020, 10, 30), time(1, 30), DAILY)
    [handoff] = handoffs_between(rotation, chicago(2020, 11, 1), chicago(2020, 11, 1, 12))
    assert handoff.at == datetime(2020, 11, 1, 6, 30, tzinfo=UTC)


def test_hour_shifts_are_elapsed_time_not_wall_clock() -> None:
    rotation = Rotation(
        (1, 2, 3), "America/Chicago", date(2020, 3, 7), time(9), ShiftLength(hours=8)
    )
    handoffs = handoffs_between(rotation, chicago(2020, 3, 8, 0), chicago(2020, 3, 8, 23, 59))
    # Turns start 09:00, 17:00, 01:00 CST; eight elapsed hours after 01:00 CST the clocks read
    # 10:00 CDT, so the handoffs drift an hour against the wall clock instead of staying at 09:00.
    assert [h.at.astimezone(CHICAGO).hour for h in handoffs] == [1, 10, 18]
    assert all(b.at - a.at == 8 * HOUR for a, b in pairwise(handoffs))


def test_local_handoff_instant_in_a_half_hour_gap() -> None:
    # Lord Howe Island springs forward 30 minutes at 02:00 local.
    zone = ZoneInfo("Australia/Lord_Howe")
    instant = local_handoff_instant(date(2019, 10, 6), time(2, 15), zone)
    assert instant.astimezone(zone).replace(tzinfo=None) == datetime(2019, 10, 6, 2, 30)
    assert instant - timedelta(microseconds=1) < instant
    before = (instant - timedelta(microseconds=1)).astimezone(zone).replace(tzinfo=None)
    assert before < datetime(2019, 10, 6, 2, 0)


def test_first_weekly_turn_starts_on_the_first_handoff_weekday_on_or_after_start() -> None:
    rotation = Rotation(("a", "b"), "America/New_York", date(2025, 1, 6))  # a Monday
    assert rotation.first_handoff == new_york(2025, 1, 9, 9)  # Thursday 09:00
    on_thursday = Rotation(("a", "b"), "America/New_York", date(2025, 1, 9))
    assert on_thursday.first_handoff == new_york(2025, 1, 9, 9)
    assert turn_at(rotation, new_york(2025, 1, 9, 8, 59)) is None
    assert turn_at(rotation, new_york(2025, 1, 9, 9)) == 0
    assert turn_at(rotation, new_york(2025, 1, 16, 8, 59)) == 0
    assert turn_at(rotation, new_york(2025, 1, 16, 9)) == 1


def test_turn_lookup_far_in_the_future_is_arithmetic() -> None:
    # Walking turns from the start would take tens of millions of steps here.
    hourly = Rotation(
        tuple(range(7)), "Europe/London", date(2020, 1, 1), time(0), ShiftLength(hours=1)
    )
    at = datetime(8020, 1, 1, 0, 30, tzinfo=UTC)
    expected_turn = (at - datetime(2020, 1, 1, tzinfo=UTC)) // HOUR
    assert turn_at(hourly, at) == expected_turn
    assert on_call_at(hourly, [], at).person == expected_turn % 7
    window = shifts_between(hourly, [], at, at + 3 * HOUR)
    assert [(s.person, s.turn) for s in window] == [
        ((expected_turn + i) % 7, expected_turn + i) for i in range(4)
    ]
    daily = Rotation(tuple(range(5)), "America/New_York", date(2020, 1, 1), time(9), DAILY)
    assert (
        turn_at(daily, new_york(9000, 6, 1, 8, 59))
        == (date(9000, 6, 1) - date(2020, 1, 1)).days - 1
    )
    assert turn_at(daily, new_york(9000, 6, 1, 9)) == (date(9000, 6, 1) - date(2020, 1, 1)).days


def test_turns_advance_at_each_handoff_whatever_the_coverage() -> None:
    rotation = Rotation(("ana", "ben", "cy"), "America/New_York", date(2025, 1, 2))
    # Ana's week runs Thursday to Thursday even though the role only needs her on weekdays.
    assert on_call_at(rotation, [], new_york(2025, 1, 9, 8, 59)).person == "ana"
    assert on_call_at(rotation, [], new_york(2025, 1, 9, 9)).person == "ben"
    assert on_call_at(rotation, [], new_york(2025, 1, 16, 9)).person == "cy"
    assert on_call_at(rotation, [], new_york(2025, 1, 23, 9)).person == "ana"


def test_rejects_naive_datetimes_and_bad_configuration() -> None:
    rotation = Rotation((1,), "UTC", date(2025, 1, 1))
    naive = datetime(2025, 1, 5)
    aware = datetime(2025, 1, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        on_call_at(rotation, [], naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        shifts_between(rotation, [], naive, aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        Override(2, naive, aware)
    with pytest.raises(ValueError, match="before its end"):
        Override(2, aware, aware)
    with pytest.raises(ValueError, match="IANA"):
        Rotation((1,), "Mars/Olympus_Mons", date(2025, 1, 1))
    with pytest.raises(ValueError, match="handoff_weekday"):
        Rotation((1,), "UTC", date(2025, 1, 1), handoff_weekday=7)
    with pytest.raises(ValueError, match="naive local time"):
        Rotation((1,), "UTC", date(2025, 1, 1), handoff_time=time(9, tzinfo=UTC))
    with pytest.raises(ValueError, match="exactly one"):
        ShiftLength(days=1, hours=2)
    with pytest.raises(ValueError, match="exactly one"):
        ShiftLength()


def test_results_are_in_utc_whatever_zone_the_caller_used() -> None:
    rotation = Rotation((1, 2), "America/Chicago", date(2025, 1, 1), shift=DAILY)
    shifts = shifts_between(rotation, [], new_york(2025, 2, 1), new_york(2025, 2, 3))
    assert shifts and all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in shifts)
    assert shifts[0].start == datetime(2025, 2, 1, 5, tzinfo=UTC)


# --- overrides --------------------------------------------------------------------------------

# A rotation of two-hour turns starting 08:00 UTC: F has 08:00-10:00, G 10:00-12:00, ...
TWO_HOURLY = Rotation(("F", "G"), "UTC", date(2025, 3, 3), time(8), ShiftLength(hours=2))


def utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, 3, hour, minute, tzinfo=UTC)


def spans(shifts: list[Shift[str]]) -> list[tuple[str, str, str, bool, str | None]]:
    return [
        (s.person, s.start.strftime("%H:%M"), s.end.strftime("%H:%M"), s.is_override, s.replaced)
        for s in shifts
    ]


def test_override_inside_a_shift_splits_it_in_three() -> None:
    override = Override("X", utc(8, 30), utc(8, 45), replaces="F")
    assert spans(shifts_between(TWO_HOURLY, [override], utc(8), utc(10))) == [
        ("F", "08:00", "08:30", False, None),
        ("X", "08:30", "08:45", True, "F"),
        ("F", "08:45", "10:00", False, None),
    ]
    # The same turn, split or not.
    assert {s.turn for s in shifts_between(TWO_HOURLY, [override], utc(8), utc(10))} == {0}
    # Dropping the override restores the plain rotation.
    assert spans(shifts_between(TWO_HOURLY, [], utc(8), utc(10))) == [
        ("F", "08:00", "10:00", False, None)
    ]


def test_on_call_at_and_next_on_call_see_override_pieces() -> None:
    override = Override("X", utc(8, 30), utc(8, 45), replaces="F")
    now = on_call_at(TWO_HOURLY, [override], utc(8, 40))
    assert now.person == "X"
    assert now.shift is not None and spans([now.shift]) == [("X", "08:30", "08:45", True, "F")]
    before = on_call_at(TWO_HOURLY, [override], utc(8, 10)).shift
    assert before is not None and spans([before]) == [("F", "08:00", "08:30", False, None)]
    following = next_on_call(TWO_HOURLY, [override], utc(8, 10))
    assert following is not None and spans([following]) == [("X", "08:30", "08:45", True, "F")]
    after = next_on_call(TWO_HOURLY, [override], utc(8, 40))
    assert after is not None and spans([after]) == [("F", "08:45", "10:00", False, None)]
    last = next_on_call(TWO_HOURLY, [override], utc(9))
    assert last is not None and spans([last]) == [("G", "10:00", "12:00", False, None)]


def test_later_override_wins_where_overrides_overlap() -> None:
    first = Override("X", utc(8, 30), utc(9, 30))
    second = Override("Y", utc(9), utc(9, 15))
    assert spans(shifts_between(TWO_HOURLY, [first, second], utc(8), utc(10))) == [
        ("F", "08:00", "08:30", False, None),
        ("X", "08:30", "09:00", True, "F"),
        ("Y", "09:00", "09:15", True, "F"),
        ("X", "09:15", "09:30", True, "F"),
        ("F", "09:30", "10:00", False, None),
    ]
    assert spans(shifts_between(TWO_HOURLY, [second, first], utc(8), utc(10))) == [
        ("F", "08:00", "08:30", False, None),
        ("X", "08:30", "09:30", True, "F"),
        ("F", "09:30", "10:00", False, None),
    ]


def test_override_naming_whom_it_replaces_applies_only_during_their_turn() -> None:
    # X stands in for F from 09:00 to 11:00, but G takes over at 10:00 as scheduled.
    targeted = Override("X", utc(9), utc(11), replaces="F")
    assert spans(shifts_between(TWO_HOURLY, [targeted], utc(8), utc(12))) == [
        ("F", "08:00", "09:00", False, None),
        ("X", "09:00", "10:00", True, "F"),
        ("G", "10:00", "12:00", False, None),
    ]
    # Without `replaces`, X holds the pager through the handoff, replacing each in turn.
    blanket = Override("X", utc(9), utc(11))
    assert spans(shifts_between(TWO_HOURLY, [blanket], utc(8), utc(12))) == [
        ("F", "08:00", "09:00", False, None),
        ("X", "09:00", "10:00", True, "F"),
        ("X", "10:00", "11:00", True, "G"),
        ("G", "11:00", "12:00", False, None),
    ]


def test_override_before_the_rotation_starts_puts_someone_on_call() -> None:
    early = Override("X", utc(6), utc(7))
    targeted = Override("Y", utc(7), utc(7, 30), replaces="F")  # F is not scheduled yet
    assert spans(shifts_between(TWO_HOURLY, [early, targeted], utc(5), utc(9))) == [
        ("X", "06:00", "07:00", True, None),
        ("F", "08:00", "09:00", False, None),
    ]
    assert on_call_at(TWO_HOURLY, [early], utc(5)).person is None
    upcoming = next_on_call(TWO_HOURLY, [early], utc(5))
    assert upcoming is not None and spans([upcoming]) == [("X", "06:00", "07:00", True, None)]
    then = next_on_call(TWO_HOURLY, [early], utc(6, 30))
    assert then is not None and spans([then]) == [("F", "08:00", "10:00", False, None)]


def test_empty_rotation_schedules_no_one_but_overrides_still_count() -> None:
    empty: Rotation[str] = Rotation((), "UTC", date(2025, 3, 3), time(8))
    assert shifts_between(empty, [], utc(0), utc(23)) == []
    assert handoffs_between(empty, utc(0), utc(23)) == []
    assert on_call_at(empty, [], utc(9)).person is None
    assert next_on_call(empty, [], utc(9)) is None
    cover = Override("X", utc(10), utc(11))
    assert spans(shifts_between(empty, [cover], utc(0), utc(23))) == [
        ("X", "10:00", "11:00", True, None)
    ]
    assert gaps(empty, [cover], utc(0), utc(23)) == [(utc(0), utc(10)), (utc(11), utc(23))]


def test_one_person_rotation_still_hands_off_to_themselves() -> None:
    solo = Rotation(("F",), "UTC", date(2025, 3, 3), time(8), ShiftLength(hours=2))
    shifts = shifts_between(solo, [], utc(9), utc(13))
    assert spans(shifts) == [
        ("F", "09:00", "10:00", False, None),
        ("F", "10:00", "12:00", False, None),
        ("F", "12:00", "13:00", False, None),
    ]
    assert [(h.outgoing, h.incoming) for h in handoffs_between(solo, utc(9), utc(13))] == [
        ("F", "F"),
        ("F", "F"),
    ]


# --- gaps and fairness without a business calendar --------------------------------------------


def test_gaps_without_coverage_are_the_unstaffed_stretches() -> None:
    assert gaps(TWO_HOURLY, [], utc(6), utc(12)) == [(utc(6), utc(8))]
    assert gaps(TWO_HOURLY, [Override("X", utc(7), utc(7, 30))], utc(6), utc(12)) == [
        (utc(6), utc(7)),
        (utc(7, 30), utc(8)),
    ]
    assert gaps(TWO_HOURLY, [], utc(8), utc(12)) == []


def test_gaps_for_role_counts_any_rotation_that_covers() -> None:
    later = Rotation(("F", "G"), "UTC", date(2025, 3, 3), time(10), ShiftLength(hours=2))
    earlier = Rotation(("H",), "UTC", date(2025, 3, 3), time(7), ShiftLength(hours=1))
    assert gaps_for_role([later], [], utc(6), utc(12)) == [(utc(6), utc(10))]
    assert gaps_for_role([later, earlier], [], utc(6), utc(12)) == [(utc(6), utc(7))]
    assert gaps_for_role(
        [later, earlier], [Override("X", utc(6), utc(6, 30))], utc(6), utc(12)
    ) == [(utc(6, 30), utc(7))]
    assert gaps_for_role([], [], utc(6), utc(12)) == []


def test_fairness_counts_hours_turns_and_overrides() -> None:
    override = Override("X", utc(8, 30), utc(8, 45), replaces="F")
    shifts = shifts_between(TWO_HOURLY, [override], utc(8), utc(14))
    load = fairness(shifts)
    assert load["F"].hours == pytest.approx(4 - 0.25)
    assert load["F"].shifts == 2  # turns 0 and 2; turn 0 split by the override counts once
    assert (load["F"].override_hours, load["F"].overrides) == (0, 0)
    assert load["G"].hours == pytest.approx(2)
    assert load["G"].shifts == 1
    assert load["X"].hours == pytest.approx(0.25)
    assert (load["X"].shifts, load["X"].override_hours, load["X"].overrides) == (0, 0.25, 1)
    assert sum(f.hours for f in load.values()) == pytest.approx(6)
    assert all(f.in_coverage_hours == f.hours for f in load.values())


def test_fairness_hours_follow_elapsed_time_across_dst() -> None:
    rotation = Rotation((1, 2), "America/Chicago", date(2017, 3, 1), time(8), handoff_weekday=4)
    shifts = shifts_between(rotation, [], chicago(2017, 3, 10, 8), chicago(2017, 3, 24, 8))
    # Person 2 holds turn 1 (Friday 2017-03-10, across the spring change), person 1 turn 2.
    assert [(s.person, s.turn) for s in shifts] == [(2, 1), (1, 2)]
    load = fairness(shifts)
    assert (load[2].hours, load[1].hours) == (167, 168)


# --- coverage from a real business calendar ---------------------------------------------------

TIER3_CALENDAR = BusinessCalendar.weekdays(
    tz="America/New_York", holidays=us_federal_holidays([2024, 2025])
)
# Weekly, handoff Thursday 09:00 New York; Ana's first week starts Thursday 2025-01-02.
TIER3 = Rotation(
    ("ana", "ben", "cy"), "America/New_York", date(2025, 1, 2), coverage=TIER3_CALENDAR
)


def test_saturday_night_is_outside_tier3_coverage_until_monday_morning() -> None:
    answer = on_call_at(TIER3, [], new_york(2025, 1, 11, 3))  # Saturday 03:00
    assert answer.person == "ben"  # Ben's week: Thursday 2025-01-09 09:00 to 2025-01-16 09:00
    assert answer.in_coverage is False
    assert answer.next_coverage_start == new_york(2025, 1, 13, 9)  # Monday 09:00
    assert answer.next_coverage_person == "ben"
    monday = on_call_at(TIER3, [], new_york(2025, 1, 13, 9))
    assert (monday.person, monday.in_coverage, monday.next_coverage_start) == ("ben", True, None)


def test_next_coverage_skips_holidays_and_names_who_is_on_call_then() -> None:
    # Martin Luther King Jr. Day is Monday 2025-01-20: coverage resumes Tuesday.
    saturday = on_call_at(TIER3, [], new_york(2025, 1, 18, 3))
    assert saturday.next_coverage_start == new_york(2025, 1, 21, 9)
    assert (saturday.person, saturday.next_coverage_person) == ("cy", "cy")
    # Early Thursday the outgoing engineer is on call, but coverage opens with the handoff.
    thursday = on_call_at(TIER3, [], new_york(2025, 1, 16, 8))
    assert thursday.next_coverage_start == new_york(2025, 1, 16, 9)
    assert (thursday.person, thursday.next_coverage_person) == ("ben", "cy")


def test_coverage_windows_before_the_rotation_starts_are_gaps() -> None:
    monday, friday = new_york(2024, 12, 30), new_york(2025, 1, 3)
    # New Year's Day is a holiday, and from Thursday 09:00 Ana is on call.
    assert gaps(TIER3, [], monday, friday) == [
        (new_york(2024, 12, 30, 9), new_york(2024, 12, 30, 17)),
        (new_york(2024, 12, 31, 9), new_york(2024, 12, 31, 17)),
    ]
    stand_in = Override("zoe", new_york(2024, 12, 31, 10), new_york(2024, 12, 31, 20))
    assert gaps(TIER3, [stand_in], monday, friday) == [
        (new_york(2024, 12, 30, 9), new_york(2024, 12, 30, 17)),
        (new_york(2024, 12, 31, 9), new_york(2024, 12, 31, 10)),
    ]
    # Nights, weekends and holidays are never gaps, staffed or not.
    assert gaps(TIER3, [], new_york(2025, 1, 1), new_york(2025, 1, 2, 9)) == []
    unstaffed: Rotation[str] = Rotation(
        (), "America/New_York", date(2025, 1, 2), coverage=TIER3_CALENDAR
    )
    assert gaps(unstaffed, [], new_york(2025, 1, 10), new_york(2025, 1, 13)) == [
        (new_york(2025, 1, 10, 9), new_york(2025, 1, 10, 17))
    ]


def test_24x7_monitoring_is_a_gap_until_its_first_handoff() -> None:
    monitoring = Rotation(
        ("mo", "max"),
        "America/New_York",
        date(2025, 1, 2),
        coverage=BusinessCalendar.always_open("America/New_York"),
    )
    assert gaps(monitoring, [], new_york(2025, 1, 1), new_york(2025, 1, 10)) == [
        (new_york(2025, 1, 1), new_york(2025, 1, 2, 9))
    ]
    assert on_call_at(monitoring, [], new_york(2025, 1, 4, 3)).in_coverage is True


def test_role_gaps_with_day_and_evening_rotations() -> None:
    evening_hours = BusinessCalendar.weekdays(tz="America/New_York", start=time(17), end=time(21))
    evenings = Rotation(("eve",), "America/New_York", date(2025, 1, 9), coverage=evening_hours)
    week = (new_york(2025, 1, 6), new_york(2025, 1, 11))
    assert gaps_for_role([TIER3, evenings], [], *week) == [
        (new_york(2025, 1, day, 17), new_york(2025, 1, day, 21)) for day in (6, 7, 8)
    ]
    # Evening shifts start at the Thursday 09:00 handoff, so Thursday evening is staffed; a
    # role-level override covers Tuesday evening.
    cover = Override("zoe", new_york(2025, 1, 7, 17), new_york(2025, 1, 7, 21))
    assert gaps_for_role([TIER3, evenings], [cover], *week) == [
        (new_york(2025, 1, 6, 17), new_york(2025, 1, 6, 21)),
        (new_york(2025, 1, 8, 17), new_york(2025, 1, 8, 21)),
    ]
    # A person on call in one rotation does not fill another rotation's coverage: Tier 3 has
    # someone around the clock, but only the evening rotation answers at 17:00-21:00.
    assert gaps_for_role([evenings], [], *week) == gaps(evenings, [], *week)


def test_in_coverage_hours_count_only_business_hours() -> None:
    shifts = shifts_between(TIER3, [], new_york(2025, 1, 9, 9), new_york(2025, 1, 23, 9))
    load = fairness(shifts, TIER3_CALENDAR)
    assert (load["ben"].hours, load["ben"].in_coverage_hours) == (168, 40)
    # Cy's week holds Martin Luther King Jr. Day.
    assert (load["cy"].hours, load["cy"].in_coverage_hours) == (168, 32)


# --- property tests against the oracle --------------------------------------------------------

ZONES = [
    "America/Chicago",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST change
    "America/Sao_Paulo",  # DST used to start at midnight, so 00:00 did not exist
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",
    "UTC",
]
TRANSITION_DAYS = [
    date(2017, 3, 12),
    date(2017, 11, 5),
    date(2018, 3, 25),
    date(2018, 10, 28),
    date(2018, 11, 4),
    date(2019, 2, 17),
    date(2019, 4, 7),
    date(2019, 10, 6),
    date(2020, 3, 8),
    date(2020, 11, 1),
    date(2021, 9, 26),
]
LENGTHS = [
    DAILY,
    WEEKLY,
    ShiftLength(days=2),
    ShiftLength(days=14),
    ShiftLength(hours=1),
    ShiftLength(hours=8),
    ShiftLength(hours=12),
    ShiftLength(hours=36),
]
STEP = timedelta(minutes=15)


@cache
def oracle_local_instant(day: date, at: time, tz: str) -> datetime:
    """First instant whose wall-clock reading in `tz` is `day at` or later (15-minute scan).

    Exact for the zones above: their offsets and changes all fall on quarter hours.
    """
    zone = ZoneInfo(tz)
    target = datetime.combine(day, at)
    instant = target.replace(tzinfo=UTC) - timedelta(hours=15)  # no zone is 15 hours ahead
    while instant.astimezone(zone).replace(tzinfo=None) < target:
        instant += STEP
    return instant


@dataclass
class Oracle:
    rotation: Rotation[int]
    overrides: list[Override[int]]
    horizon: datetime

    def __post_init__(self) -> None:
        rotation = self.rotation
        self.boundaries: list[datetime] = []
        if not rotation.participants:
            return
        day = rotation.start
        if rotation.shift.days and rotation.shift.days % 7 == 0:
            while day.weekday() != rotation.handoff_weekday:
                day += timedelta(days=1)
        first = oracle_local_instant(day, rotation.handoff_time, rotation.tz)
        k = 0
        while True:
            if rotation.shift.hours:
                boundary = first + k * timedelta(hours=rotation.shift.hours)
            else:
                boundary = oracle_local_instant(
                    day + timedelta(days=k * rotation.shift.days),
                    rotation.handoff_time,
                    rotation.tz,
                )
            self.boundaries.append(boundary)
            if boundary > self.horizon:
                break
            k += 1

    def scheduled(self, at: datetime) -> tuple[int | None, int | None]:
        people = self.rotation.participants
        turn = None
        for k, boundary in enumerate(self.boundaries):
            if boundary <= at:
                turn = k
        return (None, None) if turn is None else (people[turn % len(people)], turn)

    def key(self, at: datetime) -> tuple[int | None, bool, int | None, int | None]:
        """(person, is_override, replaced, turn) at `at`."""
        scheduled, turn = self.scheduled(at)
        result: tuple[int | None, bool, int | None, int | None] = (scheduled, False, None, turn)
        for o in self.overrides:
            if o.start <= at < o.end and o.replaces in (None, scheduled):
                result = (o.person, True, scheduled, turn)
        return result

    def shifts(self, start: datetime, end: datetime) -> list[Shift[int]]:
        """Cut the window at every instant where anything could change, then merge."""
        edges = {start, end}
        edges.update(b for b in self.boundaries if start < b < end)
        edges.update(t for o in self.overrides for t in (o.start, o.end) if start < t < end)
        result: list[Shift[int]] = []
        ordered = sorted(edges)
        for lo, hi in pairwise(ordered):
            person, is_override, replaced, turn = self.key(lo)
            if person is None:
                continue
            last = result[-1] if result else None
            if (
                last
                and last.end == lo
                and (last.person, last.is_override, last.replaced, last.turn)
                == (
                    person,
                    is_override,
                    replaced,
                    turn,
                )
            ):
                result[-1] = Shift(person, last.start, hi, is_override, replaced, turn)
            else:
                result.append(Shift(person, lo, hi, is_override, replaced, turn))
        return result


@st.composite
def rotations(draw: st.DrawFn, *, staffed: bool = False) -> Rotation[int]:
    people = draw(st.lists(st.integers(0, 3), min_size=1 if staffed else 0, max_size=4))
    hour = draw(st.integers(0, 23))
    minute = draw(st.sampled_from([0, 15, 30, 45]))
    start = draw(st.sampled_from(TRANSITION_DAYS)) + timedelta(days=draw(st.integers(-12, 3)))
    return Rotation(
        tuple(people),
        draw(st.sampled_from(ZONES)),
        start,
        time(hour, minute),
        draw(st.sampled_from(LENGTHS)),
        draw(st.integers(0, 6)),
    )


@st.composite
def scenarios(
    draw: st.DrawFn, *, staffed: bool = False
) -> tuple[Rotation[int], list[Override[int]], datetime, datetime]:
    rotation = draw(rotations(staffed=staffed))
    if staffed:
        origin = rotation.first_handoff
        start = origin + timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
    else:
        origin = datetime.combine(rotation.start, time(0), tzinfo=UTC)
        start = origin + timedelta(minutes=draw(st.integers(-3 * 24 * 60, 20 * 24 * 60)))
    end = start + timedelta(minutes=draw(st.integers(1, 12 * 24 * 60)))
    overrides = []
    for _ in range(draw(st.integers(0, 4))):
        o_start = start + timedelta(minutes=draw(st.integers(-2 * 24 * 60, 13 * 24 * 60)))
        o_end = o_start + timedelta(minutes=draw(st.integers(1, 3 * 24 * 60)))
        replaces = draw(st.one_of(st.none(), st.integers(0, 3)))
        overrides.append(Override(draw(st.integers(0, 5)), o_start, o_end, replaces))
    return rotation, overrides, start, end


def covering(shifts: list[Shift[int]], at: datetime) -> Shift[int] | None:
    found = [s for s in shifts if s.contains(at)]
    assert len(found) <= 1
    return found[0] if found else None


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(scenarios())
def test_shifts_between_matches_the_oracle(
    scenario: tuple[Rotation[int], list[Override[int]], datetime, datetime],
) -> None:
    rotation, overrides, start, end = scenario
    oracle = Oracle(rotation, overrides, end)
    assert shifts_between(rotation, overrides, start, end) == oracle.shifts(start, end)


@PROPERTY
@given(scenarios(staffed=True), st.floats(0, 1))
def test_started_rotation_tiles_the_window(
    scenario: tuple[Rotation[int], list[Override[int]], datetime, datetime], fraction: float
) -> None:
    rotation, overrides, start, end = scenario
    shifts = shifts_between(rotation, overrides, start, end)
    assert shifts[0].start == start and shifts[-1].end == end
    assert all(s.start < s.end for s in shifts)
    assert all(a.end == b.start for a, b in pairwise(shifts))
    total = sum(f.hours for f in fairness(shifts).values())
    assert total == pytest.approx((end - start).total_seconds() / 3600)
    assert gaps(rotation, overrides, start, end) == []
    # Splitting the window anywhere and joining the pieces changes nothing.
    middle = start + (end - start) * fraction
    left = shifts_between(rotation, overrides, start, middle)
    right = shifts_between(rotation, overrides, middle, end)
    if left and right and left[-1].end == right[0].start == middle:
        a, b = left[-1], right[0]
        if (a.person, a.is_override, a.replaced, a.turn) == (
            b.person,
            b.is_override,
            b.replaced,
            b.turn,
        ):
            left[-1:] = [Shift(a.person, a.start, b.end, a.is_override, a.replaced, a.turn)]
            right = right[1:]
    assert left + right == shifts


@PROPERTY
@given(scenarios(), st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=5))
def test_on_call_at_agrees_with_shifts_between(
    scenario: tuple[Rotation[int], list[Override[int]], datetime, datetime],
    fractions: list[float],
) -> None:
    rotation, overrides, start, end = scenario
    shifts = shifts_between(rotation, overrides, start, end)
    oracle = Oracle(rotation, overrides, end + timedelta(days=30))
    # timedelta * float rounds to whole microseconds, which can land on `end` itself.
    last = end - timedelta(microseconds=1)
    instants = [min(last, start + (end - start) * f) for f in fractions] + [s.start for s in shifts]
    for at in instants:
        answer = on_call_at(rotation, overrides, at)
        listed = covering(shifts, at)
        assert answer.person == oracle.key(at)[0]
        if listed is None:
            assert answer.person is None and answer.shift is None
            continue
        assert answer.shift is not None
        assert answer.in_coverage and answer.next_coverage_start is None
        # The full shift clipped to the window is the listed one.
        clipped = Shift(
            answer.shift.person,
            max(answer.shift.start, start),
            min(answer.shift.end, end),
            answer.shift.is_override,
            answer.shift.replaced,
            answer.shift.turn,
        )
        assert clipped == listed
        # The full shift is maximal: the oracle disagrees just outside it.
        full = answer.shift
        inside = oracle.key(full.start)
        assert oracle.key(full.end) != inside
        assert oracle.key(full.start - timedelta(microseconds=1)) != inside
        # The next shift starts where this one ends when the rotation is running.
        following = next_on_call(rotation, overrides, at)
        if rotation.participants and full.end >= rotation.first_handoff:
            assert following is not None and following.start == full.end
            assert (following.person, following.start) == (
                oracle.key(full.end)[0],
                full.end,
            )


@PROPERTY
@given(scenarios())
def test_handoffs_between_are_the_oracle_boundaries(
    scenario: tuple[Rotation[int], list[Override[int]], datetime, datetime],
) -> None:
    rotation, _overrides, start, end = scenario
    oracle = Oracle(rotation, [], end)
    expected = [b for b in oracle.boundaries if start <= b < end]
    handoffs = handoffs_between(rotation, start, end)
    assert [h.at for h in handoffs] == expected
    people = rotation.participants
    for h in handoffs:
        turn = bisect.bisect_right(oracle.boundaries, h.at) - 1
        assert h.turn == turn and h.incoming == people[turn % len(people)]
        assert h.outgoing == (people[(turn - 1) % len(people)] if turn else None)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.sampled_from(TRANSITION_DAYS),
    st.integers(-2, 2),
    st.integers(0, 23),
    st.sampled_from([0, 15, 30, 45]),
)
def test_local_handoff_instant_matches_the_scan(
    tz: str, base: date, shift_days: int, hour: int, minute: int
) -> None:
    day = base + timedelta(days=shift_days)
    assert local_handoff_instant(day, time(hour, minute), ZoneInfo(tz)) == oracle_local_instant(
        day, time(hour, minute), tz
    )


@PROPERTY
@given(
    scenarios(),
    st.integers(0, 22),
    st.integers(1, 24),
    st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True),
)
def test_gaps_are_the_unstaffed_part_of_coverage(
    scenario: tuple[Rotation[int], list[Override[int]], datetime, datetime],
    opens: int,
    hours: int,
    days: list[int],
) -> None:
    rotation, overrides, start, end = scenario
    closes = time(0) if opens + hours >= 24 else time(opens + hours)
    calendar = BusinessCalendar.weekdays(tz=rotation.tz, start=time(opens), end=closes, days=days)
    rotation = replace(rotation, coverage=calendar)
    oracle = Oracle(rotation, overrides, end)
    # Coverage and the oracle's answer are constant between consecutive edges.
    edges = {start, end}
    edges.update(t for window in calendar.open_intervals(start, end) for t in window)
    edges.update(s for shift in oracle.shifts(start, end) for s in (shift.start, shift.end))
    expected: list[tuple[datetime, datetime]] = []
    for lo, hi in pairwise(sorted(edges)):
        if calendar.is_open(lo) and oracle.key(lo)[0] is None:
            if expected and expected[-1][1] == lo:
                expected[-1] = (expected[-1][0], hi)
            else:
                expected.append((lo, hi))
    assert gaps(rotation, overrides, start, end) == expected
    assert gaps_for_role([rotation], overrides, start, end) == expected
