"""API: business calendars and SLA policies (read for everyone with a role, write for admins).

Writes are audited. Editing a policy never moves a running clock: tickets freeze their targets when
the clock starts (see tickets/sla.py). Editing a calendar's hours or holidays affects a running
clock the next time its due moments are recomputed (status change, acknowledgement, priority).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import ConfigDict, field_validator

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.audit.services import audit_record
from backline.calendars.models import Calendar, Holiday, default_hours
from backline.errors import Conflict, InvalidInput, NotFound
from backline.tickets.api import refuse_nul
from backline.tickets.choices import PRIORITY_MEANING, PRIORITY_RANK, Priority
from backline.tickets.models import SlaPolicy

router = Router(tags=["sla"])

# A year of minutes: no support target is longer, and the column is a 32-bit integer on PostgreSQL.
MAX_TARGET_MINUTES = 366 * 24 * 60


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


class HolidayIO(StrictIn):
    date: date
    name: str = Field(..., min_length=1, max_length=100)


class CalendarIn(StrictIn):
    name: str = Field(..., min_length=1, max_length=100)
    time_zone: str = Field("America/New_York", description="An IANA zone, e.g. Europe/Berlin.")
    is_24x7: bool = Field(False, description="Round the clock: hours and holidays are ignored.")
    weekly_hours: dict[str, list[list[str]]] = Field(
        default_factory=default_hours,
        description='Weekday (0 = Monday) to open intervals, e.g. {"0": [["09:00", "17:00"]]}.',
    )
    us_federal_holidays: bool = True
    holidays: list[HolidayIO] = Field(default_factory=list, description="Custom days off.")


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    is_24x7: bool
    weekly_hours: dict[str, list[list[str]]]
    us_federal_holidays: bool
    holidays: list[HolidayIO]
    used_by_policies: list[str] = Field(description="Priorities whose SLA policy uses it.")


class CalendarRef(Schema):
    id: int
    name: str


class SlaPolicyIn(StrictIn):
    acknowledge_minutes: int = Field(
        ..., ge=1, le=MAX_TARGET_MINUTES, description="Business minutes to acknowledge."
    )
    resolve_minutes: int = Field(
        ..., ge=1, le=MAX_TARGET_MINUTES, description="Business minutes to resolve."
    )
    calendar_id: int


class SlaPolicyOut(Schema):
    priority: str
    priority_label: str
    meaning: str
    acknowledge_minutes: int
    resolve_minutes: int
    calendar: CalendarRef


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _calendar_out(calendar: Calendar) -> dict[str, Any]:
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "is_24x7": calendar.is_24x7,
        "weekly_hours": calendar.weekly_hours,
        "us_federal_holidays": calendar.us_federal_holidays,
        "holidays": [{"date": h.date, "name": h.name} for h in calendar.holidays.all()],
        "used_by_policies": sorted(
            (p.priority for p in calendar.sla_policies.all()),
            key=lambda value: PRIORITY_RANK[Priority(value)],
        ),
    }


def _policy_out(policy: SlaPolicy) -> dict[str, Any]:
    priority = Priority(policy.priority)
    return {
        "priority": priority.value,
        "priority_label": priority.label,
        "meaning": PRIORITY_MEANING[priority],
        "acknowledge_minutes": policy.acknowledge_minutes,
        "resolve_minutes": policy.resolve_minutes,
        "calendar": {"id": policy.calendar.pk, "name": policy.calendar.name},
    }


def _calendars() -> QuerySet[Calendar]:
    return Calendar.objects.prefetch_related("holidays", "sla_policies")


def _get_calendar(calendar_id: int) -> Calendar:
    calendar = _calendars().filter(pk=calendar_id).first()
    if calendar is None:
        raise NotFound(f"No calendar {calendar_id}.")
    assert isinstance(calendar, Calendar)
    return calendar


def _check_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Unknown time zone {name!r}.",
            {"time_zone": ["Give an IANA time zone name, e.g. America/New_York."]},
        ) from None


def _check_holidays(holidays: list[HolidayIO]) -> None:
    seen: set[date] = set()
    for holiday in holidays:
        if holiday.date in seen:
            raise InvalidInput(
                f"{holiday.date.isoformat()} is listed twice.",
                {"holidays": [f"{holiday.date.isoformat()} is listed twice."]},
            )
        seen.add(holiday.date)


@transaction.atomic
def _calendar_save(*, actor: User, calendar: Calendar, data: CalendarIn) -> Calendar:
    """Create or replace a calendar and its holidays in one transaction, audited."""
    require(actor, Action.SLA_MANAGE)
    _check_time_zone(data.time_zone)
    _check_holidays(data.holidays)
    created = calendar.pk is None
    calendar.name = data.name.strip()
    calendar.time_zone = data.time_zone
    calendar.is_24x7 = data.is_24x7
    calendar.weekly_hours = data.weekly_hours
    calendar.us_federal_holidays = data.us_federal_holidays
    try:
        # A 24x7 calendar ignores its hours, so they may be left empty.
        calendar.full_clean(exclude=["weekly_hours"] if data.is_24x7 else None)
    except ValidationError as exc:
        fields = {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
        summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
        raise InvalidInput(f"Please correct: {summary}", fields) from None
    calendar.save()
    calendar.holidays.all().delete()
    Holiday.objects.bulk_create(
        Holiday(calendar=calendar, date=h.date, name=h.name.strip()) for h in data.holidays
    )
    audit_record(
        actor=actor,
        action="calendar.create" if created else "calendar.update",
        detail={"calendar": calendar.pk, "name": calendar.name},
    )
    return _get_calendar(calendar.pk)


@router.get("/calendars", response=list[CalendarOut], summary="Business calendars")
def list_calendars(request: HttpRequest) -> list[dict[str, Any]]:
    require(_user(request), Action.SLA_VIEW)
    return [_calendar_out(c) for c in _calendars()]


@router.get("/calendars/{calendar_id}", response=CalendarOut, summary="One business calendar")
def get_calendar(request: HttpRequest, calendar_id: int) -> dict[str, Any]:
    require(_user(request), Action.SLA_VIEW)
    return _calendar_out(_get_calendar(calendar_id))


@router.post("/calendars", response={201: CalendarOut}, summary="Create a calendar (admins)")
def create_calendar(request: HttpRequest, payload: CalendarIn) -> HttpStatus[dict[str, Any]]:
    calendar = _calendar_save(actor=_user(request), calendar=Calendar(), data=payload)
    return HttpStatus(201, _calendar_out(calendar))


@router.put(
    "/calendars/{calendar_id}",
    response=CalendarOut,
    summary="Replace a calendar, holidays included (admins)",
)
def update_calendar(request: HttpRequest, calendar_id: int, payload: CalendarIn) -> dict[str, Any]:
    user = _user(request)
    require(user, Action.SLA_MANAGE)
    calendar = _calendar_save(actor=user, calendar=_get_calendar(calendar_id), data=payload)
    return _calendar_out(calendar)


@router.delete(
    "/calendars/{calendar_id}",
    response={204: None},
    summary="Delete a calendar no policy or ticket uses (admins)",
)
def delete_calendar(request: HttpRequest, calendar_id: int) -> HttpStatus[None]:
    user = _user(request)
    require(user, Action.SLA_MANAGE)
    calendar = _get_calendar(calendar_id)
    policies = [Priority(p.priority).label for p in calendar.sla_policies.all()]
    if policies:
        raise Conflict(
            f"{calendar.name} is used by the SLA policies for {', '.join(policies)}; "
            "move them to another calendar first."
        )
    try:
        with transaction.atomic():
            calendar.delete()
            audit_record(
                actor=user,
                action="calendar.delete",
                detail={"calendar": calendar_id, "name": calendar.name},
            )
    except ProtectedError:
        raise Conflict(
            f"{calendar.name} runs the SLA clocks of existing tickets and cannot be deleted."
        ) from None
    return HttpStatus(204, None)


@router.get("/sla-policies", response=list[SlaPolicyOut], summary="SLA targets per priority")
def list_policies(request: HttpRequest) -> list[dict[str, Any]]:
    require(_user(request), Action.SLA_VIEW)
    policies = SlaPolicy.objects.select_related("calendar")
    ordered = sorted(policies, key=lambda p: PRIORITY_RANK[Priority(p.priority)])
    return [_policy_out(p) for p in ordered]


@router.put(
    "/sla-policies/{priority}",
    response=SlaPolicyOut,
    summary="Set the targets for one priority (admins; running clocks keep their targets)",
)
def set_policy(request: HttpRequest, priority: Priority, payload: SlaPolicyIn) -> dict[str, Any]:
    user = _user(request)
    require(user, Action.SLA_MANAGE)
    if payload.resolve_minutes < payload.acknowledge_minutes:
        raise InvalidInput(
            "The resolution target is shorter than the acknowledgement target.",
            {"resolve_minutes": ["Must be at least acknowledge_minutes."]},
        )
    calendar = Calendar.objects.filter(pk=payload.calendar_id).first()
    if calendar is None:
        raise InvalidInput(
            f"No calendar {payload.calendar_id}.", {"calendar_id": ["Choose an existing calendar."]}
        )
    with transaction.atomic():
        before = SlaPolicy.objects.filter(priority=priority.value).first()
        policy, _ = SlaPolicy.objects.update_or_create(
            priority=priority.value,
            defaults={
                "acknowledge_minutes": payload.acknowledge_minutes,
                "resolve_minutes": payload.resolve_minutes,
                "calendar": calendar,
            },
        )
        audit_record(
            actor=user,
            action="sla_policy.update",
            detail={
                "priority": priority.value,
                "old": None
                if before is None
                else [before.acknowledge_minutes, before.resolve_minutes, before.calendar_id],
                "new": [policy.acknowledge_minutes, policy.resolve_minutes, calendar.pk],
            },
        )
    return _policy_out(policy)
