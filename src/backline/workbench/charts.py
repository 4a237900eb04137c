"""The explorer's histogram as geometry: stacked bars by status, axes, legend and alt text.

Owns the layout arithmetic (bucket size, bar positions, axis ticks) so the template only draws
what it is given and the numbers can be tested without a browser. Framework-free; times are
aware datetimes and the caller passes the zone the labels are written in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = ["Bar", "Histogram", "Segment", "Tick", "bucket_size", "histogram"]

# Steps a person reads easily; the smallest that keeps the chart at or under MAX_BARS is used.
STEPS: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s)
    for s in (10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)
)
MAX_BARS = 60
WIDTH, HEIGHT = 960, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 28

# Status -> (label, fill). Colours keep at least 3:1 contrast against white (WCAG non-text), and
# the legend and every bar's title say the status in words, so colour is never the only signal.
STATUS_STYLES: dict[str, tuple[str, str]] = {
    "critical": ("Critical", "#6f1b13"),
    "error": ("Error", "#b50909"),
    "warn": ("Warning", "#936f38"),
    "info": ("Info", "#005ea2"),
    "debug": ("Debug", "#5c5c5c"),
    "other": ("Other", "#4d8055"),
}
_ALIASES = {
    "err": "error",
    "warning": "warn",
    "crit": "critical",
    "alert": "critical",
    "emergency": "critical",
    "fatal": "critical",
    "notice": "info",
    "ok": "info",
}


def status_key(value: str | None) -> str:
    """``ERROR`` -> ``error``; unknown statuses are grouped as ``other``."""
    key = (value or "").strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in STATUS_STYLES else "other"


def bucket_size(start: datetime, end: datetime) -> timedelta:
    """The smallest readable step that draws the window in at most ``MAX_BARS`` bars."""
    span = end - start
    for step in STEPS:
        if span / step <= MAX_BARS:
            return step
    days = math.ceil(span / timedelta(days=1) / MAX_BARS)
    return timedelta(days=days)


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    fill: str
    status: str
    count: int
    title: str


@dataclass(frozen=True)
class Bar:
    start: datetime
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Histogram:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    legend: list[tuple[str, str, int]]  # label, fill, total
    title: str
    description: str
    step: timedelta
    total: int

    @property
    def step_label(self) -> str:
        """``5 minutes``: the width of one bar in words."""
        return _step_words(self.step)


def _nice_max(value: int) -> int:
    if value <= 4:
        return max(value, 1)
    magnitude = 10 ** int(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        top = int(factor * magnitude)
        if top >= value:
            return top
    return value


def _floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def _label(moment: datetime, zone: tzinfo, step: timedelta, span: timedelta) -> str:
    local = moment.astimezone(zone)
    if span > timedelta(days=2):
        return (
            local.strftime("%b %d %H:%M") if step < timedelta(days=1) else local.strftime("%b %d")
        )
    return local.strftime("%H:%M")


def histogram(
    counts: Iterable[tuple[datetime, str | None, int]],
    *,
    start: datetime,
    end: datetime,
    step: timedelta,
    zone: tzinfo,
) -> Histogram:
    """Lay out stacked bars for ``(bucket start, status, count)`` rows over ``[start, end)``."""
    per_bucket: dict[datetime, dict[str, int]] = {}
    for bucket, status, count in counts:
        row = per_bucket.setdefault(_floor(bucket, step), {})
        key = status_key(status)
        row[key] = row.get(key, 0) + count
    first = _floor(start, step)
    buckets: list[datetime] = []
    moment = first
    while moment < end:
        buckets.append(moment)
        moment += step
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = _nice_max(max((sum(per_bucket.get(b, {}).values()) for b in buckets), default=0))
    slot = plot_w / max(len(buckets), 1)
    bar_w = max(slot * 0.8, 1.0)
    order = list(STATUS_STYLES)
    bars: list[Bar] = []
    totals = dict.fromkeys(order, 0)
    span = end - start
    for i, bucket in enumerate(buckets):
        row = per_bucket.get(bucket, {})
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = float(TOP + plot_h)
        segments: list[Segment] = []
        when = _label(bucket, zone, step, span)
        for key in order:
            count = row.get(key, 0)
            if not count:
                continue
            totals[key] += count
            height = plot_h * count / top
            y -= height
            label, fill = STATUS_STYLES[key]
            segments.append(
                Segment(
                    x=round(x, 2),
                    y=round(y, 2),
                    width=round(bar_w, 2),
                    height=round(height, 2),
                    fill=fill,
                    status=label,
                    count=count,
                    title=f"{when}: {count} {label.lower()}",
                )
            )
        bars.append(Bar(start=bucket, total=sum(row.values()), segments=segments))
    every = max(1, math.ceil(len(buckets) / 8))
    x_ticks = [
        Tick(position=round(LEFT + i * slot + slot / 2, 2), label=_label(b, zone, step, span))
        for i, b in enumerate(buckets)
        if i % every == 0
    ]
    y_ticks = [
        Tick(position=round(TOP + plot_h - plot_h * value / top, 2), label=str(value))
        for value in sorted({0, top // 2, top})
    ]
    legend = [(STATUS_STYLES[k][0], STATUS_STYLES[k][1], totals[k]) for k in order if totals[k]]
    total = sum(totals.values())
    busiest = max(bars, key=lambda bar: bar.total, default=None)
    parts = [f"{total} matching events between {_label(start, zone, step, span)} and "]
    parts.append(f"{_label(end, zone, step, span)}, in {len(buckets)} bars of {_step_words(step)}.")
    if legend:
        parts.append(" By status: " + ", ".join(f"{n} {label.lower()}" for label, _f, n in legend))
        parts.append(".")
    if busiest is not None and busiest.total:
        parts.append(
            f" Busiest bar: {_label(busiest.start, zone, step, span)} with {busiest.total}."
        )
    return Histogram(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=TOP + plot_h,
        bars=bars,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        legend=legend,
        title="Matching events over time, stacked by status",
        description="".join(parts),
        step=step,
        total=total,
    )


def _step_words(step: timedelta) -> str:
    seconds = int(step.total_seconds())
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "1 day" if days == 1 else f"{days} days"
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"
