"""Stitching one user's events into requests: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backline.workbench.timeline import Gap, Request, event_failed, event_is_sign_in, stitch

T = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)


def ev(minutes: float, request_id: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "ts": T + timedelta(minutes=minutes),
        "request_id": request_id,
        "status": "info",
        **fields,
    }


def test_events_of_one_request_are_grouped_with_upstream_calls_nested_even_when_interleaved() -> (
    None
):
    events = [
        ev(0.00, "r1", upstream="vista", status_code=200, message="vista ok"),
        ev(0.01, "r2", message="Completed GET /b 200", path="/b", status_code=200),
        ev(0.02, "r1", upstream="mhv_api", status_code=200),
        ev(
            0.03,
            "r1",
            message="Completed GET /a 200",
            path="/a",
            status_code=200,
            http_method="GET",
        ),
    ]
    timeline = stitch(events)
    first, second = timeline.requests
    assert [first.request_id, second.request_id] == ["r1", "r2"]
    assert [c["upstream"] for c in first.calls] == ["vista", "mhv_api"]
    assert first.main is events[3] and (first.method, first.path, first.status_code) == (
        "GET",
        "/a",
        200,
    )
    assert first.indexes == [0, 2, 3]
    assert timeline.event_count == 4 and not timeline.gap_count


def test_the_first_failing_request_is_marked_once_and_failures_counted() -> None:
    events = [
        ev(0, "ok", status_code=200),
        ev(1, "bad1", upstream="vista", status="error", status_code=503),
        ev(1.1, "bad1", status="error", status_code=502),
        ev(2, "bad2", upstream="mhv_api", status="warn", status_code=404),
    ]
    timeline = stitch(events)
    marks = [r.first_failure for r in timeline.requests]
    assert marks == [False, True, False]
    assert timeline.first_failure is not None and timeline.first_failure.request_id == "bad1"
    assert timeline.failed_count == 2
    assert [c["status_code"] for c in timeline.requests[1].failed_calls] == [503]


def test_no_failure_means_no_mark() -> None:
    assert stitch([ev(0, "a", status_code=200)]).first_failure is None


def test_gaps_longer_than_the_threshold_sit_between_requests() -> None:
    events = [ev(0, "a"), ev(5, "b"), ev(40, "c"), ev(41, None)]
    items = stitch(events, gap=timedelta(minutes=10)).items
    kinds = ["gap" if isinstance(i, Gap) else i.request_id for i in items]
    assert kinds == ["a", "b", "gap", "c", None]
    gap = items[2]
    assert isinstance(gap, Gap) and gap.minutes == 35


def test_a_request_overlapping_the_previous_one_opens_no_gap() -> None:
    # r1 spans 0..30 min (a slow upstream call logged late); r2 starts at 20: no gap after r1.
    events = [ev(0, "r1"), ev(20, "r2"), ev(30, "r1"), ev(35, "r3")]
    timeline = stitch(events, gap=timedelta(minutes=10))
    assert timeline.gap_count == 0


def test_events_without_request_id_are_requests_of_their_own_and_input_order_is_irrelevant() -> (
    None
):
    events = [ev(3, None, message="b"), ev(1, None, message="a")]
    timeline = stitch(events)
    assert [r.events[0]["message"] for r in timeline.requests] == ["a", "b"]
    assert all(isinstance(r, Request) and r.request_id is None for r in timeline.requests)


@pytest.mark.parametrize(
    ("fields", "failed"),
    [
        ({"status": "error"}, True),
        ({"status": "critical"}, True),
        ({"status": "info", "status_code": 503}, True),
        ({"status": "info", "attrs": {"upstream_outcome": "failed"}}, True),
        ({"status": "warn", "status_code": 404}, True),
        ({"status": "info", "status_code": 404}, False),
        ({"status": "warn"}, False),
        ({"status": "info", "status_code": 200}, False),
        ({"status": "info", "status_code": True}, False),
    ],
)
def test_what_counts_as_a_failure(fields: dict[str, Any], failed: bool) -> None:
    assert event_failed(fields) is failed


@pytest.mark.parametrize(
    ("fields", "sign_in"),
    [
        ({"path": "/v0/sign_in/callback"}, True),
        ({"attrs": {"route": "/v0/sign_in/refresh"}}, True),
        ({"upstream": "logingov"}, True),
        ({"message": "[SignIn] Login failed, code 103"}, True),
        ({"path": "/my_health/v1/prescriptions", "upstream": "vista"}, False),
    ],
)
def test_what_counts_as_sign_in(fields: dict[str, Any], sign_in: bool) -> None:
    assert event_is_sign_in(fields) is sign_in
    if sign_in:
        assert stitch([ev(0, "x", **fields)]).sign_in_count == 1


def test_gap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="gap"):
        stitch([], gap=timedelta(0))
