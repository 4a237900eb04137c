"""The notification pages in a real browser, with axe-core on every page visited.

A Tier 3 engineer opens "Notifications" from the header, turns one event's email off with the
keyboard, sets quiet hours, then pastes a wrong Slack webhook (refused next to the field) and the
right one. An admin adds the Tier 3 team's Slack channel (first with a plain-http URL, refused),
opens the outbox, filters it to dead deliveries, opens one with its payload and retries it. A
second, CSP-enforcing browser context checks the same pages raise no console error.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.roles import Role
from backline.accounts.services import user_create
from backline.conftest import TIER3_CONTEXT
from backline.notify import services
from backline.notify.models import Channel, Delivery, DeliveryStatus, NotificationRule
from backline.tickets import services as tickets

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a-long-browser-test-password"
WEBHOOK = "https://hooks.slack.com/services/T0AB12CD/B0CD34EF/abcDEF123secretXYZ9"
TEAM_WEBHOOK = "https://hooks.slack.com/services/T0AB12CD/B0TEAM34/teamSecret42Q7"


def person(username: str, name: str, role: Role, email: str = "") -> User:
    user = user_create(username=username, password=PASSWORD, roles=[role], display_name=name)
    if email:
        user.email = email
        user.save(update_fields=["email"])
    return user


def world() -> tuple[User, User, Delivery]:
    """Erin (Tier 3), Ada (admin), and an outbox with a dead Slack delivery about a ticket
    among a few sent and pending emails. Returns (erin, ada, the dead delivery)."""
    erin = person("erin", "Erin Engineer", Role.TIER3, "erin@example.org")
    ada = person("ada", "Ada Admin", Role.ADMIN)
    sam = person("sam", "Sam Specialist", Role.TIER2)
    fields = dict(TIER3_CONTEXT, occurred_at=timezone.now() - timedelta(hours=2))
    ticket = tickets.ticket_create(actor=sam, fields=fields, tier=2)
    for i in range(4):
        services.delivery_write(
            event="handoff_reminder",
            channel="email",
            target="erin@example.org",
            payload={"subject": f"Handoff reminder {i}", "text": "t", "html": "<p>t</p>"},
            key=f"browser-email-{i}",
            recipient=erin,
        )
    Delivery.objects.filter(key__in=["browser-email-0", "browser-email-1"]).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now()
    )
    dead = services.delivery_write(
        event="escalated_tier3",
        channel="slack",
        target=TEAM_WEBHOOK,
        payload={"text": f"{ticket.number} escalated to Tier 3", "blocks": []},
        key="browser-slack-dead",
        ticket=ticket,
    )
    assert dead is not None
    Delivery.objects.filter(pk=dead.pk).update(
        status=DeliveryStatus.DEAD,
        attempts=8,
        last_error="Attempt 8: Slack answered HTTP 404: no_service",
    )
    return erin, ada, dead


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Sign in')")


def test_settings_channels_outbox_and_retry(
    live_server: Any, chromium: Any, assert_accessible: Any, screenshots_dir: Path
) -> None:
    erin, ada, dead = world()
    base = live_server.url
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # --- my notifications (Tier 3 engineer)
    sign_in(page, base, erin.username)
    with page.expect_navigation():
        page.click("nav[aria-label='Primary navigation'] a:has-text('Notifications')")
    page.wait_for_selector("h1:has-text('My notifications')")
    assert page.is_visible("text=ignores quiet hours")
    assert page.locator("nav[aria-label='Primary navigation'] a:has-text('Outbox')").count() == 0
    assert_accessible(page, "my notifications")

    box = "#id_sla_ack_at_risk__email"
    assert page.is_checked(box)
    page.focus(box)
    page.keyboard.press("Space")  # the visually styled checkbox works from the keyboard
    assert not page.is_checked(box)
    page.fill("#id_quiet_start", "22:00")
    page.fill("#id_quiet_end", "07:00")
    with page.expect_navigation():
        page.click("button:has-text('Save my notification settings')")
    assert page.is_visible("text=Your notification settings are saved.")
    assert not page.is_checked(box)
    rule = NotificationRule.objects.get(user=erin, event="sla_ack_at_risk")
    assert (rule.channels, rule.quiet_start, rule.quiet_end) == (["slack"], time(22), time(7))
    assert_accessible(page, "my notifications after saving")

    page.fill("#id_slack-webhook_url", "https://example.org/hooks/mine")
    with page.expect_navigation():
        page.click("button:has-text('Save my Slack webhook')")
    page.wait_for_selector("#id_slack-webhook_url-error")
    assert "example.org is not a Slack webhook host" in page.inner_text(
        "#id_slack-webhook_url-error"
    )
    assert page.is_visible("#slack-error-summary")
    assert_accessible(page, "my notifications with a webhook error")
    page.fill("#id_slack-webhook_url", WEBHOOK)
    with page.expect_navigation():
        page.click("button:has-text('Save my Slack webhook')")
    assert page.is_visible("text=Your Slack webhook is saved")
    assert page.is_visible("text=hooks.slack.com …XYZ9")
    assert "abcDEF123secret" not in page.content()
    assert Channel.objects.get(user=erin).webhook_url == WEBHOOK
    page.screenshot(path=str(screenshots_dir / "notify-settings.png"), full_page=True)
    context.close()

    # --- team channels (admin)
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base, ada.username)
    with page.expect_navigation():
        page.click("nav[aria-label='Primary navigation'] a:has-text('Notifications')")
    with page.expect_navigation():
        page.click("nav[aria-label='Notification pages'] a:has-text('Team channels')")
    page.wait_for_selector("h1:has-text('Team channels')")
    assert page.is_visible("text=Erin Engineer (erin)")  # her own webhook, listed apart
    assert_accessible(page, "team channels")
    with page.expect_navigation():
        page.click("a:has-text('Add a Slack channel')")
    page.wait_for_selector("h1:has-text('New Slack channel')")
    page.fill("#id_name", "#mhv-tier-3-support")
    page.select_option("#id_role", "tier3")
    page.fill("#id_webhook_url", TEAM_WEBHOOK.replace("https://", "http://"))
    with page.expect_navigation():
        page.click("button:has-text('Add Slack channel')")
    page.wait_for_selector("#id_webhook_url-error")
    assert "must use https://" in page.inner_text("#id_webhook_url-error")
    assert page.input_value("#id_name") == "#mhv-tier-3-support"
    assert_accessible(page, "Slack channel form with an error")
    page.fill("#id_webhook_url", TEAM_WEBHOOK)
    assert page.is_checked("#id_enabled")
    with page.expect_navigation():
        page.click("button:has-text('Add Slack channel')")
    assert page.is_visible("text=Slack channel #mhv-tier-3-support added.")
    assert page.is_visible("text=hooks.slack.com …42Q7")
    assert Channel.objects.get(name="#mhv-tier-3-support").role == "tier3"

    # --- the outbox, a filter, a delivery and its retry
    with page.expect_navigation():
        page.click("nav[aria-label='Primary navigation'] a:has-text('Outbox')")
    page.wait_for_selector("h1:has-text('Outbox')")
    assert page.is_visible("caption:has-text('1 to 5 of 5')")
    assert_accessible(page, "outbox")
    page.screenshot(path=str(screenshots_dir / "notify-outbox.png"), full_page=True)
    page.click("label[for=id_status_dead]")
    assert page.is_checked("#id_status_dead")
    with page.expect_navigation():
        page.click("button:has-text('Apply filter')")
    assert page.is_visible("caption:has-text('1 to 1 of 1')")
    assert page.is_visible("td:has-text('Attempt 8: Slack answered HTTP 404')")
    assert page.is_visible("td code:has-text('hooks.slack.com …42Q7')")
    assert "teamSecret" not in page.content()
    assert_accessible(page, "outbox filtered to dead deliveries")
    with page.expect_navigation():
        page.click(f"a[href='/notifications/outbox/{dead.pk}/']")
    page.wait_for_selector(f"h1:has-text('Delivery #{dead.pk}')")
    assert "escalated to Tier 3" in page.inner_text("pre")
    assert_accessible(page, "delivery detail")
    with page.expect_navigation():
        page.click("button:has-text('Retry this delivery')")
    assert page.is_visible("text=queued to be sent again now")
    assert page.is_visible("span.usa-tag:has-text('Pending')")
    assert page.locator("button:has-text('Retry this delivery')").count() == 0
    assert_accessible(page, "delivery after retry")
    context.close()
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (DeliveryStatus.PENDING, 0)

    # --- the same pages under the real Content-Security-Policy: no violation.
    strict = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = strict.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    sign_in(page, base, ada.username)
    for url in (
        "/notifications/",
        "/notifications/channels/",
        "/notifications/channels/new/pagerduty/",
        "/notifications/outbox/?status=dead",
        f"/notifications/outbox/{dead.pk}/",
    ):
        page.goto(base + url)
    assert problems == [], problems
    strict.close()
