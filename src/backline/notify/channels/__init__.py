"""One small adapter per outside channel (Slack, PagerDuty, email) and the outcomes they share.

An adapter sends one already-rendered payload to one target and either returns a ``Sent`` or raises
``TransientError`` (try again later, maybe not before ``retry_after`` seconds) or ``PermanentError``
(trying again cannot help: the delivery goes dead at once). Adapters know nothing of the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sent:
    """A successful send; ``external_id`` is what the channel gave back (PagerDuty dedup key)."""

    external_id: str = ""


class DeliveryError(Exception):
    """A send that did not succeed; ``message`` is shown to admins in the outbox."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientError(DeliveryError):
    """The channel is down, slow or rate-limiting: try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """The channel refused the request for good (4xx other than 429): do not try again."""


def classify_status(status: int, body: str, *, retry_after: float | None, channel: str) -> None:
    """Raise the outcome for an HTTP status other than 2xx; return quietly for 2xx."""
    if 200 <= status < 300:
        return
    text = body.strip().replace("\n", " ")[:300]
    if status == 429:
        wait = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        raise TransientError(
            f"{channel} answered 429 Too Many Requests{wait}: {text}", retry_after=retry_after
        )
    if status in (408, 425) or status >= 500:
        raise TransientError(f"{channel} answered HTTP {status}: {text}", retry_after=retry_after)
    raise PermanentError(f"{channel} refused the message with HTTP {status}: {text}")
