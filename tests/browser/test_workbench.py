"""The investigation workbench in a real browser, with axe-core on every page visited.

A Tier 3 engineer opens a Tier 3 ticket, the Investigate panel loads the affected user's requests
(unmasked for that ticket), shows the failing VistA call, and the engineer pins it as evidence; an
admin then finds the look on the audit page. The same ticket seen by a Tier 2 specialist shows the
identifiers masked. A CSP-enforcing context checks the panel and the explorer under the real
policy (the axe context bypasses CSP only to inject axe-core).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backline.accounts.models import User
from backline.accounts.roles import Role
from backline.accounts.services import user_create
from backline.logs.ingest import import_file
from backline.logs.services import get_store
from backline.logs.store import forget_store
from backline.logs.tests.conftest import write_lines
from backline.tickets import services
from backline.tickets.models import Ticket
from backline.workbench.models import PinnedEvidence
from backline.workbench.tests.conftest import ICN_A, T0, UUID_A, UUID_B, sample_events

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a-long-browser-test-password"
WINDOW = "from=2025-01-06T08%3A00%3A00Z&to=2025-01-06T12%3A00%3A00Z"


@pytest.fixture
def log_store(tmp_path: Path, settings: Any) -> Iterator[Path]:
    settings.VAR_DIR = tmp_path
    import_file(get_store(), write_lines(tmp_path / "sample.jsonl", sample_events()))
    yield tmp_path
    forget_store(tmp_path / "logs.duckdb")


def person(username: str, name: str, role: Role) -> User:
    return user_create(username=username, password=PASSWORD, roles=[role], display_name=name)


def tier3_ticket(specialist: User) -> Ticket:
    fields: dict[str, Any] = {
        "title": "RX - Medications list empty although the record shows them",
        "description": "The prescriptions page shows no medications.",
        "priority": "high",
        "affected_user_id": UUID_A,
        "area": "medications",
        "suspected_upstream": "vista",
        "occurred_at": T0,
        "troubleshooting_steps": ["Cleared cache", "Tried another browser"],
        "entry_criterion": "tier2_cannot_resolve",
    }
    ticket = services.ticket_create(actor=specialist, fields=fields, tier=2)
    services.ticket_escalate(ticket=ticket, actor=specialist, to_tier=3)
    ticket.refresh_from_db()
    return ticket


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Sign in')")


def sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.click("button:has-text('Sign out')")


def test_tier3_investigates_and_pins_tier2_sees_masked_admin_sees_the_audit(
    live_server: Any,
    chromium: Any,
    assert_accessible: Any,
    screenshots_dir: Path,
    log_store: Path,
) -> None:
    sam = person("sam", "Sam Specialist", Role.TIER2)
    person("erin", "Erin Engineer", Role.TIER3)
    person("ada", "Ada Admin", Role.ADMIN)
    ticket = tier3_ticket(sam)
    base = live_server.url
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # --- Tier 3: the ticket's Investigate panel, the failing upstream call, pin it.
    sign_in(page, base, "erin")
    page.goto(f"{base}/tickets/{ticket.number}/")
    page.wait_for_selector("#investigate .wb-requests")
    assert page.is_visible(f"text=Unmasked for {ticket.number}")
    first = page.locator(".wb-request--first")
    assert first.locator("text=First failing request").is_visible()
    failing_call = first.locator(".wb-call--failed")
    assert "vista" in failing_call.inner_text()
    assert "VistA station 516 returned 503" in failing_call.inner_text()
    assert page.is_visible("text=No activity for")
    assert page.locator(".wb-tag--signin").count() == 1
    assert_accessible(page, "ticket page with the Investigate panel (Tier 3)")
    page.screenshot(path=str(screenshots_dir / "investigate.png"), full_page=True)

    first.locator("button:has-text('Pin as evidence')").click()
    page.wait_for_selector("text=Pinned as evidence")
    assert PinnedEvidence.objects.filter(ticket=ticket).count() == 1
    assert_accessible(page, "Investigate panel after pinning")

    page.goto(f"{base}/tickets/{ticket.number}/")
    page.wait_for_selector("#investigate .wb-evidence")
    assert page.is_visible("text=Pinned 2 events as evidence")  # the ticket timeline says so too

    page.click("a:has-text('Open in explorer')")
    page.wait_for_selector("h1:has-text('Logs')")
    assert page.is_visible(f"text=Unmasked for {ticket.number}")
    assert page.locator("[data-wb-row]").count() == 6  # only the ticket's user
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "wb-query"
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.hasAttribute('data-wb-row')")
    assert_accessible(page, "log explorer scoped to the ticket's user")
    page.screenshot(path=str(screenshots_dir / "explorer.png"), full_page=True)

    page.fill("#wb-query", "status:(error")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.is_visible("text=Query syntax error")
    assert_accessible(page, "log explorer with a syntax error")
    sign_out(page)

    # --- Admin: the audit page shows the look, found by the patient's identifier.
    sign_in(page, base, "ada")
    page.goto(f"{base}/audit/")
    page.fill("#audit-subject", UUID_A)
    with page.expect_navigation():
        page.click("button:has-text('Filter')")
    rows = page.locator("table.wb-audit tbody tr")
    text = rows.all_inner_texts()
    assert any(
        "workbench.timeline" in row and "erin" in row and ticket.number in row for row in text
    )
    assert any("workbench.evidence.pin" in row for row in text)
    assert_accessible(page, "audit page")
    sign_out(page)

    # --- Tier 2: the same ticket, identifiers masked.
    sign_in(page, base, "sam")
    page.goto(f"{base}/tickets/{ticket.number}/")
    page.wait_for_selector("#investigate .wb-requests")
    content = page.content()
    assert UUID_A not in content and ICN_A not in content and "[ICN:" in content
    assert not page.is_visible("text=Unmasked for")
    assert_accessible(page, "ticket page with the Investigate panel (Tier 2)")
    page.goto(f"{base}/logs/?{WINDOW}&cols=ts,user_id,message")
    content = page.content()
    assert UUID_A not in content and UUID_B not in content
    assert_accessible(page, "log explorer (Tier 2)")
    context.close()

    # --- Under the real Content-Security-Policy: no violation, htmx and the shortcuts work.
    strict = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = strict.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    sign_in(page, base, "erin")
    page.goto(f"{base}/tickets/{ticket.number}/")
    page.wait_for_selector("#investigate .wb-requests")
    page.goto(f"{base}/logs/?{WINDOW}")
    page.wait_for_selector("svg.wb-histogram")
    page.hover("rect.wb-bar")
    page.wait_for_selector(".wb-tooltip:not([hidden])")
    strict.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
