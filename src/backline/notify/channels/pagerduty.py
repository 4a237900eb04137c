"""PagerDuty Events API v2 through the official ``pagerduty`` client (``EventsApiV2Client``).

Framework-free. The client insists on an https:// base URL, so local tests run a real HTTPS server
on 127.0.0.1 with a throwaway certificate and hand its CA to ``send`` (``ssl_context``); production
uses https://events.pagerduty.com (or the EU endpoint) and the system trust store.
"""

from __future__ import annotations

import math
import re
import ssl
from collections.abc import Mapping
from typing import Any

import pagerduty

from backline.notify.channels import PermanentError, Sent, TransientError, classify_status
from backline.notify.retry import parse_retry_after

DEFAULT_EVENTS_URL = "https://events.pagerduty.com"
SUMMARY_LIMIT = 1024
# An Events API v2 integration (routing) key: 32 characters, letters and digits.
_ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")

SEVERITY_BY_PRIORITY = {
    "critical": "critical",
    "high": "error",
    "medium": "warning",
    "low": "info",
}


def routing_key_problem(key: str) -> str | None:
    """What is wrong with ``key`` as an Events API v2 integration key, or None."""
    key = key.strip()
    if not key:
        return "Enter the service's Events API v2 integration key (32 characters)."
    if not _ROUTING_KEY.match(key):
        return (
            f"An Events API v2 integration key is 32 letters and digits (got {len(key)} "
            "characters); copy it from the service's Integrations tab in PagerDuty."
        )
    return None


def mask_routing_key(key: str) -> str:
    return f"{key[:4]}…{key[-2:]}" if len(key) > 8 else "…"


def severity_for(priority: str) -> str:
    """Events API severity for a ticket priority (unknown priorities page as ``warning``)."""
    return SEVERITY_BY_PRIORITY.get(priority, "warning")


def _client(
    routing_key: str, base_url: str, timeout: float, ssl_context: ssl.SSLContext | None
) -> pagerduty.EventsApiV2Client:
    extra: dict[str, Any] = {"verify": ssl_context} if ssl_context is not None else {}
    client = pagerduty.EventsApiV2Client(routing_key, base_url=base_url, **extra)
    # The client retries inside the call by sleeping (for ever on 429). The outbox owns retries,
    # durably and honouring Retry-After, so every status comes straight back: no per-status
    # retries, a retry budget already spent (-1) for the 429 case the client special-cases, and
    # no network-error retries.
    client.retry = {429: 1}
    client.max_http_attempts = -1
    client.max_network_attempts = 0
    client.timeout = math.ceil(timeout)
    return client


def send(
    *,
    routing_key: str,
    event: Mapping[str, Any],
    base_url: str = DEFAULT_EVENTS_URL,
    timeout: float,
    ssl_context: ssl.SSLContext | None = None,
) -> Sent:
    """Send one rendered event (``event_action``, ``dedup_key``, ``payload``, ``links``).

    Returns the dedup key PagerDuty answered with, which equals the one sent (the outbox always
    sends one, so a repeated send after a crash lands on the same alert).
    """
    action = str(event["event_action"])
    dedup_key = str(event["dedup_key"])
    properties = {k: v for k, v in event.items() if k in ("payload", "links", "images")}
    try:
        client = _client(routing_key, base_url, timeout, ssl_context)
        answered = client.send_event(action, dedup_key=dedup_key, **properties)
    except pagerduty.UrlError as exc:
        raise PermanentError(f"The PagerDuty events URL is unusable: {exc}.") from exc
    except pagerduty.HttpError as exc:
        response = exc.response
        if response is None:
            raise TransientError(f"PagerDuty failed without an answer: {exc}.") from exc
        status = int(response.status_code)
        if 200 <= status < 300:  # 2xx but a body without dedup_key: the server misbehaved
            raise TransientError(f"PagerDuty answered without a dedup key: {exc}.") from exc
        classify_status(
            status,
            response.text,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            channel="PagerDuty",
        )
        raise TransientError(f"PagerDuty answered HTTP {status}.") from exc  # pragma: no cover
    except pagerduty.Error as exc:  # network: refused, timed out, reset
        cause = exc.__cause__ or exc
        raise TransientError(f"Could not reach PagerDuty: {cause!r}.") from exc
    return Sent(external_id=str(answered))
