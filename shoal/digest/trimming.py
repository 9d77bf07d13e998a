"""Caps on the shape of data an SDK sent: how deep containers nest and how long strings are.

Depth is the danger: orjson reads JSON up to 1,024 levels deep but writes at most 255, and the
digest must write every event (to store it) and the UI renders data bags with orjson too. So
`serialize` writes the event, which it has to do anyway, and only an event that fails, which no SDK
sends, is walked and trimmed to MAX_DEPTH levels below each top-level field (Relay trims data bags
at depth 5 to 7, protocol.md §4). Deeper parts become None; over-long strings in a trimmed event
are cut with "…". Walking every event instead cost ~160 µs an event on the corpus.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 8
# The message cap Relay uses (protocol.md §4); an event is at most 1 MiB anyway.
MAX_STRING = 8192


def serialize(event: dict[str, Any]) -> bytes:
    """The event as JSON; trimmed first (and saying so in its `errors`) if it is too deep."""
    try:
        return orjson.dumps(event)
    except orjson.JSONEncodeError:
        trimmed = {key: trim(value) for key, value in event.items()}
        error = {"type": "value_too_long", "name": "", "reason": "nested too deep; deeper parts dropped"}
        trimmed["errors"] = [*(trimmed.get("errors") or []), error]
        return orjson.dumps(trimmed)


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
    if isinstance(value, dict):
        return {key: trim(member, depth - 1) for key, member in value.items()}
    return [trim(member, depth - 1) for member in value]
