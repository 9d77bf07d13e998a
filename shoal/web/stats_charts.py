"""What the Stats page draws, as numbers for its template: one stacked bar per hour (24 hours) or
per day (14 and 90 days), stacked by outcome — accepted at the bottom, then filtered, rate
limited, invalid and client-discarded — each segment and each bar with a <title> that says its
counts, drawn as server-side SVG by `stats.html` like the issue histogram (shoal/web/charts.py).

Geometry is in percent of the width and pixels of a fixed height, as there; buckets are UTC hours
and UTC days, as the outcome counters are (shoal/store/outcome_stats.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shoal.web.charts import short_number

HOUR = 3600
DAY = 86400

CHART_HEIGHT = 172  # px
_BASELINE = 148  # px from the top; the tick labels go below it
_TOP = 14  # px above the tallest bar, for the top gridline's label
_BAR_SHARE = 0.78  # of a bucket's width; the rest is the gap between bars
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The outcomes bottom to top, with the words the page uses for them (Sentry's Stats page's).
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("accepted", "accepted"),
    ("filtered", "filtered"),
    ("rate_limited", "rate limited"),
    ("invalid", "invalid"),
    ("client_discard", "client discarded"),
)
OUTCOME_WORDS = dict(OUTCOMES)


@dataclass(frozen=True)
class StatsPeriod:
    key: str  # the ?period= value
    label: str  # "24 hours"
    buckets: int
    bucket_hours: int
    tick_every: int  # buckets between labelled ticks


PERIODS: dict[str, StatsPeriod] = {
    "24h": StatsPeriod("24h", "24 hours", 24, 1, 6),
    "14d": StatsPeriod("14d", "14 days", 14, 24, 2),
    "90d": StatsPeriod("90d", "90 days", 90, 24, 15),
}
DEFAULT_PERIOD = "24h"


def period_named(name: str | None) -> StatsPeriod:
    return PERIODS.get(name or "", PERIODS[DEFAULT_PERIOD])


def hour_range(period: StatsPeriod, now: float) -> tuple[int, int]:
    """The hours the period reads: its first bucket's first hour, and the hour after now's."""
    step = period.bucket_hours
    current = int(now // HOUR) // step * step
    return current - (period.buckets - 1) * step, int(now // HOUR) + 1


@dataclass(frozen=True)
class Segment:
    outcome: str
    quantity: int
    y: float  # px
    height: float  # px
    title: str  # "7 filtered, 14:00–15:00 UTC"


@dataclass(frozen=True)
class Column:
    start_hour: int
    total: int
    title: str  # "14:00–15:00 UTC: 40 accepted, 7 filtered"
    slot_x: float  # percent: the bucket's whole slot, the hover target
    slot_width: float
    x: float  # percent: the visible bar
    width: float
    segments: list[Segment]


@dataclass(frozen=True)
class Tick:
    x: float  # percent
    label: str
    anchor: str  # SVG text-anchor, so edge labels stay inside


@dataclass(frozen=True)
class StackedChart:
    period: StatsPeriod
    unit: str  # "items", "bytes"
    columns: list[Column]
    ticks: list[Tick]
    total: int
    top_label: str
    top_y: float
    baseline: float
    height: int
    summary: str  # one sentence for screen readers


def stacked_chart(
    period: StatsPeriod, per_outcome: Mapping[str, Mapping[int, int]], now: float, unit: str = "items"
) -> StackedChart:
    """The chart of `per_outcome` ({outcome: {first hour of a bucket: quantity}}, as
    `outcome_stats.bucketed` reads it with the period's bucket size) ending with now's bucket."""
    first, _ = hour_range(period, now)
    starts = [first + i * period.bucket_hours for i in range(period.buckets)]
    counts = [
        {outcome: per_outcome.get(outcome, {}).get(start, 0) for outcome, _ in OUTCOMES} for start in starts
    ]
    top = nice_ceiling(max((sum(c.values()) for c in counts), default=0))
    slot = 100 / period.buckets
    columns = [
        _column(period, start, bucket, top, slot * i, unit=unit)
        for i, (start, bucket) in enumerate(zip(starts, counts, strict=True))
    ]
    total = sum(column.total for column in columns)
    return StackedChart(
        period=period,
        unit=unit,
        columns=columns,
        ticks=[
            _tick(period, starts[i], slot * (i + 0.5))
            for i in range(0, period.buckets)
            if _ticked(period, i, starts[i])
        ],
        total=total,
        top_label=short_number(top),
        top_y=_TOP,
        baseline=_BASELINE,
        height=CHART_HEIGHT,
        summary=_summary(period, columns, total, unit),
    )


def _column(
    period: StatsPeriod, start: int, bucket: Mapping[str, int], top: int, slot_x: float, *, unit: str
) -> Column:
    when = bucket_label(period, start)
    slot = 100 / period.buckets
    segments = []
    y = float(_BASELINE)
    for outcome, words in OUTCOMES:
        quantity = bucket[outcome]
        if not quantity:
            continue
        height = max((_BASELINE - _TOP) * quantity / top, 1.5)  # one item in a busy month still shows
        y -= height
        title = f"{quantity:,} {words}{_unit_suffix(unit)}, {when}"
        segments.append(Segment(outcome, quantity, round(y, 2), round(height, 2), title))
    total = sum(bucket.values())
    parts = ", ".join(f"{s.quantity:,} {OUTCOME_WORDS[s.outcome]}" for s in segments)
    gap = slot * (1 - _BAR_SHARE) / 2
    return Column(
        start_hour=start,
        total=total,
        title=f"{when}: {parts}{_unit_suffix(unit)}" if segments else f"{when}: nothing",
        slot_x=round(slot_x, 4),
        slot_width=round(slot, 4),
        x=round(slot_x + gap, 4),
        width=round(slot * _BAR_SHARE, 4),
        segments=segments,
    )


def _unit_suffix(unit: str) -> str:
    return " (bytes)" if unit == "bytes" else ""


def _ticked(period: StatsPeriod, index: int, start: int) -> bool:
    """Hours on the clock's quarters of a day; days every few back from today."""
    if period.bucket_hours == 1:
        return start % period.tick_every == 0
    return (period.buckets - 1 - index) % period.tick_every == 0


def _tick(period: StatsPeriod, start: int, x: float) -> Tick:
    moment = datetime.fromtimestamp(start * HOUR, UTC)
    label = f"{moment:%H}:00" if period.bucket_hours == 1 else _day_label(moment)
    anchor = "start" if x < 6 else "end" if x > 94 else "middle"
    return Tick(x=round(x, 4), label=label, anchor=anchor)


def bucket_label(period: StatsPeriod, start_hour: int) -> str:
    """ "14:00–15:00 UTC" for an hour, "Nov 9, 2026 UTC" for a day."""
    begin = datetime.fromtimestamp(start_hour * HOUR, UTC)
    if period.bucket_hours == 1:
        end = datetime.fromtimestamp((start_hour + 1) * HOUR, UTC)
        return f"{begin:%H}:00–{end:%H}:00 UTC"
    return f"{_day_label(begin)}, {begin.year} UTC"


def _day_label(moment: datetime) -> str:
    return f"{_MONTHS[moment.month - 1]} {moment.day}"


def _summary(period: StatsPeriod, columns: Sequence[Column], total: int, unit: str) -> str:
    if not total:
        return f"Nothing in the last {period.label}."
    busiest = max(columns, key=lambda column: column.total)
    return f"{total:,} {unit} in the last {period.label}; the most: {busiest.title}."


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least `value`: a round top gridline."""
    ceiling = 1
    while ceiling < value:
        for factor in (2, 2.5, 2):  # 1 → 2 → 5 → 10
            ceiling = int(ceiling * factor)
            if ceiling >= value:
                break
    return ceiling
