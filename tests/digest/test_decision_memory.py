"""The decision log keeps every change of verdict and every firing, not every repeat."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from shoal.alerts.templates import TEMPLATES
from shoal.digest.decision_memory import DecisionMemory
from shoal.store.alert_state import Decision
from tests.support.alerting import DigestHarness, error_event


def test_a_repeated_verdict_is_logged_once_and_a_changed_one_again(engine: Engine, tmp_path: Path) -> None:
    harness = DigestHarness(engine, tmp_path)
    harness.only_rule({**TEMPLATES["new_issue"], "frequency": 5})
    first = error_event()
    harness.send(first)
    for _ in range(3):
        harness.clock.advance(10 * 60)
        harness.send(error_event())
    issue_id = harness.issue_of(first["event_id"])
    assert [d.reason for d in harness.decisions(issue_id)] == ["not a new issue", "a new issue was created"]


def test_firings_are_always_logged_and_the_memory_forgets_the_oldest_pairs() -> None:
    memory = DecisionMemory(capacity=2)
    fired = Decision(1, 1, None, True, "a new issue was created", 0.0)
    quiet = Decision(1, 2, None, False, "not a new issue", 0.0)
    memory.remember([fired, quiet])
    assert not memory.is_repeat(fired)
    assert memory.is_repeat(quiet)
    memory.remember([Decision(1, 3, None, False, "x", 0.0), Decision(1, 4, None, False, "y", 0.0)])
    assert not memory.is_repeat(quiet)
