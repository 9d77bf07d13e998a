"""The issue page's charts as numbers: histogram buckets, bar titles and ticks over 24 hours and 30
days, and the tag breakdown's percentages."""

from __future__ import annotations

from datetime import UTC, datetime

from shoal.store.issues import TagBreakdown
from shoal.web.charts import PERIODS, histogram, hour_range, short_number, tag_summaries

# 2026-03-04 14:25:00 UTC
NOW = datetime(2026, 3, 4, 14, 25, tzinfo=UTC).timestamp()
NOW_HOUR = int(NOW // 3600)


def test_24_hours_end_with_the_current_hour_and_title_each_bar_with_its_count() -> None:
    chart = histogram(PERIODS["24h"], {NOW_HOUR: 12, NOW_HOUR - 5: 1, NOW_HOUR - 30: 99}, NOW)
    assert len(chart.bars) == 24
    assert chart.bars[-1].title == "12 events, 14:00–15:00 UTC"
    assert chart.bars[-6].title == "1 event, 09:00–10:00 UTC"
    assert chart.bars[0].title == "0 events, 15:00–16:00 UTC"
    assert [bar.events for bar in chart.bars if bar.events] == [1, 12]
    assert chart.total == 13  # the hour 30 hours ago is outside
    assert chart.top == 20
    assert chart.summary == "13 events in the last 24 hours; the most: 12 events, 14:00–15:00 UTC."


def test_a_single_event_in_a_busy_period_still_shows_a_bar() -> None:
    chart = histogram(PERIODS["24h"], {NOW_HOUR: 5000, NOW_HOUR - 1: 1}, NOW)
    assert chart.bars[-2].height >= 2
    assert chart.bars[-3].height == 0
    assert chart.top_label == "5k"


def test_24_hours_are_ticked_at_midnight_and_every_six_hours() -> None:
    chart = histogram(PERIODS["24h"], {}, NOW)
    assert [tick.label for tick in chart.ticks] == ["18:00", "00:00", "06:00", "12:00"]
    assert chart.summary == "No events in the last 24 hours."


def test_30_days_sum_the_hours_of_each_utc_day() -> None:
    today = NOW_HOUR - 14  # 00:00 UTC today
    hourly = {today + 1: 3, today + 13: 4, today - 1: 2, today - 24 * 29: 7, today - 24 * 30: 100}
    chart = histogram(PERIODS["30d"], hourly, NOW)
    assert len(chart.bars) == 30
    assert chart.bars[-1].title == "7 events, Mar 4, 2026 UTC"
    assert chart.bars[-2].title == "2 events, Mar 3, 2026 UTC"
    assert chart.bars[0].title == "7 events, Feb 3, 2026 UTC"
    assert chart.total == 16
    assert [tick.label for tick in chart.ticks] == ["Feb 4", "Feb 11", "Feb 18", "Feb 25", "Mar 4"]
    assert chart.ticks[-1].anchor == "end"


def test_the_hours_read_cover_exactly_the_buckets_drawn() -> None:
    assert hour_range(PERIODS["24h"], NOW) == (NOW_HOUR - 23, NOW_HOUR)
    first, last = hour_range(PERIODS["30d"], NOW)
    assert (last - first + 1) == 29 * 24 + 15  # 29 whole days and today's 15 hours so far
    assert first % 24 == 0


def test_short_numbers() -> None:
    assert [short_number(n) for n in (5, 999, 1000, 1200, 2_000_000)] == ["5", "999", "1k", "1.2k", "2M"]


def test_tag_shares_are_percent_of_the_events_with_the_tag_with_the_rest_as_other() -> None:
    breakdown = TagBreakdown(
        "browser", total=1000, distinct=8, top=[("Chrome", 700), ("Firefox", 296), ("Lynx", 1)]
    )
    (summary,) = tag_summaries([breakdown])
    assert [(s.value, s.percent, s.other) for s in summary.shares] == [
        ("Chrome", "70%", False),
        ("Firefox", "30%", False),
        ("Lynx", "<1%", False),
        ("Other (5 values)", "<1%", True),
    ]


def test_a_value_just_short_of_all_events_is_not_called_100_percent() -> None:
    (summary,) = tag_summaries(
        [TagBreakdown("level", total=1000, distinct=2, top=[("error", 999), ("info", 1)])]
    )
    assert [s.percent for s in summary.shares] == [">99%", "<1%"]


def test_common_tags_come_first_then_the_rest_by_name() -> None:
    keys = ["zeta", "release", "alpha", "level", "user"]
    summaries = tag_summaries([TagBreakdown(key, 1, 1, [("x", 1)]) for key in keys])
    assert [s.key for s in summaries] == ["level", "release", "user", "alpha", "zeta"]
