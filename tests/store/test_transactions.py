"""The transactions store on SQLite and PostgreSQL: idempotent inserts, waterfalls kept only for each
hour's slowest, the statistics the Performance page shows (exact percentiles, throughput, Sentry's
failure rate), traces, `shoal status` counts and retention."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, select

from shoal import retention
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects, transaction_stats
from shoal.store.db import write_transaction
from shoal.store.schema import transaction_event
from shoal.store.status import project_counts
from shoal.store.transaction_stats import percentile
from shoal.store.transactions import SPAN_SAMPLES, NewTransaction, store_transactions

HOUR = 1_795_000_000 // 3600 * 3600
DAY = 86_400


@pytest.fixture
def project_id(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "acme", "Acme")
        return projects.create_project(conn, org, "shop", "python", DEFAULT_CONFIG_ID).id


def new(
    project_id: int,
    name: str,
    duration: float,
    *,
    start: float = HOUR + 60,
    status: str = "ok",
    trace: str = "",
) -> NewTransaction:
    return NewTransaction(
        project_id=project_id,
        event_id=uuid.uuid4().hex,
        trace_id=trace or uuid.uuid4().hex,
        span_id="b" * 16,
        name=name,
        op="http.server",
        status=status,
        start_timestamp=start,
        duration_ms=duration,
        received=start + 1,
        release="1.0",
        environment="production",
        span_count=1,
        span_ops='{"db": [1, 5.0]}',
        spans=b"spans",
    )


def store(engine: Engine, batch: list[NewTransaction]) -> list[NewTransaction]:
    with write_transaction(engine) as conn:
        return store_transactions(conn, batch)


def durations_with_spans(engine: Engine) -> list[float]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(transaction_event.c.duration_ms).where(transaction_event.c.spans.is_not(None))
        )
        return sorted(row.duration_ms for row in rows)


def test_percentiles_interpolate_between_the_nearest_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == pytest.approx(50.5)
    assert percentile(values, 0.95) == pytest.approx(95.05)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.95) == 0.0


def test_a_transaction_stored_twice_is_one_row(engine: Engine, project_id: int) -> None:
    first = new(project_id, "checkout", 10)
    assert store(engine, [first, first]) == [first]
    assert store(engine, [first]) == []


def test_only_the_slowest_of_a_name_and_hour_keep_their_spans(engine: Engine, project_id: int) -> None:
    store(engine, [new(project_id, "checkout", d) for d in (10, 50, 30)])
    store(engine, [new(project_id, "checkout", d) for d in (40, 20, 60, 5)])
    assert durations_with_spans(engine) == [20, 30, 40, 50, 60][-SPAN_SAMPLES:]
    # Another hour and another name have waterfalls of their own.
    store(engine, [new(project_id, "checkout", 1, start=HOUR + 3600), new(project_id, "cart", 2)])
    assert durations_with_spans(engine) == [1, 2, 20, 30, 40, 50, 60]


def test_the_ranking_has_counts_throughput_percentiles_and_failure_rate(
    engine: Engine, project_id: int
) -> None:
    slow = [new(project_id, "report", 100.0 + i) for i in range(20)]
    fast = [
        new(project_id, "items", 1.0 + i, status=s)
        for i, s in enumerate(["ok", "internal_error", "cancelled", "unknown", "not_found"])
    ]
    store(engine, slow + fast)
    with engine.connect() as conn:
        ranking = transaction_stats.transaction_ranking(conn, project_id, HOUR, HOUR + 3600)
    assert [s.name for s in ranking] == ["report", "items"]
    report, items = ranking
    assert report.count == 20
    assert report.throughput == pytest.approx(20 / 60)
    assert report.p50 == pytest.approx(109.5)
    assert report.p95 == pytest.approx(118.05)
    assert report.failure_rate == 0.0
    # internal_error and not_found fail; ok, cancelled and unknown do not (Sentry's failure_rate()).
    assert items.failures == 2
    assert items.failure_rate == pytest.approx(0.4)


def test_the_window_leaves_out_older_transactions(engine: Engine, project_id: int) -> None:
    store(engine, [new(project_id, "report", 5, start=HOUR - 10), new(project_id, "report", 7)])
    with engine.connect() as conn:
        [stats] = transaction_stats.transaction_ranking(conn, project_id, HOUR, HOUR + 3600)
    assert (stats.count, stats.p50) == (1, 7)


def test_slowest_samples_traces_and_status_counts(engine: Engine, project_id: int) -> None:
    trace = "c" * 32
    store(engine, [new(project_id, "report", d, trace=trace if d == 9 else "") for d in (3, 9, 6)])
    with engine.connect() as conn:
        samples = transaction_stats.slowest_samples(conn, project_id, "report", HOUR, HOUR + 3600, limit=2)
        in_trace = transaction_stats.trace_transactions(conn, project_id, trace)
        found = transaction_stats.find_sample(conn, project_id, samples[0].event_id)
        counts = project_counts(conn)
    assert [s.duration_ms for s in samples] == [9, 6]
    assert samples[0].span_ops == {"db": [1, 5.0]}
    assert [t.duration_ms for t in in_trace] == [9]
    assert found is not None and found[1] == b"spans"
    assert [(c.slug, c.transactions) for c in counts] == [("shop", 3)]


def test_retention_deletes_transactions_that_started_before_it(engine: Engine, project_id: int) -> None:
    now = HOUR + 40 * DAY
    store(
        engine,
        [new(project_id, "report", 1, start=now - 31 * DAY), new(project_id, "report", 2, start=now - DAY)],
    )
    report = retention.run(engine, retention.plan(engine, now), retention.CleanupOptions(pause=0))
    assert report.transactions_deleted == 1
    with engine.connect() as conn:
        assert [r.duration_ms for r in conn.execute(select(transaction_event))] == [2]
