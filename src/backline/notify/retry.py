"""When to try a failed delivery again: exponential backoff with jitter, never before Retry-After.

Framework-free so that the arithmetic can be tested against an oracle without a database.
"""

from __future__ import annotations

import math
import random


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rand: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first failure).

    The ceiling doubles with each attempt (``base``, ``2*base``, ``4*base`` ... at most ``cap``) and
    the wait is drawn uniformly from its upper half, so that many deliveries failing together (a
    channel outage) come back spread out instead of in one burst, while each still waits at least
    half its ceiling. A server's ``Retry-After`` is a floor, not a suggestion: the wait is never
    shorter, even when it is longer than ``cap``.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if base < 0 or cap < 0:
        raise ValueError("base and cap must not be negative")
    try:
        raw = math.ldexp(base, attempt - 1)  # base * 2**(attempt-1), exact for floats
    except OverflowError:
        raw = math.inf
    ceiling = min(cap, raw)
    draw = (rand or random).uniform(ceiling / 2, ceiling)
    if retry_after is not None and retry_after > draw:
        return retry_after
    return draw


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; None when absent or unreadable.

    Slack and PagerDuty send seconds; the HTTP-date form is not used by either, and a header we
    cannot read falls back to the ordinary backoff rather than failing the delivery.
    """
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds
