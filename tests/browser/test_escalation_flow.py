"""The whole escalation path in a real browser, with axe-core on every page visited.

A Tier 2 specialist opens a ticket with the full escalation context and escalates it to Tier 3;
a Tier 3 engineer finds it in the Tier 3 queue, reveals the identifier, acknowledges and resolves
it. A second, CSP-enforcing browser context then checks that the pages and htmx work under the
site's Content-Security-Policy (the axe context bypasses CSP only to inject axe-core).

A second flow: an admin corrects and saves the escalation thresholds and resets them; an
engineer marks from the ticket's escalation panel that a hotfix is needed (htmx, under the CSP)
and sees the recommendation turn to monitoring.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from backline.accounts.models import User
from backline.accounts.roles import Role
from backline.accounts.services import user_create
from backline.escalation.models import HotfixMark, RuleSettings
from backline.logs.store import forget_store
from backline.tickets import services
from backline.tickets.choices import Status, Tier
from backline.tickets.models import SlaPolicy, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a-long-browser-test-password"
ICN = "1012345678V123456"


def person(username: str, name: str, role: Role) -> User:
    return user_create(username=username, password=PASSWORD, roles=[role], display_name=name)


def background_tickets(specialist: User, engineer: User) -> None:
    """A few other Tier 3 tickets so the queue shows several priorities and SLA states."""
    base: dict[str, Any] = {
        "description": "Escalated after standard troubleshooting.",
        "affected_user_id": "1098765432V654321",
        "area": "secure_messaging",
        "suspected_upstream": "mhv_api",
        "troubleshooting_steps": ["Cleared cache", "Tried another browser"],
        "entry_criterion": "integration_failure",
    }
    from django.utils import timezone

    base["occurred_at"] = timezone.now()
    for title, priority in (
        ("SM - You are not connected to any care team", "high"),
        ("RX - Wrong medication shown after refill", "critical"),
        ("MR - Lab results missing after facility transfer", "low"),
    ):
        ticket = services.ticket_create(
            actor=specialist, fields=dict(base, title=title, priority=priority), tier=2
        )
        services.ticket_escalate(ticket=ticket, actor=specialist, to_tier=3)
    paused = Ticket.objects.get(priority="low")
    services.ticket_acknowledge(ticket=paused, actor=engineer)
    services.ticket_change_status(
        ticket=paused, actor=engineer, to="waiting_partner", note="VistA team"
    )


def sign_in(page: Any, base: str, username: str, assert_accessible: Any) -> None:
    page.goto(f"{base}/login/")
    assert_accessible(page, "sign-in page")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Sign in')")


def sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.click("button:has-text('Sign out')")


def test_tier2_escalates_and_tier3_acknowledges_and_resolves(
    live_server: Any, chromium: Any, assert_accessible: Any, screenshots_dir: Path
) -> None:
    assert SlaPolicy.objects.exists(), "the default SLA policies (data migration) are missing"
    sam = person("sam", "Sam Specialist", Role.TIER2)
    erin = person("erin", "Erin Engineer", Role.TIER3)
    background_tickets(sam, erin)
    base = live_server.url

    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # --- Tier 2: open the ticket with the full context, then escalate it to Tier 3.
    sign_in(page, base, "sam", assert_accessible)
    assert page.url == f"{base}/tickets/queue/2/"
    assert_accessible(page, "Tier 2 queue")

    page.click("a:has-text('New ticket')")
    page.wait_for_selector("h1:has-text('New ticket')")
    assert_accessible(page, "new ticket form")

    with page.expect_navigation():
        page.click("button:has-text('Open ticket')")  # empty: shows the errors
    page.wait_for_selector(".usa-alert--error")
    assert page.is_visible("#id_title-error")
    assert_accessible(page, "new ticket form with errors")

    page.fill("#id_title", "RX - Medications list empty although the record shows them")
    page.fill("#id_description", "The prescriptions page shows no medications since Monday.")
    page.select_option("#id_priority", "high")
    page.select_option("#id_area", "medications")
    page.select_option("#id_suspected_upstream", "vista")
    page.fill("#id_affected_user_id", ICN)
    page.fill("#id_occurred_at", "2026-11-23T09:05")
    page.fill("#id_device", "Desktop")
    page.fill("#id_browser", "Chrome 142")
    page.fill("#id_os", "Windows 11")
    page.select_option("#id_credential", "idme")
    page.click("label[for=id_oracle_health_site_2]")  # No (USWDS styles the label)
    page.fill("#id_url", "https://portal.example.org/my-health/medications")
    page.fill("#id_external_refs", "HRC-HD-Y4-0000447389")
    page.fill("#id_steps_to_reproduce", "Sign in with ID.me, open Medications.")
    page.fill("#id_expected_behaviour", "Active prescriptions are listed.")
    page.fill("#id_actual_behaviour", "Empty list, no error shown.")
    page.fill(
        "#id_troubleshooting_steps",
        "Cleared cache and cookies\nConfirmed prescriptions in the record",
    )
    page.select_option("#id_entry_criterion", "tier2_cannot_resolve")
    with page.expect_navigation():
        page.click("button:has-text('Open ticket')")
    ticket = Ticket.objects.get(title__startswith="RX - Medications list empty")
    assert page.url == f"{base}/tickets/{ticket.number}/"
    assert ticket.tier == Tier.TIER2
    assert ICN not in page.content()  # Tier 2 sees the identifier masked
    assert_accessible(page, "ticket page at Tier 2")

    page.click("a:has-text('Escalate to Tier 3')")
    page.wait_for_selector(f"h1:has-text('Escalate {ticket.number} to Tier 3')")
    assert_accessible(page, "escalate form")
    with page.expect_navigation():
        page.click("button:has-text('Escalate to Tier 3')")
    assert page.url == f"{base}/tickets/{ticket.number}/"
    assert page.is_visible(f"text={ticket.number} escalated to Tier 3")
    ticket.refresh_from_db()
    assert ticket.tier == Tier.TIER3 and ticket.sla_started_at is not None
    assert ticket.affected_user_id == ICN
    sign_out(page)

    # --- Tier 3: find it in the queue, reveal the identifier, acknowledge, resolve.
    sign_in(page, base, "erin", assert_accessible)
    assert page.url == f"{base}/tickets/queue/3/"
    assert page.is_visible(f"a:has-text('{ticket.number}')")
    assert_accessible(page, "Tier 3 queue")
    page.screenshot(path=str(screenshots_dir / "queue.png"), full_page=True)

    page.select_option("#id_priority", "high")  # htmx swaps the table; the URL keeps the filter
    page.wait_for_url(re.compile(r"/tickets/queue/3/\?priority=high(&sort=due)?$"))
    assert page.is_visible(f"a:has-text('{ticket.number}')")
    assert not page.is_visible("td:has-text('Wrong medication shown')")
    assert_accessible(page, "Tier 3 queue filtered")

    with page.expect_navigation():
        page.click(f"a:has-text('{ticket.number}')")
    assert_accessible(page, "ticket page at Tier 3")

    page.click("button:has-text('Show identifier')")
    page.wait_for_selector(f"#identifier code:has-text('{ICN}')")
    assert_accessible(page, "ticket page with the identifier shown")

    with page.expect_navigation():
        page.click("button:has-text('Acknowledge and take ownership')")
    assert page.is_visible(f"text=You acknowledged {ticket.number}")
    assert_accessible(page, "ticket page after acknowledging")

    page.click("summary:has-text('Resolve')")
    page.fill("#id_resolve-summary", "The pharmacy lookup used the patient's second MHV id.")
    page.select_option("#id_resolve-root_cause", "identity")
    page.fill("#id_resolve-workaround", "Re-link the correct MHV id.")
    page.click("label[for=id_resolve-code_change_needed_1]")  # Yes
    page.fill("#id_resolve-follow_up_url", "https://issues.example.org/backline/123")
    with page.expect_navigation():
        page.click("button:has-text('Resolve ticket')")
    assert page.is_visible(f"text={ticket.number} is resolved.")
    assert_accessible(page, "ticket page after resolving")
    page.screenshot(path=str(screenshots_dir / "ticket.png"), full_page=True)
    context.close()

    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.acknowledged_by == erin and ticket.assignee == erin
    assert ticket.code_change_needed is True

    # --- The same pages under the real Content-Security-Policy: no violation, htmx still works.
    strict = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = strict.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Sign in')")
    page.select_option("#id_sla", "paused")
    page.wait_for_url(re.compile(r"/tickets/queue/3/\?sla=paused(&sort=due)?$"))
    assert page.is_visible("td:has-text('Lab results missing')")
    assert not page.is_visible(f"a:has-text('{ticket.number}')")
    page.goto(f"{base}/tickets/{ticket.number}/")
    assert problems == [], problems
    strict.close()


def tier3_ticket(specialist: User) -> Ticket:
    """A Tier 3 ticket whose user has no log events: the panel says stay at Tier 3."""
    from django.utils import timezone

    fields: dict[str, Any] = {
        "title": "RX - Refill request rejected with an unknown error",
        "description": "The refill button shows an error for one prescription.",
        "priority": "high",
        "affected_user_id": ICN,
        "area": "medications",
        "suspected_upstream": "vista",
        "occurred_at": timezone.now(),
        "troubleshooting_steps": ["Cleared cache", "Tried another browser"],
        "entry_criterion": "tier2_cannot_resolve",
    }
    ticket = services.ticket_create(actor=specialist, fields=fields, tier=2)
    services.ticket_escalate(ticket=ticket, actor=specialist, to_tier=3)
    ticket.refresh_from_db()
    return ticket


def open_panel(page: Any, base: str, ticket: Ticket) -> None:
    """The ticket page, with the escalation panel htmx loads into it."""
    page.goto(f"{base}/tickets/{ticket.number}/")
    page.wait_for_selector("#escalation-panel #recommendation")


def test_admin_tunes_thresholds_and_engineer_marks_a_hotfix(
    live_server: Any,
    chromium: Any,
    assert_accessible: Any,
    settings: Any,
    tmp_path: Path,
    screenshots_dir: Path,
) -> None:
    settings.VAR_DIR = tmp_path  # an empty log store of its own, whatever the var folder holds
    person("ada", "Ada Admin", Role.ADMIN)
    person("erin", "Erin Engineer", Role.TIER3)
    ticket = tier3_ticket(person("sam", "Sam Specialist", Role.TIER2))
    base = live_server.url
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # --- Admin: the settings page from the nav; a wrong value is refused, then saved, reset.
    sign_in(page, base, "ada", assert_accessible)
    with page.expect_navigation():
        page.click("nav a:has-text('Escalation settings')")
    page.wait_for_selector("h1:has-text('Escalation settings')")
    assert page.input_value("#id_min_users") == "5"
    assert_accessible(page, "escalation settings")
    page.screenshot(path=str(screenshots_dir / "escalation-settings.png"), full_page=True)
    page.fill("#id_min_users", "-1")
    with page.expect_navigation():
        page.click("button:has-text('Save thresholds')")
    page.wait_for_selector(".usa-alert--error")
    assert page.is_visible("#id_min_users-error")
    assert not RuleSettings.objects.exists()
    assert_accessible(page, "escalation settings with an error")
    page.fill("#id_min_users", "8")
    page.click("label[for=id_protected_data_escalates]")
    with page.expect_navigation():
        page.click("button:has-text('Save thresholds')")
    assert page.is_visible("text=Thresholds saved")
    assert page.input_value("#id_min_users") == "8"
    assert RuleSettings.objects.get().values == {"min_users": 8, "protected_data_escalates": True}
    with page.expect_navigation():
        page.click("button:has-text('Reset to defaults')")
    assert page.is_visible("text=Every threshold is back at its default.")
    assert RuleSettings.objects.get().values == {}
    sign_out(page)

    # --- Engineer: the panel with the hotfix form passes axe.
    sign_in(page, base, "erin", assert_accessible)
    assert not page.is_visible("nav a:has-text('Escalation settings')")
    open_panel(page, base, ticket)
    assert page.is_visible("#recommendation:has-text('Stay at Tier 3')")
    assert_accessible(page, "ticket page with the hotfix form")

    # --- Under the real CSP: mark the hotfix; htmx swaps the panel, the recommendation changes.
    strict = chromium.new_context(viewport={"width": 1280, "height": 900})
    marking = strict.new_page()
    problems: list[str] = []
    marking.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    marking.goto(f"{base}/login/")
    marking.fill("#id_username", "erin")
    marking.fill("#id_password", PASSWORD)
    with marking.expect_navigation():
        marking.click("button:has-text('Sign in')")
    open_panel(marking, base, ticket)
    marking.fill("#hotfix-note", "The refill job needs a null check before Friday.")
    marking.click("button:has-text('Mark: a hotfix is needed')")
    marking.wait_for_selector("#recommendation:has-text('a hotfix is needed')")
    assert marking.url == f"{base}/tickets/{ticket.number}/"  # swapped in place, no page load
    # Focus moves to the outcome, so screen-reader and keyboard users hear what happened.
    assert marking.evaluate("document.activeElement.id") == "hotfix-done"
    assert marking.is_visible("#hotfix-mark:has-text('Erin Engineer')")
    assert marking.is_visible("text=Note: The refill job needs a null check before Friday.")
    assert marking.is_visible("button:has-text('Escalate to Monitoring on-call')")
    assert not marking.is_visible("button:has-text('Mark: a hotfix is needed')")
    assert problems == [], problems
    strict.close()
    mark = HotfixMark.objects.get(ticket=ticket)
    assert mark.marked_by is not None and mark.marked_by.username == "erin"

    # --- The panel with the mark passes axe too.
    open_panel(page, base, ticket)
    assert page.is_visible("#recommendation:has-text('Escalate to monitoring: a hotfix is needed')")
    assert_accessible(page, "ticket page with the hotfix mark")
    page.screenshot(path=str(screenshots_dir / "escalation-panel.png"), full_page=True)
    context.close()
    forget_store(tmp_path / "logs.duckdb")
