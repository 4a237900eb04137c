"""SVG charts: valid XML, a text alternative, axes with units, a legend, the numbers in a table."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.health.charts import (
    DASH,
    LineChart,
    Series,
    chart_table,
    nice_ticks,
    render_line_chart,
    render_sparkline,
)

SVG = "{http://www.w3.org/2000/svg}"
EASTERN = zoneinfo.ZoneInfo("America/New_York")
START = datetime(2025, 1, 14, 15, 0, tzinfo=UTC)


def latency_chart(values: tuple[float | None, ...] = (410.0, None, 1290.5, 640.0)) -> LineChart:
    times = tuple(START + timedelta(minutes=5 * i) for i in range(len(values)))
    return LineChart(
        chart_id="vista-latency",
        title="VistA: latency p95",
        description="Latency of VistA calls <with> the same hours last week dashed.",
        quantity="Latency",
        unit="ms",
        times=times,
        interval=timedelta(minutes=5),
        series=(
            Series("p95", values),
            Series("p95 last week", (400.0, 420.0, 430.0, 415.0), dashed=True),
        ),
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def test_svg_is_xml_with_title_and_desc_tied_to_the_image() -> None:
    root = parse(render_line_chart(latency_chart(), EASTERN))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "vista-latency-title vista-latency-desc"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "vista-latency-title"
    assert title.text == "VistA: latency p95"
    assert desc is not None and desc.get("id") == "vista-latency-desc"
    # The description is escaped text, and summarises the numbers.
    assert desc.text is not None and "<with>" in desc.text
    assert "p95: latest 640 ms (10:15), peak 1,290 ms at 10:10." in desc.text
    assert "p95 last week: peak 430 ms." in desc.text


def test_axes_have_units_ticks_and_the_viewers_zone() -> None:
    labels = texts(parse(render_line_chart(latency_chart(), EASTERN)))
    assert "Latency (ms)" in labels
    assert "Time (EST), 5-minute buckets" in labels
    assert "10:00" in labels  # 15:00 UTC shown in Eastern time
    # y ticks from 0 to a round value above the peak
    assert labels[:4] == ["0", "500", "1,000", "1,500"]


def test_legend_names_every_series_and_last_week_is_dashed() -> None:
    root = parse(render_line_chart(latency_chart(), EASTERN))
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "bl-chart__legend")
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["p95", "p95 last week"]
    dashed = [p for p in root.iter(f"{SVG}path") if p.get("stroke-dasharray") == DASH]
    solid = [p for p in root.iter(f"{SVG}path") if p.get("stroke-dasharray") is None]
    assert len(dashed) == 1 and len(solid) == 1
    # The gap (None) splits this week's line in two; the first piece is a lone point, marked.
    assert solid[0].get("d", "").count("M") == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 1


def test_no_style_attributes_or_elements() -> None:
    svg = render_line_chart(latency_chart(), EASTERN)
    root = parse(svg)
    assert not any(node.get("style") for node in root.iter())
    assert root.find(f".//{SVG}style") is None


def test_table_has_every_number_with_its_unit() -> None:
    table = chart_table(latency_chart(), EASTERN)
    assert table.headers == ("Time (EST)", "p95 (ms)", "p95 last week (ms)")
    assert table.rows[0] == ("Tue Jan 14 10:00-10:05", "410 ms", "400 ms")
    assert table.rows[1] == ("Tue Jan 14 10:05-10:10", "no data", "420 ms")
    assert table.rows[2][1] == "1,290 ms"  # 1290.5 rounds half to even
    assert len(table.rows) == 4


def test_empty_chart_says_so() -> None:
    chart = LineChart(
        chart_id="empty",
        title="Nothing",
        description="No calls.",
        quantity="Calls",
        unit="calls/min",
        times=(),
        interval=timedelta(minutes=1),
        series=(Series("This week", ()),),
    )
    root = parse(render_line_chart(chart, UTC))
    assert "No data in this window" in texts(root)


def test_chart_refuses_misaligned_series_and_naive_times() -> None:
    with pytest.raises(ValueError, match="has 1 values for 4 times"):
        LineChart(
            chart_id="x",
            title="x",
            description="x",
            quantity="x",
            unit="%",
            times=latency_chart().times,
            interval=timedelta(minutes=5),
            series=(Series("a", (1.0,)),),
        )
    with pytest.raises(ValueError, match="aware"):
        LineChart("x", "x", "x", "x", "%", (datetime(2025, 1, 1),), timedelta(minutes=1), ())


def test_sparkline_is_labelled() -> None:
    root = parse(render_sparkline((1.0, None, 3.0, 2.0), label="VistA error rate <peak 3%>"))
    assert root.get("aria-label") == "VistA error rate <peak 3%>"
    assert root.findtext(f"{SVG}title") == "VistA error rate <peak 3%>"
    assert root.find(f"{SVG}path") is not None


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e-3, max_value=1e7, allow_nan=False))
def test_nice_ticks_cover_the_maximum_evenly_from_zero(maximum: float) -> None:
    ticks = nice_ticks(maximum)
    assert ticks[0] == 0
    assert ticks[-1] >= maximum * (1 - 1e-9)
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    assert 2 <= len(ticks) <= 12
    # The top tick is less than one step above the maximum.
    assert ticks[-1] - maximum < next(iter(steps)) + 1e-6 * maximum
