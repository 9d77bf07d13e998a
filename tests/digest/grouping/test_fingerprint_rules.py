"""Server-side fingerprint rules (grouping.md §10) through `calculate_grouping`: each matcher, the
one-item-per-group rule, negation, precedence over the client's fingerprint, titles, the built-in
JavaScript rules, and what the event records."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from shoal.digest.grouping import calculate_grouping
from shoal.digest.summary import summarize


def md5(*values: str) -> str:
    return hashlib.md5("".join(values).encode()).hexdigest()


def python_error(type_: str = "ReadTimeout", value: str = "read timed out", **extra: Any) -> dict[str, Any]:
    frames = [
        {"module": "shop.sync", "function": "pull", "abs_path": "/srv/shop/sync.py", "in_app": True},
        {
            "module": "requests.adapters",
            "function": "send",
            "abs_path": "/venv/lib/python3.11/site-packages/requests/adapters.py",
            "in_app": False,
        },
    ]
    exception = {"type": type_, "value": value, "stacktrace": {"frames": frames}}
    return {
        "platform": "python",
        "level": "error",
        "logger": "sentry.tasks",
        "release": "shop@4.2.0",
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
        "tags": {"foobar": "some stuff here", "shard": "eu"},
        "exception": {"values": [exception]},
        **extra,
    }


def grouped(rules: str, event: dict[str, Any] | None = None) -> list[str]:
    return calculate_grouping(event or python_error(), fingerprint_rules=rules).hashes


@pytest.mark.parametrize(
    "rule",
    [
        "type:ReadTimeout path:**/requests/adapters.py -> matched",
        "error.type:Read* -> matched",
        'value:"*TIMED OUT*" -> matched',
        "message:read* -> matched",
        "logger:sentry.* level:ERROR -> matched",
        "function:send module:requests.* -> matched",
        "app:yes function:pull -> matched",
        "app:no function:send -> matched",
        "family:other -> matched",
        "family:javascript,other -> matched",
        "sdk:sentry.python -> matched",
        "release:shop@4.* -> matched",
        "tags.foobar:*stuff* -> matched",
        "!type:KeyError -> matched",
        "package:** family:all -> matched",
        # The frame `send` is called by `pull`, and is the frame nearest the crash.
        "[ function:pull ] | function:send -> matched",
        "function:pull | [ function:send ] -> matched",
        "[ module:shop.* ] | type:ReadTimeout -> matched",
    ],
)
def test_each_matcher_matches_what_it_names(rule: str) -> None:
    if rule.startswith("package"):
        event = python_error()
        event["exception"]["values"][0]["stacktrace"]["frames"][0]["package"] = "/srv/shop"
        assert grouped(rule, event) == [md5("matched")]
        return
    assert grouped(rule) == [md5("matched")]


@pytest.mark.parametrize(
    "rule",
    [
        "type:readtimeout -> matched",  # types are case-sensitive
        "logger:tasks -> matched",
        "family:javascript -> matched",
        "tags.foobar:stuff -> matched",
        "tags.missing:* -> matched",
        "!value:*timed* -> matched",
        # One frame must satisfy both: no frame is in app *and* from requests.
        "app:yes module:requests.* -> matched",
        "release:shop@5.* -> matched",
        # Caller and callee are the neighbours of one frame, in its stack, in that order.
        "[ function:zzz ] | function:send -> matched",
        "[ function:send ] | function:pull -> matched",
        "function:send | [ function:pull ] -> matched",
        "[ function:pull ] | function:pull -> matched",
    ],
)
def test_a_rule_that_does_not_match_changes_nothing(rule: str) -> None:
    assert grouped(rule) == grouped("")


def test_the_first_matching_rule_wins_and_replaces_the_client_fingerprint() -> None:
    event = python_error(fingerprint=["client-chose-this"])
    rules = "type:KeyError -> never\ntype:ReadTimeout -> timeout-in-requests\ntype:* -> too-late"
    result = calculate_grouping(event, fingerprint_rules=rules)
    assert result.hashes == [md5("timeout-in-requests")]
    assert "custom_server_fingerprint" in result.variants
    assert event["fingerprint"] == ["timeout-in-requests"]
    assert event["_fingerprint_info"]["client_fingerprint"] == ["client-chose-this"]
    assert (
        event["_fingerprint_info"]["matched_rule"]["text"] == "error.type:ReadTimeout -> timeout-in-requests"
    )


def test_grouping_the_stored_event_without_the_rule_restores_the_client_fingerprint() -> None:
    event = python_error(fingerprint=["client-chose-this"])
    calculate_grouping(event, fingerprint_rules="type:ReadTimeout -> by-rule")
    assert calculate_grouping(event).hashes == [md5("client-chose-this")]
    assert event["fingerprint"] == ["client-chose-this"] and "_fingerprint_info" not in event


def test_a_rule_with_default_refines_the_usual_grouping() -> None:
    plain = grouped("")
    refined = grouped("type:ReadTimeout -> {{ default }}, {{ tags.shard }}")
    assert refined[0] != plain[0]
    assert refined[0] == md5("ReadTimeout", "shop.sync", "pull", "eu")


def test_a_rule_title_names_the_issue_with_the_raw_message() -> None:
    event = python_error(value="read timed out after 30s")
    result = calculate_grouping(
        event, fingerprint_rules='type:ReadTimeout -> timeout title="Timeout: {{ message }}"'
    )
    assert result.title == "Timeout: read timed out after 30s"
    assert summarize(event).title == "Timeout: read timed out after 30s"


def test_built_in_rules_group_javascript_chunk_load_errors_and_project_rules_come_first() -> None:
    def chunk_error(name: str) -> dict[str, Any]:
        frame = {"function": "load", "abs_path": f"https://shop.example/static/{name}.js", "in_app": True}
        exception = {
            "type": "ChunkLoadError",
            "value": f"Loading chunk {name} failed.",
            "stacktrace": {"frames": [frame]},
        }
        return {"platform": "javascript", "exception": {"values": [exception]}}

    first = calculate_grouping(chunk_error("checkout"))
    assert first.hashes == [md5("chunkloaderror")]
    assert "built_in_fingerprint" in first.variants
    assert calculate_grouping(chunk_error("cart")).hashes == first.hashes
    assert calculate_grouping(
        chunk_error("cart"), fingerprint_rules="type:ChunkLoadError -> mine"
    ).hashes == [md5("mine")]
    python = {**chunk_error("x"), "platform": "python"}
    assert calculate_grouping(python).hashes != first.hashes


def test_a_react_hydration_error_groups_by_its_transaction() -> None:
    event = {
        "platform": "javascript",
        "message": "Text content does not match server-rendered HTML.",
        "tags": {"transaction": "/checkout"},
    }
    assert calculate_grouping(event).hashes == [md5("hydrationerror", "/checkout")]
