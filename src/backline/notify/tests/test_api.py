"""The notify API: own rules for everyone, channels and the outbox for admins only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backline.conftest import ApiClient
from backline.notify import services
from backline.notify.models import ChannelKind, Delivery, DeliveryStatus
from backline.notify.tests.conftest import ROUTING_KEY

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.com/services/T0AB12CD/B0CD34EF/abcDEF123secret"


def test_everyone_manages_only_their_own_rules(api_as: Callable[[str], ApiClient]) -> None:
    tina, erin = api_as("tina"), api_as("erin")
    listed = tina.get("notify/rules").json()
    assert {r["event"] for r in listed} >= {"escalated_tier3", "sla_ack_at_risk"}
    assert all(r["rule_id"] is None and r["channels"] == ["slack", "email"] for r in listed)
    put = tina.put(
        "notify/rules",
        {
            "event": "sla_ack_at_risk",
            "channels": ["email"],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    assert put.status_code == 200, put.json()
    body = put.json()
    assert body["channels"] == ["email"] and body["quiet_start"] == "22:00"
    assert erin.delete(f"notify/rules/{body['rule_id']}").status_code == 404
    assert tina.delete(f"notify/rules/{body['rule_id']}").status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"event": "sla_ack_at_risk", "channels": ["pagerduty"]}, "channels"),
        ({"event": "after_hours_page", "channels": ["email"]}, "event"),
        ({"event": "sla_ack_at_risk", "channels": [], "quiet_start": "22:00"}, "quiet_end"),
    ],
)
def test_bad_rules_are_refused_field_by_field(
    api_as: Callable[[str], ApiClient], payload: dict[str, Any], field: str
) -> None:
    response = api_as("erin").put("notify/rules", payload)
    assert response.status_code == 422
    assert field in response.json()["fields"]


def test_only_admins_manage_channels_and_secrets_never_come_back(
    api_as: Callable[[str], ApiClient],
) -> None:
    ada, maggie = api_as("ada"), api_as("maggie")
    slack = {
        "kind": "slack",
        "name": "#mhv-tier-3-support",
        "role": "tier3",
        "webhook_url": WEBHOOK,
    }
    assert maggie.post("notify/channels", slack).status_code == 403
    assert maggie.get("notify/channels").status_code == 403
    created = ada.post("notify/channels", slack)
    assert created.status_code == 201, created.json()
    assert "abcDEF123secret" not in created.content.decode()
    bad = ada.post(
        "notify/channels", {"kind": "pagerduty", "name": "Monitoring", "routing_key": "abc"}
    )
    assert bad.status_code == 422
    assert "32 letters and digits" in bad.json()["fields"]["routing_key"][0]
    good = ada.post(
        "notify/channels",
        {
            "kind": "pagerduty",
            "name": "Monitoring",
            "role": "monitoring",
            "routing_key": ROUTING_KEY,
        },
    )
    assert good.status_code == 201 and ROUTING_KEY not in good.content.decode()
    patched = ada.patch(
        f"notify/channels/{created.json()['id']}", {"webhook_url": "https://evil.example.com/x"}
    )
    assert patched.status_code == 422 and "not a Slack webhook host" in patched.json()["message"]


def test_outbox_list_filter_and_retry_for_admins_only(
    api_as: Callable[[str], ApiClient], django_assert_max_num_queries: Any
) -> None:
    ada, erin = api_as("ada"), api_as("erin")
    for i in range(30):
        services.delivery_write(
            event="escalated_tier3",
            channel=ChannelKind.EMAIL,
            target=f"p{i}@example.org",
            payload={"subject": "s", "text": "t", "html": "h"},
            key=f"k{i}",
        )
    Delivery.objects.filter(key="k3").update(
        status=DeliveryStatus.DEAD, last_error="Attempt 8: SMTP 554"
    )
    assert erin.get("notify/outbox").status_code == 403
    with django_assert_max_num_queries(8):  # token, user, roles, count, page, counts: not per row
        page = ada.get("notify/outbox", page_size=25).json()
    assert page["count"] == 30 and len(page["items"]) == 25 and page["next"] == 2
    assert page["counts"]["dead"] == 1 and page["counts"]["pending"] == 29
    dead = ada.get("notify/outbox", status="dead").json()
    assert [d["last_error"] for d in dead["items"]] == ["Attempt 8: SMTP 554"]
    delivery_id = dead["items"][0]["id"]
    assert erin.post(f"notify/outbox/{delivery_id}/retry").status_code == 403
    retried = ada.post(f"notify/outbox/{delivery_id}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert ada.post(f"notify/outbox/{delivery_id}/retry").status_code == 409
    assert ada.get("notify/outbox", status="lost").status_code == 422
