"""Normalization: one shape for whatever an SDK sent, with Relay's rules and caps."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from shoal.digest.normalize import InvalidEvent, NormalizeContext, format_message, normalize_event
from shoal.digest.trimming import MAX_STRING
from shoal.ingest.envelope import parse_envelope
from tests.support.corpus import corpus_envelopes

NOW = 1_795_540_000.0
EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc"


def normalize(
    payload: Any,
    *,
    sent_at: float | None = None,
    envelope_id: str | None = None,
    client_ip: str | None = "203.0.113.9",
) -> dict[str, Any]:
    return normalize_event(payload, NormalizeContext(NOW, sent_at, envelope_id, client_ip))


def error_types(event: dict[str, Any]) -> list[str]:
    return [error["type"] for error in event.get("errors", [])]


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def test_it_refuses_a_payload_that_is_not_an_object() -> None:
    with pytest.raises(InvalidEvent):
        normalize([1, 2])


def test_the_envelope_event_id_wins_and_ids_are_canonical() -> None:
    assert normalize({"event_id": EVENT_ID}, envelope_id="AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE")[
        "event_id"
    ] == ("aaaaaaaabbbbccccddddeeeeeeeeeeee")
    assert normalize({"event_id": EVENT_ID.upper()})["event_id"] == EVENT_ID


def test_a_missing_or_invalid_event_id_is_replaced() -> None:
    event = normalize({"event_id": "not-an-id"})
    assert len(event["event_id"]) == 32 and event["event_id"] != "not-an-id"
    assert "invalid_data" in error_types(event)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-11-24T17:12:16.847536Z", 1795540336.847536),
        ("2026-11-24T17:14:34.286238310Z", 1795540474.286238),
        ("2026-11-24T17:12:16", 1795540336.0),
        ("2026-11-24T19:12:16+02:00", 1795540336.0),
        (1795540336.5, 1795540336.5),
        (1795540336, 1795540336.0),
    ],
)
def test_both_timestamp_forms_become_unix_seconds(timestamp: object, expected: float) -> None:
    assert normalize({"timestamp": timestamp})["timestamp"] == pytest.approx(expected)


def test_a_missing_or_unreadable_timestamp_is_the_receive_time() -> None:
    assert normalize({})["timestamp"] == NOW
    event = normalize({"timestamp": "yesterday"})
    assert event["timestamp"] == NOW and "invalid_data" in error_types(event)


def test_clock_drift_from_sent_at_is_corrected() -> None:
    # The device's clock is two hours behind: it stamped the event and the envelope with its time.
    event = normalize({"timestamp": NOW - 7200 - 5}, sent_at=NOW - 7200)
    assert event["timestamp"] == pytest.approx(NOW - 5)
    assert "clock_drift" in error_types(event)


def test_a_small_difference_from_sent_at_is_network_delay_not_drift() -> None:
    assert normalize({"timestamp": NOW - 30}, sent_at=NOW - 20)["timestamp"] == NOW - 30


@pytest.mark.parametrize(("offset", "error"), [(120, "future_timestamp"), (-31 * 86400, "past_timestamp")])
def test_timestamps_too_far_off_become_the_receive_time(offset: float, error: str) -> None:
    event = normalize({"timestamp": NOW + offset})
    assert event["timestamp"] == NOW
    assert error in error_types(event)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("warning", "warning"),
        ("ERROR", "error"),
        ("critical", "fatal"),
        ("log", "info"),
        (30, "warning"),
        ("50", "fatal"),
        (None, "error"),
    ],
)
def test_levels_and_their_aliases(level: object, expected: str) -> None:
    payload = {} if level is None else {"level": level}
    assert normalize(payload)["level"] == expected


@pytest.mark.parametrize("level", ["warn", "loud", 35, ["error"]])
def test_an_unknown_level_is_error_and_noted(level: object) -> None:
    event = normalize({"level": level})
    assert event["level"] == "error" and "invalid_data" in error_types(event)


def test_a_message_string_becomes_the_formatted_logentry() -> None:
    assert normalize({"message": "disk full"})["logentry"] == {"formatted": "disk full"}


def test_a_logentry_template_is_formatted_and_kept_for_grouping() -> None:
    event = normalize({"logentry": {"message": "queue %s late by %d s", "params": ["mail", 3]}})
    assert event["logentry"] == {
        "message": "queue %s late by %d s",
        "formatted": "queue mail late by 3 s",
        "params": ["mail", 3],
    }


@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        ("user %(name)s", {"name": "bob"}, "user bob"),
        ("item {0} of {1}", [1, 2], "item 1 of 2"),
        ("item {} of {}", [1, 2], "item 1 of 2"),
        ("hello {name}", {"name": "ann"}, "hello ann"),
        ("needs %s and %s", ["only one"], "needs %s and %s"),
        ("bad %y format", [1], "bad %y format"),
        ("{0.__class__}", [1], "<class 'int'>"),
        ("no params", None, "no params"),
    ],
)
def test_message_formatting_never_raises(template: str, params: object, expected: str) -> None:
    assert format_message(template, params) == expected


def test_exception_threads_and_breadcrumbs_take_either_values_shape() -> None:
    event = normalize(
        {
            "exception": [{"type": "E"}],
            "threads": {"values": [{"id": 1}]},
            "breadcrumbs": [{"message": "a"}, "junk"],
        }
    )
    assert event["exception"] == {"values": [{"type": "E"}]}
    assert event["threads"] == {"values": [{"id": 1}]}
    assert event["breadcrumbs"] == {"values": [{"message": "a"}]}


def test_only_the_newest_hundred_breadcrumbs_are_kept() -> None:
    event = normalize({"breadcrumbs": {"values": [{"message": str(i)} for i in range(150)]}})
    crumbs = event["breadcrumbs"]["values"]
    assert len(crumbs) == 100 and crumbs[0]["message"] == "50"


def test_long_stack_traces_keep_both_ends() -> None:
    frames = [{"function": f"f{i}"} for i in range(400)]
    event = normalize({"exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]}})
    kept = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert len(kept) == 250 and kept[0]["function"] == "f0" and kept[-1]["function"] == "f399"


def test_tags_as_dict_or_pairs_become_string_pairs() -> None:
    assert normalize({"tags": {"shop": "berlin", "retries": 3, "beta": True}})["tags"] == [
        ["shop", "berlin"],
        ["retries", "3"],
        ["beta", "true"],
    ]
    assert normalize({"tags": [["a", "1"], ["a", "2"], ["b", "x"]]})["tags"] == [["a", "2"], ["b", "x"]]


@pytest.mark.parametrize(
    "tags",
    [{"bad key": "v"}, {"k": "line\nbreak"}, {"k": "x" * 201}, {"k" * 201: "v"}, {"k": None}, [["only-one"]]],
)
def test_tags_that_break_relays_rules_are_dropped(tags: object) -> None:
    assert "tags" not in normalize({"tags": tags})


def test_fields_are_strings_within_relays_lengths() -> None:
    event = normalize(
        {
            "logger": "l" * 100,
            "environment": "production",
            "release": "shop@1.2.3",
            "transaction": 42,
            "culprit": "c" * 300,
        }
    )
    assert len(event["logger"]) == 64 and len(event["culprit"]) == 200
    assert event["environment"] == "production" and event["release"] == "shop@1.2.3"
    assert "transaction" not in event


def test_an_environment_with_a_newline_is_dropped() -> None:
    event = normalize({"environment": "prod\nevil"})
    assert "environment" not in event and "invalid_data" in error_types(event)


def test_auto_ip_is_the_client_address() -> None:
    assert normalize({"user": {"id": "7", "ip_address": "{{auto}}"}})["user"] == {
        "id": "7",
        "ip_address": "203.0.113.9",
    }
    assert normalize({"user": {"ip_address": "{{auto}}"}}, client_ip=None)["user"] == {}


def test_data_bags_that_are_not_objects_are_dropped() -> None:
    event = normalize({"user": "bob", "request": ["x"], "contexts": 3, "extra": {"ok": 1}})
    assert {"user", "request", "contexts"}.isdisjoint(event) and event["extra"] == {"ok": 1}


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"deeper": value}
    return value


def test_the_message_is_capped_and_other_strings_are_kept_within_the_event_limit() -> None:
    event = normalize({"extra": {"blob": "x" * 100_000}, "message": "m" * 100_000})
    assert len(event["logentry"]["formatted"]) == MAX_STRING
    assert len(event["extra"]["blob"]) == 100_000  # ingest already holds events to 1 MiB


def test_moderately_deep_data_is_kept_whole() -> None:
    assert depth(normalize({"extra": nested(100)})["extra"]) == 100


def test_the_payload_is_left_as_it_was() -> None:
    payload = {"message": "x", "tags": {"a": 1}, "exception": [{"type": "E"}]}
    before = json.dumps(payload)
    normalize(payload)
    assert json.dumps(payload) == before


def test_every_corpus_event_keeps_what_the_sdk_sent() -> None:
    for envelope in corpus_envelopes():
        (item,) = [i for i in parse_envelope(envelope.raw).items if i.type == "event"]
        raw = orjson.loads(item.payload)
        event = normalize(raw, envelope_id=envelope.event_id)
        assert event["event_id"] == envelope.event_id
        assert event["release"] == "shopapp@4.12.0" and event["environment"] == "production"
        assert event["tags"] and event["user"] and event["breadcrumbs"]["values"]
        if "exception" in raw:
            exceptions = event["exception"]["values"]
            assert [e["type"] for e in exceptions] == [e["type"] for e in raw["exception"]["values"]]
            frames = exceptions[-1]["stacktrace"]["frames"]
            assert any(f.get("context_line") and f.get("vars") for f in frames)
        else:
            assert event["logentry"]["formatted"]
