"""What the Performance pages read about transactions: per name over a window, the count,
throughput, p50 / p95 / p99 duration and failure rate; the slowest samples; one sample with its
spans; the transactions of a trace; and how many each project holds.

Percentiles are exact, computed from the stored durations of the window (linear interpolation
between the two nearest ranks, numpy's default): one indexed scan of (name, start, duration,
status) per page. That scan is the page's cost, linear in the window's transactions: 0.9–1.5 s for
100,000 and ~0.2 s for 10,000 on a busy 2-core machine (bench/transactions_digest.py); the
chapter's 10,000 a month put ~5,000 in a 14-day window. Past a few hundred thousand per window,
mergeable per-hour sketches would be the next step (docs/performance.md).

A failure is Sentry's: any status but ok, cancelled and unknown (`failure_rate()`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, RowMapping, func, select

from shoal.store.schema import transaction_event

NOT_FAILURES = frozenset({"ok", "cancelled", "unknown"})


@dataclass(frozen=True, slots=True)
class Point:
    """One transaction of a window, as the statistics need it."""

    start: float
    duration_ms: float
    failed: bool


@dataclass(frozen=True)
class TransactionStats:
    name: str
    count: int
    total_ms: float
    p50: float
    p95: float
    p99: float
    failures: int
    minutes: float  # the window's length

    @property
    def throughput(self) -> float:
        """Transactions per minute over the window (Sentry's tpm())."""
        return self.count / self.minutes if self.minutes else 0.0

    @property
    def failure_rate(self) -> float:
        return self.failures / self.count if self.count else 0.0


@dataclass(frozen=True)
class Sample:
    id: int
    event_id: str
    trace_id: str
    span_id: str
    name: str
    op: str
    status: str
    start: float
    duration_ms: float
    release: str | None
    environment: str | None
    span_count: int
    span_ops: dict[str, list[float]]  # op → [count, total ms]
    has_spans: bool

    @property
    def failed(self) -> bool:
        return is_failure(self.status)


def is_failure(status: str) -> bool:
    return status not in NOT_FAILURES


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The `fraction` (0–1) percentile of sorted values, interpolated between the nearest ranks."""
    if not ordered:
        return 0.0
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(name: str, points: Sequence[Point], minutes: float) -> TransactionStats:
    durations = sorted(p.duration_ms for p in points)
    return TransactionStats(
        name=name,
        count=len(durations),
        total_ms=sum(durations),
        p50=percentile(durations, 0.50),
        p95=percentile(durations, 0.95),
        p99=percentile(durations, 0.99),
        failures=sum(p.failed for p in points),
        minutes=minutes,
    )


def points_by_name(
    conn: Connection, project_id: int, since: float, until: float, name: str | None = None
) -> dict[str, list[Point]]:
    """The project's transactions that started in [since, until), by name."""
    c = transaction_event.c
    query = select(c.name, c.start_timestamp, c.duration_ms, c.status).where(
        c.project_id == project_id, c.start_timestamp >= since, c.start_timestamp < until
    )
    if name is not None:
        query = query.where(c.name == name)
    found: dict[str, list[Point]] = defaultdict(list)
    for row_name, start, duration, status in conn.execute(query):
        found[row_name].append(Point(start, duration, is_failure(status)))
    return dict(found)


def transaction_ranking(
    conn: Connection, project_id: int, since: float, until: float
) -> list[TransactionStats]:
    """Every transaction name of the window, the most total time first."""
    minutes = (until - since) / 60
    stats = [summarize(n, p, minutes) for n, p in points_by_name(conn, project_id, since, until).items()]
    return sorted(stats, key=lambda s: (-s.total_ms, s.name))


def operations(conn: Connection, project_id: int, since: float) -> dict[str, str]:
    """Each name's op (the SDK's `http.server`, `task`, …), for the ranking's second column."""
    c = transaction_event.c
    rows = conn.execute(
        select(c.name, func.max(c.op))
        .where(c.project_id == project_id, c.start_timestamp >= since)
        .group_by(c.name)
    )
    return {str(name): str(op) for name, op in rows}


_SAMPLE_COLUMNS = (
    transaction_event.c.id,
    transaction_event.c.event_id,
    transaction_event.c.trace_id,
    transaction_event.c.span_id,
    transaction_event.c.name,
    transaction_event.c.op,
    transaction_event.c.status,
    transaction_event.c.start_timestamp,
    transaction_event.c.duration_ms,
    transaction_event.c.release,
    transaction_event.c.environment,
    transaction_event.c.span_count,
    transaction_event.c.span_ops,
    transaction_event.c.spans.is_not(None).label("has_spans"),
)


def slowest_samples(
    conn: Connection, project_id: int, name: str, since: float, until: float, *, limit: int = 10
) -> list[Sample]:
    c = transaction_event.c
    rows = conn.execute(
        select(*_SAMPLE_COLUMNS)
        .where(
            c.project_id == project_id, c.name == name, c.start_timestamp >= since, c.start_timestamp < until
        )
        .order_by(c.duration_ms.desc(), c.id)
        .limit(limit)
    )
    return [_sample(row._mapping) for row in rows]


def find_sample(conn: Connection, project_id: int, event_id: str) -> tuple[Sample, bytes | None] | None:
    """One transaction and its compressed spans (None when not kept)."""
    c = transaction_event.c
    row = conn.execute(
        select(*_SAMPLE_COLUMNS, c.spans).where(c.project_id == project_id, c.event_id == event_id)
    ).first()
    return (_sample(row._mapping), row.spans) if row is not None else None


def trace_transactions(conn: Connection, project_id: int, trace_id: str) -> list[Sample]:
    """The stored transactions of one trace, the earliest first."""
    c = transaction_event.c
    rows = conn.execute(
        select(*_SAMPLE_COLUMNS)
        .where(c.project_id == project_id, c.trace_id == trace_id)
        .order_by(c.start_timestamp, c.id)
    )
    return [_sample(row._mapping) for row in rows]


def transaction_counts(conn: Connection) -> dict[int, int]:
    """How many transactions each project holds (`shoal status`)."""
    c = transaction_event.c
    rows = conn.execute(select(c.project_id, func.count()).group_by(c.project_id))
    return {int(project_id): int(n) for project_id, n in rows}


def _sample(r: RowMapping) -> Sample:
    return Sample(
        id=int(r["id"]),
        event_id=r["event_id"],
        trace_id=r["trace_id"],
        span_id=r["span_id"],
        name=r["name"],
        op=r["op"],
        status=r["status"],
        start=float(r["start_timestamp"]),
        duration_ms=float(r["duration_ms"]),
        release=r["release"],
        environment=r["environment"],
        span_count=int(r["span_count"]),
        span_ops=orjson.loads(r["span_ops"]),
        has_spans=bool(r["has_spans"]),
    )
