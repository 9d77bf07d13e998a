"""The one clock Shoal reads: UTC unix seconds as a float.

Code that needs "now" takes a `Clock` argument defaulting to `SYSTEM_CLOCK`, so a test can hand in
a `ManualClock` and move time without sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


SYSTEM_CLOCK: Clock = SystemClock()


def iso_utc(timestamp: float | None) -> str | None:
    """ISO 8601 in UTC with a Z, as Sentry's API writes times; None stays None."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
