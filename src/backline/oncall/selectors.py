"""Reads of on-call data, shaped for the UI and the API: who is on call, shifts, gaps, fairness,
handoffs. Every schedule answer comes from the pure `schedule` module through `adapters`.

These selectors answer for the whole organisation (the schedule is not secret inside it); callers
check `Action.ONCALL_VIEW` or `Action.HANDOFF_VIEW` first. `handoff_for_user` is the checkpoint
for reaching one handoff.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.errors import InvalidInput, NotFound
from backline.oncall import adapters, schedule
from backline.oncall.models import Handoff, OncallRole, Override, Rotation, SwapRequest
from backline.tickets.models import Ticket, TimelineEntry, TimelineKind

MAX_WINDOW = timedelta(days=400)

Interval = tuple[datetime, datetime]


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def check_window(start: datetime, end: datetime, *, limit: timedelta = MAX_WINDOW) -> None:
    """Refuse naive, reversed or overly long windows with an error naming the field."""
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(
                f"{name} must carry a time zone (e.g. 2026-12-03T09:00:00-05:00).",
                {name: ["Give an offset or Z."]},
            )
    if end <= start:
        raise InvalidInput("end must be after start.", {"end": ["Must be after start."]})
    if end - start > limit:
        raise InvalidInput(
            f"The window is longer than {limit.days} days.",
            {"end": [f"At most {limit.days} days after start."]},
        )


def active_rotations(role: OncallRole | str | None = None) -> QuerySet[Rotation]:
    """Active rotations (of one role), members prefetched, coverage calendars joined."""
    rotations = (
        Rotation.objects.filter(is_active=True)
        .select_related("coverage", "team")
        .prefetch_related("members", "coverage__holidays")
        .order_by("role", "id")
    )
    if role is not None:
        rotations = rotations.filter(role=OncallRole(role))
    return rotations


def _users(ids: Iterable[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    return User.objects.in_bulk(wanted) if wanted else {}


# --- who is on call ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OnCallAnswer:
    """Who answers for `role` at `at`, and whether their coverage is open then.

    `person` is the scheduled (or overriding) person even outside coverage; `next_coverage_start`
    and `next_person` say when coverage opens next and who will be on call then.
    """

    role: OncallRole
    at: datetime
    person: User | None
    rotation: Rotation | None
    in_coverage: bool
    shift_start: datetime | None = None
    shift_end: datetime | None = None
    is_override: bool = False
    next_coverage_start: datetime | None = None
    next_person: User | None = None

    @property
    def available(self) -> bool:
        """Someone is on call and inside coverage: they can take work now."""
        return self.person is not None and self.in_coverage


def _answer_for(rotation: Rotation, at: datetime) -> tuple[schedule.OnCall[int], Rotation]:
    pure, overrides = adapters.schedule_and_overrides(rotation, at, at + timedelta(seconds=1))
    return schedule.on_call_at(pure, overrides, at), rotation


def on_call_for(*, role: OncallRole | str, at: datetime | None = None) -> OnCallAnswer:
    """Who is on call for `role` at `at` (default now).

    A role may be staffed by several rotations (day and night, two regions): the first active
    rotation (by id) whose coverage is open with someone on call answers; when none is, the
    answer is outside coverage and names the earliest next opening and who is on call then.
    """
    role = OncallRole(role)
    at = _now(at)
    found = [_answer_for(rotation, at) for rotation in active_rotations(role)]
    if not found:
        return OnCallAnswer(role=role, at=at, person=None, rotation=None, in_coverage=False)
    chosen = next(((a, r) for a, r in found if a.in_coverage and a.person is not None), None)
    if chosen is None:
        chosen = next(((a, r) for a, r in found if a.in_coverage), None)
    if chosen is None:
        chosen = min(
            found,
            key=lambda pair: (
                pair[0].next_coverage_start or datetime.max.replace(tzinfo=at.tzinfo),
                pair[0].next_coverage_person is None,
            ),
        )
    answer, rotation = chosen
    people = _users([answer.person, answer.next_coverage_person])
    shift = answer.shift
    return OnCallAnswer(
        role=role,
        at=at,
        person=people.get(answer.person) if answer.person is not None else None,
        rotation=rotation,
        in_coverage=answer.in_coverage,
        shift_start=shift.start if shift else None,
        shift_end=shift.end if shift else None,
        is_override=shift.is_override if shift else False,
        next_coverage_start=answer.next_coverage_start,
        next_person=(
            people.get(answer.next_coverage_person)
            if answer.next_coverage_person is not None
            else None
        ),
    )


def on_call_now(*, now: datetime | None = None) -> list[OnCallAnswer]:
    """One answer per on-call role, in the order Tier 3, Monitoring, Investigator (for the header
    every page shows)."""
    at = _now(now)
    return [on_call_for(role=role, at=at) for role in OncallRole]


# --- shifts, gaps, schedules ------------------------------------------------------------------


@dataclass(frozen=True)
class ShiftRow:
    """One shift with people resolved, for tables, calendars and the API."""

    rotation: Rotation
    person: User
    start: datetime
    end: datetime
    is_override: bool
    replaced: User | None
    turn: int | None

    @property
    def role(self) -> OncallRole:
        return OncallRole(self.rotation.role)


def _pure_shifts(rotation: Rotation, start: datetime, end: datetime) -> list[schedule.Shift[int]]:
    pure, overrides = adapters.schedule_and_overrides(rotation, start, end)
    return schedule.shifts_between(pure, overrides, start, end)


def _rows(
    rotation: Rotation, shifts: Sequence[schedule.Shift[int]], people: dict[int, User]
) -> list[ShiftRow]:
    return [
        ShiftRow(
            rotation=rotation,
            person=people[s.person],
            start=s.start,
            end=s.end,
            is_override=s.is_override,
            replaced=people.get(s.replaced) if s.replaced is not None else None,
            turn=s.turn,
        )
        for s in shifts
        if s.person in people
    ]


def rotation_shifts(*, rotation: Rotation, start: datetime, end: datetime) -> list[ShiftRow]:
    """Shifts of one rotation over [start, end), clipped to the window, overrides applied."""
    check_window(start, end)
    shifts = _pure_shifts(rotation, start, end)
    people = _users([s.person for s in shifts] + [s.replaced for s in shifts])
    return _rows(rotation, shifts, people)


def whole_shift_at(rotation: Rotation, at: datetime) -> schedule.Shift[int] | None:
    """The whole (unclipped) shift of the rotation in force at `at`."""
    answer, _ = _answer_for(rotation, at)
    return answer.shift


def role_gaps(*, role: OncallRole | str, start: datetime, end: datetime) -> list[Interval]:
    """Periods in [start, end) when the role's coverage is open and nobody answers."""
    check_window(start, end)
    rotations = list(active_rotations(role))
    if not rotations:
        return []
    pures = []
    overrides: list[schedule.Override[int]] = []
    for rotation in rotations:
        pure, near = adapters.schedule_and_overrides(rotation, start, end)
        pures.append(pure)
        overrides.extend(near)
    if len(rotations) == 1:
        return schedule.gaps(pures[0], overrides, start, end)
    # Overrides of different rotations apply role-wide in gaps_for_role; keep creation order.
    return schedule.gaps_for_role(pures, overrides, start, end)


def gaps_ahead(*, days: int = 30, now: datetime | None = None) -> dict[OncallRole, list[Interval]]:
    """Uncovered periods in the next `days` days for every role (the UI highlights them)."""
    if not 1 <= days <= 366:
        raise InvalidInput("days must be 1 to 366.", {"days": ["Between 1 and 366."]})
    start = _now(now)
    end = start + timedelta(days=days)
    return {role: role_gaps(role=role, start=start, end=end) for role in OncallRole}


@dataclass
class RoleSchedule:
    """Everything a week or month view of one role shows."""

    role: OncallRole
    start: datetime
    end: datetime
    rotations: list[Rotation] = field(default_factory=list)
    shifts: list[ShiftRow] = field(default_factory=list)
    gaps: list[Interval] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)


def role_schedule(*, role: OncallRole | str, start: datetime, end: datetime) -> RoleSchedule:
    """Shifts of every active rotation of `role` over [start, end), the role's gaps and the
    stored overrides touching the window (for a week or month view)."""
    check_window(start, end)
    role = OncallRole(role)
    rotations = list(active_rotations(role))
    pure_by_rotation = [(r, _pure_shifts(r, start, end)) for r in rotations]
    people = _users(
        [s.person for _, shifts in pure_by_rotation for s in shifts]
        + [s.replaced for _, shifts in pure_by_rotation for s in shifts]
    )
    rows = [row for r, shifts in pure_by_rotation for row in _rows(r, shifts, people)]
    rows.sort(key=lambda row: (row.start, row.rotation.pk))
    overrides = list(
        Override.objects.filter(rotation__in=rotations, start__lt=end, end__gt=start)
        .select_related("person", "replaces", "created_by", "rotation")
        .order_by("start", "id")
    )
    return RoleSchedule(
        role=role,
        start=start,
        end=end,
        rotations=rotations,
        shifts=rows,
        gaps=role_gaps(role=role, start=start, end=end),
        overrides=overrides,
    )


# --- fairness ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FairnessRow:
    person: User
    hours: float
    shifts: int
    override_hours: float
    overrides: int
    in_coverage_hours: float


def fairness_report(
    *, start: datetime, end: datetime, role: OncallRole | str | None = None
) -> list[FairnessRow]:
    """On-call hours and shifts per person over [start, end), overrides counted, summed over the
    active rotations (of one role), busiest first."""
    check_window(start, end)
    totals: dict[int, list[float]] = {}
    for rotation in active_rotations(role):
        pure, overrides = adapters.schedule_and_overrides(rotation, start, end)
        shifts = schedule.shifts_between(pure, overrides, start, end)
        for person, tally in schedule.fairness(shifts, pure.coverage).items():
            row = totals.setdefault(person, [0.0, 0, 0.0, 0, 0.0])
            row[0] += tally.hours
            row[1] += tally.shifts
            row[2] += tally.override_hours
            row[3] += tally.overrides
            row[4] += tally.in_coverage_hours
    people = _users(totals)
    rows = [
        FairnessRow(
            person=people[pk],
            hours=round(t[0], 4),
            shifts=int(t[1]),
            override_hours=round(t[2], 4),
            overrides=int(t[3]),
            in_coverage_hours=round(t[4], 4),
        )
        for pk, t in totals.items()
        if pk in people
    ]
    rows.sort(key=lambda r: (-r.hours, r.person.username))
    return rows


# --- overrides, swaps, handoffs ---------------------------------------------------------------


def overrides_between(
    *, start: datetime, end: datetime, rotation: Rotation | None = None
) -> QuerySet[Override]:
    check_window(start, end)
    rows = Override.objects.filter(start__lt=end, end__gt=start).select_related(
        "person", "replaces", "created_by", "rotation"
    )
    if rotation is not None:
        rows = rows.filter(rotation=rotation)
    return rows.order_by("start", "id")


def swaps_for_user(*, user: User) -> QuerySet[SwapRequest]:
    """Swaps the person asked for or was asked to take (all of them for managers)."""
    from django.db.models import Q

    rows = SwapRequest.objects.select_related("requester", "counterpart", "rotation")
    from backline.accounts.permissions import can

    if not can(user, Action.OVERRIDE_ANY):
        rows = rows.filter(Q(requester=user) | Q(counterpart=user))
    return rows


def handoffs_for_user(*, user: User, rotation: Rotation | None = None) -> QuerySet[Handoff]:
    """Handoff records, newest first (engineers and leads)."""
    require(user, Action.HANDOFF_VIEW)
    rows = Handoff.objects.select_related("rotation", "outgoing", "incoming", "acknowledged_by")
    if rotation is not None:
        rows = rows.filter(rotation=rotation)
    return rows


def handoff_for_user(*, user: User, handoff_id: int) -> Handoff:
    """One handoff, for people who may read handoff reports; raises NotFound or PermissionDenied."""
    found = handoffs_for_user(user=user).filter(pk=handoff_id).first()
    if found is None:
        raise NotFound(f"No handoff {handoff_id}.")
    return found


def pending_handoff_for(*, user: User) -> Handoff | None:
    """The handoff waiting for this person's acknowledgement, if any (for a banner)."""
    return (
        Handoff.objects.filter(incoming=user, acknowledged_at__isnull=True)
        .select_related("rotation", "outgoing")
        .order_by("-at")
        .first()
    )


# --- routing state ----------------------------------------------------------------------------


def latest_routing(ticket: Ticket) -> TimelineEntry | None:
    """The ticket's most recent routing decision."""
    return ticket.timeline.filter(kind=TimelineKind.ROUTING).order_by("-at", "-id").first()


def ticket_routed_after_hours(ticket: Ticket) -> bool:
    """Whether the ticket was routed outside Tier 3 coverage to the monitoring on-call (the
    "after hours" marking, kept in the routing timeline entry's data)."""
    return ticket.timeline.filter(kind=TimelineKind.ROUTING, data__after_hours=True).exists()
