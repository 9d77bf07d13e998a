"""Caps on the shape of data an SDK sent: how deep containers nest and how long strings are.

After `trim`, code that walks a value (templates, JSON rendering, grouping) cannot meet more than
MAX_DEPTH levels of nesting: orjson parses up to 1,024 and serialises at most 255, and Python's own
recursion limit is 1,000, so an unbounded depth would be a crash waiting for a hostile payload.
Relay trims data bags at depth 5 to 7 (protocol.md §4); MAX_DEPTH is counted from where `trim` is
applied (the event's top-level fields, each frame, each breadcrumb), so a frame's `vars` keep the
five levels sentry-python sends. Deeper parts become None; over-long strings are cut with "…".
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 8
# The message cap Relay uses (protocol.md §4); an event is at most 1 MiB anyway.
MAX_STRING = 8192


def trim(value: Any, depth: int = MAX_DEPTH) -> Any:
    kind = type(value)
    if kind is str:
        return value if len(value) <= MAX_STRING else value[: MAX_STRING - 1] + "…"
    if kind is dict or kind is list:
        return _trim_container(value, depth)
    return value


def _trim_container(value: dict[str, Any] | list[Any], depth: int) -> Any:
    if depth <= 0:
        return None
    members = value.values() if isinstance(value, dict) else value
    # Most containers hold only short strings: return them as they are, without copying.
    if all(type(member) is str and len(member) <= MAX_STRING for member in members):
        return value
    if isinstance(value, dict):
        return {key: trim(member, depth - 1) for key, member in value.items()}
    return [trim(member, depth - 1) for member in value]
