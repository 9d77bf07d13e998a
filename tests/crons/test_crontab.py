"""Crontab parsing and the next time a schedule fires, in its timezone; interval schedules and the
monitor_config rules."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shoal.crons.crontab import CrontabError, next_fire, parse_crontab
from shoal.crons.schedule import InvalidConfig, config_from_json, next_expected

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(moment: str, zone: ZoneInfo | None = None) -> float:
    """ "2026-05-04 10:00:40" on the wall clock of `zone` (UTC by default), as unix seconds."""
    return datetime.fromisoformat(moment).replace(tzinfo=zone or UTC).timestamp()


def fires_after(expression: str, after: float, zone: ZoneInfo | None = None) -> datetime:
    zone = zone or ZoneInfo("UTC")
    return datetime.fromtimestamp(next_fire(parse_crontab(expression), after, zone), zone)


def test_fields_take_ranges_steps_lists_and_names() -> None:
    crontab = parse_crontab("0,30 9-17/4 * jan,jul mon-fri")
    assert crontab.minutes == (0, 30)
    assert crontab.hours == (9, 13, 17)
    assert crontab.months == {1, 7}
    assert crontab.weekdays == {1, 2, 3, 4, 5}


def test_a_step_from_a_single_value_runs_to_the_end_of_the_field() -> None:
    assert parse_crontab("5/20 * * * *").minutes == (5, 25, 45)


def test_sunday_is_0_and_7() -> None:
    assert parse_crontab("0 0 * * 7").weekdays == parse_crontab("0 0 * * sun").weekdays == {0}


def test_macros_are_their_crontabs() -> None:
    assert parse_crontab("@hourly") == parse_crontab("0 * * * *")
    assert parse_crontab("@daily") == parse_crontab("0 0 * * *")


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("* * * *", "5 fields"),
        ("60 * * * *", "outside the minute field"),
        ("* 24 * * *", "outside the hour field"),
        ("* * 0 * *", "outside the day of month field"),
        ("* * * 13 *", "outside the month field"),
        ("*/0 * * * *", "at least 1"),
        ("* * * * funday", "not a number or a name"),
        ("5-1 * * * *", "outside"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expression: str, problem: str) -> None:
    with pytest.raises(CrontabError, match=problem):
        parse_crontab(expression)


def test_every_minute_fires_at_the_next_minute() -> None:
    assert fires_after("* * * * *", at("2026-05-04 10:00:00")) == datetime(2026, 5, 4, 10, 1, tzinfo=UTC)
    assert fires_after("* * * * *", at("2026-05-04 10:00:30")) == datetime(2026, 5, 4, 10, 1, tzinfo=UTC)


def test_both_day_fields_restricted_match_either() -> None:
    # Monday 2026-05-04: the 1st is a Friday, so "the 1st or a Monday" gives Monday the 4th next.
    after = at("2026-05-01 12:00:00")
    assert fires_after("0 0 1 * mon", after).date().isoformat() == "2026-05-04"
    assert fires_after("0 0 1 * *", after).date().isoformat() == "2026-06-01"


def test_a_crontab_is_read_on_its_timezones_wall_clock() -> None:
    nine_in_berlin = fires_after("0 9 * * *", at("2026-01-10 12:00:00"), BERLIN)
    assert (nine_in_berlin.hour, nine_in_berlin.utcoffset().total_seconds()) == (9, 3600)  # type: ignore[union-attr]
    assert next_fire(parse_crontab("0 9 * * *"), at("2026-01-10 12:00:00"), BERLIN) == at(
        "2026-01-11 08:00:00"
    )


def test_a_time_skipped_by_daylight_saving_fires_an_hour_later() -> None:
    # 2026-03-08 02:30 does not exist in New York: clocks go from 02:00 to 03:00.
    fired = fires_after("30 2 * * *", at("2026-03-08 00:00:00", zone=NEW_YORK), NEW_YORK)
    assert (fired.hour, fired.minute, fired.day) == (3, 30, 8)


def test_february_29th_waits_for_a_leap_year() -> None:
    assert fires_after("0 0 29 2 *", at("2026-03-01 00:00:00")) == datetime(2028, 2, 29, tzinfo=UTC)


def test_a_day_no_month_has_never_fires() -> None:
    with pytest.raises(CrontabError, match="never fires"):
        fires_after("0 0 31 2 *", at("2026-01-01 00:00:00"))


def test_an_interval_counts_from_the_check_ins_minute() -> None:
    config = config_from_json({"schedule": {"type": "interval", "value": 2, "unit": "hour"}})
    assert next_expected(config, at("2026-05-04 10:00:40")) == at("2026-05-04 12:00:00")


def test_a_monthly_interval_keeps_to_the_months_last_day() -> None:
    config = config_from_json({"schedule": {"type": "interval", "value": "1", "unit": "month"}})
    assert next_expected(config, at("2026-01-31 06:00:00")) == at("2026-02-28 06:00:00")


def test_a_monitor_config_takes_sentrys_defaults() -> None:
    config = config_from_json({"schedule": {"type": "crontab", "value": "0  3 * * *"}})
    assert config.schedule is not None and config.schedule.value == "0 3 * * *"
    assert (config.checkin_margin, config.max_runtime, config.timezone) == (1, 30, "UTC")
    assert (config.failure_issue_threshold, config.recovery_threshold) == (1, 1)


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "schedule must be an object"),
        ({"schedule": {"type": "weekly"}}, "crontab or interval"),
        ({"schedule": {"type": "interval", "value": 2, "unit": "fortnight"}}, "unit is one of"),
        ({"schedule": {"type": "interval", "value": 0, "unit": "day"}}, "whole number"),
        ({"schedule": {"type": "crontab", "value": "* * *"}, "timezone": "Mars/Olympus"}, "bad crontab"),
        (
            {"schedule": {"type": "crontab", "value": "@daily"}, "timezone": "Mars/Olympus"},
            "unknown timezone",
        ),
        ({"schedule": {"type": "crontab", "value": "@daily"}, "checkin_margin": 0}, "checkin_margin"),
        ({"schedule": {"type": "crontab", "value": "@daily"}, "max_runtime": 40_321}, "max_runtime"),
    ],
)
def test_a_bad_monitor_config_says_what_is_wrong(config: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidConfig, match=problem):
        config_from_json(config)
