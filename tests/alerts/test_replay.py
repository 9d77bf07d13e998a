""" "Test this rule": stored events replayed through an unsaved rule say when it would have fired."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from shoal.alerts.model import rule_from_json
from shoal.alerts.replay import replay_rule
from shoal.alerts.templates import TEMPLATES
from tests.support.alerting import DigestHarness, error_event


def test_a_replay_fires_new_issue_once_per_issue_and_frequency_when_crossed(
    engine: Engine, tmp_path: Path
) -> None:
    harness = DigestHarness(engine, tmp_path)
    harness.send(error_event("KeyError"))
    for _ in range(5):
        harness.clock.advance(60)
        harness.send(error_event("TypeError"))
    with engine.connect() as conn:
        new_issue = replay_rule(
            conn, harness.project_id, rule_from_json(TEMPLATES["new_issue"]), harness.clock.now()
        )
        busy = replay_rule(
            conn,
            harness.project_id,
            rule_from_json(
                {
                    "name": "busy",
                    "conditions": [
                        {"id": TEMPLATES["high_volume"]["conditions"][0]["id"], "interval": "1h", "value": 3}
                    ],
                }
            ),
            harness.clock.now(),
        )
    assert (new_issue.events_replayed, new_issue.issues_seen) == (6, 2)
    assert [f.reason for f in new_issue.firings] == ["a new issue was created"] * 2
    assert [f.issue_short_id for f in new_issue.firings] == ["SHOP-1", "SHOP-2"]
    assert [f.reason for f in busy.firings] == ["frequency 4 > 3 in 1h"]


def test_a_replay_respects_the_action_interval_and_the_period(engine: Engine, tmp_path: Path) -> None:
    harness = DigestHarness(engine, tmp_path)
    critical = {"level": "critical"}
    harness.send(error_event(tags=critical))
    harness.clock.advance(60)
    harness.send(error_event(tags=critical))
    harness.clock.advance(10 * 60)
    harness.send(error_event(tags=critical), error_event(tags={"level": "minor"}))
    with engine.connect() as conn:
        spec = rule_from_json(TEMPLATES["critical"])
        result = replay_rule(conn, harness.project_id, spec, harness.clock.now())
        later = replay_rule(conn, harness.project_id, spec, harness.clock.now() + 8 * 86400)
    assert len(result.firings) == 2  # the second event was within the 5-minute interval
    assert later.events_replayed == 0
