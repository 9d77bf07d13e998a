"""The `timestamp` template filter: one <time> element per time, UTC text and title for the page's
script to turn into local time, and nothing at all for a value that is not a time."""

from __future__ import annotations

from datetime import UTC, datetime

from shoal.web.templating import time_element

MOMENT = datetime(2026, 3, 4, 14, 5, 9, 250000, tzinfo=UTC).timestamp()


def test_a_time_renders_in_utc_with_its_iso_datetime_and_a_utc_title() -> None:
    assert str(time_element(MOMENT)) == (
        '<time datetime="2026-03-04T14:05:09.250000Z" title="2026-03-04 14:05:09 UTC" data-shown="utc">'
        "2026-03-04 14:05:09 UTC</time>"
    )


def test_a_relative_time_says_how_long_ago_and_keeps_the_utc_title() -> None:
    html = str(time_element(MOMENT, ago=True, now=MOMENT + 3 * 3600 + 5))
    assert ">3 hours ago</time>" in html
    assert 'title="2026-03-04 14:05:09 UTC"' in html
    assert 'data-shown="ago"' in html


def test_anything_but_a_finite_number_renders_nothing() -> None:
    for value in (None, "2026-03-04", True, float("nan"), float("inf"), 1e300, {"x": 1}):
        assert str(time_element(value)) == ""
