"""Releases: drop an event whose release matches one of the project's globs (`shop@1.*`), on the
whole release string, as Sentry's release filter does; an event without a release never matches
(reference §4.1). Applies to errors and transactions.
"""

from __future__ import annotations

from shoal import outcomes
from shoal.digest.filters.globs import any_match
from shoal.digest.filters.inbound import Inbound, text
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_RELEASE


def check(event: Inbound, settings: FilterSettings) -> str | None:
    patterns = settings.patterns_of(REASON)
    release = text(event.data.get("release"))
    if not settings.is_on(REASON) or not patterns or release is None:
        return None
    return REASON if any_match([release], patterns) else None
