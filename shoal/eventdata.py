"""Reading an event's fields without trusting their types.

Anyone holding a DSN can send any JSON in any field (a frame that is a string, `function: 12`,
`values` that is an object). Code that reads event data uses these accessors, which answer with the
expected type or an empty value instead of raising.
"""

from __future__ import annotations

from typing import Any


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: object) -> str | None:
    """A string as is, a number as its text, anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def values_of(container: object) -> list[dict[str, Any]]:
    """The objects in Sentry's `Values` container: {"values": [...]} or a bare list."""
    if isinstance(container, dict):
        container = container.get("values")
    return [value for value in as_list(container) if isinstance(value, dict)]
