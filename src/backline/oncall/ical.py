"""iCalendar (RFC 5545) feeds of on-call shifts, per rotation or per person.

A feed covers FEED_PAST back and FEED_AHEAD forward from the moment it is fetched. Shifts cut by
the window's edges are extended to their whole length, so an event's start, end and UID stay the
same from one fetch to the next; the UID is derived from the rotation, the person and the shift's
start. Times are written in UTC (calendar apps show them in the reader's zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from backline.accounts.models import User
from backline.oncall import adapters, schedule
from backline.oncall.models import FeedToken, OncallRole, Rotation
from backline.oncall.selectors import active_rotations

FEED_PAST = timedelta(weeks=8)
FEED_AHEAD = timedelta(weeks=26)
PRODID = "-//Backline//On-call schedule//EN"


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    summary: str
    description: str
    start: datetime
    end: datetime


def _whole_shifts(rotation: Rotation, start: datetime, end: datetime) -> list[schedule.Shift[int]]:
    pure, overrides = adapters.schedule_and_overrides(rotation, start, end)
    shifts = schedule.shifts_between(pure, overrides, start, end)
    if not shifts:
        return shifts
    # Replace the clipped first and last shifts with the whole ones (stable starts and UIDs).
    for index in {0, len(shifts) - 1}:
        whole = schedule.on_call_at(pure, overrides, shifts[index].start).shift
        if whole is not None and whole.person == shifts[index].person:
            shifts[index] = whole
    return shifts


def feed_events(
    *, rotation: Rotation | None = None, person: User | None = None, now: datetime
) -> list[FeedEvent]:
    """The events of a rotation's feed (everyone's shifts) or a person's feed (their shifts on
    every active rotation), in time order."""
    start, end = now - FEED_PAST, now + FEED_AHEAD
    rotations = [rotation] if rotation is not None else list(active_rotations())
    found: list[tuple[Rotation, schedule.Shift[int]]] = []
    for row in rotations:
        for shift in _whole_shifts(row, start, end):
            if person is None or shift.person == person.pk:
                found.append((row, shift))
    people = User.objects.in_bulk(
        {s.person for _, s in found} | {s.replaced for _, s in found if s.replaced is not None}
    )
    events = []
    for row, shift in sorted(found, key=lambda pair: (pair[1].start, pair[0].pk)):
        who = people[shift.person].name if shift.person in people else f"user {shift.person}"
        description = f"Rotation: {row.name}"
        if shift.is_override:
            replaced = people.get(shift.replaced) if shift.replaced is not None else None
            description += f"\nOverride{' for ' + replaced.name if replaced else ''}"
        events.append(
            FeedEvent(
                uid=f"oncall-r{row.pk}-u{shift.person}-{int(shift.start.timestamp())}@backline",
                summary=f"{OncallRole(row.role).label} on-call: {who}",
                description=description,
                start=shift.start,
                end=shift.end,
            )
        )
    return events


def feed_title(token: FeedToken) -> str:
    if token.rotation is not None:
        return f"On call: {token.rotation.name}"
    assert token.person is not None
    return f"On call: {token.person.name}"


def feed_calendar(token: FeedToken, *, now: datetime) -> bytes:
    """The feed for `token` as an RFC 5545 document."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", feed_title(token))
    for item in feed_events(rotation=token.rotation, person=token.person, now=now):
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", now)
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
