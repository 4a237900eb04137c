"""Fixtures for notify tests: local Slack/PagerDuty/SMTP servers, channels, an on-call answer."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.test import TestCase
from django_tasks_db.management.commands import db_worker
from django_tasks_db.management.commands.db_worker import Worker

from backline.accounts.models import User
from backline.accounts.roles import Role
from backline.notify import services
from backline.notify.models import Channel, ChannelKind, Delivery, DeliveryStatus
from backline.notify.tests.servers import (
    FakeHttpServer,
    Reply,
    make_certificate,
    pagerduty_ok,
    slack_ok,
)

ROUTING_KEY = "R0123456789abcdefghijABCDEFGHIJ0"[:32]


@pytest.fixture(autouse=True)
def _notify_settings(settings: Any) -> None:
    settings.NOTIFY_SLACK_WEBHOOK_HOSTS = ["hooks.slack.com", "127.0.0.1"]
    settings.NOTIFY_BACKOFF_SECONDS = 0.2
    settings.NOTIFY_BACKOFF_CAP_SECONDS = 1
    settings.NOTIFY_TIMEOUT_SECONDS = 2
    settings.NOTIFY_MAX_ATTEMPTS = 8
    settings.SITE_URL = "https://backline.example.org"


@pytest.fixture
def http_server() -> Iterator[Callable[..., FakeHttpServer]]:
    started: list[FakeHttpServer] = []

    def start(
        script: Callable[[int, Any], Reply] = slack_ok,
        tls: ssl.SSLContext | None = None,
        port: int = 0,
    ) -> FakeHttpServer:
        server = FakeHttpServer(script=script, tls=tls, port_wanted=port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def pagerduty_server(
    http_server: Callable[..., FakeHttpServer], certificate: tuple[Path, Path], settings: Any
) -> Callable[..., FakeHttpServer]:
    """Start a local HTTPS Events API; Backline is pointed at it and trusts its certificate."""

    def start(script: Callable[[int, Any], Reply] = pagerduty_ok) -> FakeHttpServer:
        cert, key = certificate
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        server = http_server(script, tls)
        settings.NOTIFY_PAGERDUTY_EVENTS_URL = server.base
        settings.NOTIFY_CA_FILE = str(cert)
        return server

    return start


class SmtpRecorder:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpRecorder]:
    from backline.notify.tests.servers import free_port

    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.NOTIFY_SMTP_HOST = "127.0.0.1"
    settings.NOTIFY_SMTP_PORT = port
    yield recorder
    controller.stop()


@pytest.fixture
def on_call(monkeypatch: pytest.MonkeyPatch) -> dict[Role, services.OnCallNow]:
    """Who is on call, per role, as the notify app will be told (default: nobody, in coverage)."""
    answers: dict[Role, services.OnCallNow] = {}

    def lookup(role: Role, at: datetime) -> services.OnCallNow:
        return answers.get(role, services.OnCallNow(person=None, in_coverage=True))

    monkeypatch.setattr(services, "on_call_lookup", lookup)
    return answers


def slack_channel(
    server: FakeHttpServer, *, name: str, role: str = "", user: User | None = None
) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.SLACK,
        name=name,
        role=role,
        user=user,
        webhook_url=f"{server.base}/services/T000/B{abs(hash(name)) % 10**8}/secret{len(name)}",
    )


def pagerduty_service(*, name: str = "Monitoring", role: str = Role.MONITORING) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.PAGERDUTY, name=name, role=role, routing_key=ROUTING_KEY
    )


def drain(timeout: float = 15.0) -> None:
    """Run the real db_worker in batch mode until no delivery is pending, failed or sending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Inside a test transaction nothing commits, so run the on-commit enqueues by hand.
        # The worker closes "old" connections between tasks; inside a test transaction that would
        # close the test's own connection, so that housekeeping is switched off here.
        with (
            TestCase.captureOnCommitCallbacks(execute=True),
            mock.patch.object(db_worker, "close_old_connections", lambda: None),
        ):
            _worker().run()
        open_rows = Delivery.objects.filter(
            status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.SENDING)
        )
        if not open_rows.exists():
            return
        time.sleep(0.05)
    raise AssertionError(
        "deliveries still open: "
        + repr(
            list(
                Delivery.objects.exclude(status__in=("sent", "dead")).values(
                    "id", "status", "last_error"
                )
            )
        )
    )


def _worker() -> Worker:
    return Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="pytest",
        excluded_queue_names=[],
    )
