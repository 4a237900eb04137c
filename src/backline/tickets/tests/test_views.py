"""HTML views of tickets through the Django test client: each page and action, allowed and refused.

Personas (src/backline/conftest.py): tina Tier 1, sam Tier 2, erin and frank Tier 3, nobody (no role).
Tickets are made by the real services; assertions read the rendered HTML and the database.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backline.accounts.models import User
from backline.audit.masking import mask_identifier
from backline.audit.models import AuditEvent
from backline.tickets import services
from backline.tickets.choices import Status, Tier
from backline.tickets.models import Ticket, TimelineEntry

pytestmark = pytest.mark.django_db

ICN = "1012345678V123456"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return str(response.content.decode())


@pytest.fixture
def tier3_ticket(sam: User, tier3_context: dict[str, Any]) -> Ticket:
    ticket = services.ticket_create(actor=sam, fields=tier3_context, tier=2)
    return services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)


@pytest.fixture
def tier1_ticket(tina: User) -> Ticket:
    return services.ticket_create(
        actor=tina,
        fields={"title": "Cannot sign in", "description": "Patient called the help desk."},
    )


def acknowledged(ticket: Ticket, engineer: User) -> Ticket:
    return services.ticket_acknowledge(ticket=ticket, actor=engineer)


# --- queues -------------------------------------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/tickets/queue/3/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_tier3_queue_lists_the_ticket_with_badge_text_and_due_time(
    erin: User, tier3_ticket: Ticket
) -> None:
    response = signed_in(erin).get("/tickets/queue/3/")
    page = html(response)
    assert response.status_code == 200
    assert f'href="/tickets/{tier3_ticket.number}/"' in page
    assert tier3_ticket.title in page
    assert "bl-sla--on-track" in page and ">On track<" in page
    assert "Unassigned" in page and "Medications" in page


def test_due_time_is_shown_in_the_viewers_time_zone(erin: User, tier3_ticket: Ticket) -> None:
    due = tier3_ticket.next_due_at
    assert due is not None
    shown = []
    for zone in ("America/Los_Angeles", "Asia/Tokyo"):
        erin.time_zone = zone
        erin.save(update_fields=["time_zone"])
        page = html(signed_in(erin).get("/tickets/queue/3/"))
        expected = due.astimezone(__import__("zoneinfo").ZoneInfo(zone)).strftime("%a %b %d %H:%M")
        assert expected in page
        shown.append(expected)
    assert shown[0] != shown[1]


@pytest.mark.parametrize(
    ("arrange", "css", "text"),
    [
        ("at_risk", "bl-sla--at-risk", "At risk - due "),
        ("breached", "bl-sla--breached", ">Breached<"),
        ("paused", "bl-sla--paused", ">Paused<"),
    ],
)
def test_sla_badges_carry_words_as_well_as_colour(
    erin: User, tier3_ticket: Ticket, arrange: str, css: str, text: str
) -> None:
    now = timezone.now()
    if arrange == "at_risk":
        Ticket.objects.filter(pk=tier3_ticket.pk).update(
            next_risk_at=now - timedelta(minutes=1), next_due_at=now + timedelta(minutes=30)
        )
    elif arrange == "breached":
        Ticket.objects.filter(pk=tier3_ticket.pk).update(
            next_risk_at=now - timedelta(hours=2), next_due_at=now - timedelta(minutes=1)
        )
    else:
        acknowledged(tier3_ticket, erin)
        services.ticket_change_status(
            ticket=tier3_ticket, actor=erin, to="waiting_partner", note="VistA team"
        )
    page = html(signed_in(erin).get("/tickets/queue/3/"))
    assert css in page and text in page


def test_filters_live_in_the_url_and_narrow_the_list(
    erin: User, sam: User, tier3_ticket: Ticket, tier3_context: dict[str, Any]
) -> None:
    other = dict(
        tier3_context, title="SM - Missing messages", area="secure_messaging", priority="high"
    )
    services.ticket_escalate(
        ticket=services.ticket_create(actor=sam, fields=other, tier=2), actor=sam, to_tier=3
    )
    client = signed_in(erin)
    page = html(client.get("/tickets/queue/3/", {"area": "secure_messaging"}))
    assert "SM - Missing messages" in page and tier3_ticket.title not in page
    assert '<option value="secure_messaging" selected>' in page
    page = html(client.get("/tickets/queue/3/", {"text": "Medications list"}))
    assert tier3_ticket.title in page and "SM - Missing messages" not in page
    page = html(client.get("/tickets/queue/3/", {"priority": "high"}))
    assert "SM - Missing messages" in page and tier3_ticket.title not in page
    page = html(client.get("/tickets/queue/3/", {"sla": "breached"}))
    assert "No tickets match" in page


def test_htmx_filter_requests_get_only_the_table_partial(erin: User, tier3_ticket: Ticket) -> None:
    client = signed_in(erin)
    partial = html(client.get("/tickets/queue/3/", {"priority": "medium"}, HTTP_HX_REQUEST="true"))
    assert partial.lstrip().startswith('<div id="queue-results"')
    assert "<html" not in partial and tier3_ticket.number in partial
    restore = client.get(
        "/tickets/queue/3/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in html(restore)  # history restores need the whole page
    full = html(client.get("/tickets/queue/3/"))
    assert "<html" in full and 'hx-get="/tickets/queue/3/"' in full


def test_unknown_filter_values_are_reported_not_a_500(erin: User, tier3_ticket: Ticket) -> None:
    response = signed_in(erin).get("/tickets/queue/3/", {"priority": "urgent", "sort": "sideways"})
    page = html(response)
    assert response.status_code == 200
    assert "Some filters were not understood" in page
    assert "Select a valid choice" in page
    assert tier3_ticket.number in page  # the valid part of the queue still shows


def test_queue_pages_25_rows_and_keeps_filters_in_page_links(
    erin: User, sam: User, tier3_context: dict[str, Any]
) -> None:
    for n in range(27):
        services.ticket_escalate(
            ticket=services.ticket_create(
                actor=sam, fields=dict(tier3_context, title=f"T{n}"), tier=2
            ),
            actor=sam,
            to_tier=3,
        )
    client = signed_in(erin)
    first = html(client.get("/tickets/queue/3/", {"area": "medications"}))
    assert first.count('<th scope="row"') == 25
    assert "Showing 1-25 of 27 tickets" in first
    assert 'href="?area=medications&amp;page=2"' in first
    second = html(client.get("/tickets/queue/3/", {"area": "medications", "page": 2}))
    assert second.count('<th scope="row"') == 2


def test_queue_query_count_does_not_grow_with_rows(
    erin: User, sam: User, tier3_context: dict[str, Any]
) -> None:
    def make(count: int) -> None:
        for n in range(count):
            services.ticket_escalate(
                ticket=services.ticket_create(
                    actor=sam, fields=dict(tier3_context, title=f"Q{n}"), tier=2
                ),
                actor=sam,
                to_tier=3,
            )

    def queries() -> int:
        client = signed_in(erin)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/tickets/queue/3/").status_code == 200
        return len(captured)

    make(2)
    few = queries()
    make(12)
    assert queries() == few


def test_mine_lists_tickets_assigned_to_me(erin: User, frank: User, tier3_ticket: Ticket) -> None:
    assert tier3_ticket.number not in html(signed_in(erin).get("/tickets/mine/"))
    acknowledged(tier3_ticket, erin)
    assert tier3_ticket.number in html(signed_in(erin).get("/tickets/mine/"))
    assert tier3_ticket.number not in html(signed_in(frank).get("/tickets/mine/"))


def test_people_without_a_role_are_refused_the_queues(nobody: User) -> None:
    response = signed_in(nobody).get("/tickets/queue/1/")
    assert response.status_code == 403
    assert "Your roles do not allow" in html(response)


def test_there_is_no_tier_4_queue(erin: User) -> None:
    response = signed_in(erin).get("/tickets/queue/4/")
    assert response.status_code == 400
    assert "Tier 1, 2 and 3 queues only" in html(response)


# --- the ticket page ----------------------------------------------------------------------------


def test_ticket_page_shows_header_sla_context_and_timeline(
    erin: User, tier3_ticket: Ticket
) -> None:
    response = signed_in(erin).get(f"/tickets/{tier3_ticket.number}/")
    page = html(response)
    assert response.status_code == 200
    assert f"{tier3_ticket.number}: {tier3_ticket.title}" in page
    assert "Remaining business time" in page and "Acknowledge by" in page
    for value in (
        "VistA",
        "Chrome 142",
        "Windows 11",
        "ID.me",
        "HRC-HD-Y4-0000447389",
        "Cleared cache and cookies",
        "Tier 2 cannot resolve",
        "Empty list, no error shown.",
    ):
        assert value in page
    assert "Tier: Tier 2 &rarr; Tier 3" in page or "Tier 2 → Tier 3" in page
    assert "Escalated</strong>" in page and "by Sam" in page


def test_identifier_is_masked_for_everyone_on_the_page(
    erin: User, sam: User, tier3_ticket: Ticket
) -> None:
    for person in (erin, sam):
        page = html(signed_in(person).get(f"/tickets/{tier3_ticket.number}/"))
        assert ICN not in page
        assert mask_identifier(ICN) in page
    assert "Show identifier" in html(signed_in(erin).get(f"/tickets/{tier3_ticket.number}/"))
    assert "Show identifier" not in html(signed_in(sam).get(f"/tickets/{tier3_ticket.number}/"))


def test_revealing_the_identifier_swaps_it_in_and_is_audited(
    erin: User, tier3_ticket: Ticket
) -> None:
    response = signed_in(erin).post(
        f"/tickets/{tier3_ticket.number}/identifier/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert ICN in html(response) and "<html" not in html(response)
    event = AuditEvent.objects.get(action="ticket.identifier.view")
    assert event.actor == erin and event.unmasked and event.ticket_number == tier3_ticket.number


def test_reveal_without_javascript_renders_the_whole_page(erin: User, tier3_ticket: Ticket) -> None:
    response = signed_in(erin).post(f"/tickets/{tier3_ticket.number}/identifier/")
    assert response.status_code == 200
    assert "<html" in html(response) and ICN in html(response)


def test_tier2_may_not_reveal_the_identifier_and_nothing_is_audited(
    sam: User, tier3_ticket: Ticket
) -> None:
    response = signed_in(sam).post(
        f"/tickets/{tier3_ticket.number}/identifier/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert ICN not in html(response)
    assert "Your roles do not allow" in html(response)
    assert not AuditEvent.objects.filter(action="ticket.identifier.view").exists()


def test_internal_comments_are_hidden_from_lower_tiers(
    erin: User, sam: User, tier3_ticket: Ticket
) -> None:
    services.ticket_comment(
        ticket=tier3_ticket, actor=erin, body="Pharmacy lookup uses the wrong MHV id", internal=True
    )
    services.ticket_comment(
        ticket=tier3_ticket, actor=erin, body="Ask the user to sign out and in", internal=False
    )
    engineer_view = html(signed_in(erin).get(f"/tickets/{tier3_ticket.number}/"))
    specialist_view = html(signed_in(sam).get(f"/tickets/{tier3_ticket.number}/"))
    assert "Pharmacy lookup uses the wrong MHV id" in engineer_view
    assert "Pharmacy lookup uses the wrong MHV id" not in specialist_view
    assert "Ask the user to sign out and in" in specialist_view


@pytest.mark.parametrize(
    ("person", "shown", "hidden"),
    [
        (
            "erin",
            ["Acknowledge and take ownership", "Send back to Tier 2", "Resolve"],
            ["Escalate to Tier 3", "Answer Tier 3"],
        ),
        (
            "sam",
            ["Change priority"],
            ["Acknowledge and take ownership", "Send back to Tier 2", "Resolve ticket"],
        ),
        (
            "tina",
            ["Add comment"],
            [
                "Acknowledge and take ownership",
                "Change priority",
                "Resolve ticket",
                "Cancel ticket",
            ],
        ),
    ],
)
def test_actions_are_shown_only_to_roles_allowed(
    make_person: Any, tier3_ticket: Ticket, person: str, shown: list[str], hidden: list[str]
) -> None:
    page = html(signed_in(make_person(person)).get(f"/tickets/{tier3_ticket.number}/"))
    for text in shown:
        assert text in page, text
    for text in hidden:
        assert text not in page, text


def test_unknown_ticket_is_a_404_page_with_the_message(erin: User) -> None:
    response = signed_in(erin).get("/tickets/BL-999999/")
    assert response.status_code == 404
    assert "No ticket BL-999999" in html(response)


# --- actions ------------------------------------------------------------------------------------


def test_acknowledge_takes_ownership_and_the_race_loser_is_told_who(
    erin: User, frank: User, tier3_ticket: Ticket
) -> None:
    response = signed_in(erin).post(f"/tickets/{tier3_ticket.number}/acknowledge/", follow=True)
    assert response.redirect_chain[-1][0] == f"/tickets/{tier3_ticket.number}/"
    assert "You acknowledged" in html(response)
    loser = signed_in(frank).post(f"/tickets/{tier3_ticket.number}/acknowledge/")
    assert loser.status_code == 409
    assert "already acknowledged by Erin" in html(loser)
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.acknowledged_by == erin and tier3_ticket.assignee == erin


def test_tier2_cannot_acknowledge(sam: User, tier3_ticket: Ticket) -> None:
    response = signed_in(sam).post(f"/tickets/{tier3_ticket.number}/acknowledge/")
    assert response.status_code == 403
    assert "Your roles do not allow this action" in html(response)
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.acknowledged_at is None


def test_actions_need_post(erin: User, tier3_ticket: Ticket) -> None:
    assert signed_in(erin).get(f"/tickets/{tier3_ticket.number}/acknowledge/").status_code == 405


def test_engineer_writes_an_internal_comment(erin: User, tier3_ticket: Ticket) -> None:
    response = signed_in(erin).post(
        f"/tickets/{tier3_ticket.number}/comment/",
        {"comment-body": "Checked the VistA feed", "comment-visibility": "internal"},
    )
    assert response.status_code == 302
    entry = TimelineEntry.objects.get(ticket=tier3_ticket, kind="comment")
    assert entry.internal and entry.body == "Checked the VistA feed"


def test_tier1_comments_are_always_shared(tina: User, tier3_ticket: Ticket) -> None:
    response = signed_in(tina).post(
        f"/tickets/{tier3_ticket.number}/comment/",
        {"comment-body": "Patient called again", "comment-visibility": "internal"},
    )
    assert response.status_code == 302
    assert not TimelineEntry.objects.get(ticket=tier3_ticket, kind="comment").internal


def test_empty_comment_shows_the_error_next_to_the_field(erin: User, tier3_ticket: Ticket) -> None:
    response = signed_in(erin).post(
        f"/tickets/{tier3_ticket.number}/comment/", {"comment-body": "  "}
    )
    page = html(response)
    assert response.status_code == 422
    assert 'id="id_comment-body-error"' in page
    assert 'aria-describedby="id_comment-body-error"' in page


def test_status_change_and_its_errors(erin: User, tier3_ticket: Ticket) -> None:
    acknowledged(tier3_ticket, erin)
    client = signed_in(erin)
    refused = client.post(
        f"/tickets/{tier3_ticket.number}/status/", {"status-status": "waiting_partner"}
    )
    assert refused.status_code == 422
    assert "Name the partner team" in html(refused)
    illegal = client.post(f"/tickets/{tier3_ticket.number}/status/", {"status-status": "closed"})
    assert illegal.status_code == 422 and "Select a valid choice" in html(illegal)
    ok = client.post(
        f"/tickets/{tier3_ticket.number}/status/",
        {"status-status": "waiting_partner", "status-note": "Oracle Health team"},
    )
    assert ok.status_code == 302
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.status == Status.WAITING_PARTNER and tier3_ticket.is_paused


def test_send_back_and_answer_round_trip(erin: User, sam: User, tier3_ticket: Ticket) -> None:
    acknowledged(tier3_ticket, erin)
    response = signed_in(erin).post(
        f"/tickets/{tier3_ticket.number}/send-back/", {"send_back-question": "Which facility?"}
    )
    assert response.status_code == 302
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.tier == Tier.TIER2 and tier3_ticket.status == Status.WAITING_REQUESTER
    page = html(signed_in(sam).get(f"/tickets/{tier3_ticket.number}/"))
    assert "Answer Tier 3" in page and "Which facility?" in page
    answer = signed_in(sam).post(
        f"/tickets/{tier3_ticket.number}/answer/", {"answer-answer": "Station 648"}
    )
    assert answer.status_code == 302
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.tier == Tier.TIER3 and tier3_ticket.status == Status.INVESTIGATING


def test_send_back_is_refused_to_tier2(sam: User, erin: User, tier3_ticket: Ticket) -> None:
    acknowledged(tier3_ticket, erin)
    response = signed_in(sam).post(
        f"/tickets/{tier3_ticket.number}/send-back/", {"send_back-question": "Anything?"}
    )
    assert response.status_code == 403
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.tier == Tier.TIER3


def test_resolve_needs_a_summary_and_root_cause_then_records_them(
    erin: User, tier3_ticket: Ticket
) -> None:
    acknowledged(tier3_ticket, erin)
    client = signed_in(erin)
    bad = client.post(f"/tickets/{tier3_ticket.number}/resolve/", {"resolve-summary": ""})
    assert bad.status_code == 422
    assert 'id="id_resolve-summary-error"' in html(
        bad
    ) and 'id="id_resolve-root_cause-error"' in html(bad)
    bad_url = client.post(
        f"/tickets/{tier3_ticket.number}/resolve/",
        {
            "resolve-summary": "x",
            "resolve-root_cause": "code_defect",
            "resolve-follow_up_url": "not a url",
        },
    )
    assert bad_url.status_code == 422 and "Enter a valid URL" in html(bad_url)
    ok = client.post(
        f"/tickets/{tier3_ticket.number}/resolve/",
        {
            "resolve-summary": "Wrong MHV id used for the pharmacy lookup.",
            "resolve-root_cause": "identity",
            "resolve-workaround": "Re-link the account.",
            "resolve-code_change_needed": "yes",
            "resolve-follow_up_url": "https://issues.example.org/123",
        },
        follow=True,
    )
    assert "is resolved" in html(ok) and "Wrong MHV id used" in html(ok)
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.status == Status.RESOLVED and tier3_ticket.code_change_needed is True


def test_reopen_of_a_closed_ticket_is_a_conflict_naming_the_rule(
    erin: User, sam: User, tier3_ticket: Ticket
) -> None:
    acknowledged(tier3_ticket, erin)
    services.ticket_resolve(ticket=tier3_ticket, actor=erin, summary="Done", root_cause="unknown")
    reopened = signed_in(sam).post(
        f"/tickets/{tier3_ticket.number}/reopen/", {"reopen-reason": "Still broken"}
    )
    assert reopened.status_code == 302
    services.ticket_resolve(
        ticket=tier3_ticket, actor=erin, summary="Done again", root_cause="unknown"
    )
    services.tickets_close_resolved(
        now=timezone.now() + timedelta(days=10), after=timedelta(days=3)
    )
    closed = signed_in(sam).post(
        f"/tickets/{tier3_ticket.number}/reopen/", {"reopen-reason": "Again"}
    )
    assert closed.status_code == 409
    alerts = re.findall(r'usa-alert__text">([^<]*)', html(closed))
    assert any("Closed" in alert for alert in alerts)  # the service's reason, shown as an alert


def test_cancel_by_tier1_on_its_own_ticket_and_refused_at_tier3(
    tina: User, tier1_ticket: Ticket, tier3_ticket: Ticket
) -> None:
    client = signed_in(tina)
    assert (
        client.post(
            f"/tickets/{tier1_ticket.number}/cancel/", {"cancel-reason": "Duplicate"}
        ).status_code
        == 302
    )
    tier1_ticket.refresh_from_db()
    assert tier1_ticket.status == Status.CANCELED
    refused = client.post(f"/tickets/{tier3_ticket.number}/cancel/", {"cancel-reason": "Mine now"})
    assert refused.status_code == 403
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.status == Status.NEW


def test_priority_change_and_bad_priority(
    sam: User, tier1_ticket: Ticket, tier3_ticket: Ticket
) -> None:
    client = signed_in(sam)
    bad = client.post(f"/tickets/{tier3_ticket.number}/priority/", {"priority-priority": "urgent"})
    assert bad.status_code == 422
    ok = client.post(
        f"/tickets/{tier3_ticket.number}/priority/",
        {"priority-priority": "critical", "priority-reason": "Wrong medication shown"},
    )
    assert ok.status_code == 302
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.priority == "critical"
    assert tier3_ticket.timeline.filter(kind="priority", new_value="Critical").exists()


def test_priority_change_refused_to_tier1(tina: User, tier3_ticket: Ticket) -> None:
    response = signed_in(tina).post(
        f"/tickets/{tier3_ticket.number}/priority/", {"priority-priority": "low"}
    )
    assert response.status_code == 403
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.priority == "medium"


# --- create and escalate ------------------------------------------------------------------------


def context_post(context: dict[str, Any], **changes: Any) -> dict[str, str]:
    """The create/escalate form's POST body for a context dict (lists one per line)."""
    data = {
        key: value
        for key, value in context.items()
        if key
        not in ("external_refs", "troubleshooting_steps", "oracle_health_site", "occurred_at")
    }
    data["external_refs"] = "\n".join(context["external_refs"])
    data["troubleshooting_steps"] = "\n".join(context["troubleshooting_steps"])
    data["oracle_health_site"] = "no"
    data["occurred_at"] = "2026-11-23T09:05"
    data.update(changes)
    return data


def test_create_form_has_every_context_field_with_labels(sam: User) -> None:
    page = html(signed_in(sam).get("/tickets/new/"))
    for name in (
        "title",
        "description",
        "priority",
        "affected_user_id",
        "area",
        "suspected_upstream",
        "occurred_at",
        "occurred_until",
        "device",
        "browser",
        "os",
        "credential",
        "url",
        "external_refs",
        "steps_to_reproduce",
        "expected_behaviour",
        "actual_behaviour",
        "troubleshooting_steps",
        "entry_criterion",
        "tier",
    ):
        assert f'<label class="usa-label" for="id_{name}">' in page or f'name="{name}"' in page, (
            name
        )
        assert f'name="{name}"' in page, name
    assert 'type="datetime-local"' in page
    assert 'name="oracle_health_site"' in page


def test_create_reads_datetime_local_in_the_viewers_zone(
    sam: User, tier3_context: dict[str, Any]
) -> None:
    sam.time_zone = "America/Chicago"
    sam.save(update_fields=["time_zone"])
    response = signed_in(sam).post("/tickets/new/", context_post(tier3_context))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/tickets/{ticket.number}/"
    assert ticket.tier == Tier.TIER2
    assert ticket.occurred_at is not None
    assert ticket.occurred_at.astimezone(UTC).strftime("%H:%M") == "15:05"  # 09:05 CST
    assert ticket.external_refs == ["HRC-HD-Y4-0000447389"]
    assert ticket.troubleshooting_steps == tier3_context["troubleshooting_steps"]


def test_create_shows_an_error_summary_and_field_errors(
    sam: User, tier3_context: dict[str, Any]
) -> None:
    response = signed_in(sam).post(
        "/tickets/new/", context_post(tier3_context, title="", troubleshooting_steps="", url="nope")
    )
    page = html(response)
    assert response.status_code == 422
    assert "Please correct the following" in page
    assert 'href="#id_title"' in page and 'id="id_title-error"' in page
    assert 'id="id_url-error"' in page
    assert not Ticket.objects.exists()


def test_create_at_tier2_without_steps_shows_the_services_field_error(
    sam: User, tier3_context: dict[str, Any]
) -> None:
    response = signed_in(sam).post(
        "/tickets/new/", context_post(tier3_context, troubleshooting_steps="")
    )
    page = html(response)
    assert response.status_code == 422
    assert 'id="id_troubleshooting_steps-error"' in page
    assert "List at least one troubleshooting step" in page
    assert not Ticket.objects.exists()


def test_create_refuses_a_tier_above_the_persons_own(
    tina: User, tier3_context: dict[str, Any]
) -> None:
    response = signed_in(tina).post("/tickets/new/", context_post(tier3_context, tier="3"))
    assert response.status_code == 422
    assert "At most Tier 1" in html(response)


def test_people_without_a_role_cannot_open_tickets(nobody: User) -> None:
    assert signed_in(nobody).get("/tickets/new/").status_code == 403


def test_escalate_lists_exactly_what_is_missing_next_to_each_field(
    tina: User, sam: User, tier1_ticket: Ticket
) -> None:
    services.ticket_escalate(
        ticket=tier1_ticket,
        actor=tina,
        to_tier=2,
        context={"troubleshooting_steps": ["Reset password"]},
    )
    client = signed_in(sam)
    form_page = html(client.get(f"/tickets/{tier1_ticket.number}/escalate/3/"))
    assert "Reset password" in form_page  # prefilled from the ticket
    response = client.post(
        f"/tickets/{tier1_ticket.number}/escalate/3/",
        {
            "title": tier1_ticket.title,
            "description": tier1_ticket.description,
            "priority": "medium",
            "area": "medications",
            "suspected_upstream": "unknown",
            "troubleshooting_steps": "Reset password",
        },
    )
    page = html(response)
    assert response.status_code == 422
    for name in ("affected_user_id", "occurred_at", "entry_criterion"):
        assert f'id="id_{name}-error"' in page, name
    assert 'id="id_troubleshooting_steps-error"' not in page
    tier1_ticket.refresh_from_db()
    assert tier1_ticket.tier == Tier.TIER2  # nothing saved


def test_escalate_to_tier3_with_full_context(
    tina: User, sam: User, tier1_ticket: Ticket, tier3_context: dict[str, Any]
) -> None:
    services.ticket_escalate(
        ticket=tier1_ticket,
        actor=tina,
        to_tier=2,
        context={"troubleshooting_steps": ["Reset password"]},
    )
    response = signed_in(sam).post(
        f"/tickets/{tier1_ticket.number}/escalate/3/", context_post(tier3_context)
    )
    assert response.status_code == 302
    tier1_ticket.refresh_from_db()
    assert tier1_ticket.tier == Tier.TIER3 and tier1_ticket.sla_started_at is not None
    assert tier1_ticket.affected_user_id == ICN


def test_escalate_form_never_echoes_the_identifier_and_keeps_it_when_left_empty(
    sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = services.ticket_create(actor=sam, fields=tier3_context, tier=2)
    client = signed_in(sam)
    page = html(client.get(f"/tickets/{ticket.number}/escalate/3/"))
    assert ICN not in page and mask_identifier(ICN) in page
    response = client.post(
        f"/tickets/{ticket.number}/escalate/3/", context_post(tier3_context, affected_user_id="")
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.tier == Tier.TIER3 and ticket.affected_user_id == ICN


def test_appointments_are_refused_at_tier3_with_the_reason(
    sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = services.ticket_create(actor=sam, fields=tier3_context, tier=2)
    response = signed_in(sam).post(
        f"/tickets/{ticket.number}/escalate/3/", context_post(tier3_context, area="appointments")
    )
    assert response.status_code == 422
    assert "out of Tier 3 scope" in html(response)


def test_tier1_may_not_open_the_tier3_escalation(tina: User, tier1_ticket: Ticket) -> None:
    response = signed_in(tina).get(f"/tickets/{tier1_ticket.number}/escalate/3/")
    assert response.status_code == 403
    assert "escalating to Tier 3" in html(response)


def test_escalating_to_an_unknown_tier_is_a_400(sam: User, tier1_ticket: Ticket) -> None:
    assert signed_in(sam).get(f"/tickets/{tier1_ticket.number}/escalate/7/").status_code == 400


def test_escalating_downwards_is_a_conflict(
    sam: User, tier3_ticket: Ticket, tier3_context: dict[str, Any]
) -> None:
    response = signed_in(sam).post(
        f"/tickets/{tier3_ticket.number}/escalate/2/", context_post(tier3_context)
    )
    assert response.status_code == 409
    assert "only be escalated to a higher tier" in html(response)
