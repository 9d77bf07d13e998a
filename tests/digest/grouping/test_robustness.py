"""Grouping never raises, whatever shape the event's fields have."""

from __future__ import annotations

from typing import Any

import pytest

from shoal.digest.grouping import CONFIG_IDS, calculate_grouping

HOSTILE: list[dict[str, Any]] = [
    {},
    {"exception": None},
    {"exception": "boom"},
    {"exception": {"values": "nope"}},
    {"exception": {"values": [None, 1, "x", {"type": 5, "value": ["a"]}]}},
    {"exception": {"values": [{"type": "E", "stacktrace": "frames"}]}},
    {"exception": {"values": [{"type": "E", "stacktrace": {"frames": None}}]}},
    {"exception": {"values": [{"type": "E", "stacktrace": {"frames": [None, "f", 3, {"function": {}}]}}]}},
    {
        "exception": {
            "values": [{"type": "E", "stacktrace": {"frames": [{"context_line": 12, "module": ["m"]}]}}]
        }
    },
    {"exception": {"values": [{"type": "E", "mechanism": "x"}]}},
    {"exception": {"values": [{"type": "E", "mechanism": {"exception_id": 0, "parent_id": 0}}]}},
    {
        "exception": {
            "values": [
                {"mechanism": {"exception_id": 0, "is_exception_group": True}},
                {"mechanism": {"exception_id": 1, "parent_id": 7}},
            ]
        }
    },
    {"threads": {"values": [{"crashed": True, "stacktrace": 4}]}},
    {"threads": [{"stacktrace": {"frames": [{"in_app": "yes"}]}}]},
    {"stacktrace": {"frames": [{"abs_path": 3, "function": None}]}},
    {"logentry": {"message": None, "formatted": 42}},
    {"logentry": "not an object"},
    {"platform": ["python"], "sdk": "x"},
    {"checksum": 7},
]


@pytest.mark.parametrize("config_id", CONFIG_IDS)
@pytest.mark.parametrize("event", HOSTILE)
def test_it_never_raises(event: dict[str, Any], config_id: str) -> None:
    result = calculate_grouping(event, config_id)
    assert result.hashes and all(len(h) == 32 for h in result.hashes)
