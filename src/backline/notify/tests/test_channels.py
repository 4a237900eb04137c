"""Each adapter against a real local server; malformed configuration refused at save time."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from backline.notify.channels import PermanentError, TransientError
from backline.notify.channels import email as email_channel
from backline.notify.channels import pagerduty as pagerduty_channel
from backline.notify.channels import slack as slack_channel
from backline.notify.models import Channel, ChannelKind
from backline.notify.tests.conftest import ROUTING_KEY, SmtpRecorder
from backline.notify.tests.servers import FakeHttpServer, Reply, free_port

MESSAGE = {
    "text": "BL-1042 escalated",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
}
TRIGGER = {
    "event_action": "trigger",
    "dedup_key": "backline-ticket-BL-1042",
    "payload": {"summary": "BL-1042", "source": "backline", "severity": "critical"},
}


def reply(
    status: int, body: str = "", headers: dict[str, str] | None = None, delay: float = 0
) -> Callable[[int, Any], Reply]:
    return lambda n, b: (status, headers or {}, body, delay)


def webhook(server: FakeHttpServer) -> str:
    return f"{server.base}/services/T000/B000/XXXX"


def test_slack_posts_block_kit(http_server: Callable[..., FakeHttpServer]) -> None:
    server = http_server()
    sent = slack_channel.send(url=webhook(server), message=MESSAGE, timeout=2, ssl_context=None)
    assert sent.external_id == ""
    assert server.received[0].body == MESSAGE
    assert server.received[0].path == "/services/T000/B000/XXXX"


@pytest.mark.parametrize(
    ("script", "error", "retry_after"),
    [
        (reply(500, "oops"), TransientError, None),
        (reply(503, "down"), TransientError, None),
        (reply(429, "rate_limited", {"Retry-After": "7"}), TransientError, 7.0),
        (reply(404, "no_service"), PermanentError, None),
        (reply(400, "invalid_blocks"), PermanentError, None),
        (reply(410, "channel_is_archived"), PermanentError, None),
    ],
)
def test_slack_errors_are_classified(
    http_server: Callable[..., FakeHttpServer],
    script: Any,
    error: type[Exception],
    retry_after: float | None,
) -> None:
    server = http_server(script)
    with pytest.raises(error) as info:
        slack_channel.send(url=webhook(server), message=MESSAGE, timeout=2, ssl_context=None)
    assert server.count == 1  # the client never retries by itself
    if isinstance(info.value, TransientError):
        assert info.value.retry_after == retry_after


def test_slack_timeout_and_refused_are_transient(
    http_server: Callable[..., FakeHttpServer],
) -> None:
    slow = http_server(reply(200, "ok", delay=3))
    with pytest.raises(TransientError):
        slack_channel.send(url=webhook(slow), message=MESSAGE, timeout=1, ssl_context=None)
    url = f"http://127.0.0.1:{free_port()}/services/T/B/X"
    with pytest.raises(TransientError, match="Could not reach Slack"):
        slack_channel.send(url=url, message=MESSAGE, timeout=1, ssl_context=None)


def _trust(cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(cert))
    return context


def test_pagerduty_trigger_over_https_returns_the_dedup_key(
    pagerduty_server: Callable[..., FakeHttpServer], certificate: tuple[Path, Path]
) -> None:
    server = pagerduty_server()
    sent = pagerduty_channel.send(
        routing_key=ROUTING_KEY,
        event=TRIGGER,
        base_url=server.base,
        timeout=2,
        ssl_context=_trust(certificate[0]),
    )
    assert sent.external_id == "backline-ticket-BL-1042"
    body = server.received[0].body
    assert server.received[0].path == "/v2/enqueue"
    assert body["routing_key"] == ROUTING_KEY
    assert body["event_action"] == "trigger" and body["payload"]["severity"] == "critical"


@pytest.mark.parametrize(
    ("script", "error", "retry_after"),
    [
        (reply(500, "{}"), TransientError, None),
        (reply(429, "{}", {"Retry-After": "3"}), TransientError, 3.0),
        (reply(400, '{"status":"invalid event"}'), PermanentError, None),
        (reply(202, "not json"), TransientError, None),
    ],
)
def test_pagerduty_errors_come_back_at_once_and_classified(
    pagerduty_server: Callable[..., FakeHttpServer],
    certificate: tuple[Path, Path],
    script: Any,
    error: type[Exception],
    retry_after: float | None,
) -> None:
    server = pagerduty_server(script)
    with pytest.raises(error) as info:
        pagerduty_channel.send(
            routing_key=ROUTING_KEY,
            event=TRIGGER,
            base_url=server.base,
            timeout=2,
            ssl_context=_trust(certificate[0]),
        )
    assert server.count == 1
    if isinstance(info.value, TransientError):
        assert info.value.retry_after == retry_after


def test_pagerduty_refused_and_untrusted_certificate_are_transient(
    pagerduty_server: Callable[..., FakeHttpServer],
) -> None:
    with pytest.raises(TransientError):
        pagerduty_channel.send(
            routing_key=ROUTING_KEY,
            event=TRIGGER,
            base_url=f"https://127.0.0.1:{free_port()}",
            timeout=1,
        )
    server = pagerduty_server()
    with pytest.raises(TransientError):  # the system trust store does not know the test CA
        pagerduty_channel.send(
            routing_key=ROUTING_KEY, event=TRIGGER, base_url=server.base, timeout=2
        )
    assert server.received == []


def test_pagerduty_refuses_a_plain_http_url() -> None:
    with pytest.raises(PermanentError, match="https"):
        pagerduty_channel.send(
            routing_key=ROUTING_KEY, event=TRIGGER, base_url="http://127.0.0.1:9", timeout=1
        )


@pytest.mark.django_db
def test_email_sends_plain_text_and_html(smtp_server: SmtpRecorder) -> None:
    email_channel.send(
        to=["erin@example.org", "tier3@example.org"],
        message={"subject": "BL-1042 escalated", "text": "plain body", "html": "<p>html body</p>"},
        timeout=2,
    )
    (envelope,) = smtp_server.messages
    assert sorted(envelope.rcpt_tos) == ["erin@example.org", "tier3@example.org"]
    parsed = message_from_bytes(envelope.content)
    types = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in parsed.walk()
        if not part.is_multipart()
    }
    assert "plain body" in types["text/plain"] and "<p>html body</p>" in types["text/html"]


@pytest.mark.django_db
def test_email_to_a_closed_port_is_transient(settings: Any) -> None:
    settings.NOTIFY_SMTP_PORT = free_port()
    with pytest.raises(TransientError):
        email_channel.send(
            to=["a@example.org"], message={"subject": "s", "text": "t", "html": "h"}, timeout=1
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (
            {"kind": "slack", "webhook_url": "hooks.slack.com/services/T/B/X"},
            "webhook_url",
            "https://hooks.slack.com",
        ),
        (
            {"kind": "slack", "webhook_url": "https://example.com/services/T/B/X"},
            "webhook_url",
            "not a Slack webhook host",
        ),
        (
            {"kind": "slack", "webhook_url": "https://hooks.slack.com/services/T0/B0"},
            "webhook_url",
            "/services/T00000000",
        ),
        (
            {"kind": "slack", "webhook_url": "http://hooks.slack.com/services/T/B/X"},
            "webhook_url",
            "https://",
        ),
        (
            {"kind": "slack", "webhook_url": "https://hooks.slack.com:99999/services/T/B/X"},
            "webhook_url",
            "not a URL",
        ),
        (
            {"kind": "pagerduty", "routing_key": "short"},
            "routing_key",
            "32 letters and digits (got 5",
        ),
        (
            {"kind": "pagerduty", "routing_key": "x" * 31 + "!"},
            "routing_key",
            "32 letters and digits",
        ),
        (
            {"kind": "email", "addresses": "tier3@example.org, not-an-address"},
            "addresses",
            "'not-an-address' is not",
        ),
        ({"kind": "email", "addresses": " "}, "addresses", "at least one"),
    ],
)
def test_malformed_configuration_is_refused_with_a_clear_message(
    fields: dict[str, str], field: str, words: str
) -> None:
    channel = Channel(name="#mhv-tier-3-support", **fields)
    with pytest.raises(ValidationError) as info:
        channel.full_clean()
    assert words in " ".join(info.value.message_dict[field])


@pytest.mark.django_db
def test_wellformed_configuration_is_accepted() -> None:
    for channel in (
        Channel(
            kind=ChannelKind.SLACK,
            name="a",
            webhook_url="https://hooks.slack.com/services/T0AB12CD/B0CD34EF/abcDEF123",
        ),
        Channel(kind=ChannelKind.PAGERDUTY, name="b", routing_key=ROUTING_KEY),
        Channel(kind=ChannelKind.EMAIL, name="c", addresses="tier3@example.org\nlead@example.org"),
    ):
        channel.full_clean()
    assert Channel(
        kind="slack", webhook_url="https://hooks.slack.com/services/T0/B0/secretXYZ"
    ).target_display.endswith("/se…")
