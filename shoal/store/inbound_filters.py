"""A project's inbound filter settings as `project.filters` holds them (a JSON object), with Shoal's
defaults; and how many items its filters dropped lately, from the outcome counters.

The settings name each filter by its outcome reason (`shoal.outcomes`, `error-type`, `health-check`,
…). Each filter is switched on or off; the five list filters also keep their patterns while off, so
switching one off for a while loses nothing. A project that never saved its filters (`{}`) has the
defaults, and so has a filter a later Shoal adds: what a project saved is stored whole, so changing
a default later changes no saved choice.

Defaults, as Sentry sets them for a new project (reference §4.1) where Sentry has the filter:
browser extensions, legacy browsers, web crawlers and health-check transactions on; localhost and
every list empty or off. Shoal's own: HTTP 404s on (the team we build for drops them in
`before_send`, and Sentry's Python SDK does not even report 4xx by default); error types off, but
offered with `ConnectionResetError` and `BrokenPipeError` filled in, to be ticked (docs/filters.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson
from sqlalchemy import Connection, func, select

from shoal import outcomes
from shoal.outcomes import Outcome
from shoal.store.schema import outcome_counter

# Filters that match an event against a list of patterns (globs, or IPs and CIDR ranges).
LIST_FILTERS = (
    outcomes.FILTER_ERROR_TYPE,
    outcomes.FILTER_ERROR_MESSAGE,
    outcomes.FILTER_RELEASE,
    outcomes.FILTER_ENVIRONMENT,
    outcomes.FILTER_IP_ADDRESS,
)
# Filters with nothing to configure but on or off.
TOGGLE_FILTERS = (
    outcomes.FILTER_LOCALHOST,
    outcomes.FILTER_BROWSER_EXTENSIONS,
    outcomes.FILTER_LEGACY_BROWSERS,
    outcomes.FILTER_WEB_CRAWLERS,
    outcomes.FILTER_HEALTH_CHECK,
    outcomes.FILTER_HTTP_404,
)
ALL_FILTERS = LIST_FILTERS + TOGGLE_FILTERS

DEFAULT_ON = frozenset(
    {
        outcomes.FILTER_BROWSER_EXTENSIONS,
        outcomes.FILTER_LEGACY_BROWSERS,
        outcomes.FILTER_WEB_CRAWLERS,
        outcomes.FILTER_HEALTH_CHECK,
        outcomes.FILTER_HTTP_404,
    }
)
# The chapter's IGNORED_ERRORS: client disconnects, offered ready to tick.
PRESETS: Mapping[str, tuple[str, ...]] = {
    outcomes.FILTER_ERROR_TYPE: ("ConnectionResetError", "BrokenPipeError"),
}


def _default_patterns() -> dict[str, tuple[str, ...]]:
    return {reason: PRESETS.get(reason, ()) for reason in LIST_FILTERS}


@dataclass(frozen=True)
class FilterSettings:
    """Which filters are on (by reason) and each list filter's patterns."""

    on: frozenset[str] = DEFAULT_ON
    patterns: Mapping[str, tuple[str, ...]] = field(default_factory=_default_patterns)

    def is_on(self, reason: str) -> bool:
        return reason in self.on

    def patterns_of(self, reason: str) -> tuple[str, ...]:
        return self.patterns.get(reason, ())

    def only(self, reason: str) -> FilterSettings:
        """These settings with `reason`'s filter on and every other off: what the preview asks
        of one filter ("how many would it drop if it were on")."""
        return FilterSettings(frozenset({reason}), self.patterns)

    def to_json(self) -> str:
        data: dict[str, dict[str, object]] = {}
        for reason in ALL_FILTERS:
            data[reason] = {"on": reason in self.on}
            if reason in LIST_FILTERS:
                data[reason]["patterns"] = list(self.patterns_of(reason))
        return orjson.dumps(data).decode()

    @classmethod
    def from_json(cls, text: str | None) -> FilterSettings:
        """Whatever the column holds: a filter it does not name, or names in a shape that cannot
        be read, has its default."""
        try:
            data = orjson.loads(text or "{}")
        except orjson.JSONDecodeError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        on = {reason for reason in ALL_FILTERS if _saved_on(data.get(reason), reason in DEFAULT_ON)}
        patterns = {
            reason: _saved_patterns(data.get(reason), PRESETS.get(reason, ())) for reason in LIST_FILTERS
        }
        return cls(frozenset(on), patterns)


def _saved_on(entry: object, default: bool) -> bool:
    value = entry.get("on") if isinstance(entry, dict) else None
    return value if isinstance(value, bool) else default


def _saved_patterns(entry: object, default: tuple[str, ...]) -> tuple[str, ...]:
    value = entry.get("patterns") if isinstance(entry, dict) else None
    if not isinstance(value, list):
        return default
    return tuple(pattern for pattern in value if isinstance(pattern, str) and pattern)


def filtered_counts(conn: Connection, project_id: int, from_hour: int) -> dict[tuple[str, str], int]:
    """Items the project's filters (and discards) dropped from `from_hour` on (unix seconds //
    3600), by (category, reason)."""
    rows = conn.execute(
        select(outcome_counter.c.category, outcome_counter.c.reason, func.sum(outcome_counter.c.quantity))
        .where(
            outcome_counter.c.project_id == project_id,
            outcome_counter.c.outcome == Outcome.FILTERED.value,
            outcome_counter.c.hour >= from_hour,
        )
        .group_by(outcome_counter.c.category, outcome_counter.c.reason)
    )
    return {(str(category), str(reason)): int(quantity) for category, reason, quantity in rows}
