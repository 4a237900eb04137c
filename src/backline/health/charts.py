"""Server-side SVG charts for the health dashboards: line charts, sparklines, their text alternative.

Owns the drawing: axes with units, gridlines, a legend, solid series for now and dashed series for
the same hours last week, and what a screen reader gets instead (``<title>``, ``<desc>`` with a
summary of the numbers, and the rows of an HTML data table the template shows in a ``<details>``
next to each chart). Framework-free and pure: it returns strings and plain rows.

The page's Content-Security-Policy forbids ``style`` attributes and ``<style>`` blocks, so the SVG
uses presentation attributes only (``stroke``, ``fill``, ``font-size``), which the CSP allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from html import escape

FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
INK = "#1b1b1b"
GRID = "#dfe1e2"
AXIS = "#565c65"
# Distinguishable on white with at least 4.5:1 contrast; dashes, not colour, mark last week.
PALETTE = {
    "blue": "#005ea2",
    "red": "#b50909",
    "orange": "#a23a00",
    "violet": "#54278f",
    "green": "#216e1f",
}
DASH = "6 4"


@dataclass(frozen=True)
class Series:
    """One line: ``values`` align with the chart's ``times`` (None leaves a gap)."""

    label: str
    values: tuple[float | None, ...]
    colour: str = PALETTE["blue"]
    dashed: bool = False


@dataclass(frozen=True)
class LineChart:
    """A chart of one quantity over time.

    ``chart_id`` must be unique on the page (it prefixes element ids). ``quantity`` and ``unit``
    label the y axis (``Latency (ms)``); the unit follows every number: ``ms``, ``%`` or
    ``calls/min``. ``times`` are the bucket starts, aware, ``interval`` apart.
    """

    chart_id: str
    title: str
    description: str
    quantity: str
    unit: str
    times: tuple[datetime, ...]
    interval: timedelta
    series: tuple[Series, ...]

    def __post_init__(self) -> None:
        for series in self.series:
            if len(series.values) != len(self.times):
                raise ValueError(
                    f"series {series.label!r} has {len(series.values)} values "
                    f"for {len(self.times)} times"
                )
        if any(t.tzinfo is None for t in self.times):
            raise ValueError("chart times must be aware datetimes")


@dataclass(frozen=True)
class Table:
    """A chart's numbers as a table: a caption, header cells and one row per time bucket."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def format_value(value: float | None, unit: str) -> str:
    """A number with its unit as shown in tables and descriptions: ``412 ms``, ``4.2%``."""
    if value is None:
        return "no data"
    if unit == "%":
        return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f} {unit}"


def _axis_number(value: float, unit: str) -> str:
    if unit == "ms" and value >= 10_000:
        return f"{value / 1000:g} s"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (``0, 250, 500, ...``), about ``count``."""
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = math.ceil(maximum / step - 1e-9) * step
    ticks = []
    value = 0.0
    while value <= top + step / 2:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _time_label(moment: datetime, span: timedelta, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    if span > timedelta(days=1):
        return local.strftime("%a %d %H:%M")
    return local.strftime("%H:%M")


def _bucket_label(moment: datetime, interval: timedelta, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    end = (moment + interval).astimezone(zone)
    same_day = local.date() == end.date()
    return (
        f"{local:%a %b %d %H:%M}-{end:%H:%M}"
        if same_day
        else f"{local:%a %b %d %H:%M}-{end:%a %H:%M}"
    )


def _zone_name(zone: tzinfo, moment: datetime) -> str:
    return moment.astimezone(zone).tzname() or str(zone)


def summarise(chart: LineChart, zone: tzinfo) -> str:
    """One sentence per solid series: its latest value, its peak and when, and last week's peak."""
    if not chart.times:
        return "No data in this window."
    parts = []
    for series in chart.series:
        known = [(v, t) for v, t in zip(series.values, chart.times, strict=True) if v is not None]
        if not known:
            parts.append(f"{series.label}: no data.")
            continue
        peak_value, peak_time = max(known, key=lambda item: item[0])
        if series.dashed:
            parts.append(f"{series.label}: peak {format_value(peak_value, chart.unit)}.")
            continue
        latest_value, latest_time = known[-1]
        parts.append(
            f"{series.label}: latest {format_value(latest_value, chart.unit)} "
            f"({_time_label(latest_time, timedelta(0), zone)}), peak "
            f"{format_value(peak_value, chart.unit)} at "
            f"{_time_label(peak_time, chart.times[-1] - chart.times[0], zone)}."
        )
    return " ".join(parts)


def chart_table(chart: LineChart, zone: tzinfo) -> Table:
    """The numbers behind the chart, one row per bucket, times in ``zone``."""
    headers = (
        f"Time ({_zone_name(zone, chart.times[0]) if chart.times else zone})",
        *(f"{s.label} ({chart.unit})" for s in chart.series),
    )
    rows = tuple(
        (
            _bucket_label(moment, chart.interval, zone),
            *(format_value(s.values[i], chart.unit) for s in chart.series),
        )
        for i, moment in enumerate(chart.times)
    )
    return Table(caption=f"{chart.title}: the numbers", headers=headers, rows=rows)


def _path(points: list[tuple[float, float] | None]) -> str:
    """SVG path data; a None point ends the current segment so gaps stay gaps."""
    commands: list[str] = []
    pen_down = False
    for point in points:
        if point is None:
            pen_down = False
            continue
        x, y = point
        commands.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    return " ".join(commands)


def render_line_chart(
    chart: LineChart, zone: tzinfo, *, width: int = 720, height: int = 280
) -> str:
    """The chart as an ``<svg>`` element (XML), with title, description, axes, grid and legend."""
    cid = escape(chart.chart_id)
    legend_columns = 3
    legend_rows = max(1, math.ceil(len(chart.series) / legend_columns))
    left, right, bottom = 72, 16, 44
    top = 14 + legend_rows * 20
    plot_w = width - left - right
    plot_h = height - top - bottom
    values = [v for s in chart.series for v in s.values if v is not None]
    ticks = nice_ticks(max(values, default=0.0))
    y_max = ticks[-1]
    n = len(chart.times)

    def x_at(i: int) -> float:
        # Each point sits in the middle of its bucket.
        return left + (i + 0.5) * plot_w / max(n, 1)

    def y_at(value: float) -> float:
        return top + plot_h - (value / y_max) * plot_h if y_max else top + plot_h

    description = f"{chart.description} {summarise(chart, zone)}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bl-chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        f'font-family="{FONT}" font-size="12">',
        f'<title id="{cid}-title">{escape(chart.title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
    ]
    # Gridlines and y-axis labels.
    for tick in ticks:
        y = y_at(tick)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}" '
            'stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">'
            f"{escape(_axis_number(tick, chart.unit))}</text>"
        )
    # Axes.
    out.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{AXIS}" '
        'stroke-width="1"/>'
    )
    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="{AXIS}" stroke-width="1"/>'
    )
    y_label = escape(f"{chart.quantity} ({chart.unit})")
    mid_y = top + plot_h / 2
    out.append(
        f'<text x="14" y="{mid_y:.1f}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 14 {mid_y:.1f})" class="bl-chart__axis-label">{y_label}</text>'
    )
    # X-axis ticks: about six, on bucket starts.
    if n:
        span = chart.times[-1] - chart.times[0]
        every = max(1, math.ceil(n / 6))
        for i in range(0, n, every):
            x = left + i * plot_w / n
            out.append(
                f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 4}" '
                f'stroke="{AXIS}" stroke-width="1"/>'
            )
            out.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="middle" fill="{INK}">'
                f"{escape(_time_label(chart.times[i], span, zone))}</text>"
            )
        zone_name = _zone_name(zone, chart.times[0])
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
            f'fill="{INK}" class="bl-chart__axis-label">'
            f"Time ({escape(zone_name)}), {escape(_interval_words(chart.interval))} buckets</text>"
        )
    else:
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{mid_y:.1f}" text-anchor="middle" '
            f'fill="{INK}">No data in this window</text>'
        )
    # Series: last week's first so this week's lines are drawn on top.
    for series in sorted(chart.series, key=lambda s: not s.dashed):
        points = [None if v is None else (x_at(i), y_at(v)) for i, v in enumerate(series.values)]
        data = _path(points)
        if not data:
            continue
        dash = f' stroke-dasharray="{DASH}"' if series.dashed else ""
        out.append(
            f'<path d="{data}" fill="none" stroke="{series.colour}" stroke-width="2"'
            f'{dash} stroke-linejoin="round"><title>{escape(series.label)}</title></path>'
        )
        # A lone point between gaps has no line segment; mark it so it stays visible.
        for i, point in enumerate(points):
            lone = point is not None and (i == 0 or points[i - 1] is None)
            lone = lone and (i == n - 1 or points[i + 1] is None)
            if lone and point is not None:
                out.append(
                    f'<circle cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="2.5" '
                    f'fill="{series.colour}"/>'
                )
    # Legend.
    out.append(f'<g class="bl-chart__legend" aria-label="Legend for {escape(chart.title)}">')
    column_w = (width - left - right) / legend_columns
    for index, series in enumerate(chart.series):
        row, column = divmod(index, legend_columns)
        x = left + column * column_w
        y = 10 + row * 20
        dash = f' stroke-dasharray="{DASH}"' if series.dashed else ""
        out.append(
            f'<line x1="{x:.1f}" y1="{y + 4}" x2="{x + 28:.1f}" y2="{y + 4}" '
            f'stroke="{series.colour}" stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{x + 34:.1f}" y="{y + 8}" fill="{INK}">{escape(series.label)}</text>')
    out.append("</g></svg>")
    return "".join(out)


def _interval_words(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours}-hour"
    return f"{seconds // 60}-minute"


def render_sparkline(
    values: tuple[float | None, ...],
    *,
    label: str,
    colour: str = PALETTE["blue"],
    width: int = 120,
    height: int = 28,
) -> str:
    """A small line without axes for overview tables; ``label`` says what it shows in words."""
    known = [v for v in values if v is not None]
    top = max(known, default=0.0)
    n = len(values)
    points: list[tuple[float, float] | None] = []
    for i, value in enumerate(values):
        if value is None:
            points.append(None)
            continue
        x = 1 + i * (width - 2) / max(n - 1, 1)
        y = height - 2 - ((value / top) * (height - 4) if top else 0)
        points.append((x, y))
    data = _path(points)
    body = f'<path d="{data}" fill="none" stroke="{colour}" stroke-width="1.5"/>' if data else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bl-sparkline" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>{body}</svg>'
    )
