"""Event timestamps: both wire forms (RFC 3339 strings, unix seconds) to float unix seconds."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def parse_timestamp(value: object) -> float | None:
    """Unix seconds from an RFC 3339 string or a number; None if `value` is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        return _parse_rfc3339(value)
    return None


def _parse_rfc3339(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # Only the unusual forms get here: a lower-case "z", more than six fraction digits.
        try:
            moment = datetime.fromisoformat(_trim_fraction(text.strip().replace("z", "Z")))
        except ValueError:
            return None
    if moment.tzinfo is None:  # no zone means UTC (protocol.md §4)
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _trim_fraction(text: str) -> str:
    """Cut a fraction of seconds to the microseconds datetime can hold."""
    dot = text.find(".", 10)
    if dot < 0:
        return text
    end = dot + 1
    while end < len(text) and text[end].isdigit():
        end += 1
    if end - dot - 1 <= 6:
        return text
    return text[: dot + 7] + text[end:]
