"""Writes to on-call data: rotations, overrides, swaps and calendar-feed tokens.

Naming: ``<noun>_<verb>(*, actor, ...)``. Permission checks happen here, so the UI, the API and
tasks obey the same rules. Each public function is one transaction with its audit row. Handoffs
live in handoff.py and ticket routing in routing.py.

Who may change what:
* rotations: managers and admins (`ROTATION_MANAGE`);
* overrides: anyone on an on-call role for their *own* shifts (the override must replace
  themselves, and only takes effect while they are scheduled); managers and admins for anyone's;
* swaps: a rotation member asks, the counterpart accepts or declines, the requester may cancel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from backline.accounts.models import Team, User
from backline.accounts.permissions import Action, can, require
from backline.audit.services import audit_record
from backline.calendars.models import Calendar
from backline.errors import Conflict, InvalidInput, NotFound
from backline.oncall import adapters, schedule
from backline.oncall.models import (
    FeedToken,
    OncallRole,
    Override,
    Rotation,
    RotationMember,
    ShiftUnit,
    SwapRequest,
    SwapStatus,
    feed_digest,
    new_feed_secret,
)

MAX_OVERRIDE = timedelta(days=92)
MAX_SHIFT_COUNT = {ShiftUnit.WEEKS: 8, ShiftUnit.DAYS: 56, ShiftUnit.HOURS: 24 * 14}

ROTATION_FIELDS = (
    "name",
    "role",
    "team",
    "time_zone",
    "shift_unit",
    "shift_count",
    "handoff_weekday",
    "handoff_time",
    "start_date",
    "coverage",
)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, {field: [message]})


# --- rotations --------------------------------------------------------------------------------


def _check_member(rotation_role: str, user: User, field: str = "members") -> None:
    needed = OncallRole(rotation_role).person_role
    if not user.is_active:
        raise _invalid(field, f"{user.name} is deactivated.")
    if needed not in user.roles:
        raise _invalid(
            field, f"{user.name} does not hold the {needed.label} role this rotation needs."
        )


def _apply_rotation_fields(rotation: Rotation, fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(ROTATION_FIELDS))
    if unknown:
        raise InvalidInput(
            f"Unknown fields: {', '.join(unknown)}.", {name: ["Unknown field."] for name in unknown}
        )
    for name, value in fields.items():
        if name == "name":
            value = str(value).strip()
            if not value:
                raise _invalid("name", "Name the rotation.")
            if len(value) > 100:
                raise _invalid("name", "At most 100 characters.")
        elif name == "role":
            if value not in OncallRole.values:
                raise _invalid("role", f"Choose one of {', '.join(OncallRole.values)}.")
        elif name == "team":
            if not isinstance(value, Team):
                raise _invalid("team", "Choose a team.")
        elif name == "time_zone":
            try:
                ZoneInfo(str(value))
            except (ZoneInfoNotFoundError, ValueError):
                raise _invalid(
                    "time_zone", f"{value!r} is not an IANA time zone (e.g. America/New_York)."
                ) from None
        elif name == "shift_unit":
            if value not in ShiftUnit.values:
                raise _invalid("shift_unit", f"Choose one of {', '.join(ShiftUnit.values)}.")
        elif name == "handoff_weekday":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
                raise _invalid("handoff_weekday", "0 (Monday) to 6 (Sunday).")
        elif name == "handoff_time":
            if not isinstance(value, time) or value.tzinfo is not None:
                raise _invalid("handoff_time", "A local wall-clock time such as 09:00.")
        elif name == "start_date":
            if isinstance(value, datetime) or not isinstance(value, date):
                raise _invalid("start_date", "A date such as 2026-12-03.")
        elif name == "coverage" and value is not None and not isinstance(value, Calendar):
            raise _invalid("coverage", "Choose a business calendar, or none for 24x7.")
        setattr(rotation, name, value)
    count = rotation.shift_count
    limit = MAX_SHIFT_COUNT[ShiftUnit(rotation.shift_unit)]
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= limit:
        raise _invalid("shift_count", f"1 to {limit} {rotation.shift_unit} per turn.")


def _set_members(rotation: Rotation, members: Sequence[User]) -> None:
    seen: set[int] = set()
    for user in members:
        if user.pk in seen:
            raise _invalid("members", f"{user.name} is listed twice.")
        seen.add(user.pk)
        _check_member(rotation.role, user)
    rotation.members.all().delete()
    RotationMember.objects.bulk_create(
        RotationMember(rotation=rotation, user=user, position=i) for i, user in enumerate(members)
    )


def _save_rotation(rotation: Rotation) -> None:
    if Rotation.objects.filter(name=rotation.name).exclude(pk=rotation.pk).exists():
        raise _invalid("name", f"A rotation named {rotation.name!r} already exists.")
    rotation.save()


def _schedule_handoffs(rotation: Rotation, now: datetime) -> None:
    # Imported here: tasks imports handoff, which imports this module's helpers.
    from backline.oncall.tasks import schedule_next_handoff

    if rotation.role == OncallRole.TIER3 and rotation.is_active:
        schedule_next_handoff(rotation=rotation, after=now)


@transaction.atomic
def rotation_create(
    *,
    actor: User,
    fields: Mapping[str, Any],
    members: Sequence[User] = (),
    now: datetime | None = None,
) -> Rotation:
    """Create a rotation (managers and admins). `fields` holds ROTATION_FIELDS; name, role, team
    and start_date are required, the rest default to a weekly Thursday 09:00 New York turn."""
    require(actor, Action.ROTATION_MANAGE)
    missing = [name for name in ("name", "role", "team", "start_date") if fields.get(name) is None]
    if missing:
        raise InvalidInput(
            f"Missing: {', '.join(missing)}.",
            {name: ["This field is required."] for name in missing},
        )
    rotation = Rotation()
    _apply_rotation_fields(rotation, fields)
    _save_rotation(rotation)
    _set_members(rotation, members)
    audit_record(
        actor=actor,
        action="oncall.rotation.create",
        detail={"rotation": rotation.pk, "name": rotation.name, "members": [u.pk for u in members]},
    )
    _schedule_handoffs(rotation, _now(now))
    return rotation


@transaction.atomic
def rotation_update(
    *,
    actor: User,
    rotation: Rotation,
    fields: Mapping[str, Any] | None = None,
    members: Sequence[User] | None = None,
    now: datetime | None = None,
) -> Rotation:
    """Change a rotation (managers and admins). Replacing `members` re-orders the turns from the
    start date, so past shifts are recomputed too; stored handoff records keep their people."""
    require(actor, Action.ROTATION_MANAGE)
    rotation = Rotation.objects.select_for_update().get(pk=rotation.pk)
    fields = dict(fields or {})
    if "role" in fields and fields["role"] != rotation.role and members is None:
        members = [m.user for m in rotation.members.select_related("user")]
    _apply_rotation_fields(rotation, fields)
    _save_rotation(rotation)
    if members is not None:
        _set_members(rotation, members)
    audit_record(
        actor=actor,
        action="oncall.rotation.update",
        detail={
            "rotation": rotation.pk,
            "fields": sorted(fields),
            "members": None if members is None else [u.pk for u in members],
        },
    )
    _schedule_handoffs(rotation, _now(now))
    return rotation


@transaction.atomic
def rotation_deactivate(*, actor: User, rotation: Rotation) -> Rotation:
    """Retire a rotation: it stops answering and scheduling, its history stays."""
    require(actor, Action.ROTATION_MANAGE)
    if rotation.is_active:
        rotation.is_active = False
        rotation.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor, action="oncall.rotation.deactivate", detail={"rotation": rotation.pk}
        )
    return rotation


# --- overrides --------------------------------------------------------------------------------


def _check_window(start: datetime, end: datetime, now: datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise _invalid(name, "Give a date and time with a time zone.")
    if end <= start:
        raise _invalid("end", "The end must be after the start.")
    if end - start > MAX_OVERRIDE:
        raise _invalid("end", f"An override lasts at most {MAX_OVERRIDE.days} days.")
    if end <= now:
        raise _invalid("end", "The window is over already.")


def _scheduled_windows(
    rotation: Rotation, person: User, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Where `person` is the rotation's scheduled person (overrides ignored) in [start, end)."""
    pure = adapters.to_schedule(rotation, start, end)
    return [
        (s.start, s.end)
        for s in schedule.shifts_between(pure, [], start, end)
        if s.person == person.pk
    ]


def _eligible(rotation: Rotation, person: User) -> bool:
    return rotation.members.filter(user=person).exists() or (
        person.is_active and OncallRole(rotation.role).person_role in person.roles
    )


@transaction.atomic
def override_create(
    *,
    actor: User,
    rotation: Rotation,
    person: User,
    start: datetime,
    end: datetime,
    replaces: User | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Override:
    """Put `person` on call in [start, end) on `rotation`.

    Engineers may only hand over their own shifts: `replaces` must be themselves and they must be
    scheduled somewhere in the window (the override then applies only while they are). Managers
    and admins may override anyone, with or without `replaces`.
    """
    if not (can(actor, Action.OVERRIDE_OWN) or can(actor, Action.OVERRIDE_ANY)):
        require(actor, Action.OVERRIDE_OWN)  # raises, naming the action
    now = _now(now)
    _check_window(start, end, now)
    if not rotation.is_active:
        raise Conflict(f"{rotation.name} is retired.")
    manager = can(actor, Action.OVERRIDE_ANY)
    if not manager and (replaces is None or replaces.pk != actor.pk):
        raise PermissionDenied(
            "You may only hand over your own shifts: the override must replace you "
            "(managers may override anyone)."
        )
    if replaces is not None and replaces.pk == person.pk:
        raise _invalid("person", "The person covering must differ from the person replaced.")
    if not person.is_active or not _eligible(rotation, person):
        raise _invalid(
            "person",
            f"{person.name} is neither on {rotation.name} nor holds the "
            f"{OncallRole(rotation.role).person_role.label} role.",
        )
    if replaces is not None and not _scheduled_windows(rotation, replaces, start, end):
        raise _invalid(
            "replaces", f"{replaces.name} is not scheduled on {rotation.name} in that window."
        )
    override = Override.objects.create(
        rotation=rotation,
        person=person,
        replaces=replaces,
        start=start,
        end=end,
        reason=reason.strip()[:200],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="oncall.override.create",
        detail={
            "override": override.pk,
            "rotation": rotation.pk,
            "person": person.pk,
            "replaces": replaces.pk if replaces else None,
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )
    return override


@transaction.atomic
def override_delete(*, actor: User, override: Override, now: datetime | None = None) -> None:
    """Remove an override; the rotation applies again. The creator or the person it replaces may
    remove it while it has not ended; managers and admins any time."""
    now = _now(now)
    if not can(actor, Action.OVERRIDE_ANY):
        require(actor, Action.OVERRIDE_OWN)
        if actor.pk not in (override.created_by_id, override.replaces_id):
            raise Conflict("Only its creator, the person it replaces or a manager may remove it.")
        if override.end <= now:
            raise Conflict("This override is over; ask a manager to change history.")
    audit_record(
        actor=actor,
        action="oncall.override.delete",
        detail={
            "override": override.pk,
            "rotation": override.rotation_id,
            "person": override.person_id,
            "start": override.start.isoformat(),
            "end": override.end.isoformat(),
        },
    )
    override.delete()


# --- swaps ------------------------------------------------------------------------------------


@transaction.atomic
def swap_request(
    *,
    actor: User,
    rotation: Rotation,
    counterpart: User,
    start: datetime,
    end: datetime,
    return_start: datetime | None = None,
    return_end: datetime | None = None,
    message: str = "",
    now: datetime | None = None,
) -> SwapRequest:
    """Ask `counterpart` to cover the requester in [start, end), optionally taking the
    counterpart's [return_start, return_end) in exchange. Nothing changes until accepted."""
    require(actor, Action.OVERRIDE_OWN)
    now = _now(now)
    _check_window(start, end, now)
    if counterpart.pk == actor.pk:
        raise _invalid("counterpart", "Choose someone else.")
    if not rotation.members.filter(user=actor).exists():
        raise Conflict(f"You are not on {rotation.name}.")
    if not _eligible(rotation, counterpart):
        raise _invalid("counterpart", f"{counterpart.name} cannot take {rotation.name} shifts.")
    if not _scheduled_windows(rotation, actor, start, end):
        raise _invalid("start", f"You are not scheduled on {rotation.name} in that window.")
    if (return_start is None) != (return_end is None):
        raise _invalid("return_end", "Give both ends of the return window, or neither.")
    if return_start is not None and return_end is not None:
        _check_window(return_start, return_end, now)
        if not _scheduled_windows(rotation, counterpart, return_start, return_end):
            raise _invalid(
                "return_start", f"{counterpart.name} is not scheduled in the return window."
            )
    swap = SwapRequest.objects.create(
        rotation=rotation,
        requester=actor,
        counterpart=counterpart,
        start=start,
        end=end,
        return_start=return_start,
        return_end=return_end,
        message=message.strip()[:500],
    )
    audit_record(actor=actor, action="oncall.swap.request", detail={"swap": swap.pk})
    return swap


def _decide(swap: SwapRequest, to: SwapStatus, now: datetime) -> SwapRequest:
    """Claim the undecided swap; exactly one decision wins."""
    claimed = SwapRequest.objects.filter(pk=swap.pk, status=SwapStatus.REQUESTED).update(
        status=to, decided_at=now
    )
    fresh = SwapRequest.objects.select_related("rotation", "requester", "counterpart").get(
        pk=swap.pk
    )
    if claimed != 1:
        raise Conflict(f"This swap is already {fresh.get_status_display().lower()}.")
    return fresh


@transaction.atomic
def swap_accept(*, actor: User, swap: SwapRequest, now: datetime | None = None) -> list[Override]:
    """The counterpart accepts: the overrides are created (once, even if accepted twice)."""
    require(actor, Action.OVERRIDE_OWN)
    if actor.pk != swap.counterpart_id:
        raise Conflict("Only the person asked may accept this swap.")
    now = _now(now)
    if swap.end <= now:
        raise Conflict("The swap window is over.")
    swap = _decide(swap, SwapStatus.ACCEPTED, now)
    created = [
        Override.objects.create(
            rotation=swap.rotation,
            person=swap.counterpart,
            replaces=swap.requester,
            start=swap.start,
            end=swap.end,
            reason=f"Swap #{swap.pk}",
            swap=swap,
            created_by=actor,
        )
    ]
    if swap.return_start is not None and swap.return_end is not None:
        created.append(
            Override.objects.create(
                rotation=swap.rotation,
                person=swap.requester,
                replaces=swap.counterpart,
                start=swap.return_start,
                end=swap.return_end,
                reason=f"Swap #{swap.pk} (return)",
                swap=swap,
                created_by=actor,
            )
        )
    audit_record(
        actor=actor,
        action="oncall.swap.accept",
        detail={"swap": swap.pk, "overrides": [o.pk for o in created]},
    )
    return created


@transaction.atomic
def swap_decline(*, actor: User, swap: SwapRequest, now: datetime | None = None) -> SwapRequest:
    """The counterpart declines."""
    if actor.pk != swap.counterpart_id:
        raise Conflict("Only the person asked may decline this swap.")
    swap = _decide(swap, SwapStatus.DECLINED, _now(now))
    audit_record(actor=actor, action="oncall.swap.decline", detail={"swap": swap.pk})
    return swap


@transaction.atomic
def swap_cancel(*, actor: User, swap: SwapRequest, now: datetime | None = None) -> SwapRequest:
    """The requester withdraws an undecided request."""
    if actor.pk != swap.requester_id:
        raise Conflict("Only the person who asked may cancel this swap.")
    swap = _decide(swap, SwapStatus.CANCELED, _now(now))
    audit_record(actor=actor, action="oncall.swap.cancel", detail={"swap": swap.pk})
    return swap


# --- calendar feeds ---------------------------------------------------------------------------


@transaction.atomic
def feed_token_create(
    *, actor: User, rotation: Rotation | None = None, person: User | None = None, name: str = ""
) -> tuple[FeedToken, str]:
    """A secret iCalendar feed URL for one rotation or one person; returns the token and its
    secret, which is never shown again."""
    require(actor, Action.ONCALL_VIEW)
    if (rotation is None) == (person is None):
        raise InvalidInput(
            "A feed is for one rotation or one person.",
            {"rotation": ["Give a rotation or a person, not both."]},
        )
    for _attempt in range(3):
        secret = new_feed_secret()
        try:
            with transaction.atomic():
                token = FeedToken.objects.create(
                    owner=actor,
                    rotation=rotation,
                    person=person,
                    name=name.strip()[:100],
                    digest=feed_digest(secret),
                    hint=secret[:8],
                )
            break
        except IntegrityError:  # pragma: no cover - a 256-bit collision
            continue
    else:  # pragma: no cover
        raise Conflict("Could not create a feed token; try again.")
    audit_record(
        actor=actor,
        action="oncall.feed.create",
        detail={
            "feed": token.pk,
            "rotation": rotation.pk if rotation else None,
            "person": person.pk if person else None,
        },
    )
    return token, secret


@transaction.atomic
def feed_token_revoke(*, actor: User, token_id: int, now: datetime | None = None) -> FeedToken:
    """Revoke a feed: its URL stops working at once. Owners revoke their own; managers any."""
    token = FeedToken.objects.filter(pk=token_id).first()
    if token is None or (token.owner_id != actor.pk and not can(actor, Action.ROTATION_MANAGE)):
        raise NotFound(f"You have no calendar feed {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = _now(now)
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="oncall.feed.revoke", detail={"feed": token.pk})
    return token


def feed_token_for_secret(secret: str, *, now: datetime | None = None) -> FeedToken | None:
    """The active feed with this secret, or None; records the last use at most once an hour."""
    if not secret:
        return None
    token = (
        FeedToken.objects.select_related("rotation", "person", "owner")
        .filter(digest=feed_digest(secret), revoked_at__isnull=True, owner__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = _now(now)
    if token.last_used_at is None or now - token.last_used_at > timedelta(hours=1):
        FeedToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
