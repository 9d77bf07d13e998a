"""Serializing events for storage: what no SDK sends but anyone can (1,000-level nesting) is
trimmed so it can be stored and shown, and the event says so."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shoal.digest.normalize import NormalizeContext, normalize_event
from shoal.digest.trimming import MAX_DEPTH, MAX_STRING, serialize


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def thousand_levels_under(field: str) -> dict[str, Any]:
    # Built as text: 1,000 levels is past what json.dumps can write, not what orjson can read.
    text = '{"' + field + '": ' + '{"deeper": ' * 1000 + '"bottom"' + "}" * 1001
    event: dict[str, Any] = orjson.loads(text)
    return event


def stored(payload: dict[str, Any]) -> dict[str, Any]:
    event = normalize_event(payload, NormalizeContext(1_795_540_000.0, None, None, None))
    result: dict[str, Any] = orjson.loads(serialize(event))
    return result


@pytest.mark.parametrize("field", ["extra", "contexts", "made_up_field"])
def test_a_thousand_levels_anywhere_are_cut_to_the_cap(field: str) -> None:
    event = stored(thousand_levels_under(field))
    assert depth(event[field]) <= MAX_DEPTH
    assert [e["type"] for e in event["errors"]] == ["value_too_long"]


def test_deep_values_inside_frames_are_cut_too() -> None:
    frame = thousand_levels_under("vars")
    event = stored({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [frame]}}]}})
    assert depth(event) <= MAX_DEPTH + 1


def test_a_trimmed_event_has_its_long_strings_cut_as_well() -> None:
    payload = thousand_levels_under("extra")
    payload["message"] = "keep me"
    payload["contexts"] = {"blob": "x" * 100_000}
    event = stored(payload)
    assert len(event["contexts"]["blob"]) == MAX_STRING
    assert event["logentry"] == {"formatted": "keep me"}


def test_an_ordinary_event_is_stored_exactly_as_normalized() -> None:
    event = normalize_event(
        {"message": "hi", "extra": {"a": [1, {"b": None}]}},
        NormalizeContext(1_795_540_000.0, None, None, None),
    )
    assert orjson.loads(serialize(event)) == event
