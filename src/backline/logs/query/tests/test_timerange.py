"""Time values and windows for log queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.logs.query import TimeRange, TimeRangeError, parse_range, parse_time

NOW = datetime(2026, 11, 23, 14, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        (" now ", NOW),
        ("now-30s", NOW - timedelta(seconds=30)),
        ("now-15m", NOW - timedelta(minutes=15)),
        ("now-2h", NOW - timedelta(hours=2)),
        ("now-7d", NOW - timedelta(days=7)),
        ("now-1w", NOW - timedelta(weeks=1)),
        ("now+5m", NOW + timedelta(minutes=5)),
        ("2026-11-23T09:05:00-05:00", NOW),
        ("2026-11-23T14:05:00Z", NOW),
        ("2026-11-23T14:05:00.250+00:00", NOW + timedelta(milliseconds=250)),
        ("1795442700000", NOW),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    result = parse_time(text, NOW)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


def test_relative_times_are_reported_in_utc_whatever_the_zone_of_now() -> None:
    eastern_now = NOW.astimezone(timezone(timedelta(hours=-5)))
    result = parse_time("now-1h", eastern_now)
    assert result == NOW - timedelta(hours=1)
    assert result.tzinfo == UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "now-15",
        "now-15y",
        "now-m",
        "2026-11-23T14:05:00",  # naive: refused rather than guessed
        "2026-11-23",
        "2026-13-40T00:00:00Z",
        "99999999999999999999",
        "now-999999999w",
    ],
)
def test_bad_time_values_raise_and_name_the_value(text: str) -> None:
    with pytest.raises(TimeRangeError) as caught:
        parse_time(text, NOW)
    if text:
        assert repr(text) in str(caught.value)


def test_naive_now_is_refused() -> None:
    with pytest.raises(TimeRangeError, match="aware"):
        parse_time("now", datetime(2026, 11, 23, 14, 5))


def test_parse_range() -> None:
    window = parse_range("now-15m", "now", NOW)
    assert window == TimeRange(NOW - timedelta(minutes=15), NOW)
    assert window.end - window.start == timedelta(minutes=15)


@pytest.mark.parametrize(("start", "end"), [("now", "now-15m"), ("now", "now")])
def test_range_must_run_forwards(start: str, end: str) -> None:
    with pytest.raises(TimeRangeError, match="is not before"):
        parse_range(start, end, NOW)


def test_range_error_names_the_bad_end() -> None:
    with pytest.raises(TimeRangeError, match="'later'"):
        parse_range("now-1h", "later", NOW)


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=30),
        st.from_regex(r"now\s?[+-]\s?\d{1,12}[smhdwy]?", fullmatch=True),
        st.from_regex(r"-?\d{1,22}", fullmatch=True),
    )
)
def test_random_time_values_parse_or_raise_time_range_error(text: str) -> None:
    try:
        result = parse_time(text, NOW)
    except TimeRangeError:
        return
    assert result.tzinfo == UTC
