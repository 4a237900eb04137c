"""The health pages with personas: badges in words, charts with their tables, no inline styles."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from backline.accounts.models import User
from backline.audit.models import AuditEvent
from backline.conftest import PASSWORD
from backline.health.tests.conftest import LATENCY_START, OUTAGE_START, World

pytestmark = pytest.mark.django_db

AT = OUTAGE_START.replace(minute=30).isoformat()
IDENTIFIER = re.compile(
    r"\d{10}V\d{6}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


def signed_in(make_person: Callable[[str], User], name: str) -> Client:
    client = Client()
    make_person(name)
    assert client.login(username=name, password=PASSWORD)
    return client


def check_page(html: str) -> None:
    assert " style=" not in html
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not IDENTIFIER.search(html)


def test_overview_page(make_person: Callable[[str], User], health_logs: World) -> None:
    client = signed_in(make_person, "sam")
    response = client.get("/health/", {"window": "1h", "at": AT})
    assert response.status_code == 200
    html = response.content.decode()
    check_page(html)
    assert 'aria-current="page"><span>Upstream health</span>' in html
    assert 'bl-health-state--degraded">Degraded</span>' in html
    assert 'bl-health-state--down">Down</span>' in html
    assert f"/health/facilities/{health_logs.outage.target}/" in html
    assert html.count('class="bl-sparkline"') == 6
    assert AuditEvent.objects.filter(action="health.view", actor__username="sam").count() == 1


def test_upstream_page_has_three_charts_with_tables(
    make_person: Callable[[str], User], health_logs: World
) -> None:
    client = signed_in(make_person, "erin")
    response = client.get("/health/upstreams/vista/", {"window": "4h", "at": AT})
    assert response.status_code == 200
    html = response.content.decode()
    check_page(html)
    assert html.count("<svg") == 3
    assert html.count("<details") == 3
    assert "VistA: calls per minute: the numbers" in html
    assert "Latency (ms)" in html and "Failed calls (%)" in html
    assert "Same hours last week" in html
    assert "<strong>degraded:</strong>" in html
    assert "100%" in html  # the down station's row in the facility table


def test_facility_page(make_person: Callable[[str], User], health_logs: World) -> None:
    client = signed_in(make_person, "mona")
    station = health_logs.outage.target
    response = client.get(f"/health/facilities/{station}/", {"upstream": "vista", "at": AT})
    assert response.status_code == 200
    html = response.content.decode()
    check_page(html)
    assert "Facility Station" in html
    assert "<strong>down:</strong>" in html


def test_cohort_page_flags_oracle_health(
    make_person: Callable[[str], User], health_logs: World
) -> None:
    client = signed_in(make_person, "sam")
    response = client.get(
        "/health/cohorts/",
        {"field": "data_source", "from": LATENCY_START.isoformat(), "to": OUTAGE_START.isoformat()},
    )
    assert response.status_code == 200
    html = response.content.decode()
    check_page(html)
    assert '<tr class="bl-cohorts__flagged">\n      <th scope="row">Oracle Health</th>' in html
    assert "<strong>Flagged:</strong> p95" in html
    refused = client.get("/health/cohorts/", {"other": "@user_uuid"})
    assert refused.status_code == 422
    assert "identifies patients" in refused.content.decode()


@pytest.mark.parametrize("path", ["/health/", "/health/upstreams/vista/", "/health/cohorts/"])
def test_tier1_is_refused_and_has_no_link(
    make_person: Callable[[str], User], health_logs: World, path: str
) -> None:
    client = signed_in(make_person, "tina")
    response = client.get(path)
    assert response.status_code == 403
    assert "Upstream health</span>" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="health.view").exists()


def test_signed_out_is_sent_to_sign_in(client: Client) -> None:
    response = client.get("/health/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
