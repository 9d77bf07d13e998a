"""Error messages: drop an event whose message matches one of the project's globs, as Sentry's
"error message" filter does (reference §4.1): each exception is matched as `Type: value` (just the
type or the value when the other is missing), a message event by its formatted message. Never
transactions. Globs match the whole text, so `*timed out*` is how "contains" is written — the
most common reason Sentry users find this filter "not working" (reference §4.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shoal import outcomes
from shoal.digest.filters.globs import any_match
from shoal.digest.filters.inbound import Inbound, exceptions, text
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_ERROR_MESSAGE


def check(event: Inbound, settings: FilterSettings) -> str | None:
    patterns = settings.patterns_of(REASON)
    if not settings.is_on(REASON) or not patterns or event.is_transaction:
        return None
    return REASON if any_match(messages(event.data), patterns) else None


def messages(data: Mapping[str, Any]) -> list[str]:
    found = [line for exception in exceptions(data) if (line := _exception_line(exception))]
    logentry = data.get("logentry")
    if isinstance(logentry, Mapping):
        message = text(logentry.get("formatted")) or text(logentry.get("message"))
        if message:
            found.append(message)
    elif text(data.get("message")):  # a transaction or an event not normalized
        found.append(data["message"])
    return found


def _exception_line(exception: Mapping[str, Any]) -> str | None:
    kind, value = text(exception.get("type")), text(exception.get("value"))
    if kind and value:
        return f"{kind}: {value}"
    return kind or value
