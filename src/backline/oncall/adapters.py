"""Stored rotations -> the framework-free schedule module, so every on-call answer comes from it.

Participants handed to `schedule` are user ids; callers turn them back into users in bulk.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backline.calendars.businesstime import BusinessCalendar
from backline.oncall import schedule
from backline.oncall.models import Override, Rotation, ShiftUnit

# Overrides are fetched for the asked window widened by this much plus two turns, so a lookup
# also sees the overrides of the whole shift around it and of the next coverage opening.
_OVERRIDE_MARGIN = timedelta(days=31)


def shift_length(rotation: Rotation) -> schedule.ShiftLength:
    """The turn length of a stored rotation."""
    count = max(1, rotation.shift_count)
    if rotation.shift_unit == ShiftUnit.HOURS:
        return schedule.ShiftLength(hours=count)
    if rotation.shift_unit == ShiftUnit.DAYS:
        return schedule.ShiftLength(days=count)
    return schedule.ShiftLength(days=7 * count)


def turn_duration(rotation: Rotation) -> timedelta:
    """The nominal length of one turn (DST changes make real turns up to an hour longer/shorter)."""
    length = shift_length(rotation)
    return timedelta(days=length.days, hours=length.hours)


def coverage_for(rotation: Rotation, start: datetime, end: datetime) -> BusinessCalendar | None:
    """The rotation's coverage as a BusinessCalendar with the holidays of the years around the
    window (None means round the clock)."""
    calendar = rotation.coverage
    if calendar is None:
        return None
    # A year either side: `next_open` may look past the window (e.g. over New Year).
    years = range(start.year - 1, end.year + 2)
    return calendar.to_business_calendar(years=years)


def member_ids(rotation: Rotation) -> tuple[int, ...]:
    """The members' user ids in turn order (uses a prefetch of `members` when present)."""
    return tuple(m.user_id for m in sorted(rotation.members.all(), key=lambda m: m.position))


def to_schedule(rotation: Rotation, start: datetime, end: datetime) -> schedule.Rotation[int]:
    """The pure-module rotation for questions about [start, end)."""
    return schedule.Rotation(
        participants=member_ids(rotation),
        tz=rotation.time_zone,
        start=rotation.start_date,
        handoff_time=rotation.handoff_time,
        shift=shift_length(rotation),
        handoff_weekday=rotation.handoff_weekday,
        coverage=coverage_for(rotation, start, end),
    )


def overrides_near(
    rotation: Rotation, start: datetime, end: datetime
) -> list[schedule.Override[int]]:
    """The rotation's overrides that can matter for [start, end), in creation (precedence) order."""
    margin = _OVERRIDE_MARGIN + 2 * turn_duration(rotation)
    rows = Override.objects.filter(
        rotation=rotation, start__lt=end + margin, end__gt=start - margin
    ).order_by("created_at", "id")
    return [schedule.Override(o.person_id, o.start, o.end, o.replaces_id) for o in rows]


def schedule_and_overrides(
    rotation: Rotation, start: datetime, end: datetime
) -> tuple[schedule.Rotation[int], list[schedule.Override[int]]]:
    """Both inputs the schedule functions need for a question about [start, end)."""
    return to_schedule(rotation, start, end), overrides_near(rotation, start, end)
