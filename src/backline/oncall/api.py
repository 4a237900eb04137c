"""API: on-call rotations, overrides, swaps, who is on call, shifts, gaps, fairness, handoffs and
calendar feeds. Thin: validate the shape, call a service or selector, return a schema.

Reads of the schedule need `ONCALL_VIEW` (every role); writes are decided by the services.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import AwareDatetime, ConfigDict

from backline.accounts.models import Team, User
from backline.accounts.permissions import Action, require
from backline.calendars.models import Calendar
from backline.errors import InvalidInput, NotFound
from backline.oncall import handoff as handoffs
from backline.oncall import selectors, services
from backline.oncall.models import (
    FeedToken,
    Handoff,
    HandoffStatus,
    OncallRole,
    Override,
    Rotation,
    ShiftUnit,
    SwapRequest,
)

router = Router(tags=["on-call"])


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


class PersonOut(Schema):
    username: str
    name: str


class RotationRef(Schema):
    id: int
    name: str
    role: str


class RotationPatch(StrictIn):
    name: str | None = Field(None, max_length=100)
    role: OncallRole | None = None
    team: str | None = Field(None, description="The team's slug.")
    time_zone: str | None = Field(None, description="IANA zone of the handoff time.")
    shift_unit: ShiftUnit | None = None
    shift_count: int | None = Field(None, ge=1, description="Units per turn (2 weeks, 12 hours).")
    handoff_weekday: int | None = Field(None, ge=0, le=6, description="0 = Monday ... 6 = Sunday.")
    handoff_time: time | None = Field(None, description="Local wall-clock time, e.g. 09:00.")
    start_date: date | None = None
    coverage: int | None = Field(None, description="Business calendar id; null = round the clock.")
    members: list[str] | None = Field(None, description="Usernames in turn order.")


class RotationIn(RotationPatch):
    name: str = Field(..., max_length=100)
    role: OncallRole
    team: str
    start_date: date
    time_zone: str = "America/New_York"
    shift_unit: ShiftUnit = ShiftUnit.WEEKS
    shift_count: int = Field(1, ge=1)
    handoff_weekday: int = Field(3, ge=0, le=6)
    handoff_time: time = time(9)
    members: list[str] = Field(default_factory=list)


class RotationOut(Schema):
    id: int
    name: str
    role: str
    role_label: str
    team: str
    time_zone: str
    shift_unit: str
    shift_count: int
    handoff_weekday: int
    handoff_time: time
    start_date: date
    coverage: int | None
    coverage_name: str | None
    is_active: bool
    members: list[PersonOut]


class OnCallOut(Schema):
    role: str
    role_label: str
    at: datetime
    person: PersonOut | None
    rotation: RotationRef | None
    in_coverage: bool
    shift_start: datetime | None
    shift_end: datetime | None
    is_override: bool
    next_coverage_start: datetime | None = Field(description="null while coverage is open.")
    next_person: PersonOut | None = Field(description="Who is on call when coverage opens.")


class AtQuery(Schema):
    role: OncallRole
    at: AwareDatetime | None = Field(None, description="Default now; must carry a zone.")


class WindowQuery(Schema):
    start: AwareDatetime
    end: AwareDatetime


class FairnessQuery(WindowQuery):
    role: OncallRole | None = None


class GapsQuery(Schema):
    days: int = Field(30, ge=1, le=366)


class ShiftOut(Schema):
    rotation: RotationRef
    person: PersonOut
    start: datetime
    end: datetime
    is_override: bool
    replaced: PersonOut | None
    turn: int | None


class IntervalOut(Schema):
    start: datetime
    end: datetime


class RoleGapsOut(Schema):
    role: str
    role_label: str
    gaps: list[IntervalOut]


class FairnessOut(Schema):
    person: PersonOut
    hours: float
    shifts: int
    override_hours: float
    overrides: int
    in_coverage_hours: float


class OverrideIn(StrictIn):
    rotation: int
    person: str = Field(..., description="Username of who covers.")
    replaces: str | None = Field(None, description="Username of who is covered (yourself).")
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field("", max_length=200)


class OverrideQuery(WindowQuery):
    rotation: int | None = None


class OverrideOut(Schema):
    id: int
    rotation: RotationRef
    person: PersonOut
    replaces: PersonOut | None
    start: datetime
    end: datetime
    reason: str
    swap: int | None
    created_by: PersonOut
    created_at: datetime


class SwapIn(StrictIn):
    rotation: int
    counterpart: str = Field(..., description="Username of who you ask.")
    start: AwareDatetime
    end: AwareDatetime
    return_start: AwareDatetime | None = None
    return_end: AwareDatetime | None = None
    message: str = Field("", max_length=500)


class SwapOut(Schema):
    id: int
    rotation: RotationRef
    requester: PersonOut
    counterpart: PersonOut
    start: datetime
    end: datetime
    return_start: datetime | None
    return_end: datetime | None
    message: str
    status: str
    created_at: datetime
    decided_at: datetime | None


class HandoffOut(Schema):
    id: int
    rotation: RotationRef
    at: datetime
    turn: int
    outgoing: PersonOut
    incoming: PersonOut
    status: str
    status_label: str
    notes: str
    notes_updated_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: PersonOut | None
    transferred_at: datetime | None
    transfer_trigger: str
    transferred_tickets: list[str]
    report: dict[str, Any]


class NotesIn(StrictIn):
    notes: str


class FeedIn(StrictIn):
    rotation: int | None = None
    person: str | None = Field(None, description="Username; a person feed lists their shifts.")
    name: str = Field("", max_length=100)


class FeedOut(Schema):
    id: int
    name: str
    rotation: RotationRef | None
    person: PersonOut | None
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class FeedCreatedOut(FeedOut):
    url: str = Field(description="The secret feed URL; shown once, keep it private.")


# --- representations --------------------------------------------------------------------------


def _person(user: User | None) -> dict[str, str] | None:
    return None if user is None else {"username": user.username, "name": user.name}


def _rotation_ref(rotation: Rotation | None) -> dict[str, Any] | None:
    if rotation is None:
        return None
    return {"id": rotation.pk, "name": rotation.name, "role": rotation.role}


def _rotation_out(rotation: Rotation) -> dict[str, Any]:
    members = sorted(rotation.members.all(), key=lambda m: m.position)
    return {
        "id": rotation.pk,
        "name": rotation.name,
        "role": rotation.role,
        "role_label": rotation.role_label,
        "team": rotation.team.slug,
        "time_zone": rotation.time_zone,
        "shift_unit": rotation.shift_unit,
        "shift_count": rotation.shift_count,
        "handoff_weekday": rotation.handoff_weekday,
        "handoff_time": rotation.handoff_time,
        "start_date": rotation.start_date,
        "coverage": rotation.coverage_id,
        "coverage_name": rotation.coverage.name if rotation.coverage else None,
        "is_active": rotation.is_active,
        "members": [_person(m.user) for m in members],
    }


def _on_call_out(answer: selectors.OnCallAnswer) -> dict[str, Any]:
    return {
        "role": answer.role.value,
        "role_label": answer.role.label,
        "at": answer.at,
        "person": _person(answer.person),
        "rotation": _rotation_ref(answer.rotation),
        "in_coverage": answer.in_coverage,
        "shift_start": answer.shift_start,
        "shift_end": answer.shift_end,
        "is_override": answer.is_override,
        "next_coverage_start": answer.next_coverage_start,
        "next_person": _person(answer.next_person),
    }


def _override_out(o: Override) -> dict[str, Any]:
    return {
        "id": o.pk,
        "rotation": _rotation_ref(o.rotation),
        "person": _person(o.person),
        "replaces": _person(o.replaces),
        "start": o.start,
        "end": o.end,
        "reason": o.reason,
        "swap": o.swap_id,
        "created_by": _person(o.created_by),
        "created_at": o.created_at,
    }


def _swap_out(s: SwapRequest) -> dict[str, Any]:
    return {
        "id": s.pk,
        "rotation": _rotation_ref(s.rotation),
        "requester": _person(s.requester),
        "counterpart": _person(s.counterpart),
        "start": s.start,
        "end": s.end,
        "return_start": s.return_start,
        "return_end": s.return_end,
        "message": s.message,
        "status": s.status,
        "created_at": s.created_at,
        "decided_at": s.decided_at,
    }


def _handoff_out(h: Handoff) -> dict[str, Any]:
    return {
        "id": h.pk,
        "rotation": _rotation_ref(h.rotation),
        "at": h.at,
        "turn": h.turn,
        "outgoing": _person(h.outgoing),
        "incoming": _person(h.incoming),
        "status": h.status,
        "status_label": HandoffStatus(h.status).label,
        "notes": h.notes,
        "notes_updated_at": h.notes_updated_at,
        "acknowledged_at": h.acknowledged_at,
        "acknowledged_by": _person(h.acknowledged_by),
        "transferred_at": h.transferred_at,
        "transfer_trigger": h.transfer_trigger,
        "transferred_tickets": list(h.transferred_tickets or []),
        "report": h.report,
    }


def _feed_out(token: FeedToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "rotation": _rotation_ref(token.rotation),
        "person": _person(token.person),
        "hint": token.hint,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


# --- lookups ----------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _viewer(request: HttpRequest) -> User:
    user = _user(request)
    require(user, Action.ONCALL_VIEW)
    return user


def _rotation(rotation_id: int, field: str | None = None) -> Rotation:
    found = (
        Rotation.objects.select_related("team", "coverage")
        .prefetch_related("members__user", "coverage__holidays")
        .filter(pk=rotation_id)
        .first()
    )
    if found is None:
        if field:
            raise InvalidInput(f"No rotation {rotation_id}.", {field: ["Unknown rotation."]})
        raise NotFound(f"No rotation {rotation_id}.")
    return found


def _people(usernames: list[str], field: str) -> list[User]:
    found = {u.username: u for u in User.objects.filter(username__in=usernames)}
    unknown = [name for name in usernames if name not in found]
    if unknown:
        raise InvalidInput(
            f"Unknown people: {', '.join(unknown)}.", {field: [f"Unknown: {', '.join(unknown)}."]}
        )
    return [found[name] for name in usernames]


def _one_person(username: str, field: str) -> User:
    return _people([username], field)[0]


def _rotation_fields(payload: RotationPatch) -> dict[str, Any]:
    fields = payload.model_dump(exclude_unset=True, exclude={"members"})
    if "team" in fields:
        team = Team.objects.filter(slug=fields["team"]).first()
        if team is None:
            raise InvalidInput(f"No team {fields['team']!r}.", {"team": ["Unknown team slug."]})
        fields["team"] = team
    if "coverage" in fields and fields["coverage"] is not None:
        calendar = Calendar.objects.filter(pk=fields["coverage"]).first()
        if calendar is None:
            raise InvalidInput("Unknown calendar.", {"coverage": ["Unknown calendar id."]})
        fields["coverage"] = calendar
    for name in ("role", "shift_unit"):
        if fields.get(name) is not None:
            fields[name] = str(getattr(payload, name).value)
    return fields


# --- rotations --------------------------------------------------------------------------------


@router.get("/rotations", response=list[RotationOut], summary="Rotations, active first")
def list_rotations(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, Any]]:
    _viewer(request)
    rows = Rotation.objects.select_related("team", "coverage").prefetch_related("members__user")
    if not include_inactive:
        rows = rows.filter(is_active=True)
    return [_rotation_out(r) for r in rows.order_by("-is_active", "role", "name")]


@router.post("/rotations", response={201: RotationOut}, summary="Create a rotation (managers)")
def create_rotation(request: HttpRequest, payload: RotationIn) -> HttpStatus[dict[str, Any]]:
    rotation = services.rotation_create(
        actor=_user(request),
        fields=_rotation_fields(payload),
        members=_people(payload.members, "members"),
    )
    return HttpStatus(201, _rotation_out(_rotation(rotation.pk)))


@router.get("/rotations/{rotation_id}", response=RotationOut, summary="One rotation")
def get_rotation(request: HttpRequest, rotation_id: int) -> dict[str, Any]:
    _viewer(request)
    return _rotation_out(_rotation(rotation_id))


@router.patch("/rotations/{rotation_id}", response=RotationOut, summary="Change a rotation")
def update_rotation(
    request: HttpRequest, rotation_id: int, payload: RotationPatch
) -> dict[str, Any]:
    rotation = _rotation(rotation_id)
    members = None if payload.members is None else _people(payload.members, "members")
    services.rotation_update(
        actor=_user(request), rotation=rotation, fields=_rotation_fields(payload), members=members
    )
    return _rotation_out(_rotation(rotation_id))


@router.delete(
    "/rotations/{rotation_id}",
    response={204: None},
    summary="Retire a rotation (it stops answering; its history stays)",
)
def delete_rotation(request: HttpRequest, rotation_id: int) -> HttpStatus[None]:
    services.rotation_deactivate(actor=_user(request), rotation=_rotation(rotation_id))
    return HttpStatus(204, None)


@router.get(
    "/rotations/{rotation_id}/shifts",
    response=list[ShiftOut],
    summary="Shifts between two instants, overrides applied, clipped to the window",
)
def rotation_shifts(
    request: HttpRequest, rotation_id: int, window: Query[WindowQuery]
) -> list[dict[str, Any]]:
    _viewer(request)
    rows = selectors.rotation_shifts(
        rotation=_rotation(rotation_id), start=window.start, end=window.end
    )
    return [
        {
            "rotation": _rotation_ref(r.rotation),
            "person": _person(r.person),
            "start": r.start,
            "end": r.end,
            "is_override": r.is_override,
            "replaced": _person(r.replaced),
            "turn": r.turn,
        }
        for r in rows
    ]


# --- who is on call, gaps, fairness -----------------------------------------------------------


@router.get("/now", response=list[OnCallOut], summary="Who is on call now, for every role")
def now(request: HttpRequest) -> list[dict[str, Any]]:
    _viewer(request)
    return [_on_call_out(a) for a in selectors.on_call_now(now=timezone.now())]


@router.get("/at", response=OnCallOut, summary="Who is on call for a role at an instant")
def at(request: HttpRequest, query: Query[AtQuery]) -> dict[str, Any]:
    _viewer(request)
    return _on_call_out(selectors.on_call_for(role=query.role, at=query.at or timezone.now()))


@router.get("/gaps", response=list[RoleGapsOut], summary="Uncovered periods ahead, per role")
def gaps(request: HttpRequest, query: Query[GapsQuery]) -> list[dict[str, Any]]:
    _viewer(request)
    found = selectors.gaps_ahead(days=query.days, now=timezone.now())
    return [
        {
            "role": role.value,
            "role_label": role.label,
            "gaps": [{"start": lo, "end": hi} for lo, hi in intervals],
        }
        for role, intervals in found.items()
    ]


@router.get(
    "/fairness",
    response=list[FairnessOut],
    summary="On-call hours and shifts per person over a period, overrides counted",
)
def fairness(request: HttpRequest, query: Query[FairnessQuery]) -> list[dict[str, Any]]:
    _viewer(request)
    rows = selectors.fairness_report(start=query.start, end=query.end, role=query.role)
    return [
        {
            "person": _person(r.person),
            "hours": r.hours,
            "shifts": r.shifts,
            "override_hours": r.override_hours,
            "overrides": r.overrides,
            "in_coverage_hours": r.in_coverage_hours,
        }
        for r in rows
    ]


# --- overrides and swaps ----------------------------------------------------------------------


@router.get("/overrides", response=list[OverrideOut], summary="Overrides touching a window")
def list_overrides(request: HttpRequest, query: Query[OverrideQuery]) -> list[dict[str, Any]]:
    _viewer(request)
    rotation = _rotation(query.rotation, "rotation") if query.rotation is not None else None
    rows = selectors.overrides_between(start=query.start, end=query.end, rotation=rotation)
    return [_override_out(o) for o in rows]


@router.post(
    "/overrides",
    response={201: OverrideOut},
    summary="Hand over your own shifts (managers: anyone's) for a window",
)
def create_override(request: HttpRequest, payload: OverrideIn) -> HttpStatus[dict[str, Any]]:
    override = services.override_create(
        actor=_user(request),
        rotation=_rotation(payload.rotation, "rotation"),
        person=_one_person(payload.person, "person"),
        replaces=_one_person(payload.replaces, "replaces") if payload.replaces else None,
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
    )
    return HttpStatus(201, _override_out(override))


def _override(override_id: int) -> Override:
    found = (
        Override.objects.select_related("rotation", "person", "replaces", "created_by")
        .filter(pk=override_id)
        .first()
    )
    if found is None:
        raise NotFound(f"No override {override_id}.")
    return found


@router.get("/overrides/{override_id}", response=OverrideOut, summary="One override")
def get_override(request: HttpRequest, override_id: int) -> dict[str, Any]:
    _viewer(request)
    return _override_out(_override(override_id))


@router.delete(
    "/overrides/{override_id}",
    response={204: None},
    summary="Remove an override (the rotation applies again)",
)
def delete_override(request: HttpRequest, override_id: int) -> HttpStatus[None]:
    services.override_delete(actor=_user(request), override=_override(override_id))
    return HttpStatus(204, None)


def _swap(request: HttpRequest, swap_id: int) -> SwapRequest:
    found = selectors.swaps_for_user(user=_user(request)).filter(pk=swap_id).first()
    if found is None:
        raise NotFound(f"No swap {swap_id}.")
    return found


@router.get("/swaps", response=list[SwapOut], summary="Swaps you asked for or were asked to take")
def list_swaps(request: HttpRequest) -> list[dict[str, Any]]:
    return [_swap_out(s) for s in selectors.swaps_for_user(user=_viewer(request))]


@router.post("/swaps", response={201: SwapOut}, summary="Ask someone to swap shifts with you")
def create_swap(request: HttpRequest, payload: SwapIn) -> HttpStatus[dict[str, Any]]:
    swap = services.swap_request(
        actor=_user(request),
        rotation=_rotation(payload.rotation, "rotation"),
        counterpart=_one_person(payload.counterpart, "counterpart"),
        start=payload.start,
        end=payload.end,
        return_start=payload.return_start,
        return_end=payload.return_end,
        message=payload.message,
    )
    return HttpStatus(201, _swap_out(_swap(request, swap.pk)))


@router.post(
    "/swaps/{swap_id}/accept", response=SwapOut, summary="Accept a swap (creates the overrides)"
)
def accept_swap(request: HttpRequest, swap_id: int) -> dict[str, Any]:
    services.swap_accept(actor=_user(request), swap=_swap(request, swap_id))
    return _swap_out(_swap(request, swap_id))


@router.post("/swaps/{swap_id}/decline", response=SwapOut, summary="Decline a swap")
def decline_swap(request: HttpRequest, swap_id: int) -> dict[str, Any]:
    services.swap_decline(actor=_user(request), swap=_swap(request, swap_id))
    return _swap_out(_swap(request, swap_id))


@router.post("/swaps/{swap_id}/cancel", response=SwapOut, summary="Withdraw your swap request")
def cancel_swap(request: HttpRequest, swap_id: int) -> dict[str, Any]:
    services.swap_cancel(actor=_user(request), swap=_swap(request, swap_id))
    return _swap_out(_swap(request, swap_id))


# --- handoffs ---------------------------------------------------------------------------------


@router.get("/handoffs", response=list[HandoffOut], summary="Handoff records, newest first")
def list_handoffs(
    request: HttpRequest, rotation: int | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    scope = _rotation(rotation, "rotation") if rotation is not None else None
    rows = selectors.handoffs_for_user(user=_user(request), rotation=scope)
    return [_handoff_out(h) for h in rows[: max(1, min(limit, 100))]]


@router.get("/handoffs/{handoff_id}", response=HandoffOut, summary="One handoff with its report")
def get_handoff(request: HttpRequest, handoff_id: int) -> dict[str, Any]:
    return _handoff_out(selectors.handoff_for_user(user=_user(request), handoff_id=handoff_id))


@router.get(
    "/handoffs/{handoff_id}/markdown",
    response={200: str},
    summary="The handoff report as Markdown (text/markdown)",
)
def handoff_markdown(request: HttpRequest, handoff_id: int) -> HttpResponse:
    found = selectors.handoff_for_user(user=_user(request), handoff_id=handoff_id)
    response = HttpResponse(found.report_markdown, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="handoff-{found.pk}.md"'
    return response


@router.post(
    "/handoffs/{handoff_id}/acknowledge",
    response=HandoffOut,
    summary="Acknowledge as the incoming engineer (ownership moves now)",
)
def acknowledge_handoff(request: HttpRequest, handoff_id: int) -> dict[str, Any]:
    user = _user(request)
    found = selectors.handoff_for_user(user=user, handoff_id=handoff_id)
    handoffs.handoff_acknowledge(actor=user, handoff=found)
    return _handoff_out(selectors.handoff_for_user(user=user, handoff_id=handoff_id))


@router.post(
    "/handoffs/{handoff_id}/notes",
    response=HandoffOut,
    summary="Write notes as the outgoing engineer",
)
def handoff_notes(request: HttpRequest, handoff_id: int, payload: NotesIn) -> dict[str, Any]:
    user = _user(request)
    found = selectors.handoff_for_user(user=user, handoff_id=handoff_id)
    handoffs.handoff_add_notes(actor=user, handoff=found, notes=payload.notes)
    return _handoff_out(selectors.handoff_for_user(user=user, handoff_id=handoff_id))


# --- calendar feeds ---------------------------------------------------------------------------


@router.get("/feeds", response=list[FeedOut], summary="Your calendar feeds")
def list_feeds(request: HttpRequest) -> list[dict[str, Any]]:
    user = _viewer(request)
    rows = FeedToken.objects.filter(owner=user).select_related("rotation", "person")
    return [_feed_out(t) for t in rows]


@router.post(
    "/feeds",
    response={201: FeedCreatedOut},
    summary="Create a secret iCalendar feed URL for a rotation or a person",
)
def create_feed(request: HttpRequest, payload: FeedIn) -> HttpStatus[dict[str, Any]]:
    token, secret = services.feed_token_create(
        actor=_user(request),
        rotation=_rotation(payload.rotation, "rotation") if payload.rotation is not None else None,
        person=_one_person(payload.person, "person") if payload.person else None,
        name=payload.name,
    )
    path = reverse("oncall:feed", kwargs={"secret": secret})
    body = _feed_out(token) | {"url": f"{settings.SITE_URL}{path}"}
    return HttpStatus(201, body)


@router.delete("/feeds/{feed_id}", response={204: None}, summary="Revoke a calendar feed")
def revoke_feed(request: HttpRequest, feed_id: int) -> HttpStatus[None]:
    services.feed_token_revoke(actor=_user(request), token_id=feed_id)
    return HttpStatus(204, None)
