"""Rotation arithmetic: shifts, handoffs, overrides, coverage gaps and fairness.

This module owns the time math of on-call schedules and nothing else: it knows no database, no
users and no framework. Participants are opaque hashable ids chosen by the caller. Every instant
taken in must be timezone-aware; every instant handed back is in UTC.

The rules (also written out in docs/oncall.md):

* A rotation hands off at the same local wall-clock time on each handoff day, so a weekly shift
  that spans the spring DST change is 167 hours and one spanning the autumn change is 169 hours.
  A handoff time that does not exist that day (inside a DST gap) happens at the first instant
  after the gap; an ambiguous one happens at its first occurrence (fold=0).
* Shifts measured in hours are elapsed time from the first handoff, with no wall-clock anchoring.
* Turns advance by the calendar, not by coverage: a weekday-only role still hands off every week.
* Overrides beat the rotation; among overlapping overrides the later one in the list wins. An
  override that names whom it replaces applies only while that person is the scheduled one.

Lookups are arithmetic: finding the turn at an instant decades after the start costs the same
as finding it in the first week, and listing shifts touches only the turns inside the window.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DAILY",
    "WEEKLY",
    "Coverage",
    "Fairness",
    "Handoff",
    "OnCall",
    "Override",
    "Rotation",
    "Shift",
    "ShiftLength",
    "fairness",
    "gaps",
    "gaps_for_role",
    "handoffs_between",
    "local_handoff_instant",
    "next_on_call",
    "on_call_at",
    "shifts_between",
    "turn_at",
]

P = TypeVar("P", bound=Hashable)

Interval = tuple[datetime, datetime]

_ONE_MICROSECOND = timedelta(microseconds=1)


class Coverage(Protocol):
    """The hours a rotation is expected to answer (e.g. a business calendar).

    `open_intervals` yields the open periods within [start, end) in time order, merged.
    """

    def is_open(self, at: datetime, /) -> bool: ...

    def next_open(self, at: datetime, /) -> datetime: ...

    def open_intervals(self, start: datetime, end: datetime, /) -> Iterable[Interval]: ...


def _require_aware(value: object, name: str) -> datetime:
    """Return `value` in UTC, or raise if it is not a datetime or carries no offset."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class ShiftLength:
    """How long one turn lasts: a whole number of days, or a whole number of hours.

    Day lengths hand off at the rotation's local wall-clock handoff time. Lengths that are a
    whole number of weeks also hand off on the rotation's handoff weekday. Hour lengths are pure
    elapsed time counted from the first handoff, so they drift against the wall clock across
    DST changes (an 8-hour shift starting 09:00 may hand off at 10:00 local after the spring
    change); that is what "every N hours" means, and it keeps each shift exactly N hours long.
    """

    days: int = 0
    hours: int = 0

    def __post_init__(self) -> None:
        for name in ("days", "hours"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"ShiftLength.{name} must be a non-negative int, got {value!r}")
        if (self.days > 0) == (self.hours > 0):
            raise ValueError("ShiftLength needs exactly one of days or hours to be positive")

    @classmethod
    def every_days(cls, days: int) -> ShiftLength:
        """A turn of `days` calendar days, handing off at the local handoff time."""
        return cls(days=days)

    @classmethod
    def every_hours(cls, hours: int) -> ShiftLength:
        """A turn of exactly `hours` elapsed hours."""
        return cls(hours=hours)

    @property
    def is_weekly_aligned(self) -> bool:
        """True when turns are whole weeks, so the handoff weekday applies."""
        return self.days > 0 and self.days % 7 == 0


WEEKLY = ShiftLength(days=7)
DAILY = ShiftLength(days=1)


@dataclass(frozen=True)
class Rotation(Generic[P]):
    """An ordered list of people taking turns of equal length.

    The first turn starts at the first handoff instant on or after `start` (for whole-week
    lengths, the first `handoff_weekday` on or after `start`). Turn k belongs to
    `participants[k % len(participants)]`. A rotation with no participants schedules no one;
    its coverage is then all gap, which is how an unstaffed role shows up.
    """

    participants: tuple[P, ...]
    tz: str
    start: date
    handoff_time: time = time(9)
    shift: ShiftLength = WEEKLY
    handoff_weekday: int = 3
    coverage: Coverage | None = None

    def __post_init__(self) -> None:
        # Accept any sequence but store a tuple so the rotation stays immutable and hashable.
        object.__setattr__(self, "participants", tuple(self.participants))
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"Rotation.tz must be an IANA zone name, got {self.tz!r}") from exc
        if isinstance(self.start, datetime) or not isinstance(self.start, date):
            raise ValueError(f"Rotation.start must be a date, got {self.start!r}")
        if not isinstance(self.handoff_time, time) or self.handoff_time.tzinfo is not None:
            raise ValueError(
                "Rotation.handoff_time must be a naive local time (the zone comes from tz), "
                f"got {self.handoff_time!r}"
            )
        if not isinstance(self.shift, ShiftLength):
            raise ValueError(f"Rotation.shift must be a ShiftLength, got {self.shift!r}")
        if self.handoff_weekday not in range(7):
            raise ValueError(
                f"Rotation.handoff_weekday must be 0 (Monday) to 6, got {self.handoff_weekday!r}"
            )

    @property
    def zone(self) -> ZoneInfo:
        """The rotation's time zone."""
        return ZoneInfo(self.tz)

    @property
    def first_handoff_date(self) -> date:
        """The local date of the first handoff."""
        if self.shift.is_weekly_aligned:
            return self.start + timedelta(days=(self.handoff_weekday - self.start.weekday()) % 7)
        return self.start

    @property
    def first_handoff(self) -> datetime:
        """The instant (UTC) the first turn starts."""
        return _boundary(self, 0)


@dataclass(frozen=True)
class Override(Generic[P]):
    """`person` is on call during [start, end) instead of the scheduled person.

    With `replaces` set, the override applies only while that person is the rotation's scheduled
    one (matched against the rotation, not against other overrides); elsewhere in its window it
    has no effect. With `replaces` None it applies throughout its window, even where nobody is
    scheduled (before the rotation starts, or for an empty rotation).
    """

    person: P
    start: datetime
    end: datetime
    replaces: P | None = None

    def __post_init__(self) -> None:
        start = _require_aware(self.start, "Override.start")
        end = _require_aware(self.end, "Override.end")
        if start >= end:
            raise ValueError(
                f"Override.start must be before its end, got {start.isoformat()} >= "
                f"{end.isoformat()}"
            )


@dataclass(frozen=True)
class Shift(Generic[P]):
    """One stretch of one person on call, in UTC.

    A shift is a maximal run of the same person, the same override status, the same replaced
    person and the same rotation turn: an override splits a turn into pieces, and a handoff
    always ends a shift even when the same person comes next. `replaced` is the scheduled person
    an override displaced (None for rotation shifts, and for overrides where nobody was
    scheduled). `turn` is the rotation turn number the shift falls in, None before the first
    handoff or in an empty rotation.
    """

    person: P
    start: datetime
    end: datetime
    is_override: bool
    replaced: P | None
    turn: int | None = None

    @property
    def duration(self) -> timedelta:
        """Elapsed time of the shift."""
        return self.end - self.start

    def contains(self, at: datetime) -> bool:
        """Whether `at` falls in [start, end)."""
        return self.start <= at < self.end


@dataclass(frozen=True)
class OnCall(Generic[P]):
    """The answer to "who is on call at this instant".

    `person` and `shift` are None when nobody is scheduled. `next_coverage_start` is None while
    coverage is open at the instant; otherwise it is when coverage next opens, and
    `next_coverage_person` who will be on call then.
    """

    person: P | None
    shift: Shift[P] | None
    in_coverage: bool
    next_coverage_start: datetime | None
    next_coverage_person: P | None = None


@dataclass(frozen=True)
class Handoff(Generic[P]):
    """A rotation boundary: at `at`, turn `turn` passes from `outgoing` to `incoming`.

    The first handoff of a rotation has `outgoing` None.
    """

    at: datetime
    outgoing: P | None
    incoming: P
    turn: int


@dataclass(frozen=True)
class Fairness:
    """On-call load of one person over a set of shifts.

    `hours` is elapsed time on call, overrides included; `override_hours` is the part worked as
    an override. `shifts` counts the distinct rotation turns the person worked as scheduled (a
    turn split by an override still counts once); `overrides` counts override shifts.
    `in_coverage_hours` is the part of `hours` inside the coverage given to `fairness` (equal to
    `hours` when none was given).
    """

    hours: float = 0.0
    shifts: int = 0
    override_hours: float = 0.0
    overrides: int = 0
    in_coverage_hours: float = 0.0


# --- wall-clock arithmetic --------------------------------------------------------------------


def local_handoff_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant the local wall clock in `zone` first reads `at` on `day`.

    An ambiguous time (clocks falling back) resolves to its first occurrence. A time skipped by
    a DST gap resolves to the first instant after the gap, i.e. the moment of the change.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # In a gap the two folds map to instants on either side of the transition: fold=0 uses the
    # offset before it and fold=1 the offset after. The transition is the earliest instant in
    # between whose wall reading is already past `naive`; bisect for it, which takes a fixed
    # number of steps (about 40 for a day-long gap at microsecond resolution).
    other = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(first, other), max(first, other)
    while hi - lo > _ONE_MICROSECOND:
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).replace(tzinfo=None) > naive:
            hi = mid
        else:
            lo = mid
    return hi


def _boundary(rotation: Rotation[P], k: int) -> datetime:
    """Start of turn k (UTC). Boundaries never decrease as k grows."""
    length = rotation.shift
    zone = rotation.zone
    if length.hours:
        first = local_handoff_instant(rotation.start, rotation.handoff_time, zone)
        return first + timedelta(hours=length.hours * k)
    day = rotation.first_handoff_date + timedelta(days=length.days * k)
    return local_handoff_instant(day, rotation.handoff_time, zone)


def _turn_containing(rotation: Rotation[P], at: datetime) -> int:
    """The k with boundary(k) <= at < boundary(k+1), for `at` not before the first handoff."""
    length = rotation.shift
    if length.hours:
        k = (at - _boundary(rotation, 0)) // timedelta(hours=length.hours)
    else:
        local_day = at.astimezone(rotation.zone).date()
        k = (local_day - rotation.first_handoff_date).days // length.days
    # The estimate is off by at most one or two turns (handoff later in the day than `at`, or
    # a DST gap pushing a handoff past midnight); walk to the exact turn.
    while k > 0 and _boundary(rotation, k) > at:
        k -= 1
    while _boundary(rotation, k + 1) <= at:
        k += 1
    return k


def turn_at(rotation: Rotation[P], at: datetime) -> int | None:
    """The rotation turn number in force at `at`, or None before the first handoff.

    Turns count from 0 at the first handoff; an empty rotation still has turns (nobody in them).
    """
    at = _require_aware(at, "at")
    if at < _boundary(rotation, 0):
        return None
    return _turn_containing(rotation, at)


# --- scheduled turns and overrides ------------------------------------------------------------


@dataclass(frozen=True)
class _Piece(Generic[P]):
    """A stretch of the plain rotation: who is scheduled and in which turn."""

    start: datetime
    end: datetime
    scheduled: P | None
    turn: int | None


def _scheduled_pieces(rotation: Rotation[P], start: datetime, end: datetime) -> Iterator[_Piece[P]]:
    """The plain rotation cut into its turns, clipped to [start, end), tiling the window."""
    people = rotation.participants
    if not people:
        yield _Piece(start, end, None, None)
        return
    first = _boundary(rotation, 0)
    cursor = start
    if cursor < first:
        stop = min(end, first)
        yield _Piece(cursor, stop, None, None)
        cursor = stop
    if cursor >= end:
        return
    k = _turn_containing(rotation, cursor)
    while cursor < end:
        stop = min(end, _boundary(rotation, k + 1))
        # A turn can be empty only if a DST gap swallowed a whole day (e.g. Samoa, 2011).
        if stop > cursor:
            yield _Piece(cursor, stop, people[k % len(people)], k)
        cursor = max(cursor, stop)
        k += 1


def _applies(override: Override[P], scheduled: P | None) -> bool:
    return override.replaces is None or (scheduled is not None and override.replaces == scheduled)


def _shifts_in_piece(piece: _Piece[P], overrides: Sequence[Override[P]]) -> Iterator[Shift[P]]:
    relevant = [
        o
        for o in overrides
        if o.start < piece.end and o.end > piece.start and _applies(o, piece.scheduled)
    ]
    cuts = sorted(
        {piece.start, piece.end}
        | {t for o in relevant for t in (o.start, o.end) if piece.start < t < piece.end}
    )
    current: Shift[P] | None = None
    for lo, hi in pairwise(cuts):
        winner: Override[P] | None = None
        for override in relevant:  # later in the list wins, so keep the last match
            if override.start <= lo and override.end >= hi:
                winner = override
        if winner is None:
            person, is_override, replaced = piece.scheduled, False, None
        else:
            person, is_override, replaced = winner.person, True, piece.scheduled
        if person is None:
            if current is not None:
                yield current
            current = None
            continue
        if (
            current is not None
            and current.end == lo
            and (current.person, current.is_override, current.replaced)
            == (person, is_override, replaced)
        ):
            current = Shift(person, current.start, hi, is_override, replaced, piece.turn)
            continue
        if current is not None:
            yield current
        current = Shift(person, lo, hi, is_override, replaced, piece.turn)
    if current is not None:
        yield current


def _utc_overrides(overrides: Iterable[Override[P]]) -> list[Override[P]]:
    """Overrides with UTC instants, order kept (order decides precedence)."""
    return [
        Override(o.person, o.start.astimezone(UTC), o.end.astimezone(UTC), o.replaces)
        for o in overrides
    ]


def _shifts(
    rotation: Rotation[P], overrides: Sequence[Override[P]], start: datetime, end: datetime
) -> list[Shift[P]]:
    """shifts_between on already-validated UTC input."""
    if start >= end:
        return []
    window = [o for o in overrides if o.start < end and o.end > start]
    result: list[Shift[P]] = []
    for piece in _scheduled_pieces(rotation, start, end):
        result.extend(_shifts_in_piece(piece, window))
    return result


def shifts_between(
    rotation: Rotation[P],
    overrides: Iterable[Override[P]],
    start: datetime,
    end: datetime,
) -> list[Shift[P]]:
    """Who is on call over [start, end): shifts in time order, clipped to the window, in UTC.

    Stretches where nobody is on call (before the first handoff with no override, or in an empty
    rotation) have no shift. Overrides are applied in list order, the later winning.
    """
    start = _require_aware(start, "start")
    end = _require_aware(end, "end")
    return _shifts(rotation, _utc_overrides(overrides), start, end)


def _segment_at(
    rotation: Rotation[P], overrides: Sequence[Override[P]], at: datetime
) -> Shift[P] | None:
    """The whole (unclipped) shift containing `at`, or None if nobody is on call."""
    # Shifts never cross a turn boundary, so computing over the turn that holds `at` yields the
    # full shift. Before the first handoff (or in an empty rotation) the "turn" is unbounded,
    # but shifts there can only begin and end at override edges, so those bound it.
    first = _boundary(rotation, 0) if rotation.participants else None
    lo: datetime | None
    hi: datetime | None
    if first is not None and at >= first:
        k = _turn_containing(rotation, at)
        lo, hi = _boundary(rotation, k), _boundary(rotation, k + 1)
    else:
        lo, hi = None, first
    if lo is None:
        lo = min([at, *(o.start for o in overrides)])
    if hi is None:
        hi = max([at + _ONE_MICROSECOND, *(o.end for o in overrides)])
    for shift in _shifts(rotation, overrides, lo, hi):
        if shift.contains(at):
            return shift
    return None


def on_call_at(rotation: Rotation[P], overrides: Iterable[Override[P]], at: datetime) -> OnCall[P]:
    """Who is on call at `at`, the whole shift they are in, and whether coverage is open.

    When coverage is closed at `at`, the answer also says when it next opens and who will be on
    call then (the on-call person outside coverage is still the one the schedule names: turns
    follow the calendar, and after-hours escalation policy decides whether to page them).
    """
    at = _require_aware(at, "at")
    normalized = _utc_overrides(overrides)
    shift = _segment_at(rotation, normalized, at)
    coverage = rotation.coverage
    if coverage is None or coverage.is_open(at):
        return OnCall(shift.person if shift else None, shift, True, None)
    opens = _require_aware(coverage.next_open(at), "coverage.next_open()")
    then = _segment_at(rotation, normalized, opens)
    return OnCall(
        shift.person if shift else None,
        shift,
        False,
        opens,
        then.person if then else None,
    )


def next_on_call(
    rotation: Rotation[P], overrides: Iterable[Override[P]], at: datetime
) -> Shift[P] | None:
    """The first shift after the one in force at `at` (the next one to start after `at` if nobody
    is on call then). None only when nobody will ever be on call again (an empty rotation past
    its last override).
    """
    at = _require_aware(at, "at")
    normalized = _utc_overrides(overrides)
    current = _segment_at(rotation, normalized, at)
    cursor = current.end if current is not None else at
    following = _segment_at(rotation, normalized, cursor)
    if following is not None and following != current:
        return following
    # Nobody on call at `cursor`: someone next comes on at the first handoff or when an
    # override starts, whichever is earliest and actually puts someone on call.
    candidates = {o.start for o in normalized if o.start > cursor}
    if rotation.participants:
        first = _boundary(rotation, 0)
        if first > cursor:
            candidates.add(first)
    for candidate in sorted(candidates):
        found = _segment_at(rotation, normalized, candidate)
        if found is not None:
            return found
    return None


def handoffs_between(rotation: Rotation[P], start: datetime, end: datetime) -> list[Handoff[P]]:
    """Rotation boundaries at instants in [start, end), ignoring overrides, in UTC.

    A handoff is listed even when the same person follows (a one-person rotation), because it
    is still a turn boundary on the calendar.
    """
    start = _require_aware(start, "start")
    end = _require_aware(end, "end")
    people = rotation.participants
    if not people or start >= end:
        return []
    first = _boundary(rotation, 0)
    if start <= first:
        k = 0
    else:
        k = _turn_containing(rotation, start)
        if _boundary(rotation, k) < start:
            k += 1
    result: list[Handoff[P]] = []
    at = _boundary(rotation, k)
    while at < end:
        outgoing = people[(k - 1) % len(people)] if k > 0 else None
        result.append(Handoff(at, outgoing, people[k % len(people)], k))
        k += 1
        at = _boundary(rotation, k)
    return result


# --- coverage gaps ----------------------------------------------------------------------------


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of half-open intervals; touching ones are joined, empty ones dropped."""
    merged: list[Interval] = []
    for lo, hi in sorted(i for i in intervals if i[0] < i[1]):
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Intersection of two merged interval lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo < hi:
            result.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def _subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """The parts of merged list `a` not in merged list `b`."""
    result: list[Interval] = []
    j = 0
    for lo, hi in a:
        cursor = lo
        while j < len(b) and b[j][1] <= cursor:
            j += 1
        k = j
        while k < len(b) and b[k][0] < hi:
            if b[k][0] > cursor:
                result.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < hi:
            result.append((cursor, hi))
    return result


def _coverage_windows(coverage: Coverage | None, start: datetime, end: datetime) -> list[Interval]:
    if coverage is None:
        return [(start, end)] if start < end else []
    windows = (
        (
            max(start, _require_aware(lo, "open interval start")),
            min(end, _require_aware(hi, "open interval end")),
        )
        for lo, hi in coverage.open_intervals(start, end)
    )
    return _merge(windows)


def _covered(
    rotation: Rotation[P], overrides: Sequence[Override[P]], start: datetime, end: datetime
) -> tuple[list[Interval], list[Interval]]:
    """(coverage windows, the parts of them with someone on call) for one rotation."""
    windows = _coverage_windows(rotation.coverage, start, end)
    staffed = _merge((s.start, s.end) for s in _shifts(rotation, overrides, start, end))
    return windows, _intersect(windows, staffed)


def gaps(
    rotation: Rotation[P],
    overrides: Iterable[Override[P]],
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """Periods in [start, end) inside the rotation's coverage with nobody on call, in UTC.

    Time outside coverage is never a gap. A rotation with no coverage set covers all the time,
    so its gaps are simply the stretches with nobody on call (e.g. before it starts).
    """
    start = _require_aware(start, "start")
    end = _require_aware(end, "end")
    windows, covered = _covered(rotation, _utc_overrides(overrides), start, end)
    return _subtract(windows, covered)


def gaps_for_role(
    rotations: Iterable[Rotation[P]],
    overrides: Iterable[Override[P]],
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """Gaps for a role staffed by several rotations (e.g. day and night, or two regions).

    An instant is a gap when some rotation's coverage is open then and no rotation whose
    coverage is open has anyone on call. The overrides belong to the role and are applied to
    each rotation (an override naming whom it replaces lands wherever that person is
    scheduled).
    """
    start = _require_aware(start, "start")
    end = _require_aware(end, "end")
    normalized = _utc_overrides(overrides)
    needed: list[Interval] = []
    staffed: list[Interval] = []
    for rotation in rotations:
        windows, covered = _covered(rotation, normalized, start, end)
        needed.extend(windows)
        staffed.extend(covered)
    return _subtract(_merge(needed), _merge(staffed))


# --- fairness ---------------------------------------------------------------------------------


@dataclass
class _Tally:
    seconds: float = 0.0
    override_seconds: float = 0.0
    overrides: int = 0
    in_coverage_seconds: float = 0.0
    turns: set[int] = field(default_factory=set)
    turnless: int = 0


def fairness(shifts: Iterable[Shift[P]], coverage: Coverage | None = None) -> dict[P, Fairness]:
    """Per-person on-call load over `shifts` (typically one window of shifts_between).

    Hours are elapsed time, so a weekly shift across the spring DST change counts 167 hours.
    With `coverage`, `in_coverage_hours` counts only the hours inside it, which is the fairer
    measure for business-hours roles whose turns run the whole week.
    """
    tallies: dict[P, _Tally] = {}
    for shift in shifts:
        tally = tallies.setdefault(shift.person, _Tally())
        seconds = shift.duration.total_seconds()
        tally.seconds += seconds
        if shift.is_override:
            tally.override_seconds += seconds
            tally.overrides += 1
        elif shift.turn is None:
            tally.turnless += 1
        else:
            tally.turns.add(shift.turn)
        if coverage is None:
            tally.in_coverage_seconds += seconds
        else:
            windows = _coverage_windows(coverage, shift.start, shift.end)
            tally.in_coverage_seconds += sum((hi - lo).total_seconds() for lo, hi in windows)
    return {
        person: Fairness(
            hours=t.seconds / 3600,
            shifts=len(t.turns) + t.turnless,
            override_hours=t.override_seconds / 3600,
            overrides=t.overrides,
            in_coverage_hours=t.in_coverage_seconds / 3600,
        )
        for person, t in tallies.items()
    }
