"""What the issue stream shows besides the issues: a sparkline's bars (server-side SVG, drawn by the
template), the links that keep a stream's search, sort and graph period, the built-in searches,
and the sentence after an action.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

from shoal.store.search import DEFAULT_SORT, SORTS, SPARKLINE_PERIODS
from shoal.web import triage_view

DEFAULT_QUERY = "is:unresolved"  # Sentry's default stream search
DEFAULT_PERIOD = "24h"
SPARK_WIDTH = 96
SPARK_HEIGHT = 24

# Searches every stream offers before the saved ones, as Sentry's recommended searches.
BUILT_IN_SEARCHES = (
    ("Unresolved", DEFAULT_QUERY),
    ("Assigned to me", "is:unresolved assigned:me"),
    ("Unassigned", "is:unresolved is:unassigned"),
    ("New today", "is:unresolved firstSeen:-24h"),
    ("Resolved", "is:resolved"),
)

_STREAM_PATH = re.compile(r"/issues/|/projects/\d+/issues/")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str  # "3 events in the hour from 14:00 UTC"


@dataclass(frozen=True)
class Sparkline:
    bars: list[Bar]
    total: int
    summary: str  # what a screen reader says: "12 events in the last 24 hours"
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT


def sparkline(counts: list[int], period: str, now: float) -> Sparkline:
    """Bars for the counts of `shoal.store.search.sparkline_counts`, oldest first, scaled to the
    busiest bucket; an empty bucket keeps a hairline so the span stays visible."""
    buckets, hours = SPARKLINE_PERIODS[period]
    peak = max(counts, default=0) or 1
    slot = SPARK_WIDTH / buckets
    first_hour = int(now // 3600) - buckets * hours + 1
    bars = []
    for index, count in enumerate(counts):
        height = max(1.5, count / peak * SPARK_HEIGHT) if count else 1.0
        start = (first_hour + index * hours) * 3600
        bars.append(
            Bar(
                index * slot,
                SPARK_HEIGHT - height,
                max(slot - 1, 1),
                height,
                count,
                _bar_label(count, start, period),
            )
        )
    total = sum(counts)
    words = "the last 24 hours" if period == "24h" else "the last 14 days"
    return Sparkline(bars, total, f"{total:,} event{'' if total == 1 else 's'} in {words}")


def _bar_label(count: int, start: float, period: str) -> str:
    moment = datetime.fromtimestamp(start, UTC)
    events = f"{count:,} event{'' if count == 1 else 's'}"
    if period == "24h":
        return f"{events} in the hour from {moment:%H:%M} UTC"
    return f"{events} in the 24 hours from {moment:%b %d %H:%M} UTC"


# ------------------------------------------------------------------------------------ links


def stream_url(
    path: str, *, query: str, sort: str, period: str, page: int = 1, notice: str | None = None
) -> str:
    """The stream at `path` with this search; the query is always written, even empty, since a
    stream without one in its URL opens with the default search."""
    params = {"query": query}
    if sort != DEFAULT_SORT:
        params["sort"] = sort
    if period != DEFAULT_PERIOD:
        params["stats"] = period
    if page > 1:
        params["page"] = str(page)
    if notice:
        params["notice"] = notice
    return f"{path}?{urlencode(params)}"


def safe_stream_back(target: str) -> tuple[str, dict[str, str]]:
    """The stream path and parameters a form's `back` field names; the cross-project stream for
    anything that is not a stream of this site (the field comes from a form anyone can post)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not _STREAM_PATH.fullmatch(parts.path):
        return "/issues/", {}
    # Blank values stay: an empty `query` means every issue, not the default search.
    return parts.path, {
        key: value for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "notice"
    }


def url_with(path: str, params: Mapping[str, str], *, notice: str | None = None) -> str:
    """Back to a stream as it was, with the sentence `notice` names."""
    query = {**params, **({"notice": notice} if notice else {})}
    return f"{path}?{urlencode(query)}" if query else path


def chosen_sort(value: str | None, fallback: str = DEFAULT_SORT) -> str:
    return value if value in SORTS else fallback


def chosen_period(value: str | None) -> str:
    return value if value in SPARKLINE_PERIODS else DEFAULT_PERIOD


# ---------------------------------------------------------------------------------- notices

_NOTICES = {
    "saved": "Search saved.",
    "search-deleted": "Saved search deleted.",
    "default-set": "That search is now the default of this stream.",
    "default-cleared": "That search is no longer a default; the stream opens with is:unresolved.",
}


def notice(code: str | None) -> str | None:
    """The sentence after an action, from its redirect's `notice` code; None for any other text
    (the code comes from a URL anyone can write)."""
    if code in _NOTICES:
        return _NOTICES[code]
    op, _, count = (code or "").partition("-")
    if op in ("assign", "delete") and count.isdigit():
        n = int(count)
        issues = f"{n} issue{'' if n == 1 else 's'}"
        return (
            f"Assigned {issues}."
            if op == "assign"
            else f"Deleted {issues} and {'its' if n == 1 else 'their'} events."
        )
    return triage_view.bulk_notice(code)
