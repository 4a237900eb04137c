"""Histogram layout: bucket sizes, stacking, axes and the text alternative."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from backline.workbench.charts import MAX_BARS, bucket_size, histogram, status_key

T = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)


def test_bucket_size_keeps_the_chart_under_the_bar_limit() -> None:
    for hours in (0.25, 1, 4, 24, 24 * 7, 24 * 31):
        span = timedelta(hours=hours)
        step = bucket_size(T, T + span)
        assert span / step <= MAX_BARS
    assert bucket_size(T, T + timedelta(minutes=15)) == timedelta(seconds=30)
    assert bucket_size(T, T + timedelta(hours=1)) == timedelta(minutes=1)


def test_bars_stack_by_status_and_scale_to_the_busiest_bucket() -> None:
    step = timedelta(minutes=5)
    rows = [(T, "info", 6), (T, "ERROR", 2), (T + step, "warn", 4), (T + step, "weird", 1)]
    chart = histogram(
        rows, start=T, end=T + timedelta(minutes=15), step=step, zone=ZoneInfo("America/New_York")
    )
    assert [bar.total for bar in chart.bars] == [8, 5, 0]
    first = chart.bars[0]
    assert [s.status for s in first.segments] == ["Error", "Info"]
    # Stacked: the second segment sits right on top of the first.
    assert abs(first.segments[1].y + first.segments[1].height - first.segments[0].y) < 0.05
    assert first.segments[0].title == "10:00: 2 error"  # 15:00 UTC in New York
    tallest = sum(s.height for s in first.segments)
    assert abs(tallest - (chart.plot_bottom - chart.plot_top) * 8 / 10) < 0.1  # axis tops at 10
    assert [t.label for t in chart.y_ticks] == ["0", "5", "10"]
    assert [label for label, _fill, _n in chart.legend] == ["Error", "Warning", "Info", "Other"]
    assert status_key("weird") == "other"
    assert "13 matching events" in chart.description and "2 error" in chart.description
    assert chart.step_label == "5 minutes"


def test_an_empty_window_still_has_axes() -> None:
    chart = histogram([], start=T, end=T + timedelta(hours=1), step=timedelta(minutes=1), zone=UTC)
    assert len(chart.bars) == 60 and chart.total == 0 and chart.x_ticks and chart.y_ticks
