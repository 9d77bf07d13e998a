"""What the issue page draws, as numbers for its templates: the event histogram (24 hours by hour
or 30 days by day, drawn as server-side SVG by `_issue_histogram.html`) and the tag breakdown's
shares with their percentages.

The histogram's geometry is in percent of the chart's width and in pixels of its fixed height, so
one SVG fills a phone or a wide screen without stretching its text. Buckets are UTC hours and UTC
days, as the counts are stored; every label says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from shoal.store.issues import TagBreakdown

HOUR = 3600
DAY = 86400

CHART_HEIGHT = 132  # px
_BASELINE = 108  # px from the top; the tick labels go below it
_TOP = 14  # px left free above the tallest bar for its gridline label
_BAR_SHARE = 0.78  # of a bucket's width; the rest is the gap between bars
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Period:
    key: str  # the ?period= value
    label: str  # "24 hours"
    buckets: int
    bucket_seconds: int
    tick_every: int  # buckets between labelled ticks


PERIODS: dict[str, Period] = {
    "24h": Period("24h", "24 hours", 24, HOUR, 6),
    "30d": Period("30d", "30 days", 30, DAY, 7),
}
DEFAULT_PERIOD = "24h"


def period_named(name: str | None) -> Period:
    return PERIODS.get(name or "", PERIODS[DEFAULT_PERIOD])


def hour_range(period: Period, now: float) -> tuple[int, int]:
    """The first and last hour bucket (unix seconds // 3600) the period's chart reads."""
    first, _ = _bucket_starts(period, now)
    return first // HOUR, int(now // HOUR)


@dataclass(frozen=True)
class Bar:
    events: int
    title: str  # "12 events, 14:00–15:00 UTC"
    slot_x: float  # percent: the bucket's whole slot, the hover target
    slot_width: float
    x: float  # percent: the visible bar
    width: float
    y: float  # px
    height: float  # px


@dataclass(frozen=True)
class Tick:
    x: float  # percent
    label: str
    anchor: str  # SVG text-anchor: start, middle or end, so edge labels stay inside


@dataclass(frozen=True)
class Histogram:
    period: Period
    bars: list[Bar]
    ticks: list[Tick]
    total: int
    top: int  # the value of the top gridline
    top_label: str  # "1.2k"
    top_y: float  # px
    baseline: float  # px
    height: int  # px
    summary: str  # one sentence for screen readers


def histogram(period: Period, hourly: Mapping[int, int], now: float) -> Histogram:
    """The chart of `hourly` (events per hour bucket, as `store.histograms.events_per_hour` reads
    them) over the period that ends now; the last bucket is the current, unfinished one."""
    first, step = _bucket_starts(period, now)
    starts = [first + i * step for i in range(period.buckets)]
    counts = [0] * period.buckets
    for hour, events in hourly.items():
        index = (hour * HOUR - first) // step
        if 0 <= index < period.buckets:
            counts[index] += events
    top = _nice_ceiling(max(counts))
    slot = 100 / period.buckets
    bars = [
        _bar(period, start, events, top, slot * i)
        for i, (start, events) in enumerate(zip(starts, counts, strict=True))
    ]
    ticks = [_tick(period, starts[i], slot * (i + 0.5)) for i in _tick_indices(period, starts)]
    total = sum(counts)
    return Histogram(
        period=period,
        bars=bars,
        ticks=ticks,
        total=total,
        top=top,
        top_label=short_number(top),
        top_y=_TOP,
        baseline=_BASELINE,
        height=CHART_HEIGHT,
        summary=_summary(period, bars, total),
    )


def _bucket_starts(period: Period, now: float) -> tuple[int, int]:
    """The start (unix seconds) of the period's first bucket, and the bucket width."""
    step = period.bucket_seconds
    current = int(now // step) * step
    return current - (period.buckets - 1) * step, step


def _bar(period: Period, start: int, events: int, top: int, slot_x: float) -> Bar:
    slot = 100 / period.buckets
    height = (_BASELINE - _TOP) * events / top if top else 0.0
    if events:
        height = max(height, 2.0)  # one event in a busy month still shows
    gap = slot * (1 - _BAR_SHARE) / 2
    return Bar(
        events=events,
        title=f"{_events(events)}, {_bucket_label(period, start)}",
        slot_x=round(slot_x, 4),
        slot_width=round(slot, 4),
        x=round(slot_x + gap, 4),
        width=round(slot * _BAR_SHARE, 4),
        y=round(_BASELINE - height, 2),
        height=round(height, 2),
    )


def _tick_indices(period: Period, starts: Sequence[int]) -> list[int]:
    """Hours on the clock's quarters of a day (00:00, 06:00, …); days every week back from today."""
    if period.bucket_seconds == HOUR:
        return [i for i, start in enumerate(starts) if (start // HOUR) % period.tick_every == 0]
    return sorted(range(len(starts) - 1, -1, -period.tick_every))


def _tick(period: Period, start: int, x: float) -> Tick:
    moment = datetime.fromtimestamp(start, UTC)
    label = f"{moment:%H}:00" if period.bucket_seconds == HOUR else _day_label(moment)
    anchor = "start" if x < 6 else "end" if x > 94 else "middle"
    return Tick(x=round(x, 4), label=label, anchor=anchor)


def _bucket_label(period: Period, start: int) -> str:
    begin = datetime.fromtimestamp(start, UTC)
    if period.bucket_seconds == HOUR:
        end = datetime.fromtimestamp(start + HOUR, UTC)
        return f"{begin:%H}:00–{end:%H}:00 UTC"
    return f"{_day_label(begin)}, {begin.year} UTC"


def _day_label(moment: datetime) -> str:
    return f"{_MONTHS[moment.month - 1]} {moment.day}"


def _summary(period: Period, bars: Sequence[Bar], total: int) -> str:
    if not total:
        return f"No events in the last {period.label}."
    busiest = max(bars, key=lambda bar: bar.events)
    return f"{_events(total)} in the last {period.label}; the most: {busiest.title}."


def _events(count: int) -> str:
    return f"{count:,} event{'' if count == 1 else 's'}"


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least `value`: a round top gridline."""
    if value <= 1:
        return 1
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if factor * magnitude >= value:
                return factor * magnitude
        magnitude *= 10


def short_number(value: int) -> str:
    """1234 → "1.2k", 2000000 → "2M": the histogram's gridline label."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return str(value)


# ------------------------------------------------------------------------------ tag breakdown


@dataclass(frozen=True)
class TagShare:
    value: str
    count: int
    percent: str  # "42%", "<1%", ">99%": never a misleading 0% or 100%
    width: float  # percent of the bar, exact
    other: bool = False  # the remainder of the values not listed, not a value itself


@dataclass(frozen=True)
class TagSummary:
    key: str
    total: int  # events that had this tag
    distinct: int
    shares: list[TagShare]  # the top values, most frequent first, then "Other" for the rest


# Sentry lists these first on an issue; the rest follow by name.
_FIRST_KEYS = ("level", "environment", "release", "user", "handled", "mechanism", "url", "transaction")


def tag_summaries(breakdowns: Sequence[TagBreakdown]) -> list[TagSummary]:
    order = {key: index for index, key in enumerate(_FIRST_KEYS)}
    ordered = sorted(breakdowns, key=lambda b: (order.get(b.key, len(order)), b.key))
    return [_summary_of(b) for b in ordered]


def _summary_of(breakdown: TagBreakdown) -> TagSummary:
    shares = [_share(value, count, breakdown.total) for value, count in breakdown.top]
    rest = breakdown.total - sum(count for _, count in breakdown.top)
    others = breakdown.distinct - len(breakdown.top)
    if rest > 0 and others > 0:
        label = f"Other ({others:,} value{'' if others == 1 else 's'})"
        shares.append(replace(_share(label, rest, breakdown.total), other=True))
    return TagSummary(breakdown.key, breakdown.total, breakdown.distinct, shares)


def _share(value: str, count: int, total: int) -> TagShare:
    exact = 100 * count / total if total else 0.0
    if 0 < exact < 1:
        label = "<1%"
    elif 99 < exact < 100:
        label = ">99%"
    else:
        label = f"{round(exact)}%"
    return TagShare(value=value, count=count, percent=label, width=round(exact, 2))
