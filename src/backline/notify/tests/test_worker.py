"""Real ``backline worker`` processes against PostgreSQL: one run per task, SIGTERM and SIGKILL.

Needs real concurrent transactions and a database other processes can reach, so it runs on
PostgreSQL only (SQLite serialises writers and its test database lives in memory).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from backline.notify import services
from backline.notify.models import Channel, ChannelKind, Delivery, DeliveryStatus
from backline.notify.tests.conftest import pagerduty_service, slack_channel
from backline.notify.tests.servers import FakeHttpServer, Reply, pagerduty_ok

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> subprocess.Popen[bytes]:
        settings_dict = connection.settings_dict
        url = (
            f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@"
            f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        )
        full_env = {
            **os.environ,
            "BACKLINE_DATABASE_URL": url,
            "BACKLINE_SLACK_WEBHOOK_HOSTS": "hooks.slack.com,127.0.0.1",
            "BACKLINE_NOTIFY_BACKOFF_SECONDS": "0",
            "BACKLINE_DEBUG": "false",
            **env,
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backline.cli",
                "worker",
                "--interval",
                "0.1",
                "--no-startup-delay",
                "--no-reload",
            ],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"worker{len(procs)}.log", "wb"),  # noqa: SIM115
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def write(channel: Channel, n: int, payload: Callable[[int], dict[str, Any]]) -> None:
    for i in range(n):
        services.delivery_write(
            event="escalated_tier3",
            channel=channel.kind,
            target=channel.target,
            channel_config=channel,
            payload=payload(i),
            key=f"w:{i}",
            dedup_key=str(payload(i).get("dedup_key", "")),
        )


def test_two_workers_deliver_each_of_50_exactly_once(
    http_server: Callable[..., FakeHttpServer], start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    server = http_server(lambda n, b: (200, {}, "ok", 0.02))
    channel = slack_channel(server, name="#mhv-tier-3-support")
    start_worker()
    start_worker()
    write(channel, 50, lambda i: {"text": f"message {i}", "blocks": []})
    wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 50)
    counts = Counter(r.body["text"] for r in server.received)
    assert counts == Counter({f"message {i}": 1 for i in range(50)})
    runs = DBTaskResult.objects.filter(task_path="backline.notify.tasks.deliver")
    assert runs.count() == 50
    assert all(len(run.worker_ids) == 1 for run in runs)
    assert len({run.worker_ids[0] for run in runs}) == 2  # both workers took part


def test_sigterm_lets_the_running_delivery_finish(
    http_server: Callable[..., FakeHttpServer], start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    server = http_server(lambda n, b: (200, {}, "ok", 2.0))
    channel = slack_channel(server, name="#slow")
    worker = start_worker()
    write(channel, 1, lambda i: {"text": "slow", "blocks": []})
    wait_for(lambda: server.count == 1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    assert len(server.received) == 1


def test_killed_mid_delivery_is_reclaimed_and_the_dedup_key_makes_the_repeat_harmless(
    pagerduty_server: Callable[..., FakeHttpServer],
    start_worker: Callable[..., subprocess.Popen[bytes]],
    settings: Any,
) -> None:
    def script(n: int, body: Any) -> Reply:
        status, headers, text, _ = pagerduty_ok(n, body)
        return status, headers, text, 30.0 if n == 0 else 0.0

    server = pagerduty_server(script)
    service = pagerduty_service()
    env = {
        "BACKLINE_PAGERDUTY_EVENTS_URL": settings.NOTIFY_PAGERDUTY_EVENTS_URL,
        "BACKLINE_NOTIFY_CA_FILE": settings.NOTIFY_CA_FILE,
        "BACKLINE_NOTIFY_LEASE_SECONDS": "2",
        "BACKLINE_NOTIFY_SWEEP_SECONDS": "1",
    }
    first = start_worker(**env)
    trigger = {
        "event_action": "trigger",
        "dedup_key": "backline-ticket-BL-1042",
        "payload": {"summary": "BL-1042 critical", "source": "backline", "severity": "critical"},
    }
    write(service, 1, lambda i: trigger)
    wait_for(lambda: server.count == 1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert Delivery.objects.get().status == DeliveryStatus.SENDING
    start_worker(**env)
    wait_for(lambda: Delivery.objects.get().status == DeliveryStatus.SENT, timeout=60)
    delivery = Delivery.objects.get()
    assert delivery.attempts == 2 and delivery.external_id == "backline-ticket-BL-1042"
    assert server.count == 2
    assert {r.body["dedup_key"] for r in server.received} == {"backline-ticket-BL-1042"}
    assert delivery.channel == ChannelKind.PAGERDUTY
