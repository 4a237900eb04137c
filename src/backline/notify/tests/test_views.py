"""Notification web pages: my settings (every role), team channels and the outbox (admins only),
each with who may and who may not, forms with errors next to their fields, bad input that must
not become a 500, secrets never rendered, and an outbox whose query count does not grow with rows.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backline.accounts.models import User
from backline.audit.models import AuditEvent
from backline.notify import services
from backline.notify.models import (
    PERSONAL_EVENTS,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    NotificationRule,
)
from backline.notify.tests.conftest import ROUTING_KEY
from backline.tickets import services as tickets
from backline.tickets.models import Ticket

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.com/services/T0AB12CD/B0CD34EF/abcDEF123secretXYZ9"
OTHER_WEBHOOK = "https://hooks.slack.com/services/T0AB12CD/B0CD34EF/zyx987anotherQRS4"
SETTINGS = "/notifications/"
CHANNELS = "/notifications/channels/"
OUTBOX = "/notifications/outbox/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return str(response.content.decode())


def text(response: Any) -> str:
    """The page's words without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html(response)).split())


def rules_post(**changes: Any) -> dict[str, Any]:
    """The settings form as the defaults fill it (every box ticked), with changes."""
    data: dict[str, Any] = {}
    for event in PERSONAL_EVENTS:
        data[f"{event}__slack"] = "on"
        data[f"{event}__email"] = "on"
    data.update({"quiet_start": "", "quiet_end": ""})
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def write_delivery(
    i: int,
    *,
    channel: str = ChannelKind.EMAIL,
    target: str = "",
    ticket: Ticket | None = None,
    recipient: User | None = None,
    status: str = DeliveryStatus.PENDING,
    last_error: str = "",
) -> Delivery:
    delivery = services.delivery_write(
        event="escalated_tier3",
        channel=channel,
        target=target or f"person{i}@example.org",
        payload={"subject": f"BL message {i}", "text": "t", "html": "<p>h</p>"},
        key=f"view-test-{i}",
        ticket=ticket,
        recipient=recipient,
    )
    assert delivery is not None
    if status != DeliveryStatus.PENDING or last_error:
        Delivery.objects.filter(pk=delivery.pk).update(status=status, last_error=last_error)
        delivery.refresh_from_db()
    return delivery


# --- navigation -------------------------------------------------------------------------------


def test_header_links_settings_for_every_role_and_the_outbox_for_admins(
    tina: User, erin: User, maggie: User, ada: User, nobody: User
) -> None:
    for person in (tina, erin, maggie):
        page = html(signed_in(person).get(SETTINGS))
        assert "<span>Notifications</span>" in page, person
        assert "<span>Outbox</span>" not in page, person
    admin_page = html(signed_in(ada).get(OUTBOX))
    assert re.search(r'usa-current" href="/notifications/outbox/" aria-current="page"', admin_page)
    assert "<span>Notifications</span>" in admin_page
    no_role = html(signed_in(nobody).get("/"))
    assert "<span>Notifications</span>" not in no_role and "<span>Outbox</span>" not in no_role


def test_pages_carry_no_inline_script_or_style(ada: User) -> None:
    delivery = write_delivery(1)
    client = signed_in(ada)
    for url in (
        SETTINGS,
        CHANNELS,
        f"{CHANNELS}new/slack/",
        OUTBOX,
        f"{OUTBOX}{delivery.pk}/",
    ):
        response = client.get(url)
        page = html(response)
        assert response.status_code == 200, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert not re.search(r"\sstyle=", page), url
        assert "<style" not in page, url


def test_signed_out_people_are_sent_to_sign_in(client: Client) -> None:
    for url in (SETTINGS, CHANNELS, OUTBOX):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


# --- my notifications -------------------------------------------------------------------------


def test_my_settings_show_the_defaults_my_time_zone_and_the_critical_rule(tina: User) -> None:
    tina.time_zone = "America/Chicago"
    tina.save(update_fields=["time_zone"])
    response = signed_in(tina).get(SETTINGS)
    assert response.status_code == 200
    page = html(response)
    # Every event, both channels, ticked by default.
    assert page.count('class="usa-checkbox__input" type="checkbox"') == 2 * len(PERSONAL_EVENTS)
    assert page.count(" checked>") == 2 * len(PERSONAL_EVENTS)
    words = text(response)
    assert "In your time zone, America/Chicago" in words
    assert "Anything about a Critical ticket ignores quiet hours" in words
    assert "Slack messages to you go to nowhere yet" in words
    assert "<caption" in page


def test_people_without_a_role_have_no_settings(nobody: User) -> None:
    assert signed_in(nobody).get(SETTINGS).status_code == 403
    response = signed_in(nobody).post(SETTINGS, rules_post())
    assert response.status_code == 403
    assert not NotificationRule.objects.exists()


def test_saving_channels_and_quiet_hours_writes_every_rule(erin: User) -> None:
    client = signed_in(erin)
    response = client.post(
        SETTINGS,
        rules_post(
            sla_ack_at_risk__slack=None,
            handoff_reminder__email=None,
            quiet_start="22:00",
            quiet_end="07:00",
        ),
    )
    assert response.status_code == 302 and response["Location"] == SETTINGS
    rules = {r.event: r for r in NotificationRule.objects.filter(user=erin)}
    assert set(rules) == {str(e) for e in PERSONAL_EVENTS}
    assert rules["sla_ack_at_risk"].channels == ["email"]
    assert rules["handoff_reminder"].channels == ["slack"]
    assert rules["escalated_tier3"].channels == ["email", "slack"]
    assert all((r.quiet_start, r.quiet_end) == (time(22), time(7)) for r in rules.values())
    page = client.get(SETTINGS)
    assert "Your notification settings are saved." in text(page)
    assert 'value="22:00"' in html(page) and 'value="07:00"' in html(page)
    assert html(page).count(" checked>") == 2 * len(PERSONAL_EVENTS) - 2
    # Unticking everything is allowed: an event can come by no channel at all.
    nothing = {k: v for k, v in rules_post().items() if "__" not in k}
    assert client.post(SETTINGS, nothing).status_code == 302
    assert all(r.channels == [] for r in NotificationRule.objects.filter(user=erin))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quiet_start": "22:00"}, "quiet_end", "Give both ends of the quiet hours"),
        ({"quiet_end": "07:00"}, "quiet_start", "Give both ends of the quiet hours"),
        (
            {"quiet_start": "09:00", "quiet_end": "09:00"},
            "quiet_end",
            "must not start and end at the same time",
        ),
        ({"quiet_start": "25:99", "quiet_end": "07:00"}, "quiet_start", "Enter a valid time"),
    ],
)
def test_bad_quiet_hours_are_shown_next_to_the_field_and_nothing_is_saved(
    erin: User, changes: dict[str, str], field: str, message: str
) -> None:
    response = signed_in(erin).post(SETTINGS, rules_post(**changes))
    assert response.status_code == 422
    page = html(response)
    assert f'id="id_{field}-error"' in page
    assert message in page
    assert 'href="#id_' + field + '"' in page  # the error summary links to the field
    assert not NotificationRule.objects.filter(user=erin).exists()


def test_quiet_hours_set_per_event_through_the_api_are_shown_and_the_page_says_so(
    erin: User,
) -> None:
    services.rule_save(
        user=erin,
        event="sla_ack_at_risk",
        channels=["email"],
        quiet_start=time(21),
        quiet_end=time(6),
    )
    services.rule_save(user=erin, event="handoff_reminder", channels=["slack"])
    page = signed_in(erin).get(SETTINGS)
    assert "Your quiet hours differ between events" in text(page)
    assert 'value="21:00"' in html(page) and 'value="06:00"' in html(page)
    assert "You have not changed anything yet" not in text(page)
    assert not re.search(r'id="id_sla_ack_at_risk__slack"[^>]*checked', html(page))


def test_a_forged_post_with_unknown_fields_is_ignored_not_a_500(erin: User) -> None:
    response = signed_in(erin).post(
        SETTINGS, rules_post(after_hours_page__email="on", sla_ack_at_risk__pagerduty="on")
    )
    assert response.status_code == 302
    assert not NotificationRule.objects.filter(event="after_hours_page").exists()
    assert NotificationRule.objects.get(user=erin, event="sla_ack_at_risk").channels == [
        "email",
        "slack",
    ]


def test_my_slack_webhook_is_checked_at_save_and_never_shown_in_full(erin: User) -> None:
    client = signed_in(erin)
    bad = client.post(f"{SETTINGS}slack/", {"slack-webhook_url": "https://example.org/hook"})
    assert bad.status_code == 422
    assert 'id="id_slack-webhook_url-error"' in html(bad)
    assert "example.org is not a Slack webhook host" in text(bad)
    path = client.post(
        f"{SETTINGS}slack/", {"slack-webhook_url": "https://hooks.slack.com/services/oops"}
    )
    assert path.status_code == 422 and "The path must look like" in text(path)
    empty = client.post(f"{SETTINGS}slack/", {"slack-webhook_url": ""})
    assert empty.status_code == 422
    assert not Channel.objects.exists()

    saved = client.post(f"{SETTINGS}slack/", {"slack-webhook_url": f"  {WEBHOOK} "})
    assert saved.status_code == 302
    channel = Channel.objects.get()
    assert (channel.user, channel.kind, channel.role) == (erin, "slack", "")
    assert channel.webhook_url == WEBHOOK
    page = client.get(SETTINGS)
    assert "hooks.slack.com …XYZ9" in text(page)
    assert "abcDEF123secret" not in html(page)
    assert AuditEvent.objects.filter(actor=erin, action="notify.channel.save").count() == 1

    # An empty field keeps it; a new URL replaces it (still one channel); remove deletes it.
    assert client.post(f"{SETTINGS}slack/", {"slack-webhook_url": ""}).status_code == 302
    assert Channel.objects.get().webhook_url == WEBHOOK
    client.post(f"{SETTINGS}slack/", {"slack-webhook_url": OTHER_WEBHOOK})
    assert Channel.objects.get().webhook_url == OTHER_WEBHOOK
    assert client.post(f"{SETTINGS}slack/remove/").status_code == 302
    assert not Channel.objects.exists()


def test_webhook_pages_refuse_get_and_people_without_a_role(nobody: User, erin: User) -> None:
    assert signed_in(erin).get(f"{SETTINGS}slack/").status_code == 405
    response = signed_in(nobody).post(f"{SETTINGS}slack/", {"slack-webhook_url": WEBHOOK})
    assert response.status_code == 403
    assert signed_in(nobody).post(f"{SETTINGS}slack/remove/").status_code == 403
    assert not Channel.objects.exists()


# --- team channels ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["tina", "erin", "maggie", "nobody"])
def test_only_admins_see_and_change_team_channels(who: str, make_person: Any, ada: User) -> None:
    channel = services.channel_save(
        actor=ada,
        fields={
            "kind": "slack",
            "name": "#mhv-tier-3-support",
            "role": "tier3",
            "webhook_url": WEBHOOK,
        },
    )
    client = signed_in(make_person(who))
    assert client.get(CHANNELS).status_code == 403
    assert client.get(f"{CHANNELS}new/slack/").status_code == 403
    created = client.post(
        f"{CHANNELS}new/slack/", {"name": "#x", "role": "tier3", "webhook_url": WEBHOOK}
    )
    assert created.status_code == 403
    assert client.post(f"{CHANNELS}{channel.pk}/edit/", {"name": "renamed"}).status_code == 403
    assert client.post(f"{CHANNELS}{channel.pk}/delete/").status_code == 403
    assert list(Channel.objects.values_list("name", flat=True)) == ["#mhv-tier-3-support"]


def test_admin_adds_a_slack_team_channel_after_fixing_the_url(ada: User) -> None:
    client = signed_in(ada)
    form = client.get(f"{CHANNELS}new/slack/")
    assert form.status_code == 200 and "New Slack channel" in text(form)
    assert 'name="routing_key"' not in html(form)  # only this kind's destination
    bad = client.post(
        f"{CHANNELS}new/slack/",
        {"name": "#mhv-tier-3-support", "role": "tier3", "webhook_url": "http://hooks.slack.com/x"},
    )
    assert bad.status_code == 422
    assert 'id="id_webhook_url-error"' in html(bad)
    assert "Slack webhooks must use https://" in text(bad) or "The path must look like" in text(bad)
    assert 'value="#mhv-tier-3-support"' in html(bad)  # what was typed is kept
    assert "Please correct the form below." in text(bad)
    assert "webhook_url:" not in text(bad)  # the service's field names stay out of the page
    assert not Channel.objects.exists()
    missing = client.post(f"{CHANNELS}new/slack/", {"name": "", "role": ""})
    assert missing.status_code == 422
    assert 'id="id_name-error"' in html(missing) and 'id="id_role-error"' in html(missing)

    good = client.post(
        f"{CHANNELS}new/slack/",
        {"name": "#mhv-tier-3-support", "role": "tier3", "webhook_url": WEBHOOK, "enabled": "on"},
    )
    assert good.status_code == 302 and good["Location"] == CHANNELS
    channel = Channel.objects.get()
    assert (channel.kind, channel.role, channel.webhook_url, channel.enabled) == (
        "slack",
        "tier3",
        WEBHOOK,
        True,
    )
    listing = client.get(CHANNELS)
    assert "#mhv-tier-3-support" in text(listing) and "hooks.slack.com …XYZ9" in text(listing)
    assert "abcDEF123secret" not in html(listing)


def test_editing_never_echoes_the_secret_and_an_empty_field_keeps_it(ada: User) -> None:
    channel = services.channel_save(
        actor=ada,
        fields={
            "kind": "pagerduty",
            "name": "Monitoring",
            "role": "monitoring",
            "routing_key": ROUTING_KEY,
        },
    )
    client = signed_in(ada)
    form = client.get(f"{CHANNELS}{channel.pk}/edit/")
    assert form.status_code == 200
    assert ROUTING_KEY not in html(form)
    assert f"Stored: …{ROUTING_KEY[-4:]}" in text(form)
    kept = client.post(
        f"{CHANNELS}{channel.pk}/edit/",
        {"name": "Monitoring on-call", "role": "monitoring", "routing_key": ""},
    )
    assert kept.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.routing_key, channel.enabled) == (
        "Monitoring on-call",
        ROUTING_KEY,
        False,  # the box was left unticked
    )
    bad = client.post(
        f"{CHANNELS}{channel.pk}/edit/",
        {"name": "Monitoring on-call", "role": "monitoring", "routing_key": "abc"},
    )
    assert bad.status_code == 422
    assert 'id="id_routing_key-error"' in html(bad) and "32 letters and digits" in text(bad)
    channel.refresh_from_db()
    assert channel.routing_key == ROUTING_KEY


def test_email_lists_refuse_bad_addresses_and_duplicate_names(ada: User) -> None:
    client = signed_in(ada)
    bad = client.post(
        f"{CHANNELS}new/email/",
        {
            "name": "Investigators",
            "role": "investigator",
            "addresses": "inv@example.org, not-an-address",
        },
    )
    assert bad.status_code == 422 and 'id="id_addresses-error"' in html(bad)
    assert "not-an-address" in text(bad)
    good = {"name": "Investigators", "role": "investigator", "addresses": "inv@example.org"}
    assert client.post(f"{CHANNELS}new/email/", good).status_code == 302
    again = client.post(f"{CHANNELS}new/email/", good)
    assert again.status_code == 422 and 'id="id_name-error"' in html(again)
    assert Channel.objects.count() == 1


def test_channel_pages_answer_unknown_things_with_404_not_500(ada: User, erin: User) -> None:
    client = signed_in(ada)
    assert client.get(f"{CHANNELS}new/fax/").status_code == 404
    assert client.get(f"{CHANNELS}999/edit/").status_code == 404
    assert client.post(f"{CHANNELS}999/delete/").status_code == 404
    own = Channel.objects.create(
        kind="slack", name="Slack DM @erin", user=erin, webhook_url=WEBHOOK
    )
    response = client.get(f"{CHANNELS}{own.pk}/edit/")
    assert response.status_code == 404 and "own Slack webhook" in text(response)
    listing = text(client.get(CHANNELS))
    assert "People's own Slack webhooks" in listing and "Erin (erin)" in listing


def test_admin_deletes_a_channel_and_its_deliveries_stay(ada: User) -> None:
    channel = services.channel_save(
        actor=ada,
        fields={
            "kind": "slack",
            "name": "#mhv-tier-3-support",
            "role": "tier3",
            "webhook_url": WEBHOOK,
        },
    )
    delivery = write_delivery(1, channel=ChannelKind.SLACK, target=WEBHOOK)
    Delivery.objects.filter(pk=delivery.pk).update(channel_config=channel)
    response = signed_in(ada).post(f"{CHANNELS}{channel.pk}/delete/")
    assert response.status_code == 302
    assert not Channel.objects.exists()
    assert Delivery.objects.filter(pk=delivery.pk, channel_config=None).exists()
    assert signed_in(ada).get(f"{CHANNELS}{channel.pk}/delete/").status_code == 405


# --- the outbox -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["tina", "sam", "erin", "maggie", "nobody"])
def test_only_admins_see_the_outbox_and_retry(who: str, make_person: Any) -> None:
    dead = write_delivery(1, status=DeliveryStatus.DEAD, last_error="Attempt 8: SMTP 554")
    client = signed_in(make_person(who))
    assert client.get(OUTBOX).status_code == 403
    assert client.get(f"{OUTBOX}{dead.pk}/").status_code == 403
    assert client.post(f"{OUTBOX}{dead.pk}/retry/").status_code == 403
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.DEAD


def test_outbox_counts_table_and_redacted_targets(ada: User, sam: User, tier3_context: Any) -> None:
    ticket = tickets.ticket_create(actor=sam, fields=tier3_context, tier=2)
    write_delivery(1, ticket=ticket, recipient=sam)
    write_delivery(
        2,
        channel=ChannelKind.SLACK,
        target=WEBHOOK,
        status=DeliveryStatus.DEAD,
        last_error=f"Attempt 8: Slack answered HTTP 404 for {WEBHOOK}",
    )
    write_delivery(3, status=DeliveryStatus.FAILED, last_error="Attempt 1: timed out")
    Delivery.objects.filter(key="view-test-3").update(external_id="backline-ticket-BL-1")
    response = signed_in(ada).get(OUTBOX)
    assert response.status_code == 200
    page, words = html(response), text(response)
    assert "3 deliveries in the outbox" in words
    assert "Pending 1" in words and "Dead (gave up) 1" in words and "Sent 0" in words
    assert "<caption" in page and "newest first: 1 to 3 of 3" in words
    assert "hooks.slack.com …XYZ9" in words
    assert "abcDEF123secret" not in page  # not in the target, not in the error
    assert ticket.number in words and "to Sam" in words
    assert "backline-ticket-BL-1" in words
    # Status in words on the tag, not colour alone; retry offered for dead and failed only.
    assert re.search(r'<span class="usa-tag [^"]*">Dead \(gave up\)</span>', page)
    assert page.count("Retry<span") == 2


def test_outbox_filters_by_status_channel_event_and_ticket(
    ada: User, sam: User, tier3_context: Any
) -> None:
    ticket = tickets.ticket_create(actor=sam, fields=tier3_context, tier=2)
    write_delivery(1, ticket=ticket)
    write_delivery(2, channel=ChannelKind.SLACK, target=WEBHOOK, status=DeliveryStatus.DEAD)
    write_delivery(3, status=DeliveryStatus.SENT)
    client = signed_in(ada)

    def ids(query: str) -> list[int]:
        page = html(client.get(OUTBOX + query))
        return sorted(int(n) for n in re.findall(r'href="/notifications/outbox/(\d+)/"', page))

    all_ids = ids("")
    assert len(all_ids) == 3
    assert ids("?status=dead") == [Delivery.objects.get(key="view-test-2").pk]
    assert ids("?status=dead&status=sent") == sorted(
        Delivery.objects.filter(key__in=["view-test-2", "view-test-3"]).values_list("pk", flat=True)
    )
    assert ids("?channel=slack") == [Delivery.objects.get(key="view-test-2").pk]
    assert ids(f"?ticket={ticket.number.lower()}") == [Delivery.objects.get(key="view-test-1").pk]
    assert ids("?event=handoff_report") == []
    assert "No delivery matches the filter." in text(client.get(OUTBOX + "?event=handoff_report"))


@pytest.mark.parametrize(
    "query",
    [
        "?status=lost",
        "?channel=fax",
        "?event=nope",
        "?page=abc",
        "?page=999",
        "?ticket=" + "X" * 300,
        "?status=dead&status=%00",
    ],
)
def test_bad_outbox_filters_are_shown_not_a_500(ada: User, query: str) -> None:
    write_delivery(1)
    response = signed_in(ada).get(OUTBOX + query)
    assert response.status_code == 200
    if "page=" not in query:
        assert "Some filters were left out" in text(response)
    assert re.search(r'href="/notifications/outbox/\d+/"', html(response))  # still listed


def test_outbox_pages_and_its_query_count_does_not_grow_with_rows(
    ada: User, sam: User, tier3_context: Any
) -> None:
    ticket = tickets.ticket_create(actor=sam, fields=tier3_context, tier=2)
    client = signed_in(ada)
    client.get(OUTBOX)  # warm the session and the on-call strip cache

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(OUTBOX).status_code == 200
        return len(captured)

    for i in range(3):
        write_delivery(i, ticket=ticket, recipient=sam, status=DeliveryStatus.DEAD)
    few = queries()
    for i in range(3, 40):
        write_delivery(i, ticket=ticket, recipient=sam, status=DeliveryStatus.DEAD)
    assert queries() == few
    first = text(client.get(OUTBOX))
    assert "1 to 25 of 40" in first and "Next" in first
    second = client.get(OUTBOX + "?page=2")
    assert "26 to 40 of 40" in text(second)
    assert 'aria-current="page">2</a>' in html(second)


def test_delivery_page_shows_the_payload_and_retries_a_dead_one(ada: User) -> None:
    dead = write_delivery(1, status=DeliveryStatus.DEAD, last_error="Attempt 8: SMTP 554 refused")
    Delivery.objects.filter(pk=dead.pk).update(attempts=8)
    client = signed_in(ada)
    page = client.get(f"{OUTBOX}{dead.pk}/")
    assert page.status_code == 200
    assert "Attempt 8: SMTP 554 refused" in text(page)
    assert "&quot;subject&quot;: &quot;BL message 1&quot;" in html(page)  # pretty JSON, escaped
    assert "&lt;p&gt;h&lt;/p&gt;" in html(page)  # payload HTML shown as text, never rendered
    assert re.search(r"<pre[^>]*><code>\{\n  ", html(page))
    assert "Retry this delivery" in text(page)

    retried = client.post(f"{OUTBOX}{dead.pk}/retry/")
    assert retried.status_code == 302 and retried["Location"] == f"{OUTBOX}{dead.pk}/"
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (DeliveryStatus.PENDING, 0)
    assert AuditEvent.objects.filter(actor=ada, action="notify.delivery.retry").count() == 1
    after = client.get(retried["Location"])
    assert "queued to be sent again now" in text(after)
    assert "Retry this delivery" not in text(after)

    # A pending delivery cannot be retried: the page says why, with the delivery as it is.
    again = client.post(f"{OUTBOX}{dead.pk}/retry/")
    assert again.status_code == 409
    assert "only dead or failed deliveries can be retried" in text(again)
    assert f"Delivery #{dead.pk}" in text(again)


def test_retry_fixes_the_destination_from_the_channel(ada: User) -> None:
    channel = services.channel_save(
        actor=ada,
        fields={
            "kind": "slack",
            "name": "#mhv-tier-3-support",
            "role": "tier3",
            "webhook_url": WEBHOOK,
        },
    )
    dead = write_delivery(1, channel=ChannelKind.SLACK, target=WEBHOOK, status=DeliveryStatus.DEAD)
    Delivery.objects.filter(pk=dead.pk).update(channel_config=channel)
    client = signed_in(ada)
    client.post(
        f"{CHANNELS}{channel.pk}/edit/",
        {
            "name": "#mhv-tier-3-support",
            "role": "tier3",
            "webhook_url": OTHER_WEBHOOK,
            "enabled": "on",
        },
    )
    assert client.post(f"{OUTBOX}{dead.pk}/retry/").status_code == 302
    dead.refresh_from_db()
    assert dead.target == OTHER_WEBHOOK


def test_unknown_deliveries_are_404_and_retry_is_post_only(ada: User) -> None:
    client = signed_in(ada)
    assert client.get(f"{OUTBOX}999/").status_code == 404
    assert client.post(f"{OUTBOX}999/retry/").status_code == 404
    dead = write_delivery(1, status=DeliveryStatus.DEAD)
    assert client.get(f"{OUTBOX}{dead.pk}/retry/").status_code == 405
