"""HTML views of upstream health: the overview, one upstream, one facility, cohort comparison.

Thin: ``services`` checks the permission and writes the audit row; this module turns the numbers
into charts (``charts``) drawn in the viewer's time zone and renders the pages. Pages work
without JavaScript: the window, the moment and the cohort field are GET forms, so the URL holds
the whole view and a link reproduces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe

from backline.accounts.models import User
from backline.errors import DomainError
from backline.health import charts, selectors, services
from backline.health.rules import percent
from backline.health.selectors import Dashboard, Point
from backline.logs.store import LogStoreBusy
from backline.web.shortcuts import render_domain_error, staff_view, viewer_zone


@dataclass(frozen=True)
class ChartView:
    """What the chart include renders: the SVG and its data table."""

    chart: charts.LineChart
    svg: SafeString
    table: charts.Table


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _chart(chart: charts.LineChart, zone: tzinfo) -> ChartView:
    # render_line_chart escapes every piece of text it writes, so the markup is safe to embed.
    return ChartView(
        chart=chart,
        svg=mark_safe(charts.render_line_chart(chart, zone)),  # noqa: S308
        table=charts.chart_table(chart, zone),
    )


def dashboard_charts(dashboard: Dashboard, zone: tzinfo) -> list[ChartView]:
    """Request rate, error rate and latency, each with the same hours last week dashed."""
    times = tuple(p.start for p in dashboard.points)
    minutes = dashboard.window.interval.total_seconds() / 60
    now, before = dashboard.points, dashboard.last_week
    subject = dashboard.label
    prefix = f"{dashboard.kind}-{dashboard.key}"
    what = (
        f"{subject} calls, {dashboard.window.label.lower()}, with the same hours last week "
        "as a dashed line."
    )

    def rate(points: list[Point]) -> tuple[float | None, ...]:
        return tuple(p.calls / minutes for p in points)

    def errors(points: list[Point]) -> tuple[float | None, ...]:
        return tuple(None if p.error_rate is None else p.error_rate * 100 for p in points)

    def latency(points: list[Point], key: str) -> tuple[float | None, ...]:
        return tuple(getattr(p, key) for p in points)

    blue, red = charts.PALETTE["blue"], charts.PALETTE["red"]
    rate_chart = charts.LineChart(
        chart_id=f"{prefix}-rate",
        title=f"{subject}: calls per minute",
        description=f"Calls per minute to {what}",
        quantity="Calls",
        unit="calls/min",
        times=times,
        interval=dashboard.window.interval,
        series=(
            charts.Series("This week", rate(now), blue),
            charts.Series("Same hours last week", rate(before), blue, dashed=True),
        ),
    )
    error_chart = charts.LineChart(
        chart_id=f"{prefix}-errors",
        title=f"{subject}: error rate",
        description=f"Share of failed {what}",
        quantity="Failed calls",
        unit="%",
        times=times,
        interval=dashboard.window.interval,
        series=(
            charts.Series("This week", errors(now), red),
            charts.Series("Same hours last week", errors(before), red, dashed=True),
        ),
    )
    colours = {
        "p50": charts.PALETTE["blue"],
        "p95": charts.PALETTE["orange"],
        "p99": charts.PALETTE["violet"],
    }
    latency_series: list[charts.Series] = []
    for key, colour in colours.items():
        latency_series.append(charts.Series(key, latency(now, f"{key}_ms"), colour))
    for key, colour in colours.items():
        latency_series.append(
            charts.Series(f"{key} last week", latency(before, f"{key}_ms"), colour, dashed=True)
        )
    latency_chart = charts.LineChart(
        chart_id=f"{prefix}-latency",
        title=f"{subject}: latency p50, p95, p99",
        description=f"Latency percentiles of {what}",
        quantity="Latency",
        unit="ms",
        times=times,
        interval=dashboard.window.interval,
        series=tuple(latency_series),
    )
    return [_chart(c, zone) for c in (rate_chart, error_chart, latency_chart)]


def _common(request: HttpRequest) -> dict[str, object]:
    return {
        "windows": list(selectors.WINDOWS.values()),
        "chosen_window": request.GET.get("window") or selectors.DEFAULT_WINDOW,
        "at_text": request.GET.get("at", ""),
    }


def _refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, LogStoreBusy):
        return render(
            request,
            "web/error.html",
            {"heading": "Logs busy", "message": str(exc)},
            status=503,
        )
    return render_domain_error(request, exc)


@staff_view
def overview(request: HttpRequest) -> HttpResponse:
    """All upstreams with state badges and sparklines, and the worst facilities."""
    try:
        at = services.parse_at(request.GET.get("at"))
        result = services.health_overview(
            user=_user(request), window=request.GET.get("window"), at=at
        )
    except (DomainError, PermissionDenied, LogStoreBusy) as exc:
        return _refused(request, exc)
    rows = []
    for row in result.upstreams:
        known = [v for v in row.error_rates if v is not None]
        label = (
            f"{row.label} error rate per {selectors.WINDOWS[result.window.key].interval} bucket: "
            f"latest {charts.format_value(known[-1] if known else None, '%')}, "
            f"peak {charts.format_value(max(known) if known else None, '%')}"
        )
        spark = charts.render_sparkline(row.error_rates, label=label, colour=charts.PALETTE["red"])
        rows.append({"row": row, "sparkline": mark_safe(spark)})  # noqa: S308 - escaped inside
    return render(
        request,
        "health/overview.html",
        {**_common(request), "overview": result, "rows": rows},
    )


def _dashboard_page(request: HttpRequest, dashboard: Dashboard) -> HttpResponse:
    return render(
        request,
        "health/dashboard.html",
        {
            **_common(request),
            "dashboard": dashboard,
            "charts": dashboard_charts(dashboard, viewer_zone(request)),
            "upstreams": selectors.UPSTREAMS,
            "extra_upstream": dashboard.kind == "facility",
        },
    )


@staff_view
def upstream(request: HttpRequest, name: str) -> HttpResponse:
    """One upstream's state, charts and per-facility states."""
    try:
        at = services.parse_at(request.GET.get("at"))
        result = services.health_upstream(
            user=_user(request), name=name, window=request.GET.get("window"), at=at
        )
    except (DomainError, PermissionDenied, LogStoreBusy) as exc:
        return _refused(request, exc)
    return _dashboard_page(request, result)


@staff_view
def facility(request: HttpRequest, station: str) -> HttpResponse:
    """One facility's state per upstream, and its charts."""
    try:
        at = services.parse_at(request.GET.get("at"))
        result = services.health_facility(
            user=_user(request),
            station=station,
            window=request.GET.get("window"),
            upstream=request.GET.get("upstream") or None,
            at=at,
        )
    except (DomainError, PermissionDenied, LogStoreBusy) as exc:
        return _refused(request, exc)
    return _dashboard_page(request, result)


@staff_view
def cohorts(request: HttpRequest) -> HttpResponse:
    """Cohorts side by side with the overall figures; over-represented cohorts flagged in words."""
    other = request.GET.get("other", "").strip()
    field = other or request.GET.get("field") or "data_source"
    query = request.GET.get("q", "")
    start_text = request.GET.get("from") or "now-1h"
    end_text = request.GET.get("to") or "now"
    context: dict[str, object] = {
        "presets": list(selectors.COHORT_FIELDS.values()),
        "field": field,
        "other": other,
        "q": query,
        "from_text": start_text,
        "to_text": end_text,
    }
    try:
        result = services.health_cohorts(
            user=_user(request),
            field=field,
            query=query,
            start_text=start_text,
            end_text=end_text,
        )
    except PermissionDenied as exc:
        return _refused(request, exc)
    except LogStoreBusy as exc:
        return _refused(request, exc)
    except DomainError as exc:
        context["error"] = exc.message
        return render(request, "health/cohorts.html", context, status=exc.status_code)
    context["result"] = result
    context["percent"] = {row.value: percent(row.error_rate) for row in result.rows}
    return render(request, "health/cohorts.html", context)
