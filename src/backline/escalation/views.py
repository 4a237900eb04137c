"""HTML views of the escalation app: the Patterns list, the ticket's recommendation panel (htmx),
the one-click escalation, the "hotfix needed" mark, incidents and their resolution, and the
admins' threshold settings. Thin: every decision is in services."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backline.accounts.models import User
from backline.accounts.permissions import Action, can, require
from backline.audit.masking import log_redactor
from backline.errors import DomainError, InvalidInput
from backline.escalation import analysis, services
from backline.escalation.api import pattern_json
from backline.escalation.models import HotfixMark, RuleSettings
from backline.escalation.rules import THRESHOLD_HELP, Thresholds
from backline.health.charts import render_sparkline
from backline.logs.services import get_source
from backline.tickets.choices import RootCause
from backline.tickets.models import Ticket
from backline.tickets.selectors import ticket_for_user
from backline.web.shortcuts import error_message, error_status, errors_onto_form, staff_view

WINDOWS = {"1h": 1, "6h": 6, "24h": 24, "7d": 168}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def explorer_url(signature: str) -> str:
    """The log explorer (another app, at /logs/) filtered to one signature."""
    return "/logs/?" + urlencode({"q": analysis.signature_query(signature)})


@staff_view
@require_GET
def patterns(request: HttpRequest) -> HttpResponse:
    """Top signatures in a window with counts, users, first seen, a trend, the deploy badge."""
    user = _user(request)
    require(user, Action.PATTERNS_VIEW)
    key = request.GET.get("window", "24h")
    hours = WINDOWS.get(key, 24)
    now = timezone.now()
    rows, deploy = analysis.top_signatures(get_source(), now - timedelta(hours=hours), now)
    shown = []
    for row in rows:
        data = pattern_json(row)
        label = (
            f"Errors per {hours * 60 // len(row.trend)} minutes over the last {key}: "
            + ", ".join(str(n) for n in row.trend)
        )
        data["sparkline"] = render_sparkline(tuple(float(n) for n in row.trend), label=label)
        data["explore"] = explorer_url(row.signature)
        shown.append(data)
    return render(
        request,
        "escalation/patterns.html",
        {"rows": shown, "window": key, "windows": list(WINDOWS), "deploy": deploy},
    )


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _hotfix_mark(ticket: Ticket) -> HotfixMark | None:
    return HotfixMark.objects.select_related("marked_by").filter(ticket=ticket).first()


def _render_panel(
    request: HttpRequest,
    user: User,
    ticket: Ticket,
    *,
    hotfix: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The panel for ``ticket``; ``hotfix`` carries the mark form's outcome (done, error, note).

    A refusal of the recommendation itself (no pattern access) becomes the panel's error box.
    """
    try:
        found = services.ticket_recommendation(user=user, ticket=ticket)
    except (PermissionDenied, DomainError) as exc:
        return render(
            request,
            "escalation/includes/panel_error.html",
            {"error": error_message(exc)},
            status=error_status(exc),
        )
    mark = _hotfix_mark(ticket)
    may_open = can(user, Action.INCIDENT_OPEN) and ticket.is_open
    context: dict[str, Any] = {
        "ticket": ticket,
        "found": found,
        "evidence": found.evidence,
        "rec": found.evidence.get("recommendation", {}),
        "may_escalate": may_open,
        "mark": mark,
        # Anyone who may see the panel reads the note: identifiers in it are shown as tokens.
        "mark_note": log_redactor().redact_text(mark.note) if mark and mark.note else "",
        "may_mark": may_open and mark is None,
        "hotfix": hotfix or {},
        "note_max": HotfixForm.NOTE_MAX,
    }
    return render(request, "escalation/includes/panel.html", context, status=status)


@staff_view
@require_GET
def ticket_panel(request: HttpRequest, number: str) -> HttpResponse:
    """The recommendation panel on the ticket page (loaded by htmx)."""
    user = _user(request)
    try:
        ticket = ticket_for_user(user=user, number=number)
    except (PermissionDenied, DomainError) as exc:
        return render(
            request,
            "escalation/includes/panel_error.html",
            {"error": error_message(exc)},
            status=error_status(exc),
        )
    return _render_panel(request, user, ticket)


class HotfixForm(forms.Form):
    """The panel's "hotfix needed" form: only an optional note, bounded so a paste stays small."""

    NOTE_MAX = services.HOTFIX_NOTE_MAX

    note = forms.CharField(required=False, max_length=NOTE_MAX, label="Note")


def _mark_hotfix(user: User, ticket: Ticket, data: Any) -> HotfixMark:
    """Validate the form and call the service (which refuses closed or already marked tickets)."""
    form = HotfixForm(data)
    if not form.is_valid():
        problems = [str(message) for message in form["note"].errors]
        raise InvalidInput(" ".join(f"Note: {p}" for p in problems), {"note": problems})
    return services.ticket_mark_hotfix(actor=user, ticket=ticket, note=form.cleaned_data["note"])


@staff_view
@require_POST
def ticket_hotfix(request: HttpRequest, number: str) -> HttpResponse:
    """Mark that the ticket needs a hotfix; htmx gets the re-rendered panel, a plain post goes
    back to the ticket page. Refusals are shown in the panel (or as a message), never a 500."""
    user = _user(request)
    back = reverse("web:tickets:detail", args=[number]) + "#escalation-panel"
    try:
        ticket = ticket_for_user(user=user, number=number)
    except (PermissionDenied, DomainError) as exc:
        if _is_htmx(request):
            return render(
                request,
                "escalation/includes/panel_error.html",
                {"error": error_message(exc)},
                status=error_status(exc),
            )
        messages.error(request, error_message(exc))
        return redirect(back)
    try:
        _mark_hotfix(user, ticket, request.POST)
    except (PermissionDenied, DomainError) as exc:
        if _is_htmx(request):
            outcome = {"error": error_message(exc), "note": request.POST.get("note", "")}
            return _render_panel(request, user, ticket, hotfix=outcome, status=error_status(exc))
        messages.error(request, error_message(exc))
        return redirect(back)
    done = f"Marked {ticket.number}: a hotfix is needed."
    if _is_htmx(request):
        return _render_panel(request, user, ticket, hotfix={"done": done})
    messages.success(request, done)
    return redirect(back)


@staff_view
@require_POST
def ticket_escalate(request: HttpRequest, number: str) -> HttpResponse:
    user = _user(request)
    try:
        ticket = ticket_for_user(user=user, number=number)
        target = request.POST.get("target") or None
        incident = services.incident_open_from_ticket(actor=user, ticket=ticket, target=target)
    except (PermissionDenied, DomainError) as exc:
        messages.error(request, str(exc))
        return redirect(reverse("web:tickets:detail", args=[number]))
    messages.success(request, f"{incident.number} opened; the on-call person was notified.")
    return redirect(reverse("web:escalation:incident", args=[incident.pk]))


@staff_view
@require_GET
def incidents(request: HttpRequest) -> HttpResponse:
    rows = services.incidents_for_user(user=_user(request))
    return render(request, "escalation/incidents.html", {"incidents": rows})


@staff_view
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = services.incident_for_user(user=user, pk=pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "confirm":
                services.incident_confirm(actor=user, incident=found)
                messages.success(request, f"{found.number} confirmed.")
            else:
                outcome = services.incident_resolve(
                    actor=user,
                    incident=found,
                    resolution=request.POST.get("resolution", ""),
                    root_cause=request.POST.get("root_cause", RootCause.UNKNOWN),
                    resolve_tickets=request.POST.getlist("tickets"),
                )
                messages.success(
                    request,
                    f"{found.number} resolved; tickets resolved: "
                    + (", ".join(outcome.resolved) or "none"),
                )
        except (PermissionDenied, DomainError) as exc:
            messages.error(request, str(exc))
        return redirect(reverse("web:escalation:incident", args=[pk]))
    open_links = [link for link in found.links.all() if link.ticket.is_open]
    return render(
        request,
        "escalation/incident.html",
        {
            "incident": found,
            "open_links": open_links,
            "root_causes": RootCause.choices,
            "may_resolve": can(user, Action.INCIDENT_RESOLVE) and found.is_active,
            "may_confirm": can(user, Action.INCIDENT_OPEN) and found.status == "proposed",
        },
    )


# ---- threshold settings (admins) ----------------------------------------------------------------


def _shown(value: Any) -> str:
    """A threshold as a person reads it: on/off for switches, numbers without trailing noise."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _threshold_field(default: Any, current: Any, help_line: str) -> forms.Field:
    """A checkbox for a switch, a number input for a number (never negative, as the rules
    require); the hint says the default and whether the current value differs from it."""
    hint = f"{help_line} Default: {_shown(default)}."
    if current != default:
        hint += " Changed from the default."
    if isinstance(default, bool):
        return forms.BooleanField(required=False, initial=current, help_text=hint)
    if isinstance(default, int):
        return forms.IntegerField(min_value=0, initial=current, help_text=hint)
    return forms.FloatField(min_value=0, initial=current, help_text=hint)


class ThresholdsForm(forms.Form):
    """Every field of ``rules.Thresholds`` with its current value; the service checks again."""

    def __init__(self, *args: Any, current: Thresholds, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = Thresholds()
        for spec in fields(Thresholds):
            name = spec.name
            field = _threshold_field(
                getattr(defaults, name), getattr(current, name), THRESHOLD_HELP[name]
            )
            field.label = name.replace("_", " ").capitalize()
            self.fields[name] = field

    def overrides(self) -> dict[str, Any]:
        """Only the values that differ from the defaults are stored, so the rest keep following
        the defaults if a later release changes them."""
        defaults = Thresholds().as_dict()
        return {k: v for k, v in self.cleaned_data.items() if v != defaults[k]}


def _settings_page(
    request: HttpRequest, form: ThresholdsForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    row = RuleSettings.objects.select_related("updated_by").filter(pk=RuleSettings.SINGLETON)
    return render(
        request,
        "escalation/settings.html",
        {"form": form, "row": row.first(), "error": error},
        status=status,
    )


@staff_view
@require_http_methods(["GET", "POST"])
def rule_settings(request: HttpRequest) -> HttpResponse:
    """Admins read and change the rule thresholds; "Reset to defaults" clears every change."""
    user = _user(request)
    require(user, Action.ESCALATION_SETTINGS)
    here = reverse("web:escalation:settings")
    if request.method != "POST":
        return _settings_page(request, ThresholdsForm(current=services.rule_thresholds()))
    if request.POST.get("action") == "reset":
        services.rule_settings_update(actor=user, values={})
        messages.success(request, "Every threshold is back at its default.")
        return redirect(here)
    form = ThresholdsForm(request.POST, current=services.rule_thresholds())
    if form.is_valid():
        try:
            services.rule_settings_update(actor=user, values=form.overrides())
        except (PermissionDenied, DomainError) as exc:
            errors_onto_form(form, exc)
        else:
            messages.success(request, "Thresholds saved; they apply from the next evaluation.")
            return redirect(here)
    return _settings_page(
        request, form, error="Nothing was saved: correct the thresholds below.", status=422
    )
