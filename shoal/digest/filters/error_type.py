"""Error types: drop an event whose raised exception's type matches one of the project's globs,
by its bare name (`ConnectionResetError`) or qualified with its module
(`requests.exceptions.ConnectTimeout`, `requests.*`).

The type checked is the raised one (the last of the chain), as the chapter's `before_send` checks
`exc_info[0].__name__`: an error whose cause was a reset connection is still an error. Off by
default, offered with the chapter's `ConnectionResetError` and `BrokenPipeError` (client
disconnects), so a project ticks it rather than types it (docs/filters.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shoal import outcomes
from shoal.digest.filters.globs import any_match
from shoal.digest.filters.inbound import Inbound, raised_exception, text
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_ERROR_TYPE


def check(event: Inbound, settings: FilterSettings) -> str | None:
    patterns = settings.patterns_of(REASON)
    if not settings.is_on(REASON) or not patterns:
        return None
    exception = raised_exception(event.data)
    if exception is None:
        return None
    return REASON if any_match(type_names(exception), patterns) else None


def type_names(exception: Mapping[str, Any]) -> list[str]:
    """`["ConnectionResetError"]`, and `"module.Type"` too when the SDK sent the module."""
    name = text(exception.get("type"))
    if name is None:
        return []
    module = text(exception.get("module"))
    return [name, f"{module}.{name}"] if module else [name]
