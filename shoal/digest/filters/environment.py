"""Environments: drop an event whose environment matches one of the project's globs (`staging`,
`dev-*`). Sentry has no such inbound filter (it scopes alerts and views by environment instead);
Shoal has it so a project can keep a noisy environment's events from being stored at all. An
event without an environment never matches.
"""

from __future__ import annotations

from shoal import outcomes
from shoal.digest.filters.globs import any_match
from shoal.digest.filters.inbound import Inbound, text
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_ENVIRONMENT


def check(event: Inbound, settings: FilterSettings) -> str | None:
    patterns = settings.patterns_of(REASON)
    environment = text(event.data.get("environment"))
    if not settings.is_on(REASON) or not patterns or environment is None:
        return None
    return REASON if any_match([environment], patterns) else None
