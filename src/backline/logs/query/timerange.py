"""The time window that goes with a log query: ``now-15m``, ``now``, ISO-8601 instants, epoch ms.

Every result is an aware datetime in UTC. A naive ISO-8601 instant is refused rather than guessed
(see docs/dangerous-constructs.md); so is a naive ``now``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

_RELATIVE_RE = re.compile(r"now(?:\s*([+-])\s*(\d{1,9})\s*([smhdw]))?")
_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
# Epoch milliseconds: up to 15 digits covers every year datetime can represent without overflow
# surprises in the arithmetic below (checked again by the conversion itself).
_EPOCH_MILLIS_RE = re.compile(r"-?\d{1,15}")


class TimeRangeError(ValueError):
    """A time value or range that cannot be understood; the message names the bad value."""


class TimeRange(NamedTuple):
    """A half-open window ``[start, end)`` in UTC."""

    start: datetime
    end: datetime


def parse_time(text: str, now: datetime) -> datetime:
    """Read ``now``, ``now-15m`` (units s m h d w), an ISO-8601 instant with a zone, or epoch ms.

    ``now`` must be aware; the result is in UTC.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise TimeRangeError(f"'now' must be an aware datetime, got naive {now.isoformat()}")
    value = text.strip()
    if not value:
        raise TimeRangeError(
            "empty time value: expected now, now-15m, an ISO-8601 instant or epoch milliseconds"
        )

    relative = _RELATIVE_RE.fullmatch(value)
    if relative:
        sign, amount, unit = relative.groups()
        base = now.astimezone(UTC)
        if sign is None:
            return base
        try:
            delta = int(amount) * _UNITS[unit]
            return base - delta if sign == "-" else base + delta
        except OverflowError:
            raise TimeRangeError(f"time value {text!r} is out of range") from None

    if _EPOCH_MILLIS_RE.fullmatch(value):
        try:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(value))
        except OverflowError:
            raise TimeRangeError(f"epoch milliseconds {text!r} are out of range") from None

    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise TimeRangeError(
            f"cannot read time value {text!r}: expected now, now-15m, "
            "an ISO-8601 instant with a zone (2026-11-23T14:05:00Z) or epoch milliseconds"
        ) from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise TimeRangeError(f"time value {text!r} has no zone: add Z or an offset such as -05:00")
    try:
        return instant.astimezone(UTC)
    except OverflowError:
        raise TimeRangeError(f"time value {text!r} is out of range") from None


def parse_range(from_text: str, to_text: str, now: datetime) -> TimeRange:
    """Read both ends of a window and check that ``from`` is before ``to``."""
    start = parse_time(from_text, now)
    end = parse_time(to_text, now)
    if start >= end:
        raise TimeRangeError(
            f"time range from {from_text!r} ({start.isoformat()}) is not before "
            f"to {to_text!r} ({end.isoformat()})"
        )
    return TimeRange(start, end)
