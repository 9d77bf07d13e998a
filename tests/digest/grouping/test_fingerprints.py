"""Client fingerprints (grouping.md §9): default, custom and hybrid, every variable and its fallback,
in both configs; expected hashes computed here from the values that should be hashed (§7)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from shoal.digest.grouping import calculate_grouping

NEW, OLD = "newstyle:2026-01-20", "newstyle:2023-01-11"


def md5(*values: str) -> str:
    return hashlib.md5("".join(values).encode()).hexdigest()


def error_event(fingerprint: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    frames = [
        {"module": "django.core", "function": "handle", "context_line": "h()", "in_app": False},
        {"module": "shop.db", "function": "connect", "context_line": "connect()", "in_app": True},
    ]
    event: dict[str, Any] = {
        "platform": "python",
        "level": "error",
        "logger": "shop.db",
        "transaction": "/checkout",
        "tags": [["shard", "eu-1"]],
        "exception": {
            "values": [
                {"type": "OperationalError", "value": "timeout after 30s", "stacktrace": {"frames": frames}}
            ]
        },
        **extra,
    }
    if fingerprint is not None:
        event["fingerprint"] = fingerprint
    return event


APP = ("OperationalError", "shop.db", "connect", "connect()")
SYSTEM = ("OperationalError", "django.core", "handle", "h()", "shop.db", "connect", "connect()")


@pytest.mark.parametrize("fingerprint", [None, [], ["{{ default }}"], ["{{default}}"], ["{{  default  }}"]])
def test_the_default_fingerprint_changes_nothing(fingerprint: list[str] | None) -> None:
    assert calculate_grouping(error_event(fingerprint), NEW).hashes == [md5(*APP), md5(*SYSTEM)]


def test_a_custom_fingerprint_replaces_the_stack_and_says_so() -> None:
    result = calculate_grouping(error_event(["database-connection-error"]), NEW)
    assert result.hashes == [md5("database-connection-error")]
    custom = result.variants["custom_client_fingerprint"]
    assert custom.values == ("database-connection-error",)
    app = result.variants["app"]
    assert app.hash is None and app.root is not None
    assert app.root.hint == "custom client fingerprint takes precedence"


def test_two_entries_are_hashed_in_order() -> None:
    card = calculate_grouping(error_event(["stripe-error", "card_declined"]), NEW).hashes
    expired = calculate_grouping(error_event(["stripe-error", "expired_card"]), NEW).hashes
    assert card == [md5("stripe-error", "card_declined")]
    assert card != expired


def test_a_hybrid_fingerprint_salts_each_variant_with_its_own_values() -> None:
    result = calculate_grouping(error_event(["{{ default }}", "eu"]), NEW)
    assert result.hashes == [md5(*APP, "eu"), md5(*SYSTEM, "eu")]
    assert result.variants["app"].kind == "salted_component"


def test_a_hybrid_fingerprint_keeps_default_in_its_place() -> None:
    assert calculate_grouping(error_event(["eu", "{{ default }}"]), NEW).hashes[0] == md5("eu", *APP)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("{{ type }}", "OperationalError"),
        ("{{ error.type }}", "OperationalError"),
        ("{{ value }}", "timeout after 30s"),
        ("{{ error.value }}", "timeout after 30s"),
        ("{{ message }}", "timeout after <duration>"),
        ("{{ raw_message }}", "timeout after 30s"),
        ("{{ function }}", "connect"),
        ("{{ stack.function }}", "connect"),
        ("{{ module }}", "shop.db"),
        ("{{ level }}", "error"),
        ("{{ logger }}", "shop.db"),
        ("{{ transaction }}", "/checkout"),
        ("{{ tags.shard }}", "eu-1"),
    ],
)
def test_every_variable_resolves_from_the_event(variable: str, value: str) -> None:
    assert calculate_grouping(error_event([variable]), NEW).hashes == [md5(value)]


@pytest.mark.parametrize(
    ("variable", "fallback"),
    [
        ("{{ transaction }}", "<no-transaction>"),
        ("{{ type }}", "<no-type>"),
        ("{{ function }}", "<no-function>"),
        ("{{ module }}", "<no-module>"),
        ("{{ logger }}", "<no-logger>"),
        ("{{ tags.missing }}", "<no-value-for-tag-missing>"),
        ("{{ path }}", "<no-abs-path>"),
    ],
)
def test_a_variable_the_event_lacks_has_its_fallback(variable: str, fallback: str) -> None:
    event = {"platform": "python", "message": "hello"}
    assert calculate_grouping({**event, "fingerprint": [variable]}, NEW).hashes == [md5(fallback)]


def test_the_crash_frame_is_the_last_in_app_frame_of_the_last_exception() -> None:
    event = error_event(["{{ function }}"])
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    frames.append({"module": "psycopg", "function": "wait", "in_app": False})
    assert calculate_grouping(event, NEW).hashes == [md5("connect")]


def test_an_unknown_variable_differs_between_the_configs() -> None:
    assert calculate_grouping(error_event(["{{ nonsense }}"]), NEW).hashes == [
        md5("<unrecognized-variable-nonsense>")
    ]
    assert calculate_grouping(error_event(["{{ nonsense }}"]), OLD).hashes == [md5("{{ nonsense }}")]


def test_a_number_in_a_fingerprint_is_its_text() -> None:
    assert calculate_grouping(error_event(["stripe-error", 402]), NEW).hashes == [md5("stripe-error", "402")]  # type: ignore[list-item]


def test_a_fingerprint_changes_nothing_when_the_event_has_a_checksum() -> None:
    event = error_event(["custom"], checksum="a" * 32)
    assert calculate_grouping(event, NEW).hashes == ["a" * 32]


def test_a_message_event_can_be_fingerprinted_by_its_logger() -> None:
    event = {
        "platform": "python",
        "logger": "payments",
        "message": "Payment retry 3 failed",
        "fingerprint": ["{{ logger }}"],
    }
    assert calculate_grouping(event, NEW).hashes == [md5("payments")]
