"""Grouping never raises, whatever shape the event's fields have: anyone holding a DSN can send
anything, and a raise here would stop the digest on that event."""

from __future__ import annotations

import copy
import random
import re
from typing import Any

import pytest

from shoal.digest.grouping import CONFIG_IDS, calculate_grouping

MD5 = re.compile(r"[0-9a-f]{32}")


def group_member(exception_id: object, parent_id: object, group: object = False) -> dict[str, Any]:
    return {
        "type": "E",
        "mechanism": {"exception_id": exception_id, "parent_id": parent_id, "is_exception_group": group},
    }


HOSTILE: list[dict[str, Any]] = [
    {},
    {"platform": ["python"], "sdk": "x"},
    {"exception": None},
    {"exception": "boom"},
    {"exception": {"values": "nope"}},
    {"exception": {"values": {"type": "E", "value": "a dict, not a list"}}},
    {"exception": [{"type": "E", "value": "a bare list"}]},
    {"exception": {"values": [None, 1, "x", {"type": 5, "value": ["a"]}]}},
    {"exception": {"values": [{"type": "E", "stacktrace": "frames"}]}},
    {"exception": {"values": [{"type": "E", "stacktrace": {"frames": None}}]}},
    {"exception": {"values": [{"type": "E", "stacktrace": {"frames": [None, "f", 3, {"function": {}}]}}]}},
    {"exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"function": 12, "lineno": [1]}]}}]}},
    {
        "exception": {
            "values": [{"type": "E", "stacktrace": {"frames": [{"context_line": 12, "module": ["m"]}]}}]
        }
    },
    {"exception": {"values": [{"type": "\ud800", "value": "lone surrogate \udfff"}]}},
    {"exception": {"values": [{"type": "E", "mechanism": "x"}]}},
    {"exception": {"values": [{"type": "E", "mechanism": {"exception_id": 0, "parent_id": 0}}]}},
    {"exception": {"values": [group_member(0, None, True), group_member(1, 7)]}},
    # Cycles, through groups and through first children.
    {"exception": {"values": [group_member(0, 1, True), group_member(1, 0, True)]}},
    {"exception": {"values": [group_member(0, 1), group_member(1, 0)]}},
    {"exception": {"values": [group_member(True, None, True), group_member(1.0, True)]}},
    {
        "exception": {
            "values": [group_member(0, None, True), *(group_member(i, i - 1, True) for i in range(1, 3000))]
        }
    },
    {
        "platform": "javascript",
        "exception": {"values": [{"stacktrace": {"frames": [{"filename": "http://[::1?x", "abs_path": 5}]}}]},
    },
    {
        "platform": "node",
        "exception": {"values": [{"stacktrace": {"frames": [{"raw_function": ".", "data": []}]}}]},
    },
    {"threads": {"values": [{"crashed": True, "stacktrace": 4}]}},
    {"threads": [{"stacktrace": {"frames": [{"in_app": "yes"}]}}]},
    {"threads": {"values": [{"crashed": "true", "current": 1}, {"crashed": None}]}},
    {"stacktrace": {"frames": [{"abs_path": 3, "function": None}]}},
    {"stacktrace": {"frames": {"0": {"function": "f"}}}},
    {"logentry": {"message": None, "formatted": 42}},
    {"logentry": {"message": {"nested": True}}},
    {"logentry": "not an object", "message": ["not", "a", "string"]},
    # As long as normalization lets a message be (MAX_STRING), over several lines.
    {"message": "order 12 at 10:30 failed\n" * 300 + "x" * 700},
    {"checksum": 7},
    {"checksum": ""},
]


@pytest.mark.parametrize("config_id", CONFIG_IDS)
@pytest.mark.parametrize("event", HOSTILE)
def test_it_never_raises(event: dict[str, Any], config_id: str) -> None:
    result = calculate_grouping(event, config_id)
    assert result.hashes and all(MD5.fullmatch(h) for h in result.hashes)


# A plausible event, every part of which the test below replaces by junk, at random.
TEMPLATE: dict[str, Any] = {
    "platform": "python",
    "sdk": {"name": "sentry.python", "version": "2.75.0"},
    "checksum": None,
    "logentry": {"message": "failed %s", "formatted": "failed 3", "params": [3]},
    "exception": {
        "values": [
            {
                "type": "ValueError",
                "value": "bad 3",
                "mechanism": {"type": "chained", "exception_id": 1, "parent_id": 0, "synthetic": False},
                "stacktrace": {
                    "frames": [
                        {
                            "module": "app.x",
                            "function": "f",
                            "filename": "app/x.py?v=1",
                            "abs_path": "/srv/app/x.py",
                            "context_line": "f()",
                            "lineno": 3,
                            "in_app": True,
                            "platform": "javascript",
                            "data": {"sourcemap": "x.map"},
                        }
                    ]
                },
            },
            {
                "type": "ExceptionGroup",
                "value": "2 errors",
                "mechanism": {"type": "chained", "exception_id": 0, "is_exception_group": True},
            },
        ]
    },
    "threads": {"values": [{"id": 1, "crashed": True, "stacktrace": {"frames": [{"function": "run"}]}}]},
    "stacktrace": {"frames": [{"function": "main", "in_app": False}]},
}
JUNK: list[Any] = [None, 0, -1, 12, 3.5, True, False, "", "x", "0x1F", "http://", [], {}, [None], [1, "a"]]
JUNK += [{"values": None}, {"frames": 3}, {"x": []}, {"values": [None]}, {"frames": [None, "f"]}, "\ud800"]


def mutated(value: Any, rng: random.Random) -> Any:
    if rng.random() < 0.12:
        return copy.deepcopy(rng.choice(JUNK))
    if isinstance(value, dict):
        return {key: mutated(item, rng) for key, item in value.items()}
    if isinstance(value, list):
        return [mutated(item, rng) for item in value]
    return value


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_it_never_raises_on_randomly_broken_events(config_id: str) -> None:
    rng = random.Random(1795540000)
    for _ in range(1500):
        event = {key: mutated(value, rng) for key, value in TEMPLATE.items()}
        for platform in ("python", "javascript"):
            event["platform"] = platform
            result = calculate_grouping(event, config_id)
            assert result.hashes and all(MD5.fullmatch(h) for h in result.hashes), event
