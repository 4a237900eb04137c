"""HTML views of tickets: queues, the ticket page and its actions, create and escalate forms.

Thin on purpose: every read goes through ``selectors`` (``ticket_for_user`` is the checkpoint),
every write through ``services``; a view only turns HTTP into calls and answers into pages.
Domain errors become form errors or error alerts with the service's message, never a 500.
Actions are plain POST forms that redirect on success, so every page works without JavaScript;
htmx only swaps the queue table and the revealed identifier in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from backline.accounts.models import User
from backline.accounts.permissions import Action, can
from backline.errors import DomainError, InvalidInput
from backline.tickets import selectors, services, sla
from backline.tickets.choices import TRANSITIONS, Status, Tier
from backline.tickets.forms import (
    AnswerForm,
    CommentForm,
    PriorityForm,
    QueueFilterForm,
    ReasonForm,
    ResolveForm,
    SendBackForm,
    StatusForm,
    TicketContextForm,
    TicketCreateForm,
)
from backline.tickets.models import Ticket
from backline.web.shortcuts import (
    error_message,
    error_status,
    errors_onto_form,
    render_domain_error,
    staff_view,
)

PAGE_SIZE = 25

# Statuses that have their own action (with the fields they need) instead of the status form.
_OWN_ACTION = frozenset(
    {Status.ACKNOWLEDGED, Status.RESOLVED, Status.CANCELED, Status.WAITING_REQUESTER}
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # staff_view guarantees a signed-in person
    return user


def _is_htmx(request: HttpRequest) -> bool:
    # A history restore asks for the whole page even though it comes from htmx.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


# --- queues -----------------------------------------------------------------------------------


def _people() -> list[User]:
    """Everyone who can hold a ticket, for the assignee filter."""
    return list(User.objects.filter(is_active=True, role_grants__isnull=False).distinct())


def _queue_page(
    request: HttpRequest, *, tier: int | None, mine: bool, heading: str
) -> HttpResponse:
    user = _user(request)
    form = QueueFilterForm(request.GET, people=_people())
    form.is_valid()  # invalid fields are shown as errors and left out of the filter
    now = timezone.now()
    try:
        filters = selectors.QueueFilters(tier=tier, mine=mine, **form.filter_values())
        tickets = selectors.tickets_for_queue(user=user, filters=filters, now=now)
    except InvalidInput as exc:
        errors_onto_form(form, exc)
        tickets = selectors.tickets_for_queue(
            user=user, filters=selectors.QueueFilters(tier=tier, mine=mine), now=now
        )
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "heading": heading,
        "form": form,
        "page": page,
        "now": now,
        "tier": tier,
        "mine": mine,
        "elided_pages": page.paginator.get_elided_page_range(
            page.number, on_each_side=2, on_ends=1
        ),
    }
    template = "tickets/queue.html#queue-results" if _is_htmx(request) else "tickets/queue.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@staff_view
def queue(request: HttpRequest, tier: int) -> HttpResponse:
    """One tier's queue of open tickets, soonest SLA due first."""
    if tier not in Tier.values:
        return render_domain_error(request, DomainError("There are Tier 1, 2 and 3 queues only."))
    return _queue_page(request, tier=tier, mine=False, heading=f"Tier {tier} queue")


@staff_view
def mine(request: HttpRequest) -> HttpResponse:
    """Tickets assigned to the viewer (and ones they opened below Tier 3)."""
    return _queue_page(request, tier=None, mine=True, heading="My tickets")


# --- the ticket page --------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketActions:
    """Which actions the ticket page offers this person now. The services still decide."""

    acknowledge: bool
    comment: bool
    comment_internal: bool
    change_status: bool
    send_back: bool
    answer: bool
    escalate_tier2: bool
    escalate_tier3: bool
    resolve: bool
    reopen: bool
    cancel: bool
    priority: bool
    reveal: bool

    @property
    def any_form(self) -> bool:
        forms_on_offer = (self.change_status, self.send_back, self.answer, self.resolve)
        return any(forms_on_offer) or self.reopen or self.cancel or self.priority


def status_choices(ticket: Ticket) -> list[tuple[str, str]]:
    """Statuses the plain status form offers (the others have their own action)."""
    allowed = set(TRANSITIONS[ticket.status]) - _OWN_ACTION
    if ticket.status == Status.RESOLVED:
        allowed.discard(Status.INVESTIGATING)  # that is "reopen", which asks for a reason
    return [(value, label) for value, label in Status.choices if value in allowed]


def ticket_actions(user: User, ticket: Ticket) -> TicketActions:
    """The actions to show, from the permission matrix and the ticket's state."""
    at_tier3 = ticket.tier == Tier.TIER3
    allowed = TRANSITIONS[ticket.status]
    # Tier 3 tickets are worked by engineers; lower tiers close their own tickets.
    closes = can(user, Action.TICKET_WORK) if at_tier3 else can(user, Action.TICKET_CANCEL)
    return TicketActions(
        acknowledge=(
            at_tier3
            and ticket.status == Status.NEW
            and ticket.acknowledged_at is None
            and can(user, Action.TICKET_ACKNOWLEDGE)
        ),
        comment=can(user, Action.COMMENT_SHARED),
        comment_internal=can(user, Action.COMMENT_INTERNAL),
        change_status=at_tier3 and can(user, Action.TICKET_WORK) and bool(status_choices(ticket)),
        send_back=at_tier3
        and can(user, Action.TICKET_WORK)
        and Status.WAITING_REQUESTER in allowed,
        answer=(
            ticket.status == Status.WAITING_REQUESTER
            and ticket.sla_started_at is not None
            and can(user, Action.TICKET_ANSWER)
        ),
        escalate_tier2=ticket.is_open
        and ticket.tier < Tier.TIER2
        and can(user, Action.TICKET_ESCALATE_TIER2),
        escalate_tier3=ticket.is_open
        and ticket.tier < Tier.TIER3
        and can(user, Action.TICKET_ESCALATE_TIER3),
        resolve=Status.RESOLVED in allowed and closes,
        reopen=ticket.status == Status.RESOLVED and can(user, Action.TICKET_REOPEN),
        cancel=Status.CANCELED in allowed and closes,
        priority=ticket.is_open and can(user, Action.TICKET_REPRIORITISE),
        reveal=bool(ticket.affected_user_id) and can(user, Action.IDENTIFIER_REVEAL),
    )


def _action_forms(user: User, ticket: Ticket, actions: TicketActions) -> dict[str, forms.Form]:
    """Unbound forms for the actions on offer, each with its own prefix (unique ids on the page)."""
    found: dict[str, forms.Form] = {}
    if actions.comment:
        found["comment"] = CommentForm(prefix="comment", allow_internal=actions.comment_internal)
    if actions.change_status:
        found["status"] = StatusForm(prefix="status", choices=status_choices(ticket))
    if actions.send_back:
        found["send_back"] = SendBackForm(prefix="send_back")
    if actions.answer:
        found["answer"] = AnswerForm(prefix="answer")
    if actions.resolve:
        found["resolve"] = ResolveForm(prefix="resolve")
    if actions.reopen:
        found["reopen"] = ReasonForm(prefix="reopen")
    if actions.cancel:
        found["cancel"] = ReasonForm(prefix="cancel")
    if actions.priority:
        found["priority"] = PriorityForm(prefix="priority", initial={"priority": ticket.priority})
    return found


def _ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    bound: dict[str, forms.Form] | None = None,
    error: str = "",
    status: int = 200,
    identifier: str | None = None,
) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    actions = ticket_actions(user, ticket)
    action_forms = _action_forms(user, ticket, actions)
    action_forms.update(bound or {})
    context = {
        "ticket": ticket,
        "now": now,
        "actions": actions,
        "forms": action_forms,
        "error": error,
        "identifier": identifier,
        "sla_state": ticket.sla_state(now),
        "remaining": sla.sla_remaining(ticket, now=now),
        "timeline": selectors.timeline_for_user(user=user, ticket=ticket),
    }
    return render(request, "tickets/ticket.html", context, status=status)


@staff_view
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The ticket page: header, SLA panel, escalation context, timeline and the allowed actions."""
    try:
        ticket = selectors.ticket_for_user(user=_user(request), number=number)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    return _ticket_page(request, ticket)


@staff_view
@require_POST
def ticket_identifier(request: HttpRequest, number: str) -> HttpResponse:
    """Reveal the affected user's identifier (audited by the selector); htmx swaps it in place."""
    user = _user(request)
    try:
        ticket = selectors.ticket_for_user(user=user, number=number)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    try:
        value = selectors.ticket_identifier_for_user(user=user, ticket=ticket)
    except PermissionDenied as exc:
        if _is_htmx(request):
            return render(
                request,
                "tickets/ticket.html#identifier",
                {
                    "ticket": ticket,
                    "actions": ticket_actions(user, ticket),
                    "reveal_error": error_message(exc),
                },
                status=403,
            )
        return _ticket_page(request, ticket, error=error_message(exc), status=403)
    if _is_htmx(request):
        return render(
            request,
            "tickets/ticket.html#identifier",
            {"ticket": ticket, "actions": ticket_actions(user, ticket), "identifier": value},
        )
    return _ticket_page(request, ticket, identifier=value)


# --- actions ----------------------------------------------------------------------------------

FormFactory = Callable[[HttpRequest, Ticket], forms.Form]
Runner = Callable[[User, Ticket, forms.Form], object]


def _act(
    request: HttpRequest,
    number: str,
    *,
    key: str,
    make_form: FormFactory,
    run: Runner,
    success: Callable[[Ticket], str],
) -> HttpResponse:
    """Validate one action's form, call its service, and redirect, or show the page with errors."""
    user = _user(request)
    try:
        ticket = selectors.ticket_for_user(user=user, number=number)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    form = make_form(request, ticket)
    if not form.is_valid():
        return _ticket_page(
            request, ticket, bound={key: form}, error="Please correct the form below.", status=422
        )
    try:
        run(user, ticket, form)
    except InvalidInput as exc:
        errors_onto_form(form, exc)
        fresh = selectors.ticket_for_user(user=user, number=number)
        return _ticket_page(request, fresh, bound={key: form}, error=exc.message, status=422)
    except (DomainError, PermissionDenied) as exc:
        fresh = selectors.ticket_for_user(user=user, number=number)
        return _ticket_page(
            request, fresh, bound={key: form}, error=error_message(exc), status=error_status(exc)
        )
    messages.success(request, success(ticket))
    return redirect("web:tickets:detail", number=ticket.number)


class _NoFields(forms.Form):
    """Actions that are only a button (acknowledge)."""


@staff_view
@require_POST
def ticket_acknowledge(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        key="acknowledge",
        make_form=lambda req, t: _NoFields(req.POST),
        run=lambda user, t, f: services.ticket_acknowledge(ticket=t, actor=user),
        success=lambda t: f"You acknowledged {t.number} and own it now.",
    )


@staff_view
@require_POST
def ticket_comment(request: HttpRequest, number: str) -> HttpResponse:
    def make(req: HttpRequest, t: Ticket) -> forms.Form:
        return CommentForm(
            req.POST, prefix="comment", allow_internal=can(_user(req), Action.COMMENT_INTERNAL)
        )

    def run(user: User, t: Ticket, f: forms.Form) -> object:
        assert isinstance(f, CommentForm)
        return services.ticket_comment(
            ticket=t, actor=user, body=f.cleaned_data["body"], internal=f.internal
        )

    return _act(
        request, number, key="comment", make_form=make, run=run, success=lambda t: "Comment added."
    )


@staff_view
@require_POST
def ticket_status(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        key="status",
        make_form=lambda req, t: StatusForm(req.POST, prefix="status", choices=status_choices(t)),
        run=lambda user, t, f: services.ticket_change_status(
            ticket=t, actor=user, to=f.cleaned_data["status"], note=f.cleaned_data["note"]
        ),
        success=lambda t: f"{t.number}: status changed.",
    )


@staff_view
@require_POST
def ticket_send_back(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        key="send_back",
        make_form=lambda req, t: SendBackForm(req.POST, prefix="send_back"),
        run=lambda user, t, f: services.ticket_send_back(
            ticket=t, actor=user, question=f.cleaned_data["question"]
        ),
        success=lambda t: (
            f"{t.number} was sent back to Tier 2 with your question; its SLA clock is paused."
        ),
    )


@staff_view
@require_POST
def ticket_answer(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        key="answer",
        make_form=lambda req, t: AnswerForm(req.POST, prefix="answer"),
        run=lambda user, t, f: services.ticket_answer(
            ticket=t, actor=user, answer=f.cleaned_data["answer"]
        ),
        success=lambda t: f"{t.number} is back at Tier 3 with your answer.",
    )


@staff_view
@require_POST
def ticket_resolve(request: HttpRequest, number: str) -> HttpResponse:
    def run(user: User, t: Ticket, f: forms.Form) -> object:
        data = f.cleaned_data
        return services.ticket_resolve(
            ticket=t,
            actor=user,
            summary=data["summary"],
            root_cause=data["root_cause"],
            workaround=data["workaround"],
            code_change_needed=data["code_change_needed"],
            follow_up_url=data["follow_up_url"],
        )

    return _act(
        request,
        number,
        key="resolve",
        make_form=lambda req, t: ResolveForm(req.POST, prefix="resolve"),
        run=run,
        success=lambda t: f"{t.number} is resolved.",
    )


@staff_view
@require_POST
def ticket_reopen(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        key="reopen",
        make_form=lambda req, t: ReasonForm(req.POST, prefix="reopen"),
        run=lambda user, t, f: services.ticket_reopen(
            ticket=t, actor=user, reason=f.cleaned_data["reason"]
        ),
        success=lambda t: f"{t.number} is reopened.",
    )


@staff_view
@require_POST
def ticket_cancel(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        key="cancel",
        make_form=lambda req, t: ReasonForm(req.POST, prefix="cancel"),
        run=lambda user, t, f: services.ticket_cancel(
            ticket=t, actor=user, reason=f.cleaned_data["reason"]
        ),
        success=lambda t: f"{t.number} is canceled.",
    )


@staff_view
@require_POST
def ticket_priority(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        key="priority",
        make_form=lambda req, t: PriorityForm(req.POST, prefix="priority"),
        run=lambda user, t, f: services.ticket_set_priority(
            ticket=t,
            actor=user,
            priority=f.cleaned_data["priority"],
            reason=f.cleaned_data["reason"],
        ),
        success=lambda t: f"{t.number}: priority changed; SLA targets re-evaluated.",
    )


# --- create and escalate ----------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
def ticket_create(request: HttpRequest) -> HttpResponse:
    """Open a ticket with the escalation template's fields; field errors next to each field."""
    user = _user(request)
    if not can(user, Action.TICKET_CREATE):
        return render_domain_error(
            request, PermissionDenied("Your roles do not allow opening tickets.")
        )
    status = 200
    if request.method == "POST":
        form = TicketCreateForm(request.POST)
        if form.is_valid():
            try:
                ticket = services.ticket_create(
                    actor=user, fields=form.context(), tier=form.cleaned_data.get("tier")
                )
            except (DomainError, PermissionDenied) as exc:
                errors_onto_form(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, f"{ticket.number} opened at {ticket.get_tier_display()}.")
                return redirect("web:tickets:detail", number=ticket.number)
        else:
            status = 422
    else:
        form = TicketCreateForm()
    return render(
        request, "tickets/ticket_form.html", {"form": form, "mode": "create"}, status=status
    )


@staff_view
@require_http_methods(["GET", "POST"])
def ticket_escalate(request: HttpRequest, number: str, to_tier: int) -> HttpResponse:
    """Escalate to Tier 2 or Tier 3 with the context form, prefilled from the ticket."""
    user = _user(request)
    try:
        ticket = selectors.ticket_for_user(user=user, number=number)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    needed = {Tier.TIER2: Action.TICKET_ESCALATE_TIER2, Tier.TIER3: Action.TICKET_ESCALATE_TIER3}
    if to_tier not in needed:
        return render_domain_error(request, DomainError("Tickets escalate to Tier 2 or Tier 3."))
    if not can(user, needed[Tier(to_tier)]):
        return render_domain_error(
            request, PermissionDenied(f"Your roles do not allow escalating to Tier {to_tier}.")
        )
    status = 200
    if request.method == "POST":
        form = TicketContextForm(request.POST)
        if form.is_valid():
            context_fields = form.context()
            if not context_fields["affected_user_id"] and ticket.affected_user_id:
                # The form never shows the stored identifier (it is protected); empty keeps it.
                del context_fields["affected_user_id"]
            try:
                services.ticket_escalate(
                    ticket=ticket, actor=user, to_tier=to_tier, context=context_fields
                )
            except (DomainError, PermissionDenied) as exc:
                errors_onto_form(form, exc)
                status = error_status(exc)
                ticket = selectors.ticket_for_user(user=user, number=number)  # nothing was saved
            else:
                messages.success(request, f"{ticket.number} escalated to Tier {to_tier}.")
                return redirect("web:tickets:detail", number=ticket.number)
        else:
            status = 422
    else:
        form = TicketContextForm(initial=TicketContextForm.initial_for(ticket))
    context: dict[str, Any] = {
        "form": form,
        "mode": "escalate",
        "ticket": ticket,
        "to_tier": to_tier,
    }
    return render(request, "tickets/ticket_form.html", context, status=status)
