"""HTML views of the escalation app: the Patterns list, the ticket's recommendation panel (htmx),
the one-click escalation, incidents and their resolution. Thin: every decision is in services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from backline.accounts.models import User
from backline.accounts.permissions import Action, can, require
from backline.errors import DomainError
from backline.escalation import analysis, services
from backline.escalation.api import pattern_json
from backline.health.charts import render_sparkline
from backline.logs.services import get_source
from backline.tickets.choices import RootCause
from backline.tickets.selectors import ticket_for_user
from backline.web.shortcuts import error_status, staff_view

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


@staff_view
@require_GET
def ticket_panel(request: HttpRequest, number: str) -> HttpResponse:
    """The recommendation panel on the ticket page (loaded by htmx)."""
    user = _user(request)
    try:
        ticket = ticket_for_user(user=user, number=number)
        found = services.ticket_recommendation(user=user, ticket=ticket)
    except (PermissionDenied, DomainError) as exc:
        return render(
            request,
            "escalation/includes/panel_error.html",
            {"error": str(exc)},
            status=error_status(exc),
        )
    context: dict[str, Any] = {
        "ticket": ticket,
        "found": found,
        "evidence": found.evidence,
        "rec": found.evidence.get("recommendation", {}),
        "may_escalate": can(user, Action.INCIDENT_OPEN) and ticket.is_open,
    }
    return render(request, "escalation/includes/panel.html", context)


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
