"""The "issue affects more than X % of sessions" trigger (Sentry's EventFrequencyPercentCondition),
as the digest applies it under a manual clock, on SQLite and PostgreSQL: the issue's events in the
interval against the sessions its project started, from the release health counters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from shoal.alerts import model
from shoal.clock import iso_utc
from shoal.spool.base import SpoolEntry
from tests.support.alerting import DigestHarness, error_event

EMAIL = {"id": model.NOTIFY_EMAIL, "targetType": "IssueOwners", "fallthroughType": "AllMembers"}


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    return DigestHarness(engine, tmp_path)


def percent_rule(value: object, interval: str = "1h", environment: str | None = None) -> dict[str, Any]:
    condition = {"id": model.SESSION_PERCENT, "value": value, "interval": interval, "comparisonType": "count"}
    return {
        "name": f"More than {value} % of sessions",
        "conditions": [condition],
        "actions": [EMAIL],
        "environment": environment,
        "frequency": 60,
    }


def send_sessions(harness: DigestHarness, exited: int, environment: str = "production") -> None:
    """A request-mode `sessions` item of `exited` healthy sessions started this minute."""
    now = harness.clock.now()
    payload = orjson.dumps(
        {
            "attrs": {"release": "shop@1.0", "environment": environment},
            "aggregates": [{"started": iso_utc(now - now % 60), "exited": exited}],
        }
    )
    body = b"{}\n" + orjson.dumps({"type": "sessions", "length": len(payload)}) + b"\n" + payload + b"\n"
    harness.spool.append([SpoolEntry(harness.project_id, "envelope", now, None, None, "", body)])
    while harness.worker.run_once():
        pass


def test_it_fires_once_the_issue_passes_the_share_of_the_last_hours_sessions(harness: DigestHarness) -> None:
    harness.only_rule(percent_rule(10))
    send_sessions(harness, 100)
    first = error_event(environment="production")
    harness.send(first)
    issue_id = harness.issue_of(first["event_id"])
    assert harness.decisions(issue_id)[0].reason == "sessions: first event of a new issue, and 10 % > 1 %"
    harness.send(*(error_event(environment="production") for _ in range(9)))
    assert harness.sent() == []
    assert harness.decisions(issue_id)[0].reason == "10 events are 10.0 % of sessions in 1h, ≤ 10 %"
    harness.send(error_event(environment="production"))
    assert [s.rule_name for s in harness.sent()] == ["More than 10 % of sessions"]
    assert harness.decisions(issue_id)[0].reason == "11 events are 11.0 % of sessions in 1h, > 10 %"


def test_it_never_fires_below_50_sessions_in_the_last_hour(harness: DigestHarness) -> None:
    harness.only_rule(percent_rule(1))
    send_sessions(harness, 49)
    first = error_event()
    harness.send(first, *(error_event() for _ in range(29)))
    assert harness.sent() == []
    reason = harness.decisions(harness.issue_of(first["event_id"]))[0].reason
    assert reason == "sessions: 49 in the last hour, fewer than 50"


def test_a_shorter_interval_takes_its_share_of_the_hours_sessions(harness: DigestHarness) -> None:
    harness.only_rule(percent_rule(5, "10m"))
    send_sessions(harness, 600)  # 100 sessions in 10 minutes, by Sentry's estimate
    first = error_event()
    harness.send(first, *(error_event() for _ in range(4)))
    issue_id = harness.issue_of(first["event_id"])
    assert harness.decisions(issue_id)[0].reason == "5 events are 5.0 % of sessions in 10m, ≤ 5 %"
    harness.send(error_event())
    assert len(harness.sent()) == 1


def test_an_environment_rule_counts_that_environments_sessions_only(harness: DigestHarness) -> None:
    harness.only_rule(percent_rule(10, environment="production"))
    send_sessions(harness, 1000, environment="staging")
    send_sessions(harness, 50)
    first = error_event(environment="production")
    harness.send(first, *(error_event(environment="production") for _ in range(5)))
    issue_id = harness.issue_of(first["event_id"])
    assert harness.decisions(issue_id)[0].reason == "6 events are 12.0 % of sessions in 1h, > 10 %"
    assert len(harness.sent()) == 1


def test_sessions_older_than_the_hour_do_not_count(harness: DigestHarness) -> None:
    harness.only_rule(percent_rule(10))
    send_sessions(harness, 1000)
    harness.clock.advance(2 * 3600)
    send_sessions(harness, 60)
    first = error_event()
    harness.send(first, *(error_event() for _ in range(6)))
    issue_id = harness.issue_of(first["event_id"])
    assert harness.decisions(issue_id)[0].reason == "7 events are 11.7 % of sessions in 1h, > 10 %"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"interval": "15m"}, "interval", "must be one of 1m, 5m, 10m, 30m, 1h"),
        ({"value": 150}, "value", "must be a percentage from 0 to 100"),
        ({"value": "many"}, "value", "must be a percentage from 0 to 100"),
    ],
)
def test_the_rule_checks_its_interval_and_percentage(
    change: dict[str, Any], field: str, message: str
) -> None:
    data = percent_rule(10)
    data["conditions"][0].update(change)
    with pytest.raises(model.RuleInvalid) as raised:
        model.rule_from_json(data)
    assert raised.value.errors == {f"conditions[0].{field}": message}


def test_a_decimal_percentage_is_taken() -> None:
    spec = model.rule_from_json(percent_rule("2.5", "30m"))
    assert model.percent_value(spec.conditions[0]["value"]) == 2.5
