"""Inbound filters: one module per filter (DESIGN §2), each `check(event, settings)` returning the
outcome reason it drops the event for, or None. The digest applies them after normalize and before
scrub and group (shoal/digest/pipeline.py), to errors and to transactions; a dropped item becomes
the outcome `filtered:<reason>` and is never stored. Each filter reads only the project's
`FilterSettings` (shoal/store/inbound_filters.py), so the preview can ask any one of them about
stored events (`preview.py`).

The order is Relay's (client IPs, releases, error messages, localhost, browser extensions, legacy
browsers, web crawlers, transaction names), with Shoal's own filters after their nearest kin, so an
event two filters would drop is counted under the reason Sentry would give. Deleted-and-discarded
issues drop events later, when their hashes are known (shoal/store/discards.py).
"""

from __future__ import annotations

from collections.abc import Callable

from shoal.digest.filters import (
    browser_extensions,
    environment,
    error_message,
    error_type,
    health_check,
    http_404,
    ip_address,
    legacy_browsers,
    localhost,
    release,
    web_crawlers,
)
from shoal.digest.filters.inbound import Inbound
from shoal.store.inbound_filters import FilterSettings

Check = Callable[[Inbound, FilterSettings], str | None]

# Reason → check, in the order they are applied.
FILTERS: dict[str, Check] = {
    module.REASON: module.check
    for module in (
        ip_address,
        release,
        environment,
        error_message,
        error_type,
        localhost,
        browser_extensions,
        legacy_browsers,
        web_crawlers,
        health_check,
        http_404,
    )
}


def first_reason(event: Inbound, settings: FilterSettings) -> str | None:
    """The reason the first filter that drops the event gives, or None: keep it."""
    for check in FILTERS.values():
        reason = check(event, settings)
        if reason is not None:
            return reason
    return None


__all__ = ["FILTERS", "Inbound", "first_reason"]
