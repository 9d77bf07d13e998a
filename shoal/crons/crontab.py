"""Crontab expressions: five fields (minute, hour, day of month, month, day of week) with `*`,
ranges, steps, lists and names (`jan`–`dec`, `sun`–`sat`), or a macro (`@hourly`, `@daily`, …), and
the next moment one fires after a given one, in a timezone.

Day matching is Vixie cron's (crontab(5)): when both day fields are restricted, a day matches if
either does ("0 0 1 * mon" fires on the 1st and on Mondays); when one is `*`, only the other counts.
Day of week 0 and 7 are both Sunday. Wall times are read in the monitor's timezone: a time skipped
by a daylight-saving change fires at the same offset after it (02:30 becomes 03:30), and in an hour
the change repeats, the next time is the first one after the moment asked about, on either pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, lowest, highest, names for lowest, lowest + 1, …)
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _WEEKDAYS),
)
# "0 0 29 2 *" fires once in up to eight years (1896 → 1904 skipped a leap year; 2100 will).
_DAYS_SEARCHED = 366 * 8 + 1


class CrontabError(ValueError):
    """An expression that is not a crontab, with what is wrong in words."""


@dataclass(frozen=True)
class Crontab:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool  # the day-of-month field is not `*`
    weekdays_restricted: bool

    def fires_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month, in_week = day.day in self.days, day.isoweekday() % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week


def parse_crontab(expression: str) -> Crontab:
    text = MACROS.get(expression.strip().lower(), expression)
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise CrontabError(f"a crontab has 5 fields (minute hour day month weekday), not {len(parts)}")
    values = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(day % 7 for day in values[4])
    return Crontab(
        minutes=tuple(sorted(values[0])),
        hours=tuple(sorted(values[1])),
        days=frozenset(values[2]),
        months=frozenset(values[3]),
        weekdays=weekdays,
        days_restricted=not parts[2].startswith("*"),
        weekdays_restricted=not parts[4].startswith("*"),
    )


def _parse_field(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> set[int]:
    found: set[int] = set()
    for part in text.lower().split(","):
        span, slash, step_text = part.partition("/")
        step = _number(step_text, name) if slash else 1
        if step < 1:
            raise CrontabError(f"the step in the {name} field must be at least 1")
        if span == "*":
            start, end = low, high
        elif "-" in span:
            first, _, last = span.partition("-")
            start, end = _value(first, name, names, low), _value(last, name, names, low)
        else:
            start = _value(span, name, names, low)
            end = high if slash else start
        if not low <= start <= end <= high:
            raise CrontabError(f"{part!r} is outside the {name} field's {low}–{high}")
        found.update(range(start, end + 1, step))
    return found


def _value(text: str, name: str, names: tuple[str, ...], low: int) -> int:
    if text in names:
        return names.index(text) + low
    return _number(text, name)


def _number(text: str, name: str) -> int:
    if not text.isdigit():
        raise CrontabError(f"{text!r} is not a number or a name in the {name} field")
    return int(text)


def next_fire(crontab: Crontab, after: float, timezone: ZoneInfo) -> float:
    """The first moment (unix seconds) strictly after `after` at which `crontab` fires, read on
    the wall clock of `timezone`."""
    start = datetime.fromtimestamp(after, timezone).replace(tzinfo=None, second=0, microsecond=0)
    for wall in _wall_times(crontab, start):
        for fold in (0, 1):
            moment = wall.replace(tzinfo=timezone, fold=fold).timestamp()
            if moment > after:
                return moment
    raise CrontabError("this crontab never fires (a day that no month has?)")


def _wall_times(crontab: Crontab, start: datetime) -> Iterator[datetime]:
    """Every wall time the crontab fires at, from `start`'s minute on, in order."""
    for offset in range(_DAYS_SEARCHED):
        day = start.date() + timedelta(days=offset)
        if not crontab.fires_on(day):
            continue
        for hour in crontab.hours:
            for minute in crontab.minutes:
                wall = datetime(day.year, day.month, day.day, hour, minute)
                if wall >= start:
                    yield wall
