"""The Performance pages' charts as numbers for `performance_charts.html`, drawn as server-side SVG
the way the issue histogram is (shoal/web/charts.py): transactions per time bucket, p95 duration
per time bucket, and the distribution of one transaction's durations.

Geometry is in percent of the width and pixels of a fixed height, so one SVG fits any screen.
Every bar has a title that says its value, and every chart a sentence for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shoal.store.transaction_stats import Point, percentile
from shoal.web.charts import short_number

CHART_HEIGHT = 132  # px
_BASELINE = 108
_TOP = 14
_BAR_SHARE = 0.78
HISTOGRAM_BINS = 24


@dataclass(frozen=True)
class Window:
    key: str  # the ?window= value
    label: str  # "24 hours"
    seconds: int
    bucket_seconds: int  # one bar of the time charts
    tick_every: int  # bars between labelled ticks


WINDOWS: dict[str, Window] = {
    "24h": Window("24h", "24 hours", 86_400, 3_600, 6),
    "7d": Window("7d", "7 days", 7 * 86_400, 6 * 3_600, 4),
    "14d": Window("14d", "14 days", 14 * 86_400, 12 * 3_600, 4),
}
DEFAULT_WINDOW = "24h"


def window_named(name: str | None) -> Window:
    return WINDOWS.get(name or "", WINDOWS[DEFAULT_WINDOW])


def window_start(window: Window, now: float) -> float:
    """The start of the window's first bucket: the last bucket is the current, unfinished one."""
    step = window.bucket_seconds
    return (now // step) * step - (window.seconds - step)


@dataclass(frozen=True)
class Bar:
    title: str
    x: float  # percent
    width: float
    y: float  # px
    height: float


@dataclass(frozen=True)
class Tick:
    x: float  # percent
    label: str
    anchor: str


@dataclass(frozen=True)
class Chart:
    key: str  # the id of its SVG
    title: str
    summary: str
    bars: list[Bar]
    ticks: list[Tick]
    top_label: str
    top_y: float = _TOP
    baseline: float = _BASELINE
    height: int = CHART_HEIGHT


def throughput_chart(points: Sequence[Point], window: Window, now: float) -> Chart:
    buckets = _time_buckets(points, window, now)
    counts = [float(len(bucket)) for bucket in buckets]
    titles = [
        f"{int(c):,} transactions, {label}" for c, label in zip(counts, _labels(window, now), strict=True)
    ]
    total = int(sum(counts))
    summary = f"{total:,} transactions in the last {window.label}."
    ticks = _ticks(window, now)
    return _chart(
        "throughput",
        f"Transactions per {_unit(window)}",
        summary=summary,
        values=counts,
        titles=titles,
        ticks=ticks,
    )


def p95_chart(points: Sequence[Point], window: Window, now: float) -> Chart:
    buckets = _time_buckets(points, window, now)
    values = [percentile(sorted(p.duration_ms for p in bucket), 0.95) for bucket in buckets]
    titles = [
        f"p95 {format_ms(v)}, {label}" if bucket else f"no transactions, {label}"
        for v, bucket, label in zip(values, buckets, _labels(window, now), strict=True)
    ]
    slowest = max(values, default=0.0)
    summary = (
        f"The slowest {_unit(window)} had a p95 of {format_ms(slowest)}." if points else "No transactions."
    )
    ticks = _ticks(window, now)
    title = f"p95 duration per {_unit(window)}"
    return _chart("p95", title, summary=summary, values=values, titles=titles, ticks=ticks, label=format_ms)


def duration_histogram(points: Sequence[Point]) -> Chart:
    """How many transactions took how long: HISTOGRAM_BINS equal bins from 0 to the p99, the last
    bin holding everything slower, so one outlier does not squash the rest into a single bar."""
    durations = sorted(p.duration_ms for p in points)
    ceiling = percentile(durations, 0.99) or 1.0
    width = ceiling / (HISTOGRAM_BINS - 1)
    counts = [0.0] * HISTOGRAM_BINS
    for duration in durations:
        counts[min(int(duration // width), HISTOGRAM_BINS - 1)] += 1
    titles = [
        f"{int(c):,} took {format_ms(i * width)}–{format_ms((i + 1) * width)}" for i, c in enumerate(counts)
    ]
    titles[-1] = f"{int(counts[-1]):,} took {format_ms((HISTOGRAM_BINS - 1) * width)} or more"
    step = HISTOGRAM_BINS // 4
    ticks = [_tick(i, HISTOGRAM_BINS, format_ms(i * width)) for i in range(0, HISTOGRAM_BINS, step)]
    summary = (
        f"{len(durations):,} durations; the p99 is {format_ms(ceiling)}." if durations else "No transactions."
    )
    return _chart(
        "durations", "Duration distribution", summary=summary, values=counts, titles=titles, ticks=ticks
    )


def format_rate(per_minute: float) -> str:
    """Throughput per minute; a sampled trickle reads "<0.01", not a misleading 0.00."""
    if 0 < per_minute < 0.01:
        return "<0.01"
    return f"{per_minute:.2f}"


def format_ms(value: float) -> str:
    """12.3 ms, 450 ms, 2.35 s: what a person reads at a glance."""
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def _chart(
    key: str,
    title: str,
    *,
    summary: str,
    values: list[float],
    titles: list[str],
    ticks: list[Tick],
    label: Callable[[float], str] = lambda v: short_number(int(v)),
) -> Chart:
    top = max(values, default=0.0) or 1.0
    slot = 100 / len(values)
    bars = []
    for i, (value, bar_title) in enumerate(zip(values, titles, strict=True)):
        height = (_BASELINE - _TOP) * value / top
        height = max(height, 2.0) if value else 0.0
        gap = slot * (1 - _BAR_SHARE) / 2
        bars.append(
            Bar(
                bar_title,
                round(slot * i + gap, 4),
                round(slot * _BAR_SHARE, 4),
                round(_BASELINE - height, 2),
                round(height, 2),
            )
        )
    return Chart(key, title, summary, bars, ticks, label(top))


def _time_buckets(points: Sequence[Point], window: Window, now: float) -> list[list[Point]]:
    first = window_start(window, now)
    buckets: list[list[Point]] = [[] for _ in range(window.seconds // window.bucket_seconds)]
    for point in points:
        index = int((point.start - first) // window.bucket_seconds)
        if 0 <= index < len(buckets):
            buckets[index].append(point)
    return buckets


def _labels(window: Window, now: float) -> list[str]:
    first = window_start(window, now)
    count = window.seconds // window.bucket_seconds
    return [_moment(first + i * window.bucket_seconds) for i in range(count)]


def _ticks(window: Window, now: float) -> list[Tick]:
    first = window_start(window, now)
    count = window.seconds // window.bucket_seconds
    ticks = []
    for i in range(0, count, window.tick_every):
        moment = datetime.fromtimestamp(first + i * window.bucket_seconds, UTC)
        ticks.append(
            _tick(i, count, f"{moment:%H}:00" if window.key == "24h" else f"{moment:%b} {moment.day}")
        )
    return ticks


def _tick(index: int, count: int, label: str) -> Tick:
    x = 100 * (index + 0.5) / count
    return Tick(round(x, 4), label, "start" if x < 6 else "end" if x > 94 else "middle")


def _moment(start: float) -> str:
    return datetime.fromtimestamp(start, UTC).strftime("%b %d %H:%M UTC")


def _unit(window: Window) -> str:
    hours = window.bucket_seconds // 3600
    return "hour" if hours == 1 else f"{hours} hours"
