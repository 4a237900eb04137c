"""HTML pages of on-call: who is on call, schedules per role (week and month), rotations,
overrides, swaps, handoffs, the fairness report and calendar feeds; plus the secret calendar-feed
URL (no sign-in; the token is the credential).

Thin on purpose, like tickets/views.py: reads go through ``selectors`` (``handoff_for_user`` is
the checkpoint for handoffs), writes through ``services`` and ``handoff``, which decide who may do
what. A view turns HTTP into calls and answers into pages; domain errors become form errors or
error alerts with the service's message, never a 500. Every action is a plain POST form that
redirects on success, so the pages work without JavaScript.

Times are shown in, and forms read in, the viewer's time zone (``staff_view``); schedule days are
the viewer's local days.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backline.accounts.models import User
from backline.accounts.permissions import Action, can
from backline.errors import DomainError, InvalidInput, NotFound
from backline.oncall import handoff as handoffs
from backline.oncall import selectors, services
from backline.oncall.forms import (
    FairnessForm,
    FeedForm,
    HandoffNotesForm,
    OverrideForm,
    RotationForm,
    ScheduleQueryForm,
    SwapForm,
)
from backline.oncall.ical import feed_calendar
from backline.oncall.models import (
    FeedToken,
    Handoff,
    OncallRole,
    Override,
    Rotation,
    SwapRequest,
    SwapStatus,
)
from backline.oncall.services import feed_token_for_secret
from backline.tickets.choices import SlaState
from backline.web.shortcuts import (
    error_message,
    error_status,
    errors_onto_form,
    render_domain_error,
    staff_view,
)
from backline.web.templatetags.backline_ui import SLA_BADGE_CLASS

GAPS_AHEAD_DAYS = 30
# Schedules are browsable over this span; outside it the date arithmetic is pointless and, near
# year 1 or 9999, would overflow.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 1)
FAIRNESS_DEFAULT_DAYS = 28
HANDOFF_LIST_SIZE = 25


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # staff_view guarantees a signed-in person
    return user


def _viewer(request: HttpRequest) -> User:
    """The signed-in person, who must be allowed to see schedules (every role is)."""
    user = _user(request)
    if not can(user, Action.ONCALL_VIEW):
        raise PermissionDenied("Your roles do not give access to on-call schedules.")
    return user


def _may_override(user: User) -> bool:
    return can(user, Action.OVERRIDE_OWN) or can(user, Action.OVERRIDE_ANY)


def _local_window(first: date, days: int) -> tuple[datetime, datetime]:
    """[local midnight of `first`, local midnight `days` later) in the viewer's zone, as UTC.

    Built from the wall clock, so a week across a DST change lasts 167 or 169 hours. A midnight
    that does not exist (a few zones change clocks at 00:00) resolves as zoneinfo does with
    fold=0: to the first instant after the gap.
    """
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _schedule_url(role: str, *, view: str = "week", first: date | None = None) -> str:
    url = reverse("oncall:schedule", kwargs={"role": role}) + f"?view={view}"
    return url + (f"&start={first.isoformat()}" if first else "")


def gap_rows(intervals: Sequence[tuple[datetime, datetime]]) -> list[dict[str, Any]]:
    """Gaps with their length in hours, for lists."""
    return [{"start": a, "end": b, "hours": (b - a).total_seconds() / 3600} for a, b in intervals]


# --- the secret calendar feed -----------------------------------------------------------------


@require_GET
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    now = timezone.now()
    token = feed_token_for_secret(secret, now=now)
    if token is None:
        raise Http404("No such calendar feed (revoked or mistyped).")
    response = HttpResponse(
        feed_calendar(token, now=now), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    return response


# --- overview ---------------------------------------------------------------------------------


@staff_view
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Who is on call now for every role, the gaps of the next 30 days, and the way to the rest."""
    try:
        user = _viewer(request)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    now = timezone.now()
    gaps = selectors.gaps_ahead(days=GAPS_AHEAD_DAYS, now=now)
    context = {
        "now": now,
        "answers": selectors.on_call_now(now=now),
        "gaps": [(role, gap_rows(gaps[role])) for role in OncallRole],
        "gaps_days": GAPS_AHEAD_DAYS,
        "pending_handoff": selectors.pending_handoff_for(user=user)
        if can(user, Action.HANDOFF_ACT)
        else None,
        "may_override": _may_override(user),
        "may_manage": can(user, Action.ROTATION_MANAGE),
        "may_see_handoffs": can(user, Action.HANDOFF_VIEW),
    }
    return render(request, "oncall/overview.html", context)


# --- schedule per role ------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One row of a day: a shift or a gap, clipped to the day."""

    start: datetime
    end: datetime
    starts_before: bool  # began on an earlier day
    ends_after: bool  # goes on into the next day
    start_label: str  # local wall-clock time, "00:00" at the start of the day
    end_label: str  # "24:00" at the end of the day, so a shift to midnight is not "to 00:00"
    shift: selectors.ShiftRow | None = None

    @property
    def is_gap(self) -> bool:
        return self.shift is None

    @property
    def note(self) -> str:
        """What the row is, in words (overrides are named, never shown by colour alone)."""
        if self.shift is None:
            return "Gap: nobody on call inside coverage hours"
        if not self.shift.is_override:
            return "Scheduled turn"
        if self.shift.replaced is not None:
            return f"Override: {self.shift.person.name} replaces {self.shift.replaced.name}"
        return f"Override: {self.shift.person.name} replaces the rotation"


@dataclass
class Day:
    date: date
    start: datetime
    end: datetime
    segments: list[Segment] = field(default_factory=list)

    @property
    def has_gap(self) -> bool:
        return any(s.is_gap for s in self.segments)

    @property
    def shifts(self) -> list[Segment]:
        return [s for s in self.segments if not s.is_gap]

    @property
    def gaps(self) -> list[Segment]:
        return [s for s in self.segments if s.is_gap]


def _clip(
    day: Day, start: datetime, end: datetime, shift: selectors.ShiftRow | None
) -> Segment | None:
    if end <= day.start or start >= day.end:
        return None
    clipped_start, clipped_end = max(start, day.start), min(end, day.end)
    return Segment(
        start=clipped_start,
        end=clipped_end,
        starts_before=start < day.start,
        ends_after=end > day.end,
        start_label=f"{timezone.localtime(clipped_start):%H:%M}",
        end_label="24:00" if clipped_end == day.end else f"{timezone.localtime(clipped_end):%H:%M}",
        shift=shift,
    )


def schedule_days(
    first: date,
    days: int,
    shifts: Sequence[selectors.ShiftRow],
    gaps: Sequence[tuple[datetime, datetime]],
) -> list[Day]:
    """The viewer's local days from `first`, each with the shifts and gaps touching it, in time
    order (a gap sorts before a shift starting at the same instant)."""
    zone = timezone.get_current_timezone()
    out = []
    for offset in range(days):
        local = first + timedelta(days=offset)
        day = Day(
            date=local,
            start=datetime.combine(local, time(0), tzinfo=zone).astimezone(UTC),
            end=datetime.combine(local + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC),
        )
        found = [_clip(day, g[0], g[1], None) for g in gaps]
        found += [_clip(day, s.start, s.end, s) for s in shifts]
        day.segments = sorted(
            (s for s in found if s is not None),
            key=lambda s: (s.start, s.shift is not None, s.shift.rotation.pk if s.shift else 0),
        )
        out.append(day)
    return out


def _month_bounds(first: date) -> tuple[date, date, date, int]:
    """(first of month, first of previous, first of next, days in month)."""
    first = first.replace(day=1)
    days = calendar.monthrange(first.year, first.month)[1]
    previous = (first - timedelta(days=1)).replace(day=1)
    following = first + timedelta(days=days)
    return first, previous, following, days


@staff_view
@require_GET
def schedule(request: HttpRequest, role: str) -> HttpResponse:
    """A role's schedule for a week (a table per day) or a month (a row per day): shifts,
    overrides (named as such), gaps (text and colour), and the gaps of the next 30 days."""
    try:
        user = _viewer(request)
        oncall_role = OncallRole(role)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    except ValueError:
        return render_domain_error(
            request,
            NotFound(
                f"There is no on-call role {role!r}: choose Tier 3, Monitoring or Investigator."
            ),
        )
    form = ScheduleQueryForm(request.GET)
    form.is_valid()  # invalid values are shown as errors and replaced by the defaults
    data = getattr(form, "cleaned_data", {})
    view = data.get("view") or "week"
    today = timezone.localdate()
    first = data.get("start")
    if first is not None and not FIRST_DAY <= first <= LAST_DAY:
        form.add_error("start", f"Choose a day from {FIRST_DAY:%Y} to {LAST_DAY:%Y}.")
        first = None
    if view == "month":
        first, previous, following, days = _month_bounds(first or today)
        current = today.replace(day=1)
    else:
        current = today - timedelta(days=today.weekday())
        first = first or current
        previous, following, days = first - timedelta(days=7), first + timedelta(days=7), 7
    if not form.errors:
        # Show the period actually displayed (defaults and month snapping included).
        form = ScheduleQueryForm({"view": view, "start": first.isoformat()})
    start, end = _local_window(first, days)
    now = timezone.now()
    try:
        found = selectors.role_schedule(role=oncall_role, start=start, end=end)
        ahead = selectors.role_gaps(
            role=oncall_role, start=now, end=now + timedelta(days=GAPS_AHEAD_DAYS)
        )
    except DomainError as exc:
        return render_domain_error(request, exc)
    last = first + timedelta(days=days - 1)
    context = {
        "role": oncall_role,
        "roles": list(OncallRole),
        "view": view,
        "form": form,
        "first": first,
        "last": last,
        "schedule": found,
        "days": schedule_days(first, days, found.shifts, found.gaps),
        "gaps_ahead": gap_rows(ahead),
        "gaps_days": GAPS_AHEAD_DAYS,
        "previous_url": _schedule_url(role, view=view, first=previous),
        "next_url": _schedule_url(role, view=view, first=following),
        "current_url": _schedule_url(role, view=view, first=current),
        "week_url": _schedule_url(role, view="week", first=first),
        "month_url": _schedule_url(role, view="month", first=first),
        "is_current": first == current,
        "today": today,
        "now": now,
        "may_override": _may_override(user),
        "override_manager": can(user, Action.OVERRIDE_ANY),
        "deletable": {o.pk for o in found.overrides if _may_delete_override(user, o, now)},
        "pending_handoff": selectors.pending_handoff_for(user=user)
        if oncall_role == OncallRole.TIER3 and can(user, Action.HANDOFF_ACT)
        else None,
    }
    return render(request, "oncall/schedule.html", context)


def _may_delete_override(user: User, override: Override, now: datetime) -> bool:
    """Mirror of the service's rule, only to decide which buttons to show."""
    if can(user, Action.OVERRIDE_ANY):
        return True
    return (
        can(user, Action.OVERRIDE_OWN)
        and user.pk in (override.created_by_id, override.replaces_id)
        and override.end > now
    )


# --- rotations --------------------------------------------------------------------------------


@staff_view
@require_GET
def rotations(request: HttpRequest) -> HttpResponse:
    """Every rotation (active first) with its turn, coverage and members in order."""
    try:
        user = _viewer(request)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    rows = (
        Rotation.objects.select_related("team", "coverage")
        .prefetch_related("members__user")
        .order_by("-is_active", "role", "name")
    )
    return render(
        request,
        "oncall/rotations.html",
        {"rotations": rows, "may_manage": can(user, Action.ROTATION_MANAGE)},
    )


def _rotation_form_page(
    request: HttpRequest,
    form: RotationForm,
    *,
    rotation: Rotation | None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "oncall/rotation_form.html",
        {"form": form, "rotation": rotation, "error": error},
        status=status,
    )


def _manager(request: HttpRequest) -> User:
    user = _user(request)
    if not can(user, Action.ROTATION_MANAGE):
        raise PermissionDenied("Only managers and admins create and change rotations.")
    return user


def _save_rotation(
    request: HttpRequest,
    form: RotationForm,
    rotation: Rotation | None,
    save: Callable[[RotationForm], Rotation],
) -> HttpResponse:
    if not form.is_valid():
        return _rotation_form_page(
            request, form, rotation=rotation, error="Please correct the form below.", status=422
        )
    try:
        saved = save(form)
    except (DomainError, PermissionDenied) as exc:
        errors_onto_form(form, exc)
        return _rotation_form_page(
            request, form, rotation=rotation, error=error_message(exc), status=error_status(exc)
        )
    verb = "changed" if rotation else "created"
    messages.success(request, f"Rotation {saved.name} {verb}.")
    return redirect("oncall:rotations")


@staff_view
@require_http_methods(["GET", "POST"])
def rotation_create(request: HttpRequest) -> HttpResponse:
    """Create a rotation (managers and admins)."""
    try:
        user = _manager(request)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    if request.method == "GET":
        return _rotation_form_page(request, RotationForm(), rotation=None)
    return _save_rotation(
        request,
        RotationForm(request.POST),
        None,
        lambda form: services.rotation_create(
            actor=user, fields=form.service_fields(), members=form.cleaned_data["members"]
        ),
    )


def _rotation(rotation_id: int) -> Rotation:
    found = Rotation.objects.select_related("team", "coverage").filter(pk=rotation_id).first()
    if found is None:
        raise NotFound(f"There is no rotation {rotation_id}.")
    return found


@staff_view
@require_http_methods(["GET", "POST"])
def rotation_edit(request: HttpRequest, rotation_id: int) -> HttpResponse:
    """Change a rotation and its members (managers and admins)."""
    try:
        user = _manager(request)
        rotation = _rotation(rotation_id)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    if request.method == "GET":
        form = RotationForm(initial=RotationForm.initial_for(rotation))
        return _rotation_form_page(request, form, rotation=rotation)
    return _save_rotation(
        request,
        RotationForm(request.POST),
        rotation,
        lambda form: services.rotation_update(
            actor=user,
            rotation=rotation,
            fields=form.service_fields(),
            members=form.cleaned_data["members"],
        ),
    )


@staff_view
@require_POST
def rotation_retire(request: HttpRequest, rotation_id: int) -> HttpResponse:
    """Retire a rotation: it stops answering; its history stays."""
    try:
        user = _manager(request)
        rotation = services.rotation_deactivate(actor=user, rotation=_rotation(rotation_id))
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    messages.success(request, f"Rotation {rotation.name} is retired; its history stays.")
    return redirect("oncall:rotations")


# --- overrides --------------------------------------------------------------------------------


def _override_page(
    request: HttpRequest, form: OverrideForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "oncall/override_form.html",
        {"form": form, "error": error, "manager": form.manager},
        status=status,
    )


def _override_initial(request: HttpRequest) -> dict[str, Any]:
    """Prefill from the schedule page's link (?rotation=&start=&end=, local date-times)."""
    initial: dict[str, Any] = {}
    rotation = request.GET.get("rotation", "")
    if rotation.isdigit():
        initial["rotation"] = int(rotation)
    for name in ("start", "end"):
        value = request.GET.get(name, "")
        try:
            initial[name] = datetime.fromisoformat(value) if value else None
        except ValueError:
            continue  # a bad prefill is just not used
    return {k: v for k, v in initial.items() if v is not None}


@staff_view
@require_http_methods(["GET", "POST"])
def override_create(request: HttpRequest) -> HttpResponse:
    """Put someone on call for a window: engineers for their own shifts, managers for anyone's."""
    user = _user(request)
    if not _may_override(user):
        return render_domain_error(
            request, PermissionDenied("Your roles do not allow overrides: you take no shifts.")
        )
    manager = can(user, Action.OVERRIDE_ANY)
    if request.method == "GET":
        initial = _override_initial(request)
        return _override_page(request, OverrideForm(initial=initial, manager=manager))
    form = OverrideForm(request.POST, manager=manager)
    if not form.is_valid():
        return _override_page(request, form, error="Please correct the form below.", status=422)
    data = form.cleaned_data
    rotation: Rotation = data["rotation"]
    try:
        override = services.override_create(
            actor=user,
            rotation=rotation,
            person=data["person"],
            replaces=data.get("replaces") if manager else user,
            start=data["start"],
            end=data["end"],
            reason=data["reason"],
        )
    except (DomainError, PermissionDenied) as exc:
        errors_onto_form(form, exc)
        return _override_page(request, form, error=error_message(exc), status=error_status(exc))
    messages.success(
        request,
        f"Override saved: {override.person.name} is on call on {rotation.name} from "
        f"{timezone.localtime(override.start):%a %b %d %H:%M} to "
        f"{timezone.localtime(override.end):%a %b %d %H:%M}.",
    )
    return redirect(_schedule_url(rotation.role, first=timezone.localtime(override.start).date()))


@staff_view
@require_POST
def override_delete(request: HttpRequest, override_id: int) -> HttpResponse:
    """Remove an override; the rotation applies again."""
    user = _user(request)
    found = Override.objects.select_related("rotation", "person").filter(pk=override_id).first()
    try:
        if found is None:
            raise NotFound(f"There is no override {override_id} (already removed?).")
        services.override_delete(actor=user, override=found)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    messages.success(
        request, f"Override of {found.person.name} removed; the rotation applies again."
    )
    return redirect(_safe_next(request, _schedule_url(found.rotation.role)))


# --- swaps ------------------------------------------------------------------------------------


def _swaps_page(
    request: HttpRequest,
    form: SwapForm | None,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    rows = list(selectors.swaps_for_user(user=user)[:100])
    mine = [s for s in rows if user.pk in (s.requester_id, s.counterpart_id)]
    others = [s for s in rows if user.pk not in (s.requester_id, s.counterpart_id)]
    return render(
        request,
        "oncall/swaps.html",
        {
            "form": form,
            "mine": mine,
            "others": others,
            "error": error,
            "requested": SwapStatus.REQUESTED,
        },
        status=status,
    )


@staff_view
@require_http_methods(["GET", "POST"])
def swaps(request: HttpRequest) -> HttpResponse:
    """My swaps (asked by me, asked of me; managers also see everyone's) and the request form."""
    try:
        user = _viewer(request)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    may_ask = can(user, Action.OVERRIDE_OWN)
    if request.method == "GET":
        return _swaps_page(request, SwapForm(user=user) if may_ask else None)
    if not may_ask:
        return render_domain_error(request, PermissionDenied("Only engineers on call swap shifts."))
    form = SwapForm(request.POST, user=user)
    if not form.is_valid():
        return _swaps_page(request, form, error="Please correct the form below.", status=422)
    data = form.cleaned_data
    try:
        swap = services.swap_request(
            actor=user,
            rotation=data["rotation"],
            counterpart=data["counterpart"],
            start=data["start"],
            end=data["end"],
            return_start=data.get("return_start"),
            return_end=data.get("return_end"),
            message=data["message"],
        )
    except (DomainError, PermissionDenied) as exc:
        errors_onto_form(form, exc)
        return _swaps_page(request, form, error=error_message(exc), status=error_status(exc))
    messages.success(request, f"Swap requested; {swap.counterpart.name} can accept or decline it.")
    return redirect("oncall:swaps")


SWAP_ACTIONS: dict[str, tuple[Callable[..., Any], str]] = {
    "accept": (services.swap_accept, "Swap accepted: the overrides are in the schedule."),
    "decline": (services.swap_decline, "Swap declined."),
    "cancel": (services.swap_cancel, "Swap request withdrawn."),
}


@staff_view
@require_POST
def swap_action(request: HttpRequest, swap_id: int, action: str) -> HttpResponse:
    """Accept or decline (the person asked) or cancel (the person asking) a swap request."""
    user = _user(request)
    if action not in SWAP_ACTIONS:
        return render_domain_error(request, NotFound(f"Swaps cannot be {action!r}ed."))
    run, done = SWAP_ACTIONS[action]
    swap: SwapRequest | None = selectors.swaps_for_user(user=user).filter(pk=swap_id).first()
    if swap is None:
        return render_domain_error(request, NotFound(f"You have no swap {swap_id}."))
    try:
        run(actor=user, swap=swap)
    except (DomainError, PermissionDenied) as exc:
        form = SwapForm(user=user) if can(user, Action.OVERRIDE_OWN) else None
        return _swaps_page(request, form, error=error_message(exc), status=error_status(exc))
    messages.success(request, done)
    return redirect("oncall:swaps")


# --- handoffs ---------------------------------------------------------------------------------


@staff_view
@require_GET
def handoff_list(request: HttpRequest) -> HttpResponse:
    """Handoff records, the viewer's own (outgoing or incoming) first, newest first."""
    user = _user(request)
    try:
        rows = selectors.handoffs_for_user(user=user)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    involved = Q(outgoing=user) | Q(incoming=user)
    return render(
        request,
        "oncall/handoffs.html",
        {
            "mine": list(rows.filter(involved)[:HANDOFF_LIST_SIZE]),
            "others": list(rows.exclude(involved)[:HANDOFF_LIST_SIZE]),
        },
    )


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def report_for_display(report: dict[str, Any]) -> dict[str, Any]:
    """The stored report JSON with its ISO instants turned into datetimes (shown in the viewer's
    zone) and SLA states paired with their badge class (colour plus words)."""
    tickets = []
    for row in report.get("open_tickets", []):
        note = row.get("latest_note")
        try:
            badge = SLA_BADGE_CLASS[SlaState(row.get("sla_state"))]
        except ValueError:
            badge = SLA_BADGE_CLASS[SlaState.NOT_STARTED]
        tickets.append(
            row
            | {
                "due": _when(row.get("due_at")),
                "sla_class": badge,
                "note": (note | {"when": _when(note.get("at"))}) if note else None,
            }
        )
    partners = [
        p | {"since_at": _when(p.get("since"))} for p in report.get("partner_coordination", [])
    ]
    period = report.get("period") or {}
    return {
        "open_tickets": tickets,
        "partners": partners,
        "recurring": report.get("recurring") or {},
        "transfers": report.get("transfers", []),
        "period_start": _when(period.get("start")),
        "period_end": _when(period.get("end")),
        "generated_at": _when(report.get("generated_at")),
    }


def _handoff_page(
    request: HttpRequest,
    handoff: Handoff,
    *,
    notes_form: HandoffNotesForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    acts = can(user, Action.HANDOFF_ACT)
    may_write = acts and user.pk == handoff.outgoing_id
    context = {
        "handoff": handoff,
        "report": report_for_display(handoff.report),
        "may_write_notes": may_write,
        "may_acknowledge": acts
        and user.pk == handoff.incoming_id
        and handoff.acknowledged_at is None,
        "notes_form": notes_form
        or (HandoffNotesForm(initial={"notes": handoff.notes}) if may_write else None),
        "error": error,
    }
    return render(request, "oncall/handoff.html", context, status=status)


@staff_view
@require_GET
def handoff_detail(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """One handoff: the report, the outgoing engineer's notes form, the acknowledge button."""
    try:
        found = selectors.handoff_for_user(user=_user(request), handoff_id=handoff_id)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    return _handoff_page(request, found)


@staff_view
@require_POST
def handoff_notes(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """The outgoing engineer writes (or rewrites) the notes."""
    user = _user(request)
    try:
        found = selectors.handoff_for_user(user=user, handoff_id=handoff_id)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    form = HandoffNotesForm(request.POST)
    if not form.is_valid():
        return _handoff_page(
            request, found, notes_form=form, error="Please correct the notes.", status=422
        )
    try:
        handoffs.handoff_add_notes(actor=user, handoff=found, notes=form.cleaned_data["notes"])
    except InvalidInput as exc:
        errors_onto_form(form, exc)
        return _handoff_page(request, found, notes_form=form, error=exc.message, status=422)
    except (DomainError, PermissionDenied) as exc:
        # Not the outgoing engineer: the form is not theirs to show, only the refusal.
        return _handoff_page(request, found, error=error_message(exc), status=error_status(exc))
    messages.success(request, "Notes saved; they are part of the report and its export.")
    return redirect("oncall:handoff", handoff_id=found.pk)


@staff_view
@require_POST
def handoff_acknowledge(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """The incoming engineer acknowledges; the outgoing engineer's open tickets move to them."""
    user = _user(request)
    try:
        found = selectors.handoff_for_user(user=user, handoff_id=handoff_id)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    try:
        done = handoffs.handoff_acknowledge(actor=user, handoff=found)
    except (DomainError, PermissionDenied) as exc:
        fresh = selectors.handoff_for_user(user=user, handoff_id=handoff_id)
        return _handoff_page(request, fresh, error=error_message(exc), status=error_status(exc))
    moved = len(done.transferred_tickets or [])
    messages.success(
        request,
        f"Handoff acknowledged. {moved} ticket{'s' if moved != 1 else ''} moved to you"
        if done.transfer_trigger == handoffs.ACKNOWLEDGED
        else "Handoff acknowledged; the tickets had already moved after the grace period.",
    )
    return redirect("oncall:handoff", handoff_id=found.pk)


@staff_view
@require_GET
def handoff_markdown(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """The report as a Markdown file to download."""
    try:
        found = selectors.handoff_for_user(user=_user(request), handoff_id=handoff_id)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    body = found.report_markdown or handoffs.render_markdown(found.report, notes=found.notes)
    response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="handoff-{found.pk}.md"'
    return response


# --- fairness ---------------------------------------------------------------------------------


@staff_view
@require_GET
def fairness(request: HttpRequest) -> HttpResponse:
    """On-call hours, shifts, overrides and in-coverage hours per person over whole local days."""
    try:
        _viewer(request)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    today = timezone.localdate()
    # Missing or emptied fields fall back to the last four weeks of all roles.
    data = {
        "start": (today - timedelta(days=FAIRNESS_DEFAULT_DAYS - 1)).isoformat(),
        "end": today.isoformat(),
        "role": "",
    }
    for key in data:
        given = request.GET.get(key, "")
        if given:
            data[key] = given
    form = FairnessForm(data)
    rows: list[selectors.FairnessRow] | None = None
    status = 200
    if form.is_valid():
        first: date = form.cleaned_data["start"]
        last: date = form.cleaned_data["end"]
        if not (first >= FIRST_DAY and last <= LAST_DAY):
            form.add_error("start", f"Choose days from {FIRST_DAY:%Y} to {LAST_DAY:%Y}.")
        else:
            start, end = _local_window(first, (last - first).days + 1)
            try:
                rows = selectors.fairness_report(
                    start=start, end=end, role=form.cleaned_data["role"] or None
                )
            except InvalidInput as exc:
                errors_onto_form(form, exc)
    if rows is None:
        status = 422
    totals = None
    if rows:
        totals = {
            "hours": sum(r.hours for r in rows),
            "shifts": sum(r.shifts for r in rows),
            "overrides": sum(r.overrides for r in rows),
            "override_hours": sum(r.override_hours for r in rows),
            "in_coverage_hours": sum(r.in_coverage_hours for r in rows),
        }
    role_value = form.cleaned_data.get("role") if hasattr(form, "cleaned_data") else None
    return render(
        request,
        "oncall/fairness.html",
        {
            "form": form,
            "rows": rows,
            "totals": totals,
            "role_label": OncallRole(role_value).label if role_value else "All roles",
        },
        status=status,
    )


# --- calendar feeds ---------------------------------------------------------------------------


def _feeds_page(
    request: HttpRequest, form: FeedForm, *, url: str = "", status: int = 200
) -> HttpResponse:
    rows = FeedToken.objects.filter(owner=_user(request)).select_related("rotation", "person")
    return render(
        request, "oncall/feeds.html", {"form": form, "feeds": rows, "url": url}, status=status
    )


@staff_view
@require_http_methods(["GET", "POST"])
def feeds(request: HttpRequest) -> HttpResponse:
    """My calendar feeds and the form for a new one; the secret URL is shown on this answer only."""
    try:
        user = _viewer(request)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    if request.method == "GET":
        return _feeds_page(request, FeedForm(user=user))
    form = FeedForm(request.POST, user=user)
    if not form.is_valid():
        return _feeds_page(request, form, status=422)
    kind, pk = form.subject_parts()
    try:
        rotation = _rotation(pk) if kind == "rotation" else None
        person = User.objects.filter(pk=pk).first() if kind == "person" else None
        if rotation is None and person is None:
            raise InvalidInput("Choose what the feed shows.", {"subject": ["Unknown choice."]})
        token, secret = services.feed_token_create(
            actor=user, rotation=rotation, person=person, name=form.cleaned_data["name"]
        )
    except (DomainError, PermissionDenied) as exc:
        errors_onto_form(form, exc, aliases={"rotation": "subject", "person": "subject"})
        return _feeds_page(request, form, status=error_status(exc))
    messages.success(
        request, f"Calendar feed {token.name or token.hint} created. Copy its address now."
    )
    url = settings.SITE_URL + reverse("oncall:feed", kwargs={"secret": secret})
    # Rendered, not redirected: the secret must never be stored, not even in the session.
    return _feeds_page(request, FeedForm(user=user), url=url, status=201)


@staff_view
@require_POST
def feed_revoke(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Revoke one of my feeds: its address stops working at once."""
    try:
        token = services.feed_token_revoke(actor=_user(request), token_id=feed_id)
    except DomainError as exc:
        return render_domain_error(request, exc)
    messages.success(request, f"Calendar feed {token.name or token.hint} revoked.")
    return redirect("oncall:feeds")
