"""The outbox under faults: every notification is delivered once the endpoint is back, none lost.

Each test drives the real django-tasks database worker (in this process, batch mode) against
real local servers on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from backline.accounts.models import User
from backline.errors import Conflict
from backline.notify import services
from backline.notify.models import Channel, ChannelKind, Delivery, DeliveryStatus
from backline.notify.services import Outcome
from backline.notify.tests.conftest import ROUTING_KEY, drain, pagerduty_service, slack_channel
from backline.notify.tests.servers import FakeHttpServer, Reply, free_port, pagerduty_ok

pytestmark = pytest.mark.django_db


def write_slack(channel: Channel, n: int, capture: Any) -> list[Delivery]:
    rows = []
    with capture(execute=True):
        for i in range(n):
            row = services.delivery_write(
                event="escalated_tier3",
                channel=ChannelKind.SLACK,
                target=channel.target,
                channel_config=channel,
                payload={"text": f"message {i}", "blocks": []},
                key=f"test:{channel.pk}:{i}",
            )
            assert row is not None
            rows.append(row)
    return rows


def failing_first(
    k: int, status: int = 500, headers: dict[str, str] | None = None
) -> Callable[[int, Any], Reply]:
    def script(n: int, body: Any) -> Reply:
        if n < k:
            return status, headers or {}, "trouble", 0.0
        return 200, {}, "ok", 0.0

    return script


def test_500s_for_a_while_then_ok_delivers_every_message_exactly_once(
    http_server: Callable[..., FakeHttpServer], django_capture_on_commit_callbacks: Any
) -> None:
    server = http_server(failing_first(15))
    rows = write_slack(
        slack_channel(server, name="#mhv-tier-3-support"), 10, django_capture_on_commit_callbacks
    )
    drain()
    texts = sorted(r.body["text"] for r in server.received)
    assert texts == sorted(f"message {i}" for i in range(10))
    for row in rows:
        row.refresh_from_db()
        assert row.status == DeliveryStatus.SENT and row.sent_at is not None
    assert sum(r.attempts for r in Delivery.objects.all()) == 15 + 10


def test_timeouts_are_retried_until_the_endpoint_answers(
    http_server: Callable[..., FakeHttpServer],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.NOTIFY_TIMEOUT_SECONDS = 1
    server = http_server(lambda n, b: (200, {}, "ok", 1.6 if n < 2 else 0.0))
    (row,) = write_slack(slack_channel(server, name="#t"), 1, django_capture_on_commit_callbacks)
    drain()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 3


def test_connection_refused_then_up(
    http_server: Callable[..., FakeHttpServer], django_capture_on_commit_callbacks: Any
) -> None:
    port = free_port()
    channel = Channel.objects.create(
        kind=ChannelKind.SLACK, name="#down", webhook_url=f"http://127.0.0.1:{port}/services/T/B/X"
    )
    (row,) = write_slack(channel, 1, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_attempt(delivery_id=row.pk) == Outcome.RETRY
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and "Could not reach Slack" in row.last_error
    server = http_server(port=port)
    drain()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and len(server.received) == 1


def test_429_retry_after_is_honoured(
    http_server: Callable[..., FakeHttpServer], django_capture_on_commit_callbacks: Any
) -> None:
    server = http_server(failing_first(1, 429, {"Retry-After": "2"}))
    (row,) = write_slack(slack_channel(server, name="#rl"), 1, django_capture_on_commit_callbacks)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_attempt(delivery_id=row.pk) == Outcome.RETRY
    row.refresh_from_db()
    assert row.next_attempt_at >= before + timedelta(seconds=2)
    assert "429" in row.last_error and "retry after 2s" in row.last_error
    # Not due yet: an early run of the task (a duplicate, the sweep) does nothing.
    assert services.delivery_attempt(delivery_id=row.pk) == Outcome.SKIPPED
    drain()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    assert row.sent_at is not None and row.sent_at >= before + timedelta(seconds=2)
    assert server.count == 2


def test_gives_up_after_max_attempts_and_shows_the_error(
    http_server: Callable[..., FakeHttpServer],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 3
    server = http_server(lambda n, b: (500, {}, "internal_error", 0.0))
    (row,) = write_slack(slack_channel(server, name="#dead"), 1, django_capture_on_commit_callbacks)
    drain()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DEAD and row.attempts == 3 and server.count == 3
    assert "HTTP 500" in row.last_error and "Gave up after 3 attempts" in row.last_error


def test_permanent_error_goes_dead_at_once(
    http_server: Callable[..., FakeHttpServer], django_capture_on_commit_callbacks: Any
) -> None:
    server = http_server(lambda n, b: (404, {}, "no_service", 0.0))
    (row,) = write_slack(slack_channel(server, name="#gone"), 1, django_capture_on_commit_callbacks)
    drain()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DEAD and row.attempts == 1
    assert "refused the message with HTTP 404: no_service" in row.last_error


def test_admin_retries_a_dead_delivery_after_fixing_the_channel(
    http_server: Callable[..., FakeHttpServer],
    django_capture_on_commit_callbacks: Any,
    ada: User,
    erin: User,
) -> None:
    broken = http_server(lambda n, b: (404, {}, "no_service", 0.0))
    channel = slack_channel(broken, name="#moved")
    (row,) = write_slack(channel, 1, django_capture_on_commit_callbacks)
    drain()
    working = http_server()
    channel.webhook_url = f"{working.base}/services/T/B/NEW"
    channel.save()
    with pytest.raises(PermissionDenied):
        services.delivery_retry(actor=erin, delivery_id=row.pk)
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.delivery_retry(actor=ada, delivery_id=row.pk)
    assert retried.status == DeliveryStatus.PENDING and retried.attempts == 0
    drain()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and len(working.received) == 1
    with pytest.raises(Conflict, match="only dead or failed"):
        services.delivery_retry(actor=ada, delivery_id=row.pk)


def test_a_sending_row_whose_worker_died_is_reclaimed_after_the_lease(
    http_server: Callable[..., FakeHttpServer],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    server = http_server()
    (row,) = write_slack(
        slack_channel(server, name="#lease"), 1, django_capture_on_commit_callbacks
    )
    now = timezone.now()
    Delivery.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=now, attempts=1
    )
    assert services.delivery_attempt(delivery_id=row.pk) == Outcome.SKIPPED  # lease still held
    Delivery.objects.filter(pk=row.pk).update(
        claimed_at=now - timedelta(seconds=settings.NOTIFY_LEASE_SECONDS + 1)
    )
    assert services.outbox_sweep() == 1
    drain()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2 and server.count == 1


def test_pagerduty_acknowledge_never_overtakes_its_trigger(
    pagerduty_server: Callable[..., FakeHttpServer], django_capture_on_commit_callbacks: Any
) -> None:
    def script(n: int, body: Any) -> Reply:
        if n < 2:
            return 500, {}, "{}", 0.0
        return pagerduty_ok(n, body)

    server = pagerduty_server(script)
    service = pagerduty_service()
    with django_capture_on_commit_callbacks(execute=True):
        for action in ("trigger", "acknowledge", "resolve"):
            services.delivery_write(
                event="after_hours_page",
                channel=ChannelKind.PAGERDUTY,
                target=service.target,
                channel_config=service,
                payload={
                    "event_action": action,
                    "dedup_key": "backline-ticket-BL-1",
                    **(
                        {"payload": {"summary": "s", "source": "b", "severity": "critical"}}
                        if action == "trigger"
                        else {}
                    ),
                },
                key=f"pd:{action}",
                dedup_key="backline-ticket-BL-1",
            )
    drain()
    assert [r.body["event_action"] for r in server.received] == [
        "trigger",
        "acknowledge",
        "resolve",
    ]
    assert {r.body["routing_key"] for r in server.received} == {ROUTING_KEY}
    assert set(Delivery.objects.values_list("external_id", flat=True)) == {"backline-ticket-BL-1"}


def test_writing_the_same_key_twice_writes_one_row(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = services.delivery_write(
            event="e", channel="email", target="a@example.org", payload={}, key="k"
        )
        second = services.delivery_write(
            event="e", channel="email", target="a@example.org", payload={}, key="k"
        )
    assert first is not None and second is None
    assert Delivery.objects.count() == 1 and len(callbacks) == 1
