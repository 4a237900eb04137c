"""The pages, with personas: who sees logs, masked or not, and the audit row of every look."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from backline.accounts.models import User
from backline.audit.models import AuditEvent
from backline.audit.services import subject_digest
from backline.tickets.models import Ticket, TimelineEntry
from backline.workbench.models import PinnedEvidence
from backline.workbench.tests.conftest import ICN_A, ICN_B, UUID_A, UUID_B, WINDOW

pytestmark = pytest.mark.django_db
Login = Callable[[str], Client]


@pytest.fixture
def login(make_person: Callable[[str], User]) -> Login:
    def signed_in(name: str) -> Client:
        client = Client()
        client.force_login(make_person(name))
        return client

    return signed_in


def looks(action: str = "workbench.search") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.mark.parametrize("who", ["tina", "nobody"])
def test_tier1_and_people_without_roles_see_no_logs(
    login: Login, logs: Any, ticket: Ticket, who: str
) -> None:
    client = login(who)
    assert client.get("/logs/", WINDOW).status_code == 403
    assert client.get(f"/logs/tickets/{ticket.number}/").status_code == 403
    assert client.get("/logs/export/", {**WINDOW, "format": "csv"}).status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="workbench.").exists()
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'id="investigate"' not in page  # no panel for roles without logs


def test_tier2_sees_every_identifier_masked_and_the_search_is_audited(
    login: Login, logs: Any
) -> None:
    response = login("sam").get("/logs/", {"q": "", **WINDOW, "cols": "ts,user_id,message"})
    body = response.content.decode()
    assert response.status_code == 200
    for raw in (UUID_A, UUID_B, ICN_A, ICN_B):
        assert raw not in body
    assert "[UUID:" in body and "[ICN:" in body
    assert "Unmasked" not in body
    (row,) = looks()
    assert (row.actor.username, row.unmasked, row.result_count) == ("sam", False, 7)


def test_tier3_without_a_ticket_sees_identifiers_masked_too(login: Login, logs: Any) -> None:
    body = login("erin").get("/logs/", WINDOW).content.decode()
    assert UUID_A not in body and ICN_A not in body
    assert looks()[0].unmasked is False


def test_tier3_with_a_ticket_sees_only_that_users_events_unmasked(
    login: Login, logs: Any, ticket: Ticket
) -> None:
    response = login("erin").get(
        "/logs/", {**WINDOW, "ticket": ticket.number, "cols": "user_id,message"}
    )
    body = response.content.decode()
    assert f"Unmasked for {ticket.number}" in body
    assert UUID_A in body and ICN_A in body
    assert UUID_B not in body and ICN_B not in body  # the other patient stays masked
    (row,) = looks()
    assert (row.ticket_number, row.unmasked) == (ticket.number, True)
    assert row.subject_digest == subject_digest(UUID_A)


def test_tier2_with_the_ticket_stays_masked_but_can_scope_to_the_user(
    login: Login, logs: Any, ticket: Ticket
) -> None:
    response = login("sam").get("/logs/", {**WINDOW, "ticket": ticket.number, "scope": "user"})
    body = response.content.decode()
    assert UUID_A not in body and "Unmasked for" not in body
    assert "6 events on this page" in body  # only patient A's events
    assert looks()[0].unmasked is False


@pytest.mark.parametrize("tier", [2])
def test_a_ticket_below_tier3_unmasks_nothing(
    login: Login, logs: Any, make_ticket: Callable[..., Ticket], tier: int
) -> None:
    ticket = make_ticket(tier=tier)
    body = login("erin").get("/logs/", {**WINDOW, "ticket": ticket.number}).content.decode()
    assert UUID_A not in body and "is not at Tier 3" in body


def test_admin_unmasks_with_a_typed_reason_shown_on_screen_and_audited(
    login: Login, logs: Any
) -> None:
    client = login("ada")
    short = client.get("/logs/", {**WINDOW, "reason": "why"})
    assert short.status_code == 422 and UUID_A not in short.content.decode()
    reason = "Security review SR-12 of session reads"
    body = client.get("/logs/", {**WINDOW, "reason": reason, "cols": "user_id"}).content.decode()
    assert f"Unmasked by Ada: {reason}" in body
    assert UUID_A in body and UUID_B in body
    row = looks()[-1]
    assert (row.reason, row.unmasked) == (reason, True)


def test_only_admins_may_type_a_reason(login: Login, logs: Any) -> None:
    response = login("erin").get("/logs/", {**WINDOW, "reason": "I would like to see everything"})
    assert response.status_code == 403
    assert not looks()


def test_syntax_errors_show_the_position_with_a_caret_and_write_no_audit_row(
    login: Login, logs: Any
) -> None:
    response = login("sam").get("/logs/", {"q": "service:(a OR b", **WINDOW})
    body = response.content.decode()
    assert response.status_code == 400
    assert "at position 15" in body
    assert "service:(a OR b\n" + " " * 15 + "^" in body
    assert 'aria-invalid="true"' in body
    assert not looks()


def test_explorer_state_lives_in_the_url(login: Login, logs: Any) -> None:
    client = login("sam")
    body = client.get(
        "/logs/", {"q": "@upstream:vista", **WINDOW, "cols": "ts,error_code"}
    ).content.decode()
    assert '<th scope="col">Error code</th>' in body
    assert '<th scope="col">Message</th>' not in body
    # Facet links rewrite the query and keep the rest of the state.
    assert "q=%40upstream%3Avista+status%3A%22error%22" in body
    assert "q=%40upstream%3Avista+-status%3A%22error%22" in body
    assert 'role="img"' in body and '<desc id="histogram-desc">' in body
    page1 = client.get("/logs/", {"q": "", **WINDOW}).content.decode()
    assert "Older events" not in page1  # 7 events: one page


def test_paging_with_a_cursor(login: Login, logs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from backline.workbench import services

    monkeypatch.setattr(services, "PAGE_SIZE", 3)
    client = login("sam")
    first = client.get("/logs/", WINDOW).content.decode()
    assert "3 events on this page" in first and "Older events" in first
    bad = client.get("/logs/", {**WINDOW, "cursor": "nonsense"})
    assert bad.status_code == 400


def test_custom_times_are_read_in_the_viewers_zone_and_redirected_to_utc(
    login: Login, logs: Any
) -> None:
    response = login("sam").get(
        "/logs/",
        {"from": "custom", "from_local": "2025-01-06T03:00", "to_local": "2025-01-06T07:00"},
    )
    assert response.status_code == 302
    assert "from=2025-01-06T08%3A00%3A00Z" in response["Location"]  # New York is UTC-5 in January
    assert "to=2025-01-06T12%3A00%3A00Z" in response["Location"]


def test_live_tail_polls_the_results_partial(login: Login, logs: Any) -> None:
    client = login("sam")
    off = client.get("/logs/", {"from": "now-15m"}).content.decode()
    assert 'hx-trigger="every' not in off and "Live tail: off" in off
    on = client.get("/logs/", {"from": "now-15m", "live": "1"}).content.decode()
    assert 'hx-trigger="every 5s"' in on
    partial = client.get(
        "/logs/", {"from": "now-15m", "live": "1", "partial": "results"}, HTTP_HX_REQUEST="true"
    )
    assert partial.content.decode().lstrip().startswith('<div id="wb-results"')
    assert looks()[-1].detail["kind"] == "tail"


def test_export_is_masked_like_the_page_and_audited(
    login: Login, logs: Any, ticket: Ticket
) -> None:
    response = login("sam").get(
        "/logs/export/", {**WINDOW, "format": "csv", "cols": "user_id,message"}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["user_id", "message"] and len(rows) == 8
    assert all(UUID_A not in cell and ICN_A not in cell for row in rows for cell in row)
    as_json = login("erin").get(
        "/logs/export/", {**WINDOW, "format": "json", "ticket": ticket.number}
    )
    events = json.loads(as_json.content)
    assert {e["user_id"] for e in events} >= {UUID_A}
    assert UUID_B not in as_json.content.decode()
    exports = looks("workbench.export")
    assert [(r.actor.username, r.result_count, r.unmasked) for r in exports] == [
        ("sam", 7, False),
        ("erin", 7, True),
    ]


def test_investigate_panel_for_tier3(login: Login, logs: Any, ticket: Ticket) -> None:
    client = login("erin")
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f'hx-get="/logs/tickets/{ticket.number}/?before=2&amp;after=1"' in page
    response = client.get(f"/logs/tickets/{ticket.number}/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f"Unmasked for {ticket.number}" in body
    assert "First failing request" in body and "Failed call" in body
    assert "VistA station 516 returned 503" in body and ICN_A in body
    assert "Sign-in" in body and "No activity for" in body
    assert "6</strong> events in <strong>3</strong> requests" in body.replace("event</", "events</")
    assert UUID_B not in body  # other patients never appear
    assert "before=4&amp;after=2" in body  # widen
    assert f"ticket={ticket.number}&amp;scope=user" in body  # open in explorer
    (row,) = looks("workbench.timeline")
    assert (row.ticket_number, row.unmasked, row.result_count) == (ticket.number, True, 6)


def test_investigate_panel_for_tier2_is_masked(login: Login, logs: Any, ticket: Ticket) -> None:
    body = login("sam").get(f"/logs/tickets/{ticket.number}/").content.decode()
    assert "First failing request" in body
    assert UUID_A not in body and ICN_A not in body and "[ICN:" in body
    assert looks("workbench.timeline")[0].unmasked is False


def test_an_icn_on_the_ticket_finds_the_users_uuid_events(
    login: Login, logs: Any, make_ticket: Callable[..., Ticket]
) -> None:
    ticket = make_ticket(affected_user_id=ICN_A)
    body = login("erin").get(f"/logs/tickets/{ticket.number}/").content.decode()
    assert "Completed POST /v0/sign_in/callback" in body  # an event that carries only the UUID
    assert UUID_A in body and UUID_B not in body


def test_pin_as_evidence_freezes_the_request_and_notes_the_ticket_timeline(
    login: Login, logs: Any, ticket: Ticket
) -> None:
    client = login("erin")
    data = {
        "request_id": "20000000-aaaa-4bbb-8ccc-000000000002",
        "from": "2025-01-06T08:00:00Z",
        "to": "2025-01-06T11:00:00Z",
    }
    response = client.post(f"/logs/tickets/{ticket.number}/pin/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Pinned as evidence" in response.content.decode()
    pin = PinnedEvidence.objects.get()
    assert len(pin.events) == 2 and pin.pinned_by.username == "erin"
    assert "@request_id:" in pin.query and UUID_A in pin.query
    assert "503" in pin.summary and ICN_A not in pin.summary
    entry = TimelineEntry.objects.filter(ticket=ticket, data__evidence_id=pin.pk).get()
    assert entry.body == pin.summary
    assert looks("workbench.evidence.pin")[0].result_count == 2
    # Another patient's request cannot be pinned to this ticket.
    other = {**data, "request_id": "40000000-aaaa-4bbb-8ccc-000000000004"}
    refused = client.post(f"/logs/tickets/{ticket.number}/pin/", other, HTTP_HX_REQUEST="true")
    assert refused.status_code == 404 and PinnedEvidence.objects.count() == 1
    # Tier 2 sees the pin masked in the panel; unpinning hides it and says so on the timeline.
    sam_view = login("sam").get(f"/logs/tickets/{ticket.number}/").content.decode()
    assert pin.summary in sam_view and "query hidden" in sam_view
    client.post(f"/logs/tickets/{ticket.number}/evidence/{pin.pk}/unpin/")
    pin.refresh_from_db()
    assert pin.removed_at is not None and pin.removed_by is not None
    assert TimelineEntry.objects.filter(ticket=ticket, body__startswith="Unpinned").exists()


def test_audit_page_is_for_admins_and_filters_by_patient(
    login: Login, logs: Any, ticket: Ticket
) -> None:
    login("erin").get(f"/logs/tickets/{ticket.number}/")
    login("sam").get("/logs/", WINDOW)
    assert login("erin").get("/audit/").status_code == 403
    admin = login("ada")
    page = admin.get("/audit/", {"subject": UUID_A}).content.decode()
    assert "workbench.timeline" in page and ticket.number in page
    assert "2 audit rows," in page  # the timeline and this search; sam named no patient
    by_person = admin.get("/audit/", {"actor": "sam"}).content.decode()
    assert "<code>workbench.search</code>" in by_person
    assert "<code>workbench.timeline</code>" not in by_person
    assert admin.get("/audit/", {"from": "yesterday"}).status_code == 422
    assert AuditEvent.objects.filter(action="audit.search", actor__username="ada").count() == 1


def test_nav_shows_logs_to_log_readers_and_audit_to_admins(login: Login) -> None:
    sam = login("sam").get("/tokens/").content.decode()
    assert ">Logs<" in sam and ">Audit<" not in sam
    ada = login("ada").get("/tokens/").content.decode()
    assert ">Logs<" in ada and ">Audit<" in ada
    assert ">Logs<" not in login("tina").get("/tokens/").content.decode()
