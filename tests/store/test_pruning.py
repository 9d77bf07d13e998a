"""What the digest worker prunes now and then stays bounded: the decision log and sent notifications."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from shoal.store import alert_state, outbox
from shoal.store.alert_state import DECISIONS_KEPT_PER_ISSUE, DECISIONS_KEPT_SECONDS, Decision
from shoal.store.db import write_transaction
from shoal.store.outbox import NewNotification
from shoal.store.schema import alert_decision, notification
from tests.support.alerting import START, DigestHarness, error_event


def decision_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(alert_decision)).scalar_one())


def test_the_decision_log_keeps_the_newest_rows_per_issue_and_none_too_old(
    engine: Engine, tmp_path: Path
) -> None:
    harness = DigestHarness(engine, tmp_path)
    first = error_event()
    harness.send(first)
    issue_id = harness.issue_of(first["event_id"])
    rule_id = harness.add_rule({"name": "r", "conditions": []})
    old = [Decision(rule_id, issue_id, None, False, "old", START - DECISIONS_KEPT_SECONDS - 1)] * 3
    recent = [
        Decision(rule_id, issue_id, None, False, f"n{n}", START) for n in range(DECISIONS_KEPT_PER_ISSUE + 5)
    ]
    with write_transaction(engine) as conn:
        alert_state.record_decisions(conn, old + recent)
        alert_state.prune_decisions(conn, START)
    with engine.connect() as conn:
        kept = alert_state.issue_decisions(conn, issue_id, limit=10_000)
    assert len(kept) == DECISIONS_KEPT_PER_ISSUE
    assert kept[0].reason == f"n{DECISIONS_KEPT_PER_ISSUE + 4}"
    assert "old" not in {d.reason for d in kept}


def test_finished_notifications_are_forgotten_after_30_days_pending_ones_never(
    engine: Engine, tmp_path: Path
) -> None:
    harness = DigestHarness(engine, tmp_path)
    row = NewNotification(harness.project_id, None, None, None, {"kind": "email", "config": {"to": []}}, {})
    with write_transaction(engine) as conn:
        outbox.enqueue(conn, [row, row], START)
        first, second = outbox.due_ids(conn, START, 10)
        outbox.mark_delivered(conn, first, START)
        assert outbox.prune(conn, START + outbox.KEPT_SECONDS + 1) == 1
        remaining = conn.execute(select(notification.c.id)).scalars().all()
    assert remaining == [second]
