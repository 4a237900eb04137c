"""HTML pages of notifications: one's own settings (channels per event, quiet hours, a personal
Slack webhook), team channels (admins), and the outbox with its deliveries and retries (admins).

Thin, like the other apps' views: reads through ``selectors``, writes through ``services``, which
decide who may do what; domain errors become form errors or error pages, never a 500. Every
action is a plain POST form that redirects on success. Secrets (webhook URLs, routing keys) are
never rendered: pages show a webhook as its host and last 4 characters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backline.accounts.models import User
from backline.accounts.permissions import Action, can
from backline.errors import DomainError, InvalidInput, NotFound
from backline.notify import selectors, services
from backline.notify.forms import (
    KIND_NOUNS,
    KIND_TITLES,
    ChannelForm,
    OutboxFilterForm,
    PersonalWebhookForm,
    RulesForm,
    channel_target_text,
    redact_target,
)
from backline.notify.models import Channel, ChannelKind, Delivery, DeliveryStatus
from backline.web.shortcuts import (
    error_message,
    error_status,
    errors_onto_form,
    render_domain_error,
    staff_view,
)

OUTBOX_PAGE_SIZE = 25
RETRYABLE = frozenset({DeliveryStatus.DEAD.value, DeliveryStatus.FAILED.value})

# Colour plus words: the tag always says the status; each pair keeps at least 4.5:1 contrast.
STATUS_TAG_CLASS = {
    DeliveryStatus.PENDING.value: "bg-base-lighter text-ink",
    DeliveryStatus.SENDING.value: "bg-primary text-white",
    DeliveryStatus.SENT.value: "bg-success-darker text-white",
    DeliveryStatus.FAILED.value: "bg-warning text-ink",
    DeliveryStatus.DEAD.value: "bg-error-dark text-white",
}


def form_error_heading(exc: Exception) -> str:
    """The error summary's heading: field errors are listed under it, so a service's one-line
    summary of them would only repeat them; other refusals are said as they are."""
    if isinstance(exc, InvalidInput) and exc.fields:
        return "Please correct the form below."
    return error_message(exc)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # staff_view guarantees a signed-in person
    return user


# --- the personal Slack webhook ---------------------------------------------------------------
# These two writes belong in services.py beside channel_save, which is admins-only; they live here
# until moved, and keep the service rules: one transaction, Channel.clean() at save, audited.


def personal_webhook_of(user: User) -> Channel | None:
    """The person's own Slack webhook (the first, if an admin configured several)."""
    return Channel.objects.filter(kind=ChannelKind.SLACK, user=user).order_by("pk").first()


# --- my notifications -------------------------------------------------------------------------


def _settings_page(
    request: HttpRequest,
    *,
    rules_form: RulesForm | None = None,
    webhook_form: PersonalWebhookForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    views = selectors.rules_for_user(user=user)
    webhook = personal_webhook_of(user)
    if rules_form is None:
        rules_form = RulesForm(initial=RulesForm.initial_for(views))
    if webhook_form is None:
        webhook_form = PersonalWebhookForm(has_webhook=webhook is not None)
    chosen = {v.event: v for v in views if v.rule_id is not None}
    quiet_pairs = {(v.quiet_start, v.quiet_end) for v in chosen.values()}
    context = {
        "rules_form": rules_form,
        "webhook_form": webhook_form,
        "webhook": webhook,
        "webhook_text": channel_target_text(webhook) if webhook else "",
        "time_zone": user.time_zone,
        "uses_defaults": not chosen,
        "quiet_hours_differ": len(quiet_pairs) > 1,
        "error": error,
    }
    return render(request, "notify/settings.html", context, status=status)


@staff_view
@require_http_methods(["GET", "POST"])
def my_settings(request: HttpRequest) -> HttpResponse:
    """Which channels tell me about each event, and my quiet hours (in my time zone)."""
    user = _user(request)
    if not can(user, Action.NOTIFY_RULES_OWN):
        return render_domain_error(
            request, PermissionDenied("Your roles do not include notification settings.")
        )
    if request.method == "GET":
        return _settings_page(request)
    form = RulesForm(request.POST)
    if not form.is_valid():
        return _settings_page(
            request, rules_form=form, error="Please correct the settings below.", status=422
        )
    try:
        with transaction.atomic():  # every event or none
            for event, channels, quiet_start, quiet_end in form.rules():
                services.rule_save(
                    user=user,
                    event=event,
                    channels=channels,
                    quiet_start=quiet_start,
                    quiet_end=quiet_end,
                )
    except (DomainError, PermissionDenied) as exc:
        errors_onto_form(form, exc)
        return _settings_page(
            request, rules_form=form, error=form_error_heading(exc), status=error_status(exc)
        )
    messages.success(request, "Your notification settings are saved.")
    return redirect("web:notify:settings")


@staff_view
@require_POST
def my_webhook(request: HttpRequest) -> HttpResponse:
    """Set (or replace) my own Slack webhook; checked now, not at 3 a.m."""
    user = _user(request)
    has_webhook = personal_webhook_of(user) is not None
    form = PersonalWebhookForm(request.POST, has_webhook=has_webhook)
    if not form.is_valid():
        return _settings_page(
            request, webhook_form=form, error="Please correct your Slack webhook.", status=422
        )
    url = form.cleaned_data["webhook_url"]
    if not url:  # a stored webhook and an empty field: nothing to change
        messages.info(request, "Your Slack webhook is unchanged.")
        return redirect("web:notify:settings")
    try:
        services.personal_webhook_save(user=user, webhook_url=url)
    except (DomainError, PermissionDenied) as exc:
        errors_onto_form(form, exc)
        return _settings_page(
            request, webhook_form=form, error=form_error_heading(exc), status=error_status(exc)
        )
    messages.success(request, "Your Slack webhook is saved; Slack messages to you go there.")
    return redirect("web:notify:settings")


@staff_view
@require_POST
def my_webhook_remove(request: HttpRequest) -> HttpResponse:
    """Remove my own Slack webhook: Slack messages to me stop; email is unaffected."""
    try:
        removed = services.personal_webhook_delete(user=_user(request))
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    if removed:
        messages.success(request, "Your Slack webhook is removed.")
    else:
        messages.info(request, "You had no Slack webhook.")
    return redirect("web:notify:settings")


# --- team channels (admins) -------------------------------------------------------------------


def _channel_admin(request: HttpRequest) -> User:
    user = _user(request)
    if not can(user, Action.CHANNEL_MANAGE):
        raise PermissionDenied("Only admins see and change team channels and PagerDuty services.")
    return user


@staff_view
@require_GET
def channels(request: HttpRequest) -> HttpResponse:
    """Team channels by kind (Slack, PagerDuty, email lists) and people's own Slack webhooks."""
    try:
        user = _channel_admin(request)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    rows = list(selectors.channels_for_admin(user=user))
    sections = [
        (
            kind,
            KIND_TITLES[kind],
            KIND_NOUNS[kind],
            [(c, channel_target_text(c)) for c in rows if c.kind == kind and c.user_id is None],
        )
        for kind in (ChannelKind.SLACK.value, ChannelKind.PAGERDUTY.value, ChannelKind.EMAIL.value)
    ]
    personal = [(c, channel_target_text(c)) for c in rows if c.user_id is not None]
    return render(
        request,
        "notify/channels.html",
        {
            "sections": sections,
            "personal": personal,
        },
    )


def _channel_form_page(
    request: HttpRequest,
    form: ChannelForm,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "notify/channel_form.html",
        {
            "form": form,
            "channel": form.channel,
            "kind_noun": KIND_NOUNS[form.kind],
            "secret_field": form[form.secret_field_name],
            "error": error,
        },
        status=status,
    )


def _save_channel(
    request: HttpRequest, form: ChannelForm, save: Callable[[], Channel]
) -> HttpResponse:
    if not form.is_valid():
        return _channel_form_page(request, form, error="Please correct the form below.", status=422)
    try:
        saved = save()
    except (DomainError, PermissionDenied) as exc:
        errors_onto_form(form, exc)
        return _channel_form_page(
            request, form, error=form_error_heading(exc), status=error_status(exc)
        )
    verb = "changed" if form.channel else "added"
    messages.success(request, f"{KIND_TITLES[form.kind]} {saved.name} {verb}.")
    return redirect("web:notify:channels")


@staff_view
@require_http_methods(["GET", "POST"])
def channel_create(request: HttpRequest, kind: str) -> HttpResponse:
    """Add a team Slack channel, PagerDuty service or email list (admins)."""
    try:
        user = _channel_admin(request)
        if kind not in KIND_TITLES:
            raise NotFound(f"There is no channel kind {kind!r}; choose slack, pagerduty or email.")
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    if request.method == "GET":
        return _channel_form_page(request, ChannelForm(kind=kind))
    form = ChannelForm(request.POST, kind=kind)
    return _save_channel(
        request, form, lambda: services.channel_save(actor=user, fields=form.service_fields())
    )


@staff_view
@require_http_methods(["GET", "POST"])
def channel_edit(request: HttpRequest, channel_id: int) -> HttpResponse:
    """Change a team channel; its secret is never shown and is kept when left empty (admins)."""
    try:
        user = _channel_admin(request)
        channel = selectors.channel_for_admin(user=user, channel_id=channel_id)
        if channel.user_id is not None:
            raise NotFound(
                f"Channel {channel_id} is {channel.user}'s own Slack webhook; "
                "they change it on their notification settings."
            )
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    kind = str(channel.kind)
    if request.method == "GET":
        form = ChannelForm(initial=ChannelForm.initial_for(channel), kind=kind, channel=channel)
        return _channel_form_page(request, form)
    form = ChannelForm(request.POST, kind=kind, channel=channel)
    return _save_channel(
        request,
        form,
        lambda: services.channel_save(actor=user, fields=form.service_fields(), channel=channel),
    )


@staff_view
@require_POST
def channel_delete(request: HttpRequest, channel_id: int) -> HttpResponse:
    """Delete a channel (admins); its past deliveries stay in the outbox."""
    try:
        user = _channel_admin(request)
        channel = selectors.channel_for_admin(user=user, channel_id=channel_id)
        name = channel.name
        services.channel_delete(actor=user, channel=channel)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    messages.success(request, f"{name} deleted; its past deliveries stay in the outbox.")
    return redirect("web:notify:channels")


# --- the outbox (admins) ----------------------------------------------------------------------


def ticket_url(number: str) -> str:
    try:
        return reverse("web:tickets:detail", args=[number])
    except NoReverseMatch:
        return ""


def scrub(text: str, target: str, kind: str) -> str:
    """``text`` (an error message) with the delivery's secret destination redacted."""
    if kind in (ChannelKind.SLACK, ChannelKind.PAGERDUTY) and target.strip():
        return text.replace(target.strip(), redact_target(kind, target))
    return text


def delivery_row(delivery: Delivery) -> dict[str, Any]:
    """What the outbox table and the detail page show of one delivery (secrets redacted)."""
    status = str(delivery.status)
    waiting = status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    return {
        "delivery": delivery,
        "target": redact_target(str(delivery.channel), delivery.target),
        "status_class": STATUS_TAG_CLASS.get(status, "bg-base-lighter text-ink"),
        "next_attempt_at": delivery.next_attempt_at if waiting else None,
        "last_error": scrub(delivery.last_error, delivery.target, str(delivery.channel)),
        "ticket_url": ticket_url(delivery.ticket.number) if delivery.ticket else "",
        "retryable": status in RETRYABLE,
    }


def _outbox_admin(request: HttpRequest) -> User:
    user = _user(request)
    if not can(user, Action.OUTBOX_VIEW):
        raise PermissionDenied("Only admins see the outbox.")
    return user


@staff_view
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """Every notification, newest first: counts by status, a filter, a page of 25 rows."""
    try:
        user = _outbox_admin(request)
    except PermissionDenied as exc:
        return render_domain_error(request, exc)
    form = OutboxFilterForm(request.GET)
    form.is_valid()  # invalid fields are shown as errors and left out of the filter
    try:
        deliveries = selectors.outbox_for_admin(user=user, filters=form.filters())
    except InvalidInput as exc:
        errors_onto_form(form, exc)
        deliveries = selectors.outbox_for_admin(user=user, filters=selectors.OutboxFilters())
    page = Paginator(deliveries, OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.outbox_counts(user=user)
    context = {
        "form": form,
        "page": page,
        "rows": [delivery_row(d) for d in page.object_list],
        "counts": [
            (value, label, counts.get(value, 0), STATUS_TAG_CLASS[value])
            for value, label in DeliveryStatus.choices
        ],
        "total": sum(counts.values()),
        "filtered": form.filters() != selectors.OutboxFilters(),
        "elided_pages": page.paginator.get_elided_page_range(
            page.number, on_each_side=2, on_ends=1
        ),
        "may_retry": can(user, Action.OUTBOX_RETRY),
    }
    return render(request, "notify/outbox.html", context)


def _delivery_page(
    request: HttpRequest, user: User, delivery: Delivery, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        **delivery_row(delivery),
        "payload_json": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
        "channel_config": delivery.channel_config,
        "channel_text": channel_target_text(delivery.channel_config)
        if delivery.channel_config
        else "",
        "claimed_at": delivery.claimed_at,
        "may_retry": can(user, Action.OUTBOX_RETRY),
        "may_manage_channels": can(user, Action.CHANNEL_MANAGE),
        "error": error,
        "now": timezone.now(),
    }
    return render(request, "notify/delivery.html", context, status=status)


@staff_view
@require_GET
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """One delivery: where it went, every field of its state, and the payload as sent."""
    try:
        user = _outbox_admin(request)
        delivery = selectors.delivery_for_admin(user=user, delivery_id=delivery_id)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    return _delivery_page(request, user, delivery)


@staff_view
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """Send a dead or failed delivery again now (admins); attempts restart at 0."""
    user = _user(request)
    try:
        services.delivery_retry(actor=user, delivery_id=delivery_id)
    except (NotFound, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    except DomainError as exc:  # e.g. already pending or sent: show the delivery as it is now
        delivery = selectors.delivery_for_admin(user=user, delivery_id=delivery_id)
        return _delivery_page(
            request, user, delivery, error=error_message(exc), status=error_status(exc)
        )
    messages.success(
        request, f"Delivery {delivery_id} is queued to be sent again now (attempts restart at 0)."
    )
    return redirect("web:notify:delivery", delivery_id=delivery_id)
