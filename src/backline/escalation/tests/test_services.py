"""Services against the sample store and the database: incidents, links, outbox, detection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from backline.accounts.models import User
from backline.accounts.roles import Role
from backline.errors import InvalidInput
from backline.escalation import analysis, services
from backline.escalation.models import Incident, IncidentStatus
from backline.escalation.tests.conftest import NOW
from backline.notify.models import Channel, ChannelKind, Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch, var_dir: Path) -> None:
    """The sample store's 'now'; the store lives in VAR_DIR."""
    monkeypatch.setattr(services, "_now", lambda now: now or NOW)
    monkeypatch.setattr(services, "_out_of_hours", lambda now: True)
    monkeypatch.setattr(services, "_DETECTION_STATE", analysis.DetectionState())


@pytest.fixture
def pagerduty() -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.PAGERDUTY,
        name="Monitoring",
        role=Role.MONITORING,
        routing_key="R0123456789abcdefghijABCDEFGHIJ0",
    )


def test_escalating_a_shared_problem_opens_links_and_pages(
    erin: User, make_ticket: Callable[..., Any], pagerduty: Channel
) -> None:
    ticket = make_ticket(affected_user_id="spike-03")
    other = make_ticket(affected_user_id="spike-07")
    unrelated = make_ticket(affected_user_id="u-lonely")
    incident = services.incident_open_from_ticket(actor=erin, ticket=ticket)
    assert incident.status == IncidentStatus.OPEN
    assert incident.target_role == "monitoring" and incident.signatures == ["sigspike"]
    linked = set(incident.links.values_list("ticket__number", flat=True))
    assert linked == {ticket.number, other.number}
    assert unrelated.number not in linked
    page = Delivery.objects.get(channel=ChannelKind.PAGERDUTY)
    assert page.dedup_key == f"backline-incident-{incident.pk}"
    assert page.pk in incident.notified_delivery_ids and incident.paged
    assert incident.evidence["recommendation"]["target"] == "monitoring"
    assert "spike-03" not in str(incident.evidence)  # the user query shows a token


def test_a_user_specific_ticket_is_not_escalated_without_a_choice(
    erin: User, make_ticket: Callable[..., Any]
) -> None:
    ticket = make_ticket(affected_user_id="u-lonely")
    with pytest.raises(InvalidInput, match="stay at Tier 3"):
        services.incident_open_from_ticket(actor=erin, ticket=ticket)
    forced = services.incident_open_from_ticket(actor=erin, ticket=ticket, target="investigator")
    assert forced.target_role == "investigator" and not forced.paged


def test_tier2_may_see_but_not_escalate(sam: User, make_ticket: Callable[..., Any]) -> None:
    ticket = make_ticket(affected_user_id="spike-03")
    assert services.ticket_recommendation(user=sam, ticket=ticket).analysis is not None
    with pytest.raises(PermissionDenied):
        services.incident_open_from_ticket(actor=sam, ticket=ticket)


def test_resolving_offers_the_linked_tickets(
    erin: User, make_ticket: Callable[..., Any], pagerduty: Channel
) -> None:
    ticket = make_ticket(affected_user_id="spike-03")
    other = make_ticket(affected_user_id="spike-07")
    kept = make_ticket(affected_user_id="spike-08")
    incident = services.incident_open_from_ticket(actor=erin, ticket=ticket)
    outcome = services.incident_resolve(
        actor=erin,
        incident=incident,
        resolution="VistA 589 restarted by the VistA team",
        root_cause="upstream",
        resolve_tickets=[ticket.number, other.number],
    )
    assert sorted(outcome.resolved) == sorted([ticket.number, other.number])
    other.refresh_from_db()
    kept.refresh_from_db()
    assert other.status == "resolved" and "VistA 589 restarted" in other.resolution_summary
    assert kept.is_open  # linked but not chosen
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.RESOLVED


def test_detection_is_idempotent_and_pages_security_out_of_hours(pagerduty: Channel) -> None:
    first = services.detect(now=NOW)
    assert {i.detection_key.split(":")[0] for i in first} == {"sig", "security"}
    assert services.detect(now=NOW) == []
    assert Incident.objects.count() == 2
    security = Incident.objects.get(detection_key__startswith="security:")
    assert security.severity == "critical" and security.paged
    assert "u-snoop" not in security.detection_key and "u-snoop" not in str(security.evidence)
    spike = Incident.objects.get(detection_key="sig:sigspike")
    assert spike.status == IncidentStatus.PROPOSED and not spike.paged


def test_tickets_arriving_later_join_the_proposed_incident(
    erin: User, make_ticket: Callable[..., Any], pagerduty: Channel
) -> None:
    services.detect(now=NOW)
    proposed = Incident.objects.get(detection_key="sig:sigspike")
    ticket = make_ticket(affected_user_id="spike-05")
    services.detect(now=NOW)
    assert proposed.links.filter(ticket=ticket).exists()
    opened = services.incident_open_from_ticket(actor=erin, ticket=ticket)
    assert opened.pk == proposed.pk and opened.status == IncidentStatus.OPEN


def test_settings_are_validated_and_admin_only(ada: User, erin: User) -> None:
    assert services.rule_settings_update(actor=ada, values={"min_users": 8}).min_users == 8
    assert services.rule_thresholds().min_users == 8
    with pytest.raises(InvalidInput, match="unknown"):
        services.rule_settings_update(actor=ada, values={"nope": 1})
    with pytest.raises(PermissionDenied):
        services.rule_settings_update(actor=erin, values={})
