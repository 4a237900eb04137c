"""The on-call pages in a real browser, with axe-core on every page visited.

The Tier 3 engineer on call now opens the on-call overview from the header, looks at the Tier 3
schedule (week and month) and at a role with nobody on it (gaps everywhere), hands an hour of
their own shift to a colleague with an override (first submitting the empty form to see the
errors), then opens this week's handoff, writes nothing but acknowledges it. A second,
CSP-enforcing browser context checks the same pages raise no console error.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backline.accounts.models import Team, User
from backline.accounts.roles import Role
from backline.accounts.services import user_create
from backline.conftest import TIER3_CONTEXT
from backline.oncall import handoff as handoffs
from backline.oncall import selectors, services
from backline.oncall.models import Handoff, OncallRole, Override, Rotation
from backline.tickets import services as tickets

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a-long-browser-test-password"
NEW_YORK = ZoneInfo("America/New_York")


def person(username: str, name: str, role: Role) -> User:
    return user_create(username=username, password=PASSWORD, roles=[role], display_name=name)


def tier3_world() -> tuple[Rotation, User, User]:
    """A weekly Tier 3 rotation whose current turn is mid-way (the handoff weekday is three
    days ahead), an empty Monitoring rotation, and a handoff for the last boundary with one
    open ticket of the outgoing engineer. Returns (rotation, on call now, the other one)."""
    maggie = person("maggie", "Maggie Manager", Role.MANAGER)
    erin = person("erin", "Erin Engineer", Role.TIER3)
    frank = person("frank", "Frank Fixer", Role.TIER3)
    sam = person("sam", "Sam Specialist", Role.TIER2)
    today = timezone.localdate(timezone=NEW_YORK)
    team = Team.objects.get_or_create(
        slug="tier-3", defaults={"name": "Tier 3 support", "role": Role.TIER3}
    )[0]
    rotation = services.rotation_create(
        actor=maggie,
        fields={
            "name": "Tier 3 weekly",
            "role": OncallRole.TIER3.value,
            "team": team,
            "start_date": today - timedelta(days=28),
            "handoff_weekday": (today.weekday() + 3) % 7,
        },
        members=[erin, frank],
    )
    monitoring_team = Team.objects.get_or_create(
        slug="monitoring", defaults={"name": "Monitoring", "role": Role.MONITORING}
    )[0]
    services.rotation_create(
        actor=maggie,
        fields={
            "name": "Monitoring (unstaffed)",
            "role": OncallRole.MONITORING.value,
            "team": monitoring_team,
            "start_date": today - timedelta(days=28),
        },
    )
    answer = selectors.on_call_for(role=OncallRole.TIER3)
    assert answer.person is not None
    current = answer.person
    other = frank if current == erin else erin
    fields = dict(TIER3_CONTEXT, occurred_at=timezone.now() - timedelta(hours=2))
    ticket = tickets.ticket_create(actor=sam, fields=fields, tier=2)
    ticket = tickets.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
    tickets.ticket_assign(ticket=ticket, actor=None, assignee=other, reason="browser test setup")
    # Handoff records are never made for boundaries before a rotation existed: backdate it.
    Rotation.objects.filter(pk=rotation.pk).update(created_at=timezone.now() - timedelta(days=28))
    [handoff] = handoffs.handoff_create_due(rotation=rotation)
    assert (handoff.outgoing, handoff.incoming) == (other, current)
    return rotation, current, other


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Sign in')")


def local_input(moment: Any) -> str:
    """A datetime-local value in the engineer's zone (New York, the persona default)."""
    return str(moment.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M"))


def test_schedule_override_and_handoff_pages(
    live_server: Any,
    chromium: Any,
    assert_accessible: Any,
    screenshots_dir: Path,
) -> None:
    rotation, current, other = tier3_world()
    base = live_server.url
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()

    sign_in(page, base, current.username)
    assert page.is_visible("#oncall-strip-title")
    assert page.is_visible(f".bl-oncall-strip strong:has-text('{current.name}')")

    with page.expect_navigation():
        page.click("nav[aria-label='Primary navigation'] a:has-text('On-call')")
    page.wait_for_selector("h1:has-text('On-call')")
    assert_accessible(page, "on-call overview")

    with page.expect_navigation():
        page.click("nav[aria-label='On-call pages'] a:has-text('Tier 3 schedule')")
    page.wait_for_selector("h1:has-text('Tier 3 support on-call schedule')")
    assert page.is_visible(f"td:has-text('{current.name}')")
    assert_accessible(page, "Tier 3 week view")
    page.screenshot(path=str(screenshots_dir / "oncall-week.png"), full_page=True)

    with page.expect_navigation():
        page.click("a:has-text('Month view')")
    page.wait_for_selector("table.bl-schedule-month")
    assert_accessible(page, "Tier 3 month view")

    with page.expect_navigation():
        page.click("nav[aria-label='On-call pages'] a:has-text('Monitoring schedule')")
    assert page.is_visible("text=Gap: nobody on call inside coverage hours")
    assert_accessible(page, "Monitoring week view with gaps")

    # --- an override of one hour of the engineer's own shift.
    page.goto(f"{base}/oncall/{rotation.role}/")
    with page.expect_navigation():
        page.click("a:has-text('Add an override')")
    page.wait_for_selector("h1:has-text('Add an override')")
    assert_accessible(page, "override form")
    with page.expect_navigation():
        page.click("button:has-text('Save override')")  # empty: shows the errors
    page.wait_for_selector(".usa-alert--error")
    assert page.is_visible("#id_person-error")
    assert_accessible(page, "override form with errors")

    start = (timezone.now() + timedelta(hours=1)).replace(second=0, microsecond=0)
    page.select_option("#id_rotation", str(rotation.pk))
    page.select_option("#id_person", str(other.pk))
    page.fill("#id_start", local_input(start))
    page.fill("#id_end", local_input(start + timedelta(hours=1)))
    page.fill("#id_reason", "Doctor's appointment")
    with page.expect_navigation():
        page.click("button:has-text('Save override')")
    assert page.is_visible("text=Override saved")
    assert page.is_visible(f"text=Override: {other.name} replaces {current.name}")
    assert_accessible(page, "week view with the override")
    override = Override.objects.get()
    assert (override.person, override.replaces, override.created_by) == (other, current, current)
    assert override.start == start

    # --- the handoff: report, acknowledgement.
    with page.expect_navigation():
        page.click("nav[aria-label='On-call pages'] a:has-text('Handoffs')")
    assert_accessible(page, "handoff list")
    handoff = Handoff.objects.get()
    with page.expect_navigation():
        page.click(f"a[href='/oncall/handoffs/{handoff.pk}/']")
    page.wait_for_selector(f"h1:has-text('Handoff: {other.name} to {current.name}')")
    assert page.is_visible("text=RX - Medications list empty")
    assert_accessible(page, "handoff report")
    page.screenshot(path=str(screenshots_dir / "oncall-handoff.png"), full_page=True)
    with page.expect_navigation():
        page.click("button:has-text('Acknowledge the handoff')")
    assert page.is_visible("text=Handoff acknowledged. 1 ticket moved to you")
    assert_accessible(page, "handoff report after acknowledging")

    for url, where in (
        ("/oncall/fairness/", "fairness report"),
        ("/oncall/swaps/", "swaps"),
        ("/oncall/feeds/", "calendar feeds"),
        ("/oncall/rotations/", "rotations"),
    ):
        page.goto(base + url)
        assert_accessible(page, where)
    context.close()
    handoff.refresh_from_db()
    assert handoff.acknowledged_by == current

    # --- the same pages under the real Content-Security-Policy: no violation.
    strict = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = strict.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    sign_in(page, base, current.username)
    for url in (
        "/oncall/",
        f"/oncall/tier3/?view=month&start={date.today().isoformat()}",
        "/oncall/overrides/new/",
        f"/oncall/handoffs/{handoff.pk}/",
    ):
        page.goto(base + url)
    assert problems == [], problems
    strict.close()
