"""Slack incoming webhooks through the official ``slack_sdk`` client.

Framework-free. A webhook posts to the one channel (or one person's direct messages) it was created
for; incoming webhooks return no message ``ts``, so a Slack delivery has no external id.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Collection, Mapping
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient

from backline.notify.channels import PermanentError, Sent, TransientError, classify_status
from backline.notify.retry import parse_retry_after

DEFAULT_HOSTS = ("hooks.slack.com",)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# /services/T.../B.../secret for channel webhooks, /triggers/... for workflow webhooks.
_PATH = re.compile(r"^/(services|triggers)/[A-Za-z0-9]+/[A-Za-z0-9]+/[A-Za-z0-9]+/?$")


def webhook_url_problem(url: str, *, allowed_hosts: Collection[str] = DEFAULT_HOSTS) -> str | None:
    """What is wrong with ``url`` as a Slack incoming-webhook URL, or None when it looks right.

    HTTPS to an allowed host (hooks.slack.com by default) with a ``/services/T…/B…/…`` path.
    Plain HTTP is accepted only for loopback hosts that the operator allowed, for local testing.
    """
    url = url.strip()
    if not url:
        return "Enter the webhook URL Slack gave you (https://hooks.slack.com/services/...)."
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError:
        return f"{url!r} is not a URL."
    if parts.scheme not in ("https", "http") or not host:
        return "A Slack webhook URL starts with https://hooks.slack.com/services/."
    if host not in {h.lower() for h in allowed_hosts}:
        return (
            f"{host} is not a Slack webhook host; expected "
            f"{' or '.join(sorted(allowed_hosts))} (https://hooks.slack.com/services/...)."
        )
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return "Slack webhooks must use https://."
    if not _PATH.match(parts.path) or parts.query or parts.fragment:
        return (
            "The path must look like /services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX "
            "(copy the whole URL from Slack's incoming-webhook page)."
        )
    return None


def mask_webhook_url(url: str) -> str:
    """The URL without its secret last segment, fit for screens and logs."""
    head, _, secret = url.rstrip("/").rpartition("/")
    return f"{head}/{secret[:2]}…" if head else "…"


def send(
    *, url: str, message: Mapping[str, Any], timeout: float, ssl_context: ssl.SSLContext | None
) -> Sent:
    """Post one Block Kit message (``{"text": ..., "blocks": [...]}``) to an incoming webhook.

    The client's own retry handlers are turned off: the outbox owns retries, durably, with
    backoff and Retry-After, and a worker must not sleep inside a send.
    """
    client = WebhookClient(
        url=url, timeout=max(1, round(timeout)), ssl=ssl_context, retry_handlers=[]
    )
    try:
        response = client.send_dict(dict(message))
    except SlackRequestError as exc:  # an unusable URL: no retry can fix it
        raise PermanentError(f"The webhook URL is unusable: {exc}.") from exc
    except TimeoutError as exc:
        raise TransientError(f"Slack did not answer within {timeout:g}s ({exc}).") from exc
    except URLError as exc:
        raise TransientError(f"Could not reach Slack: {exc.reason}.") from exc
    except (ConnectionError, OSError) as exc:
        raise TransientError(f"Could not reach Slack: {exc}.") from exc
    headers = {str(k).lower(): str(v) for k, v in (response.headers or {}).items()}
    classify_status(
        response.status_code,
        str(response.body or ""),
        retry_after=parse_retry_after(headers.get("retry-after")),
        channel="Slack",
    )
    return Sent()
