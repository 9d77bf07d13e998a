"""A monitor's configuration, as an SDK's `monitor_config` or the monitor form gives it, and when
the monitor next expects a check-in.

`monitor_config` (Sentry's check-in protocol): `schedule` is `{"type": "crontab", "value": "0 * * *
*"}` or `{"type": "interval", "value": 2, "unit": "hour"}` (units minute, hour, day, week, month,
year); `checkin_margin` and `max_runtime` are minutes; `timezone` is an IANA name for the crontab's
wall clock; `failure_issue_threshold` and `recovery_threshold` count consecutive check-ins.
Defaults and bounds are Sentry's: margin 1 minute (at least 1), runtime 30 minutes (at most 28
days), thresholds 1.

The next expected check-in follows the last one: a crontab's next time after the check-in's
minute, or the check-in's minute plus the interval.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shoal.crons.crontab import CrontabError, next_fire, parse_crontab

DEFAULT_MARGIN = 1
DEFAULT_MAX_RUNTIME = 30
MAX_MINUTES = 28 * 24 * 60
MAX_THRESHOLD = 720
INTERVAL_UNITS = ("minute", "hour", "day", "week", "month", "year")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400, "week": 7 * 86_400}
_MAX_INTERVAL = 10_000


class InvalidConfig(ValueError):
    """A monitor configuration Shoal cannot use, with what is wrong in words."""


@dataclass(frozen=True)
class Schedule:
    kind: str  # crontab | interval
    value: str  # the crontab expression, or how many units
    unit: str = ""  # interval only

    def describe(self) -> str:
        if self.kind == "crontab":
            return self.value
        count = int(self.value)
        return f"every {self.unit}" if count == 1 else f"every {count} {self.unit}s"


@dataclass(frozen=True)
class MonitorConfig:
    schedule: Schedule | None  # None: the monitor expects nothing, so it is never missed
    checkin_margin: int = DEFAULT_MARGIN  # minutes
    max_runtime: int = DEFAULT_MAX_RUNTIME  # minutes
    timezone: str = "UTC"
    failure_issue_threshold: int = 1
    recovery_threshold: int = 1


def config_from_json(data: object, *, schedule_required: bool = True) -> MonitorConfig:
    """The configuration an SDK's `monitor_config` describes (which always has a schedule; the
    monitor form may leave it out)."""
    if not isinstance(data, dict):
        raise InvalidConfig("monitor_config must be an object")
    absent = data.get("schedule") is None and not schedule_required
    schedule = None if absent else schedule_from_json(data.get("schedule"))
    return MonitorConfig(
        schedule,
        checkin_margin=_minutes(data.get("checkin_margin"), DEFAULT_MARGIN, "checkin_margin"),
        max_runtime=_minutes(data.get("max_runtime"), DEFAULT_MAX_RUNTIME, "max_runtime"),
        timezone=_timezone_name(data.get("timezone")),
        failure_issue_threshold=_threshold(data.get("failure_issue_threshold"), "failure_issue_threshold"),
        recovery_threshold=_threshold(data.get("recovery_threshold"), "recovery_threshold"),
    )


def schedule_from_json(data: object) -> Schedule:
    if not isinstance(data, dict):
        raise InvalidConfig('schedule must be an object such as {"type": "crontab", "value": "0 * * * *"}')
    kind = data.get("type")
    if kind == "crontab":
        return crontab_schedule(data.get("value"))
    if kind == "interval":
        return interval_schedule(data.get("value"), data.get("unit"))
    raise InvalidConfig(f"schedule type must be crontab or interval, not {kind!r}")


def crontab_schedule(value: object) -> Schedule:
    if not isinstance(value, str):
        raise InvalidConfig("a crontab schedule's value is a string such as '0 * * * *'")
    try:
        parse_crontab(value)
    except CrontabError as exc:
        raise InvalidConfig(f"bad crontab {value!r}: {exc}") from exc
    return Schedule("crontab", " ".join(value.split()))


def interval_schedule(value: object, unit: object) -> Schedule:
    count = _whole_number(value)
    if count is None or not 1 <= count <= _MAX_INTERVAL:
        raise InvalidConfig(f"an interval is a whole number from 1 to {_MAX_INTERVAL}, not {value!r}")
    if unit not in INTERVAL_UNITS:
        raise InvalidConfig(f"an interval's unit is one of {', '.join(INTERVAL_UNITS)}, not {unit!r}")
    return Schedule("interval", str(count), str(unit))


def _minutes(value: object, default: int, name: str) -> int:
    if value is None:
        return default
    minutes = _whole_number(value)
    if minutes is None or not 1 <= minutes <= MAX_MINUTES:
        raise InvalidConfig(f"{name} is a number of minutes from 1 to {MAX_MINUTES}, not {value!r}")
    return minutes


def _threshold(value: object, name: str) -> int:
    if value is None:
        return 1
    count = _whole_number(value)
    if count is None or not 1 <= count <= MAX_THRESHOLD:
        raise InvalidConfig(f"{name} is a whole number from 1 to {MAX_THRESHOLD}, not {value!r}")
    return count


def _timezone_name(value: object) -> str:
    if value is None or value == "":
        return "UTC"
    if not isinstance(value, str):
        raise InvalidConfig("timezone is an IANA name such as Europe/Berlin")
    zone_of(value)
    return value


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidConfig(f"unknown timezone {name!r}; use an IANA name such as Europe/Berlin") from exc


def _whole_number(value: object) -> int | None:
    """SDKs send numbers, the HTTP docs show strings ("value": "2"); floats of whole numbers too."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def next_expected(config: MonitorConfig, after: float) -> float | None:
    """When a check-in is next due after one made at `after`; None for a monitor without schedule."""
    schedule = config.schedule
    if schedule is None:
        return None
    zone = zone_of(config.timezone)
    if schedule.kind == "crontab":
        return next_fire(parse_crontab(schedule.value), after, zone)
    return _after_interval(schedule, after - after % 60, zone)


def _after_interval(schedule: Schedule, start: float, zone: ZoneInfo) -> float:
    count = int(schedule.value)
    if schedule.unit in _UNIT_SECONDS:
        return start + count * _UNIT_SECONDS[schedule.unit]
    months = count * (12 if schedule.unit == "year" else 1)
    return _add_months(datetime.fromtimestamp(start, zone), months).timestamp()


def _add_months(moment: datetime, months: int) -> datetime:
    """The same wall time `months` later, on the month's last day when it is shorter (Jan 31 + 1)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
