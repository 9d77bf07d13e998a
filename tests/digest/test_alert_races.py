"""Exactly once under races: several digest workers at once over the same new issues create each
issue once and queue one new-issue notification for it, on PostgreSQL (4 workers) and SQLite (2,
since SQLite has one writer at a time and more only wait for each other)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from shoal.digest.worker import DigestWorker
from shoal.spool.sqlite import SqliteSpool
from shoal.store import alert_state
from shoal.store.db import write_transaction
from shoal.store.schema import event, issue
from tests.support.alerting import LIMITS, DigestHarness, error_event

EVENTS = 200
ISSUES = 10


def race(harness: DigestHarness, tmp_path: Path, workers: int) -> None:
    """Spool 200 events of 10 new issues and let `workers` threads digest them in batches of 5,
    all starting at the same moment. The first 4 batches each hold the first events of the same 5
    issues, the next 4 those of the other 5: every worker tries to create the same issues."""
    entries = [error_event("RuntimeError", f"step_{n % 5 + 5 * (n // 20 % 2)}") for n in range(EVENTS)]
    harness.send_to_spool(*entries)  # into the spool file every worker below opens
    start = threading.Barrier(workers)
    failures: list[BaseException] = []

    def work() -> None:
        spool = SqliteSpool(tmp_path / "spool.db", durable_writes=False)
        worker = DigestWorker(spool, harness.engine, LIMITS, 60, harness.clock, batch_size=5)
        start.wait()
        try:
            while worker.run_once():
                pass
        except BaseException as exc:
            failures.append(exc)
        finally:
            spool.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


ON_POSTGRES = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@ON_POSTGRES
def test_four_workers_on_postgresql_send_one_new_issue_alert_per_issue(
    engine: Engine, tmp_path: Path
) -> None:
    harness = DigestHarness(engine, tmp_path)
    race(harness, tmp_path, workers=4)
    assert_exactly_once(harness)


@ON_SQLITE
def test_two_workers_on_sqlite_send_one_new_issue_alert_per_issue(engine: Engine, tmp_path: Path) -> None:
    harness = DigestHarness(engine, tmp_path)
    race(harness, tmp_path, workers=2)
    assert_exactly_once(harness)


def assert_exactly_once(harness: DigestHarness) -> None:
    assert count(harness.engine, event) == EVENTS
    assert count(harness.engine, issue) == ISSUES
    sent = harness.sent()
    assert [s.kind for s in sent] == ["new_issue"] * ISSUES
    assert len({s.issue_id for s in sent}) == ISSUES


def test_only_one_of_two_claims_on_the_same_interval_wins(engine: Engine, tmp_path: Path) -> None:
    harness = DigestHarness(engine, tmp_path)
    first = error_event()
    harness.send(first)
    issue_id = harness.issue_of(first["event_id"])
    rule_id = harness.add_rule({"name": "r", "conditions": [], "actions": []})
    now = harness.clock.now()
    pair = (rule_id, issue_id)
    with write_transaction(engine) as conn:
        assert alert_state.claim_intervals(conn, [(rule_id, issue_id, 30)], now) == {pair}
        assert alert_state.claim_intervals(conn, [(rule_id, issue_id, 30)], now + 60) == set()
        assert alert_state.claim_intervals(conn, [(rule_id, issue_id, 30)], now + 31 * 60) == {pair}


@ON_POSTGRES
def test_two_workers_claiming_the_same_interval_on_postgresql_fire_once(
    engine: Engine, tmp_path: Path
) -> None:
    """The second transaction waits on the first's row lock, then finds the interval taken."""
    harness = DigestHarness(engine, tmp_path)
    first = error_event()
    harness.send(first)
    issue_id = harness.issue_of(first["event_id"])
    wanted = [(harness.add_rule({"name": "r", "conditions": []}), issue_id, 30)]
    now = harness.clock.now() + 3600
    results: list[set[tuple[int, int]]] = []
    with engine.connect() as one, engine.connect() as two:
        one.begin()
        two.begin()
        assert alert_state.claim_intervals(one, wanted, now) == {wanted[0][:2]}
        waiting = threading.Thread(
            target=lambda: results.append(alert_state.claim_intervals(two, wanted, now))
        )
        waiting.start()
        one.commit()
        waiting.join()
        two.commit()
    assert results == [set()]
